//! The Settings panel for the compute backend: Auto, CPU or WebGPU.

use wasm_bindgen::JsCast;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::backend::BackendChoice;
use crate::web::state::{Action, Store};

/// A select of the three backends (`data-testid="backend-select"`); changing it re-runs the
/// current image on the new backend.
#[function_component(BackendPanel)]
pub fn backend_panel() -> Html {
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
    let ran = store
        .result
        .as_ref()
        .map(|r| format!("{}: {}", s.backend, s.ran_on(&r.ran)));
    html! {
        <section class="backend">
            <h3>{ s.backend }</h3>
            <p>{ s.backend_help }</p>
            <select data-testid="backend-select" aria-label={s.backend} onchange={on_change}>{ for options }</select>
            if let Some(ran) = ran {
                <p class="meta">{ ran }</p>
            }
        </section>
    }
}
