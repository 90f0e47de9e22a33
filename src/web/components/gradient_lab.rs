//! The Gradient lab: presets and custom settings, one click runs the residual and the plain
//! network in the worker, log-scale charts of the gradient norms, a plain-words reading, and
//! exports (PNG, CSV, a link that restores the settings).

use std::cell::RefCell;
use std::rc::Rc;

use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;
use web_sys::{
    HtmlAnchorElement, HtmlCanvasElement, HtmlInputElement, HtmlSelectElement, MouseEvent,
};
use yew::prelude::*;

use super::image_picker::SAMPLES;
use super::shell::{next_job, query_param};
use crate::analysis::gradients::{GradientFlow, Precision};
use crate::analysis::reading::{reading, to_csv, Smaller};
use crate::charts::gradients::{
    draw_gradient_chart, nearest_point, ChartPoint, GradientChartKind, GradientSeries,
};
use crate::imagenet;
use crate::model::NormMode;
use crate::web::image_input::{decode_blob, fetch_blob};
use crate::web::protocol::Request;
use crate::web::state::{Action, EngineLink, RunState, Store};
use crate::weights::{Init, InitKind};

/// Everything the lab's run depends on (also what the share link encodes).
#[derive(Clone, Debug, PartialEq)]
pub struct LabSettings {
    /// Initialization scheme (when not using the weights in use).
    pub init: InitKind,
    /// Gain on the init's standard deviation.
    pub gain: f64,
    /// Batch-norm mode.
    pub norm: NormMode,
    /// Input side.
    pub size: u32,
    /// Target class (`None` = top-1 of the residual network).
    pub target: Option<usize>,
    /// Seed.
    pub seed: u64,
    /// Use the weights in use instead of a fresh init.
    pub current_weights: bool,
    /// Arithmetic precision.
    pub precision: Precision,
    /// `current` (the image in Explore) or a sample name.
    pub image: String,
}

impl LabSettings {
    /// "Classic vanishing": no batch norm, Xavier.
    pub fn classic() -> Self {
        Self {
            init: InitKind::Xavier,
            gain: 1.0,
            norm: NormMode::Off,
            size: 64,
            target: None,
            seed: 0,
            current_weights: false,
            precision: Precision::F32,
            image: "current".into(),
        }
    }

    /// "As trained": batch norm in training mode, He.
    pub fn trained() -> Self {
        Self {
            init: InitKind::He,
            norm: NormMode::Train,
            ..Self::classic()
        }
    }

    fn norm_id(norm: NormMode) -> &'static str {
        match norm {
            NormMode::Train => "train",
            NormMode::Eval => "eval",
            NormMode::Off => "off",
        }
    }

    /// The settings as a query string (`section=gradient-lab&init=xavier&…`).
    pub fn to_query(&self) -> String {
        let mut q = format!(
            "section=gradient-lab&init={}&gain={}&bn={}&size={}&seed={}&weights_src={}&precision={}",
            if self.init == InitKind::He { "he" } else { "xavier" },
            self.gain,
            Self::norm_id(self.norm),
            self.size,
            self.seed,
            if self.current_weights { "current" } else { "init" },
            if self.precision == Precision::F64 { "f64" } else { "f32" },
        );
        if self.image != "current" {
            q.push_str(&format!("&image={}", self.image));
        }
        if let Some(t) = self.target {
            q.push_str(&format!("&target={t}"));
        }
        q
    }

    /// Settings from the page's query string, defaulting to the classic preset.
    pub fn from_query() -> Self {
        let mut s = Self::classic();
        if let Some(v) = query_param("init").and_then(|v| v.parse().ok()) {
            s.init = v;
        }
        if let Some(v) = query_param("gain").and_then(|v| v.parse().ok()) {
            s.gain = v;
        }
        if let Some(v) = query_param("bn").and_then(|v| v.parse().ok()) {
            s.norm = v;
        }
        if let Some(v) = query_param("size")
            .and_then(|v| v.parse().ok())
            .filter(|v| [64, 112, 224].contains(v))
        {
            s.size = v;
        }
        s.target = query_param("target")
            .and_then(|v| v.parse().ok())
            .filter(|t| *t < 1000);
        if let Some(v) = query_param("seed").and_then(|v| v.parse().ok()) {
            s.seed = v;
        }
        s.current_weights = query_param("weights_src").as_deref() == Some("current");
        if query_param("precision").as_deref() == Some("f64") {
            s.precision = Precision::F64;
        }
        if let Some(sample) = query_param("image").filter(|v| SAMPLES.contains(&v.as_str())) {
            s.image = sample;
        }
        s
    }
}

