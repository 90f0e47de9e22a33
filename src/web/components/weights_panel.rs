//! Weights: status, "load pretrained" from a URL with a byte progress bar, a local file, or
//! back to the seeded untrained network. A failure keeps the previous weights.

use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::web::actions::{load_weights_files, picked_files};
use crate::web::protocol::{default_init, Request};
use crate::web::query::{absolute_url, query_param};
use crate::web::state::{Action, EngineLink, Store};

/// timm's `resnet50.a1_in1k` checkpoint on the Hugging Face hub (torchvision naming, v1.5),
/// checked by the worker once downloaded ([`crate::weights::known`]).
pub const DEFAULT_WEIGHTS_URL: &str = crate::weights::known::TIMM_RESNET50_A1.url;

/// One line saying which weights are in use.
#[function_component(WeightsStatus)]
pub fn weights_status() -> Html {
    let Some(store) = use_context::<Store>() else {
        return html! {};
    };
    let s = store.lang.strings();
    let text = match &store.weights {
        None => "…".to_string(),
        Some(w) if !w.pretrained => {
            format!("{}: {} ({})", s.weights, s.weights_untrained, w.source)
        }
        Some(w) => format!(
            "{}: {} — {} · {} {} · {}{}",
            s.weights,
            s.weights_pretrained,
            w.source,
            s.naming,
            w.naming.map(|n| n.label()).unwrap_or("?"),
            w.dtype,
            if store.weights_from_cache {
                format!(" · {}", s.from_cache)
            } else {
                String::new()
            }
        ),
    };
    let state = match (&store.weights, store.weights_busy) {
        (_, true) => "loading",
        (Some(w), _) if w.pretrained => "pretrained",
        _ => "untrained",
    };
    let recipe = &store.preprocess;
    let source = match recipe.source.as_str() {
        "torchvision default" => s.preprocess_default,
        other => other,
    };
    html! {
        <>
            <p class="weights-status" data-testid="weights-status" data-state={state}>{ text }</p>
            <p class="preprocess" data-testid="preprocess" data-resize={recipe.resize.to_string()}
               data-crop={recipe.crop.to_string()} data-interpolation={recipe.interpolation.name()}>
                { format!("{}: {} · {source}", s.preprocessing, recipe.describe()) }
            </p>
        </>
    }
}

/// The Settings panel for weights.
#[function_component(WeightsPanel)]
pub fn weights_panel() -> Html {
    let url =
        use_state(|| query_param("weights").unwrap_or_else(|| DEFAULT_WEIGHTS_URL.to_string()));
    let (Some(store), Some(link)) = (use_context::<Store>(), use_context::<EngineLink>()) else {
        return html! {};
    };
    let s = store.lang.strings();
    let on_url = {
        let url = url.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            {
                url.set(input.value());
            }
        })
    };
    let on_load = {
        let (store, link, url) = (store.clone(), link.clone(), url.clone());
        Callback::from(move |_| {
            store.dispatch(Action::WeightsRequested);
            link.send.emit(Request::LoadWeightsUrl {
                url: absolute_url(&url),
            });
        })
    };
    let on_file = {
        let (store, link) = (store.clone(), link.clone());
        Callback::from(move |e: Event| {
            let files = picked_files(&e);
            if !files.is_empty() {
                load_weights_files(store.clone(), link.clone(), files);
            }
        })
    };
    let on_init = {
        let (store, link) = (store.clone(), link.clone());
        Callback::from(move |_| {
            store.dispatch(Action::WeightsRequested);
            link.send.emit(Request::UseInit(default_init()));
        })
    };
    let progress = store.download.map(|d| {
        let mb = |b: u64| b as f64 / 1e6;
        let text = match d.total {
            Some(t) => format!("{:.1} / {:.1} MB · {:.1} MB/s", mb(d.loaded), mb(t), d.mb_per_s),
            None => format!("{:.1} MB · {:.1} MB/s", mb(d.loaded), d.mb_per_s),
        };
        html! {
            <div class="download" data-testid="weights-progress">
                <progress value={d.loaded.to_string()} max={d.total.unwrap_or(d.loaded.max(1)).to_string()}></progress>
                <span>{ format!("{} {text}", s.downloading) }</span>
            </div>
        }
    });
    html! {
        <section class="weights">
            <h3>{ s.weights }</h3>
            <WeightsStatus />
            <label>
                { s.weights_url_label }
                <input type="url" data-testid="weights-url" value={(*url).clone()} oninput={on_url} />
            </label>
            <button class="primary" data-testid="weights-load" onclick={on_load} disabled={store.weights_busy}>
                { s.load_pretrained }
            </button>
            { for progress }
            <label>
                { s.weights_file_label }
                <input type="file" accept=".safetensors,.json" multiple=true data-testid="weights-file" onchange={on_file} />
            </label>
            <button data-testid="weights-init" onclick={on_init}>{ s.use_untrained }</button>
        </section>
    }
}
