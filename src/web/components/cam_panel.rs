//! Where the network looks: the class activation map of the picked class over the crop, with
//! stage buttons, method, colormap and opacity, a strip of the top-5 maps, a class search over
//! the 1000 labels, PNG export and a share link. The maps are computed in the worker after each
//! Explore run once the user asked for them (or a link did).

use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::{HtmlCanvasElement, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::analysis::cam::{heatmap_rgba, layer_name, CamMethod, CamOptions, ClassMap, CAM_STAGES};
use crate::analysis::colormap::Colormap;
use crate::imagenet::labels;
use crate::web::canvas::paint_rgba;
use crate::web::jobs::next_job;
use crate::web::protocol::{Request, RgbaImage};
use crate::web::query::share_link;
use crate::web::save::download;
use crate::web::state::{Action, CamSettings, EngineLink, RunState, Store};

/// How many top classes get a map in the strip.
const STRIP: usize = 5;

/// The class `text` names: a number 0–999 (also as the search list writes it, `281: tabby,
/// tabby cat`), else the first label containing it (any case).
fn class_named(text: &str) -> Option<usize> {
    let text = text.trim();
    let number = text.split(':').next().unwrap_or_default().trim();
    if let Ok(c) = number.parse::<usize>() {
        return (c < 1000).then_some(c);
    }
    let wanted = text.to_lowercase();
    (!wanted.is_empty())
        .then(|| {
            labels()
                .iter()
                .position(|l| l.to_lowercase().contains(&wanted))
        })
        .flatten()
}

/// The search box's list of the 1000 labels (no props: rendered once).
#[function_component(ClassList)]
fn class_list() -> Html {
    let options = labels()
        .into_iter()
        .enumerate()
        .map(|(i, l)| html! { <option value={format!("{i}: {l}")} /> });
    html! { <datalist id="cam-classes">{ for options }</datalist> }
}

#[derive(Properties, PartialEq)]
struct MapCanvasProps {
    map: ClassMap,
    crop: Rc<RgbaImage>,
    colormap: Colormap,
    opacity: f32,
    stage: usize,
    #[prop_or_default]
    testid: AttrValue,
    #[prop_or_default]
    selected: bool,
    #[prop_or_default]
    onclick: Option<Callback<MouseEvent>>,
}

/// One map upsampled to the crop and blended over it.
#[function_component(MapCanvas)]
fn map_canvas(p: &MapCanvasProps) -> Html {
    let canvas = use_node_ref();
    {
        let canvas = canvas.clone();
        let deps = (p.map.clone(), p.crop.clone(), p.colormap, p.opacity);
        use_effect_with(deps, move |(map, crop, colormap, opacity)| {
            if let Some(c) = canvas.cast::<HtmlCanvasElement>() {
                let side = crop.width as usize;
                let rgba = heatmap_rgba(
                    &map.upsampled(side),
                    Some((&crop.rgba, 4)),
                    *colormap,
                    *opacity,
                );
                paint_rgba(
                    &c,
                    &RgbaImage {
                        width: crop.width,
                        height: crop.width,
                        rgba,
                    },
                );
            }
        });
    }
    let values = p
        .map
        .values
        .iter()
        .map(|v| format!("{v:.5}"))
        .collect::<Vec<_>>()
        .join(",");
    html! {
        <canvas ref={canvas} data-testid={p.testid.clone()} data-class={p.map.class.to_string()}
                data-stage={p.stage.to_string()} data-values={values}
                data-selected={p.selected.to_string()} onclick={p.onclick.clone()}
                title={p.map.label.clone()}></canvas>
    }
}

/// The class-activation-map section of Explore.
#[function_component(CamPanel)]
pub fn cam_panel() -> Html {
    let store = use_context::<Store>();
    let link = use_context::<EngineLink>();
    let opacity = use_state(|| 0.5f32);
    let colormap = use_state(|| Colormap::Jet);
    let missing = use_state(|| false);
    {
        // After each finished Explore run, and on every change of settings: the maps, unless
        // those shown already hold the picked class at this stage and method.
        let deps = store
            .as_ref()
            .map(|s| (s.job, s.run == RunState::Done && s.result.is_some(), s.cam));
        let (store, link) = (store.clone(), link.clone());
        use_effect_with(deps, move |deps| {
            let (Some((job, done, cam)), Some(store), Some(link)) = (*deps, store, link) else {
                return;
            };
            if !done || !cam.active {
                return;
            }
            let shown = store.cam_result.as_ref().is_some_and(|r| {
                r.result.stage == cam.stage
                    && r.result.method == cam.method
                    && cam
                        .class
                        .is_none_or(|c| r.result.maps.iter().any(|m| m.class == c))
            });
            if shown {
                return;
            }
            let run = next_job();
            store.dispatch(Action::CamStarted { job: run });
            link.send.emit(Request::Cam {
                job,
                run,
                options: CamOptions {
                    stage: cam.stage,
                    method: cam.method,
                    classes: cam.class.into_iter().collect(),
                    top_k: STRIP,
                },
            });
        });
    }
    let result = store.as_ref().and_then(|s| s.result.clone());
    let (Some(store), Some(result)) = (store, result) else {
        return html! {};
    };
    let s = store.lang.strings();
    let cam = store.cam;
    let set = {
        let store = store.clone();
        move |f: Box<dyn Fn(&mut CamSettings)>| {
            let store = store.clone();
            move || {
                let mut c = store.cam;
                c.active = true;
                f(&mut c);
                store.dispatch(Action::Cam(c));
            }
        }
    };
    let untrained = !result.weights.as_ref().is_some_and(|w| w.pretrained);
    let header = html! {
        <>
            <h3>{ s.cam_title }</h3>
            <p class="meta">{ s.cam_intro }</p>
        </>
    };
    if !cam.active {
        let show = set(Box::new(|_| {}));
        return html! {
            <section class="cam" data-testid="cam-panel">
                { header }
                <button data-testid="cam-show" onclick={Callback::from(move |_| show())}>{ s.cam_show }</button>
            </section>
        };
    }
    let stage_buttons = CAM_STAGES.map(|stage| {
        let pick = set(Box::new(move |c| c.stage = stage));
        html! {
            <button data-testid={format!("cam-stage-{stage}")} aria-pressed={(stage == cam.stage).to_string()}
                    onclick={Callback::from(move |_| pick())}>
                { format!("{} {stage} ({})", s.cam_stage, layer_name(stage)) }
            </button>
        }
    });
    let method = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            if let Some(el) = e.target_dyn_into::<HtmlSelectElement>() {
                let mut c = store.cam;
                c.method = el.value().parse().unwrap_or_default();
                store.dispatch(Action::Cam(c));
            }
        })
    };
    let pick_colormap = {
        let colormap = colormap.clone();
        Callback::from(move |e: Event| {
            if let Some(el) = e.target_dyn_into::<HtmlSelectElement>() {
                let v = el.value();
                colormap.set(
                    Colormap::ALL
                        .into_iter()
                        .find(|c| c.name() == v)
                        .unwrap_or_default(),
                );
            }
        })
    };
    let set_opacity = {
        let opacity = opacity.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(el) = e.target_dyn_into::<HtmlInputElement>() {
                opacity.set(el.value().parse::<f32>().unwrap_or(50.0) / 100.0);
            }
        })
    };
    let search = {
        let (store, missing) = (store.clone(), missing.clone());
        Callback::from(move |e: Event| {
            if let Some(el) = e.target_dyn_into::<HtmlInputElement>() {
                match class_named(&el.value()) {
                    Some(class) => {
                        missing.set(false);
                        let mut c = store.cam;
                        c.class = Some(class);
                        store.dispatch(Action::Cam(c));
                    }
                    None => missing.set(true),
                }
            }
        })
    };
    let export = {
        let class = cam.class;
        let stage = cam.stage;
        let method = cam.method;
        Callback::from(move |_| {
            let canvas = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.query_selector("[data-testid=cam]").ok().flatten())
                .and_then(|e| e.dyn_into::<HtmlCanvasElement>().ok());
            if let Some(url) = canvas.and_then(|c| c.to_data_url_with_type("image/png").ok()) {
                let class = class.map_or("top1".to_string(), |c| c.to_string());
                download(
                    &url,
                    &format!(
                        "resnet-lab-{}-{class}-{}.png",
                        method.id().replace('+', "pp"),
                        layer_name(stage)
                    ),
                );
            }
        })
    };
    let share = share_link(&cam.to_query());
    let methods = [
        (CamMethod::GradCam, "Grad-CAM"),
        (CamMethod::GradCamPlusPlus, "Grad-CAM++"),
    ]
    .map(|(m, name)| html! { <option value={m.id()} selected={m == cam.method}>{ name }</option> });
    let colormaps = Colormap::ALL.iter().map(|c| {
        html! { <option value={c.name()} selected={*c == *colormap}>{ c.name() }</option> }
    });
    let (done, total) = store.cam_progress;
    let body = store.cam_result.clone().map(|shown| {
        let maps = &shown.result.maps;
        let selected = cam.class.or(maps.first().map(|m| m.class));
        let main = maps.iter().find(|m| Some(m.class) == selected).or(maps.first());
        let strip = maps.iter().take(STRIP).map(|m| {
            let class = m.class;
            let pick = set(Box::new(move |c| c.class = Some(class)));
            html! {
                <figure class="cam-thumb">
                    <MapCanvas map={m.clone()} crop={result.crop.clone()} colormap={*colormap}
                               opacity={*opacity} stage={shown.result.stage} testid="cam-strip-item"
                               selected={Some(class) == selected}
                               onclick={Callback::from(move |_| pick())} />
                    <figcaption>{ format!("{} · {:.1} %", m.label, m.prob * 100.0) }</figcaption>
                </figure>
            }
        });
        html! {
            <>
                if let Some(m) = main {
                    <figure class="cam-main">
                        <MapCanvas map={m.clone()} crop={result.crop.clone()} colormap={*colormap}
                                   opacity={*opacity} stage={shown.result.stage} testid="cam" selected=true />
                        <figcaption data-testid="cam-caption">
                            { format!("{}: {} ({}, {:.2} %) · {} {} ({}) · {} · {:.0} ms",
                                      s.cam_for, m.label, m.class, m.prob * 100.0, s.cam_stage,
                                      shown.result.stage, layer_name(shown.result.stage),
                                      if shown.result.method == CamMethod::GradCam { "Grad-CAM" } else { "Grad-CAM++" },
                                      shown.elapsed_ms) }
                        </figcaption>
                    </figure>
                }
                <p class="meta">{ s.cam_top5 }</p>
                <div class="cam-strip">{ for strip }</div>
            </>
        }
    });
    html! {
        <section class="cam" data-testid="cam-panel">
            { header }
            if untrained {
                <p class="warning" data-testid="cam-untrained">{ s.cam_untrained }</p>
            }
            <div class="controls">
                <div class="cam-stages" data-testid="cam-stage" data-stage={cam.stage.to_string()}>{ for stage_buttons }</div>
                <label>{ s.cam_method }
                    <select data-testid="cam-method" onchange={method}>{ for methods.into_iter() }</select>
                </label>
                <label>{ s.colormap }
                    <select data-testid="cam-colormap" onchange={pick_colormap}>{ for colormaps }</select>
                </label>
                <label>{ s.cam_opacity }
                    <input type="range" min="0" max="100" value={((*opacity) * 100.0).round().to_string()}
                           data-testid="cam-opacity" oninput={set_opacity} />
                </label>
                <input type="search" list="cam-classes" placeholder={s.cam_search}
                       data-testid="cam-class-search" onchange={search} />
                <ClassList />
            </div>
            if *missing {
                <p class="warning">{ s.cam_pick_hint }</p>
            }
            <div class="run" data-testid="cam-status" data-state={store.cam_run.id()}>
                if store.cam_run == RunState::Running {
                    { s.cam_running }{ "… " }
                    <progress value={done.to_string()} max={total.to_string()}></progress>
                }
            </div>
            { for body }
            <div class="exports">
                <button data-testid="cam-png" onclick={export}>{ "PNG" }</button>
            </div>
            <p class="share">{ s.cam_link }{ ": " }<input readonly=true value={share} data-testid="cam-link" /></p>
        </section>
    }
}