fn download(href: &str, filename: &str) {
    let anchor = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<HtmlAnchorElement>().ok());
    if let Some(a) = anchor {
        a.set_href(href);
        a.set_download(filename);
        a.click();
    }
}

fn download_text(text: &str, filename: &str) {
    let parts = js_sys::Array::of1(&text.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/csv");
    if let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) {
        if let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) {
            download(&url, filename);
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    }
}

#[derive(Properties, PartialEq)]
struct ChartProps {
    flow: Rc<(GradientFlow, f64)>,
    kind: GradientChartKind,
    title: AttrValue,
    testid: AttrValue,
}

/// One chart canvas with a hover read-out.
#[function_component(GradientChart)]
fn gradient_chart(p: &ChartProps) -> Html {
    let canvas = use_node_ref();
    let points = use_mut_ref(Vec::<ChartPoint>::new);
    let hover = use_state(String::new);
    let store = use_context::<Store>();
    let lang = store
        .as_ref()
        .map(|s| s.lang)
        .unwrap_or(crate::lang::Lang::En);
    let series = GradientSeries::of(&p.flow.0, p.kind);
    {
        let (canvas, points, series) = (canvas.clone(), points.clone(), series.clone());
        let y_label = match p.kind {
            GradientChartKind::Weight => "‖∂L/∂W‖",
            GradientChartKind::RelativeWeight => "‖∂L/∂W‖ / ‖W‖",
            GradientChartKind::Activation => "‖∂L/∂x‖",
        };
        use_effect_with((p.flow.clone(), p.kind, lang), move |_| {
            if let Some(backend) = canvas
                .cast::<HtmlCanvasElement>()
                .and_then(CanvasBackend::with_canvas_object)
            {
                if let Ok(drawn) = draw_gradient_chart(backend, &series, y_label, lang) {
                    *points.borrow_mut() = drawn;
                }
            }
        });
    }
    let onmousemove = {
        let (points, hover, series): (Rc<RefCell<Vec<ChartPoint>>>, _, _) =
            (points.clone(), hover.clone(), series.clone());
        let s = lang.strings();
        Callback::from(move |e: MouseEvent| {
            let Some(target) = e.target_dyn_into::<HtmlCanvasElement>() else {
                return;
            };
            let rect = target.get_bounding_client_rect();
            let sx = target.width() as f64 / rect.width().max(1.0);
            let sy = target.height() as f64 / rect.height().max(1.0);
            let (x, y) = (
                (e.offset_x() as f64 * sx) as i32,
                (e.offset_y() as f64 * sy) as i32,
            );
            let text = nearest_point(&points.borrow(), x, y, 10)
                .map(|p| {
                    let net = if p.skip {
                        s.with_skips
                    } else {
                        s.without_skips
                    };
                    format!("{} ({net}): {:.3e}", series.names[p.index], p.value)
                })
                .unwrap_or_default();
            hover.set(text);
        })
    };
    html! {
        <figure class="grad-chart">
            <figcaption>{ p.title.clone() }</figcaption>
            <canvas ref={canvas} width="900" height="340" data-testid={p.testid.clone()}
                    data-layers={series.names.len().to_string()} {onmousemove}></canvas>
            <div class="hover" data-testid={format!("{}-hover", p.testid)}>{ (*hover).clone() }</div>
        </figure>
    }
}

