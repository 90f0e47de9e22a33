//! The Settings panel for the compute backend: Auto, CPU or WebGPU.

use wasm_bindgen::JsCast;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::backend::BackendChoice;
use crate::web::actions::start_run;
use crate::web::protocol::Request;
use crate::web::state::{Action, EngineLink, Store};

/// A select of the three backends (`data-testid="backend-select"`); changing it re-runs the
/// current image on the new backend. Under Auto, what it picked and why (`auto-pick`), with a
/// button that measures again.
#[function_component(BackendPanel)]
pub fn backend_panel() -> Html {
    let link = use_context::<EngineLink>();
    let Some(store) = use_context::<Store>() else {
        return html! {};
    };
    let s = store.lang.strings();
    let on_change = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            let choice = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
                .and_then(|el| BackendChoice::from_id(&el.value()));
            if let Some(choice) = choice {
                store.dispatch(Action::Backend(choice));
            }
        })
    };
    let options = BackendChoice::ALL.into_iter().map(|c| {
        let label = match c {
            BackendChoice::Auto => s.backend_auto,
            BackendChoice::Cpu => s.backend_cpu,
            BackendChoice::WebGpu => s.backend_webgpu,
        };
        html! { <option value={c.id()} selected={c == store.backend}>{ label }</option> }
    });
    let measure_again = {
        let store = store.clone();
        Callback::from(move |_: MouseEvent| {
            store.dispatch(Action::ForgetAutoPick);
            if let Some(link) = &link {
                link.send.emit(Request::AutoRemembered(None));
                if let Some(image) = store.image.clone() {
                    start_run(&store, link, image);
                }
            }
        })
    };
    let auto_pick = store
        .auto_pick
        .as_ref()
        .filter(|_| store.backend == BackendChoice::Auto)
        .map(|pick| s.auto_pick(pick));
    let ran = store
        .result
        .as_ref()
        .map(|r| format!("{}: {}", s.backend, s.ran_on(&r.ran)));
    html! {
        <section class="backend">
            <h3>{ s.backend }</h3>
            <p>{ s.backend_help }</p>
            <select data-testid="backend-select" aria-label={s.backend} onchange={on_change}>{ for options }</select>
            if let Some(pick) = auto_pick {
                <p class="meta" data-testid="auto-pick">
                    { pick }{ " " }
                    <button data-testid="auto-measure-again" onclick={measure_again}>{ s.auto_measure_again }</button>
                </p>
            }
            if let Some(ran) = ran {
                <p class="meta">{ ran }</p>
            }
        </section>
    }
}
