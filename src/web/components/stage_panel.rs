//! One stage's feature maps: a paged grid of channels, the value under the cursor, a click to
//! enlarge, and an optional overlay of the mean activation on the input.

use std::rc::Rc;

use web_sys::{HtmlCanvasElement, MouseEvent};
use yew::prelude::*;

use crate::analysis::colormap::Colormap;
use crate::analysis::features::StageMaps;
use crate::analysis::features::StageStats;
use crate::web::canvas::{paint_map, paint_overlay};
use crate::web::protocol::RgbaImage;
use crate::web::state::Store;

/// Channels shown per page.
pub const PAGE: usize = 32;

/// How the grids are drawn (shared by all five panels).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ViewOptions {
    /// Colormap.
    pub colormap: Colormap,
    /// Normalize across the whole stage instead of per channel.
    pub per_stage: bool,
    /// Sort channels by mean activation instead of by index.
    pub by_activation: bool,
    /// Overlay the stage's mean activation on the input crop.
    pub overlay: bool,
}

fn channel_bytes(maps: &StageMaps, c: usize, per_stage: bool) -> Vec<u8> {
    if per_stage {
        maps.channel_per_stage(c)
    } else {
        maps.channel(c).to_vec()
    }
}

#[derive(Properties, PartialEq)]
struct TileProps {
    maps: Rc<StageMaps>,
    channel: usize,
    options: ViewOptions,
    big: bool,
    on_hover: Callback<Option<(usize, usize, usize, f32)>>,
    on_click: Callback<usize>,
}

#[function_component(Tile)]
fn tile(p: &TileProps) -> Html {
    let canvas = use_node_ref();
    {
        let canvas = canvas.clone();
        let (maps, channel, options) = (p.maps.clone(), p.channel, p.options);
        use_effect_with((maps, channel, options), move |(maps, channel, options)| {
            if let Some(c) = canvas.cast::<HtmlCanvasElement>() {
                let bytes = channel_bytes(maps, *channel, options.per_stage);
                paint_map(&c, maps.width, maps.height, &bytes, &options.colormap.lut());
            }
        });
    }
    let onmousemove = {
        let (on_hover, channel, maps) = (p.on_hover.clone(), p.channel, p.maps.clone());
        Callback::from(move |e: MouseEvent| {
            let Some(target) = e.target_dyn_into::<HtmlCanvasElement>() else {
                return;
            };
            let (w, h) = (maps.width, maps.height);
            let rect = target.get_bounding_client_rect();
            let x = ((e.offset_x() as f64 / rect.width().max(1.0)) * w as f64) as usize;
            let y = ((e.offset_y() as f64 / rect.height().max(1.0)) * h as f64) as usize;
            let (x, y) = (x.min(w - 1), y.min(h - 1));
            let v = maps.value(channel, maps.channel(channel)[y * w + x]);
            on_hover.emit(Some((channel, x, y, v)));
        })
    };
    let onclick = {
        let (on_click, channel) = (p.on_click.clone(), p.channel);
        Callback::from(move |_| on_click.emit(channel))
    };
    html! {
        <figure class={classes!("tile", p.big.then_some("big"))}>
            <canvas ref={canvas} {onmousemove} {onclick} data-channel={p.channel.to_string()}></canvas>
            <figcaption>{ format!("#{}", p.channel) }</figcaption>
        </figure>
    }
}

/// Properties of [`StagePanel`].
#[derive(Properties, PartialEq)]
pub struct StagePanelProps {
    /// The maps to show (a stage output or a block output).
    pub maps: Rc<StageMaps>,
    /// The crop the network saw (for the overlay).
    pub crop: Rc<RgbaImage>,
    /// Heading, e.g. "Stage 2".
    pub title: AttrValue,
    /// `data-testid` of the panel, e.g. `stage-2`.
    pub testid: AttrValue,
    /// Statistics shown in the heading.
    #[prop_or_default]
    pub stats: Option<StageStats>,
    /// Drawing options.
    pub options: ViewOptions,
}

/// A feature-map grid: the channels of one stage or block output.
#[function_component(StagePanel)]
pub fn stage_panel(p: &StagePanelProps) -> Html {
    let page = use_state(|| 0usize);
    let hover = use_state(|| None::<(usize, usize, usize, f32)>);
    let enlarged = use_state(|| None::<usize>);
    let overlay = use_node_ref();
    {
        let overlay = overlay.clone();
        let (maps, crop, options) = (p.maps.clone(), p.crop.clone(), p.options);
        use_effect_with((maps, crop, options), move |(maps, crop, options)| {
            if let (true, Some(c)) = (options.overlay, overlay.cast::<HtmlCanvasElement>()) {
                paint_overlay(
                    &c,
                    crop,
                    maps.width,
                    &maps.mean_map(),
                    &options.colormap.lut(),
                );
            }
        });
    }
    let Some(store) = use_context::<Store>() else {
        return html! {};
    };
    let s = store.lang.strings();
    let maps = &p.maps;
    let order = maps.order(p.options.by_activation);
    let pages = order.len().div_ceil(PAGE);
    let current = (*page).min(pages.saturating_sub(1));
    let on_hover = {
        let hover = hover.clone();
        Callback::from(move |h| hover.set(h))
    };
    let on_click = {
        let enlarged = enlarged.clone();
        Callback::from(move |c| enlarged.set(Some(c)))
    };
    let tiles = order[current * PAGE..((current + 1) * PAGE).min(order.len())]
        .iter()
        .map(|&c| {
            html! {
                <Tile key={c} maps={p.maps.clone()} channel={c} options={p.options}
                      big={false} on_hover={on_hover.clone()} on_click={on_click.clone()} />
            }
        });
    let pager = |delta: isize| {
        let page = page.clone();
        Callback::from(move |_| {
            let next = (current as isize + delta).clamp(0, pages as isize - 1);
            page.set(next as usize);
        })
    };
    html! {
        <section class="stage" data-testid={p.testid.clone()} data-channels={maps.channels.to_string()}>
            <h4>
                { format!("{} · {} {} · {}×{}", p.title, maps.channels, s.channels, maps.height, maps.width) }
                if let Some(st) = &p.stats {
                    <span class="stats">{ format!(" · mean {:.3} · std {:.3} · max {:.3}", st.mean, st.std, st.max) }</span>
                }
            </h4>
            if p.options.overlay {
                <canvas class="overlay" ref={overlay}></canvas>
            }
            if let Some(c) = *enlarged {
                <div class="enlarged">
                    <Tile maps={p.maps.clone()} channel={c} options={p.options}
                          big={true} on_hover={on_hover.clone()} on_click={on_click.clone()} />
                    <button onclick={let e = enlarged.clone(); move |_| e.set(None)}>{ "×" }</button>
                </div>
            }
            <div class="grid">{ for tiles }</div>
            <div class="pager">
                <button onclick={pager(-1)} disabled={current == 0}>{ "‹" }</button>
                <span>{ format!("{} {}/{}", s.page, current + 1, pages) }</span>
                <button onclick={pager(1)} disabled={current + 1 >= pages}>{ "›" }</button>
                <span class="hover" data-testid={format!("{}-value", p.testid)}>
                    { match *hover {
                        Some((c, x, y, v)) => format!("{}: #{c} ({x}, {y}) = {v:.4}", s.value_under_cursor),
                        None => String::new(),
                    } }
                </span>
            </div>
        </section>
    }
}
