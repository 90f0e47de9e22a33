//! The residual view of one block: x, F(x) and ReLU(x + F(x)) side by side with their norms.

use web_sys::HtmlCanvasElement;
use yew::prelude::*;

use super::stage_panel::{StagePanel, ViewOptions};
use crate::web::canvas::paint_map;
use crate::web::protocol::Request;
use crate::web::state::{EngineLink, Store};

/// Properties of [`ResidualView`].
#[derive(Properties, PartialEq)]
pub struct ResidualViewProps {
    /// Drawing options (colormap, normalization, …) for the maps and the block's channels.
    pub options: ViewOptions,
}

/// The selected block's residual addition.
#[function_component(ResidualView)]
pub fn residual_view(p: &ResidualViewProps) -> Html {
    let canvases = [use_node_ref(), use_node_ref(), use_node_ref()];
    let store = use_context::<Store>();
    let link = use_context::<EngineLink>();
    let block = store.as_ref().and_then(|s| {
        let r = s.result.clone()?;
        let b = r.exploration.blocks.get(s.selected_block?)?.clone();
        Some(b)
    });
    {
        let canvases = canvases.clone();
        let colormap = p.options.colormap;
        use_effect_with((block.clone(), colormap), move |(block, colormap)| {
            if let Some(b) = block {
                for (canvas, map) in canvases.iter().zip(&b.maps) {
                    if let Some(c) = canvas.cast::<HtmlCanvasElement>() {
                        paint_map(&c, b.side, b.side, map, &colormap.lut());
                    }
                }
            }
        });
    }
    let Some(store) = store else {
        return html! {};
    };
    let s = store.lang.strings();
    let Some(b) = block else {
        return html! {
            <section class="residual" data-testid="residual-view"><h3>{ s.residual_view }</h3><p>{ s.pick_block }</p></section>
        };
    };
    let kind = if b.convolutional {
        s.conv_block
    } else {
        s.identity_block
    };
    let shortcut_label = if b.convolutional {
        "shortcut(x) = BN(conv 1×1(x))"
    } else {
        "x"
    };
    let ratio = if b.shortcut_norm > 0.0 {
        b.residual_norm / b.shortcut_norm
    } else {
        f32::NAN
    };
    let panel = |i: usize, label: String| {
        html! {
            <figure>
                <canvas ref={canvases[i].clone()}></canvas>
                <figcaption>{ label }</figcaption>
            </figure>
        }
    };
    let selected = store.selected_block.unwrap_or(0);
    let channels = match (&store.block_maps, store.result.as_ref()) {
        (Some((i, maps)), Some(result)) if *i == selected => html! {
            <StagePanel maps={maps.clone()} crop={result.crop.clone()} title={b.name.clone()}
                        testid={format!("block-{}", b.name)} options={p.options} />
        },
        _ => {
            let (link, job) = (link.clone(), store.job);
            let onclick = Callback::from(move |_| {
                if let Some(link) = &link {
                    link.send.emit(Request::BlockMaps {
                        job,
                        block: selected,
                    });
                }
            });
            html! { <button data-testid="block-channels" {onclick}>{ s.block_channels }</button> }
        }
    };
    html! {
        <section class="residual" data-testid="residual-view">
            <h3>{ format!("{} — {} ({kind}), {}×{}×{}", s.residual_view, b.name, b.shape[0], b.shape[1], b.shape[2]) }</h3>
            <div class="triptych">
                { panel(0, format!("{shortcut_label}: ‖·‖ = {:.2}", b.shortcut_norm)) }
                { panel(1, format!("F(x): ‖·‖ = {:.2}", b.residual_norm)) }
                { panel(2, format!("ReLU(x + F(x)): ‖·‖ = {:.2}", b.output_norm)) }
            </div>
            <p>{ format!("‖F(x)‖ / ‖x‖ = {ratio:.3}") }</p>
            { channels }
        </section>
    }
}
