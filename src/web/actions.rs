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
use super::state::{Action, EngineLink, Store, WeightsOffer};

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

/// Hands a picked or dropped weights file to the worker, which reads it itself (through an
/// object URL: the page never copies the bytes).
pub fn load_weights_file(store: Store, link: EngineLink, file: File) {
    let name = file.name();
    match web_sys::Url::create_object_url_with_blob(&file) {
        Ok(url) => {
            store.dispatch(Action::WeightsRequested);
            store.dispatch(Action::FileUrl(Some(url.clone())));
            link.send.emit(Request::LoadWeightsFile { name, url });
        }
        Err(_) => store.dispatch(Action::Error(format!("cannot read {name}"))),
    }
}

/// Shows the question for weights from another site, and asks that site (a HEAD request) how
/// large the file is; nothing is downloaded until the user agrees.
pub fn offer_weights(store: &Store, url: String, host: String) {
    store.dispatch(Action::WeightsOffer(Some(WeightsOffer {
        url: url.clone(),
        host,
        bytes: None,
    })));
    let store = store.clone();
    wasm_bindgen_futures::spawn_local(async move {
        if let Some(bytes) = stated_size(&url).await {
            store.dispatch(Action::WeightsOfferSize(bytes));
        }
    });
}

/// The `Content-Length` a HEAD request for `url` states (when the server allows and says it).
async fn stated_size(url: &str) -> Option<u64> {
    let window = web_sys::window()?;
    let init = web_sys::RequestInit::new();
    init.set_method("HEAD");
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .ok()?
        .dyn_into()
        .ok()?;
    response
        .headers()
        .get("content-length")
        .ok()
        .flatten()?
        .trim()
        .parse()
        .ok()
}
