//! Top-5 predictions: a plotters bar chart on a canvas and one row per class.

use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

use crate::charts::top_k::draw_top_k;
use crate::web::state::{Action, Store};

/// The predictions panel.
#[function_component(Predictions)]
pub fn predictions() -> Html {
    let canvas = use_node_ref();
    let store = use_context::<Store>();
    let result = store.as_ref().and_then(|s| s.result.clone());
    {
        let canvas = canvas.clone();
        let result = result.clone();
        use_effect_with(result, move |result| {
            if let (Some(r), Some(c)) = (result, canvas.cast::<HtmlCanvasElement>()) {
                let untrained = !r.weights.as_ref().is_some_and(|w| w.pretrained);
                if let Some(backend) = CanvasBackend::with_canvas_object(c) {
                    let _ = draw_top_k(backend, &r.exploration.prediction.top, untrained);
                }
            }
        });
    }
    let (Some(store), Some(result)) = (store, result) else {
        return html! {};
    };
    let s = store.lang.strings();
    let untrained = !result.weights.as_ref().is_some_and(|w| w.pretrained);
    // A click maps the class (see the class-activation-map panel).
    let rows = result.exploration.prediction.top.iter().map(|r| {
        let (store, class) = (store.clone(), r.class);
        let pick = Callback::from(move |_| {
            let mut cam = store.cam;
            cam.active = true;
            cam.class = Some(class);
            store.dispatch(Action::Cam(cam));
        });
        html! {
            <li data-testid="prediction" data-class={r.class.to_string()} data-prob={format!("{:.6}", r.prob)}
                class="pickable" onclick={pick}>
                <span class="label">{ &r.label }</span>
                <span class="prob">{ format!("{:.2} %", r.prob * 100.0) }</span>
            </li>
        }
    });
    html! {
        <section class="predictions">
            <h3>{ s.predictions }</h3>
            if untrained {
                <p class="warning" data-testid="untrained-warning">{ s.untrained_warning }</p>
            }
            <canvas ref={canvas} width="420" height="170" aria-hidden="true"></canvas>
            <ol>{ for rows }</ol>
            <p class="meta">
                { format!("{}: {:.0} ms · {}: {}", s.forward_time, result.elapsed_ms, s.backend, s.ran_on(&result.ran)) }
            </p>
            if let Some(why) = &result.fallback {
                <p class="warning" data-testid="gpu-fallback">{ format!("{}: {why}", s.gpu_fallback) }</p>
            }
        </section>
    }
}
