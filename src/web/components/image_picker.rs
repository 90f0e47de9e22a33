//! Image input: file picker, sample gallery, and drag-and-drop / paste anywhere on the page.

use gloo::events::EventListener;
use wasm_bindgen::JsCast;
use web_sys::{ClipboardEvent, DragEvent};
use yew::prelude::*;

use crate::web::actions::{file_list, first_file, load_weights_files, run_blob};
use crate::web::image_input::fetch_blob;
use crate::web::samples::SAMPLES;
use crate::web::state::{Action, EngineLink, Store};

/// File input, samples, drop and paste handling.
#[function_component(ImagePicker)]
pub fn image_picker() -> Html {
    let (Some(store), Some(link)) = (use_context::<Store>(), use_context::<EngineLink>()) else {
        return html! {};
    };
    {
        // Drop and paste anywhere on the page.
        let (store, link) = (store.clone(), link.clone());
        use_effect_with((), move |_| {
            let document = web_sys::window().and_then(|w| w.document());
            let mut listeners = Vec::new();
            if let Some(doc) = document {
                listeners.push(EventListener::new_with_options(
                    &doc,
                    "dragover",
                    gloo::events::EventListenerOptions::enable_prevent_default(),
                    |e| e.prevent_default(),
                ));
                let (s, l) = (store.clone(), link.clone());
                listeners.push(EventListener::new_with_options(
                    &doc,
                    "drop",
                    gloo::events::EventListenerOptions::enable_prevent_default(),
                    move |e| {
                        e.prevent_default();
                        let files = e
                            .dyn_ref::<DragEvent>()
                            .and_then(|d| d.data_transfer())
                            .and_then(|t| t.files())
                            .map(|f| file_list(&f))
                            .unwrap_or_default();
                        if files.iter().any(|f| f.name().ends_with(".safetensors")) {
                            load_weights_files(s.clone(), l.clone(), files);
                        } else if let Some(file) = files.into_iter().next() {
                            run_blob(s.clone(), l.clone(), file.into());
                        }
                    },
                ));
                let (s, l) = (store, link);
                listeners.push(EventListener::new(&doc, "paste", move |e| {
                    let file = e
                        .dyn_ref::<ClipboardEvent>()
                        .and_then(|c| c.clipboard_data())
                        .and_then(|d| d.files())
                        .and_then(|f| f.get(0));
                    if let Some(file) = file {
                        run_blob(s.clone(), l.clone(), file.into());
                    }
                }));
            }
            move || drop(listeners)
        });
    }
    let s = store.lang.strings();
    let on_file = {
        let (store, link) = (store.clone(), link.clone());
        Callback::from(move |e: Event| {
            if let Some(file) = first_file(&e) {
                run_blob(store.clone(), link.clone(), file.into());
            }
        })
    };
    let samples = SAMPLES.iter().map(|&name| {
        let (store, link) = (store.clone(), link.clone());
        let onclick = Callback::from(move |_| {
            let (store, link) = (store.clone(), link.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match fetch_blob(&format!("static/samples/{name}.jpg")).await {
                    Ok(blob) => run_blob(store, link, blob),
                    Err(e) => store.dispatch(Action::Error(e)),
                }
            });
        });
        html! {
            <button class="sample" data-testid={format!("sample-{name}")} {onclick} title={name}>
                <img src={format!("static/samples/{name}.jpg")} alt={name} />
            </button>
        }
    });
    html! {
        <div class="picker">
            <p>
                { s.drop_hint }{ " " }
                <label class="file">
                    { s.choose_file }
                    <input type="file" accept="image/*" data-testid="image-input" onchange={on_file} />
                </label>
            </p>
            <div class="samples" aria-label={s.samples}>{ for samples }</div>
        </div>
    }
}
