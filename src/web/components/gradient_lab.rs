//! The Gradient lab: presets and custom settings, one click runs the residual and the plain
//! network in the worker, log-scale charts of the gradient norms, a plain-words reading, and
//! exports (PNG, CSV, a link that restores the settings).

use wasm_bindgen::JsCast;
use web_sys::{HtmlCanvasElement, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::gradient_chart::GradientChart;
use crate::analysis::gradients::Precision;
use crate::analysis::reading::{reading, to_csv, Smaller};
use crate::charts::gradients::GradientChartKind;
use crate::config::NormMode;
use crate::imagenet;
use crate::web::image_input::{decode_blob, fetch_blob};
use crate::web::jobs::next_job;
use crate::web::lab_settings::{LabSettings, BATCH_SIZES};
use crate::web::protocol::{Request, RgbaImage};
use crate::web::query::share_link;
use crate::web::samples::SAMPLES;
use crate::web::save::{download, download_text};
use crate::web::state::{Action, EngineLink, RunState, Store};
use crate::weights::{Init, InitKind};

/// The distinct images of a run's batch: the chosen image (the current one, or a sample), then
/// the other samples, at most `settings.batch` (the worker fills the rest of the batch with
/// their mirror images: `analysis::gradients::mirrored_batch`).
async fn batch_images(store: &Store, settings: &LabSettings) -> Result<Vec<RgbaImage>, String> {
    let current = store.image.clone().filter(|_| settings.image == "current");
    let first = if settings.image == "current" {
        "cat"
    } else {
        settings.image.as_str()
    };
    let mut images: Vec<RgbaImage> = current.iter().map(|image| (**image).clone()).collect();
    let samples = std::iter::once(first).filter(|_| current.is_none()).chain(
        SAMPLES
            .iter()
            .copied()
            .filter(|n| current.is_some() || *n != first),
    );
    for name in samples {
        if images.len() >= settings.batch {
            break;
        }
        let blob = fetch_blob(&format!("static/samples/{name}.jpg")).await?;
        images.push(decode_blob(&blob).await?);
    }
    Ok(images)
}

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
                let images = match batch_images(&store, &settings).await {
                    Ok(images) => images,
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
                    images,
                    batch: settings.batch,
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
                <p class="meta" data-testid="grad-meta" data-batch={flow.batch.to_string()}>
                    { format!("{}: {} ({}){} · {}×{} · batch norm {:?} · {:?} · {}: {:.0} ms · {}: {:.4} / {:.4}",
                        s.target_class, flow.target, imagenet::label(flow.target),
                        if flow.batch > 1 { format!(" · {} {}", flow.batch, s.images) } else { String::new() },
                        flow.input_size, flow.input_size,
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
    let share = share_link(&cur.to_query());
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
                <button data-testid="grad-preset-trained-batch" class={classes!((cur == LabSettings::trained_batch()).then_some("active"))}
                        onclick={preset(LabSettings::trained_batch())}>{ s.preset_trained_batch }</button>
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
                    <label>{ s.batch_size }
                        <select data-testid="grad-batch" onchange={edit(|s, v| s.batch = v.parse().unwrap_or(1))}>
                            { for BATCH_SIZES.iter().map(|n| opt(&n.to_string(), &n.to_string(), cur.batch == *n)) }
                        </select>
                    </label>
                    <label>{ s.precision }
                        <select data-testid="grad-precision" onchange={edit(|s, v| s.precision = if v == "f64" { Precision::F64 } else { Precision::F32 })}>
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
            if cur.precision == Precision::F32 && cur.norm == NormMode::Train {
                <p class="warning" data-testid="grad-f32-warning">{ s.f32_warning }</p>
            }
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
