//! Explore: pick an image, see the crop, predictions, where the network looks (class
//! activation maps), the architecture, every stage's feature maps and a block's residual view.

use web_sys::HtmlCanvasElement;
use yew::prelude::*;

use super::architecture::Architecture;
use super::cam_panel::CamPanel;
use super::image_picker::ImagePicker;
use super::predictions::Predictions;
use super::residual_view::ResidualView;
use super::stage_panel::{StagePanel, ViewOptions};
use super::weights_panel::WeightsStatus;
use crate::analysis::colormap::Colormap;
use crate::web::canvas::paint_rgba;
use crate::web::protocol::Request;
use crate::web::state::{EngineLink, RunState, Store};

/// The Explore section.
#[function_component(Explore)]
pub fn explore() -> Html {
    let crop_canvas = use_node_ref();
    let options = use_state(|| ViewOptions {
        colormap: Colormap::Viridis,
        per_stage: false,
        by_activation: true,
        overlay: false,
    });
    let store = use_context::<Store>();
    let crop = store.as_ref().and_then(|s| s.crop.clone());
    {
        let crop_canvas = crop_canvas.clone();
        use_effect_with(crop, move |crop| {
            if let (Some(image), Some(c)) = (crop, crop_canvas.cast::<HtmlCanvasElement>()) {
                paint_rgba(&c, image);
            }
        });
    }
    let (Some(store), Some(link)) = (store, use_context::<EngineLink>()) else {
        return html! {};
    };
    let s = store.lang.strings();
    let (done, total) = store.progress;
    let status = match store.run {
        RunState::Idle => s.status_idle.to_string(),
        RunState::Running => format!("{}… Stage {}/{}", s.status_running, done.min(5), 5),
        RunState::Done => s.status_done.to_string(),
        RunState::Error => s.status_error.to_string(),
    };
    let cancel = {
        let (link, job) = (link.clone(), store.job);
        Callback::from(move |_| link.send.emit(Request::Cancel { job }))
    };
    let set = |f: fn(&mut ViewOptions, String)| {
        let options = options.clone();
        Callback::from(move |e: Event| {
            if let Some(el) = e.target_dyn_into::<web_sys::HtmlSelectElement>() {
                let mut o = *options;
                f(&mut o, el.value());
                options.set(o);
            } else if let Some(el) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                let mut o = *options;
                f(&mut o, el.checked().to_string());
                options.set(o);
            }
        })
    };
    let colormaps = Colormap::ALL.iter().map(|c| {
        html! { <option value={c.name()} selected={*c == options.colormap}>{ c.name() }</option> }
    });
    let view = *options;
    let word = s.stage_word;
    let panels = store.result.clone().map(|result| {
        (1..=5).filter_map(move |stage| {
            let maps = result.maps.get(stage - 1)?.clone();
            let stats = result.exploration.prediction.stages.get(stage - 1).cloned();
            Some(html! {
                <StagePanel {maps} crop={result.crop.clone()} title={format!("{word} {stage}")}
                            testid={format!("stage-{stage}")} {stats} options={view} />
            })
        })
    });
    html! {
        <div class="explore">
            <div class="top">
                <div class="input">
                    <ImagePicker />
                    <WeightsStatus />
                    <div class="run">
                        <span data-testid="run-status" data-state={store.run.id()}
                              data-backend={store.result.as_ref().map(|r| r.ran.kind().id())}>{ status }</span>
                        if store.run == RunState::Running {
                            <progress value={done.to_string()} max={total.to_string()}></progress>
                            <button onclick={cancel}>{ s.cancel }</button>
                        }
                    </div>
                    if store.crop.is_some() {
                        <figure class="crop">
                            <canvas ref={crop_canvas} data-testid="crop"></canvas>
                            <figcaption>{ s.crop_caption }</figcaption>
                        </figure>
                    }
                </div>
                <Predictions />
            </div>
            <CamPanel />
            <Architecture />
            <ResidualView options={*options} />
            if store.result.is_some() {
                <section class="features">
                    <h3>{ s.feature_maps }</h3>
                    <div class="controls">
                        <label>{ s.colormap }
                            <select onchange={set(|o, v| o.colormap = Colormap::ALL.into_iter().find(|c| c.name() == v).unwrap_or_default())}>
                                { for colormaps }
                            </select>
                        </label>
                        <select onchange={set(|o, v| o.by_activation = v == "activation")}>
                            <option value="activation" selected={options.by_activation}>{ s.sort_activation }</option>
                            <option value="index" selected={!options.by_activation}>{ s.sort_index }</option>
                        </select>
                        <select onchange={set(|o, v| o.per_stage = v == "stage")}>
                            <option value="channel" selected={!options.per_stage}>{ s.norm_channel }</option>
                            <option value="stage" selected={options.per_stage}>{ s.norm_stage }</option>
                        </select>
                        <label><input type="checkbox" checked={options.overlay} onchange={set(|o, v| o.overlay = v == "true")} />{ s.overlay }</label>
                    </div>
                    { for panels.into_iter().flatten() }
                </section>
            }
        </div>
    }
}
