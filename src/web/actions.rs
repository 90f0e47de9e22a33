//! What the page's views do beyond rendering: start an Explore run, read a picked image or
//! weights file and hand it to the worker.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, File, HtmlInputElement};
use yew::prelude::*;

use super::image_input::decode_blob;
use super::jobs::next_job;
use super::protocol::{Request, RgbaImage};
use super::state::{Action, EngineLink, Store};

/// Sends an Explore run for `image` and marks it as the current one.
pub fn start_run(store: &Store, link: &EngineLink, image: Rc<RgbaImage>) {
    let job = next_job();
    store.dispatch(Action::Started {
        job,
        image: image.clone(),
    });
    link.send.emit(Request::Explore {
        job,
        image: (*image).clone(),
        size: 224,
        backend: store.backend,
    });
}

/// Decodes `blob` and runs the network on it; an unreadable image shows an error and keeps
/// the previous results.
pub fn run_blob(store: Store, link: EngineLink, blob: Blob) {
    wasm_bindgen_futures::spawn_local(async move {
        match decode_blob(&blob).await {
            Ok(image) => start_run(&store, &link, Rc::new(image)),
            Err(e) => store.dispatch(Action::Error(format!(
                "{}: {e}",
                store.lang.strings().not_an_image
            ))),
        }
    });
}

/// The first file of a file input's `change` event; the input is cleared so that picking the
/// same file again fires again.
pub fn first_file(e: &Event) -> Option<web_sys::File> {
    let input: HtmlInputElement = e.target()?.dyn_into().ok()?;
    let file = input.files().and_then(|f| f.get(0));
    input.set_value("");
    file
}

/// Reads a picked or dropped weights file and sends it to the worker.
pub fn load_weights_file(store: Store, link: EngineLink, file: File) {
    store.dispatch(Action::WeightsRequested);
    wasm_bindgen_futures::spawn_local(async move {
        let name = file.name();
        match JsFuture::from(file.array_buffer()).await {
            Ok(buffer) => {
                let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                link.send.emit(Request::LoadWeightsBytes { name, bytes });
            }
            Err(_) => store.dispatch(Action::Error(format!("cannot read {name}"))),
        }
    });
}