/// The Gradient lab section.
#[function_component(GradientLab)]
pub fn gradient_lab() -> Html {
    let settings = use_state(LabSettings::from_query);
    let relative = use_state(|| false);
    let (Some(store), Some(link)) = (use_context::<Store>(), use_context::<EngineLink>()) else {
        return html! {};
    };
    let s = store.lang.strings();
    let run = {
        let (store, link, settings) = (store.clone(), link.clone(), settings.clone());
        Callback::from(move |_| {
            let (store, link, settings) = (store.clone(), link.clone(), (*settings).clone());
            wasm_bindgen_futures::spawn_local(async move {
                let current = store.image.clone().filter(|_| settings.image == "current");
                let sample = if settings.image == "current" {
                    "cat"
                } else {
                    settings.image.as_str()
                };
                let image = match current {
                    Some(image) => Ok((*image).clone()),
                    None => match fetch_blob(&format!("static/samples/{sample}.jpg")).await {
                        Ok(blob) => decode_blob(&blob).await,
                        Err(e) => Err(e),
                    },
                };
                let image = match image {
                    Ok(image) => image,
                    Err(e) => return store.dispatch(Action::Error(e)),
                };
                let job = next_job();
                store.dispatch(Action::GradientsStarted { job });
                let init = (!settings.current_weights).then_some(Init {
                    kind: settings.init,
                    gain: settings.gain,
                    seed: settings.seed,
                });
                link.send.emit(Request::Gradients {
                    job,
                    image,
                    size: settings.size,
                    init,
                    norm: settings.norm,
                    target: settings.target,
                    precision: settings.precision,
                });
            });
        })
    };
    let preset = |p: LabSettings| {
        let settings = settings.clone();
        Callback::from(move |_| settings.set(p.clone()))
    };
    let edit = |f: fn(&mut LabSettings, String)| {
        let settings = settings.clone();
        Callback::from(move |e: Event| {
            let value = e
                .target()
                .and_then(|t| {
                    t.clone()
                        .dyn_into::<HtmlSelectElement>()
                        .map(|s| s.value())
                        .ok()
                        .or_else(|| t.dyn_into::<HtmlInputElement>().ok().map(|i| i.value()))
                })
                .unwrap_or_default();
            let mut next = (*settings).clone();
            f(&mut next, value);
            settings.set(next);
        })
    };
    let cancel = {
        let (link, job) = (link.clone(), store.grad_job);
        Callback::from(move |_| link.send.emit(Request::Cancel { job }))
    };
    let cur = (*settings).clone();
    let labels = use_memo((), |_| imagenet::labels());
    let datalist = labels
        .iter()
        .enumerate()
        .map(|(i, l)| html! { <option value={format!("{i}: {l}")} /> });
    let status = match store.grad_run {
        RunState::Idle => s.grad_idle.to_string(),
        RunState::Running => format!(
            "{}… {}/{}",
            s.grad_running, store.grad_progress.0, store.grad_progress.1
        ),
        RunState::Done => s.status_done.to_string(),
        RunState::Error => s.status_error.to_string(),
    };
    let result = store.grad_result.clone();
    let body = result.map(|r| {
        let flow = &r.0;
        let read = reading(flow, store.lang);
        let smaller = match read.smaller {
            Smaller::Plain => "plain",
            Smaller::Skip => "skip",
        };
        let kind = if *relative { GradientChartKind::RelativeWeight } else { GradientChartKind::Weight };
        let csv = {
            let flow = flow.clone();
            Callback::from(move |_| download_text(&to_csv(&flow), "resnet-lab-gradients.csv"))
        };
        let png = Callback::from(|_| {
            let canvas = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.query_selector("[data-testid=grad-chart]").ok().flatten())
                .and_then(|c| c.dyn_into::<HtmlCanvasElement>().ok());
            if let Some(url) = canvas.and_then(|c| c.to_data_url().ok()) {
                download(&url, "resnet-lab-gradients.png");
            }
        });
        let toggle = {
            let relative = relative.clone();
            Callback::from(move |_| relative.set(!*relative))
        };
        html! {
            <>
                <p class="meta">
                    { format!("{}: {} ({}) · {}×{} · batch norm {:?} · {:?} · {}: {:.0} ms · {}: {:.4} / {:.4}",
                        s.target_class, flow.target, imagenet::label(flow.target), flow.input_size, flow.input_size,
                        flow.norm, flow.precision, s.elapsed, r.1, s.loss, flow.loss.skip, flow.loss.plain) }
                </p>
                <label><input type="checkbox" checked={*relative} onchange={toggle} />{ s.relative }</label>
                <GradientChart flow={r.clone()} {kind} title={s.weight_chart} testid="grad-chart" />
                <GradientChart flow={r.clone()} kind={GradientChartKind::Activation} title={s.activation_chart} testid="grad-chart-x" />
                <div class="reading" data-testid="grad-summary" data-smaller={smaller}>
                    { for read.sentences.iter().map(|t| html! { <p>{ t }</p> }) }
                </div>
                <div class="exports">
                    <button data-testid="grad-csv" onclick={csv}>{ s.export_csv }</button>
                    <button data-testid="grad-png" onclick={png}>{ s.export_png }</button>
                </div>
            </>
        }
    });
    let share = web_sys::window()
        .and_then(|w| {
            let l = w.location();
            Some(format!(
                "{}{}?{}",
                l.origin().ok()?,
                l.pathname().ok()?,
                cur.to_query()
            ))
        })
        .unwrap_or_default();
    let opt = |value: &str, label: &str, selected: bool| html! { <option value={value.to_string()} {selected}>{ label.to_string() }</option> };
    html! {
        <div class="lab">
            <h2>{ s.gradient_lab }</h2>
            <p>{ s.gradient_lab_intro }</p>
            <div class="presets">
                <button data-testid="grad-preset-classic" class={classes!((cur == LabSettings::classic()).then_some("active"))}
                        onclick={preset(LabSettings::classic())}>{ s.preset_classic }</button>
                <button data-testid="grad-preset-trained" class={classes!((cur == LabSettings::trained()).then_some("active"))}
                        onclick={preset(LabSettings::trained())}>{ s.preset_trained }</button>
            </div>
            <details open=true>
                <summary>{ s.custom_settings }</summary>
                <div class="settings-grid">
                    <label>{ s.weights_source }
                        <select data-testid="grad-weights" onchange={edit(|s, v| s.current_weights = v == "current")}>
                            { opt("init", s.fresh_init, !cur.current_weights) }
                            { opt("current", s.current_weights, cur.current_weights) }
                        </select>
                    </label>
                    <label>{ s.init }
                        <select data-testid="grad-init" onchange={edit(|s, v| s.init = v.parse().unwrap_or(InitKind::He))}>
                            { opt("he", "He / Kaiming", cur.init == InitKind::He) }
                            { opt("xavier", "Xavier / Glorot", cur.init == InitKind::Xavier) }
                        </select>
                    </label>
                    <label>{ s.gain }
                        <input type="number" step="0.1" min="0.1" max="4" value={cur.gain.to_string()}
                               onchange={edit(|s, v| s.gain = v.parse().unwrap_or(1.0))} />
                    </label>
                    <label>{ s.bn_mode }
                        <select data-testid="grad-bn" onchange={edit(|s, v| s.norm = v.parse().unwrap_or(NormMode::Train))}>
                            { opt("train", s.bn_train, cur.norm == NormMode::Train) }
                            { opt("eval", s.bn_eval, cur.norm == NormMode::Eval) }
                            { opt("off", s.bn_off, cur.norm == NormMode::Off) }
                        </select>
                    </label>
                    <label>{ s.input_size }
                        <select data-testid="grad-size" onchange={edit(|s, v| s.size = v.parse().unwrap_or(64))}>
                            { for [64u32, 112, 224].iter().map(|n| opt(&n.to_string(), &format!("{n}×{n}"), cur.size == *n)) }
                        </select>
                    </label>
                    <label>{ s.target_class }
                        <input list="imagenet-labels" placeholder={s.target_placeholder}
                               value={cur.target.map(|t| format!("{t}: {}", imagenet::label(t))).unwrap_or_default()}
                               onchange={edit(|s, v| s.target = v.split(':').next().and_then(|n| n.trim().parse().ok()).filter(|t| *t < 1000))} />
                        <datalist id="imagenet-labels">{ for datalist }</datalist>
                    </label>
                    <label>{ s.seed }
                        <input type="number" min="0" value={cur.seed.to_string()} onchange={edit(|s, v| s.seed = v.parse().unwrap_or(0))} />
                    </label>
                    <label>{ s.precision }
                        <select onchange={edit(|s, v| s.precision = if v == "f64" { Precision::F64 } else { Precision::F32 })}>
                            { opt("f32", "float32", cur.precision == Precision::F32) }
                            { opt("f64", "float64", cur.precision == Precision::F64) }
                        </select>
                    </label>
                    <label>{ s.image_source }
                        <select data-testid="grad-image" onchange={edit(|s, v| s.image = v)}>
                            { opt("current", &if store.image.is_some() { s.current_image.to_string() } else { format!("{} (cat.jpg)", s.current_image) }, cur.image == "current") }
                            { for SAMPLES.iter().map(|n| opt(n, &format!("{n}.jpg"), cur.image == *n)) }
                        </select>
                    </label>
                </div>
            </details>
            <div class="run">
                <button class="primary" data-testid="grad-run" onclick={run} disabled={store.grad_run == RunState::Running}>{ s.run_both }</button>
                <span data-testid="grad-status" data-state={store.grad_run.id()}>{ status }</span>
                if store.grad_run == RunState::Running {
                    <button onclick={cancel}>{ s.cancel }</button>
                }
            </div>
            { for body }
            <p class="share">{ s.share_link }{ ": " }<input readonly=true value={share} data-testid="grad-link" /></p>
        </div>
    }
}
