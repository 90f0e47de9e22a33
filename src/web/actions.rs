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
    picked_files(e).into_iter().next()
}

/// The files of a file input (then cleared, so that the same files can be picked again).
pub fn picked_files(e: &Event) -> Vec<File> {
    let Some(input) = e
        .target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
    else {
        return Vec::new();
    };
    let files = input
        .files()
        .map(|list| file_list(&list))
        .unwrap_or_default();
    input.set_value("");
    files
}

/// The files of a `FileList`.
pub fn file_list(list: &web_sys::FileList) -> Vec<File> {
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// A preprocessing config is a few hundred bytes.
const MAX_CONFIG_BYTES: f64 = 1_048_576.0;

/// Hands picked or dropped weights to the worker: the `.safetensors` file, which the worker
/// reads itself through an object URL (the page never copies the bytes), and the preprocessing
/// `.json` picked with it, if any (read here: a few hundred bytes).
pub fn load_weights_files(store: Store, link: EngineLink, files: Vec<File>) {
    let weights = files
        .iter()
        .find(|f| f.name().ends_with(".safetensors"))
        .cloned();
    let config = files.iter().find(|f| f.name().ends_with(".json")).cloned();
    let Some(file) = weights else {
        let message =
            "pick the .safetensors weights file too (a .json alone is only its preprocessing)";
        return store.dispatch(Action::Error(message.into()));
    };
    wasm_bindgen_futures::spawn_local(async move {
        let preprocess = match config {
            None => None,
            Some(c) if c.size() > MAX_CONFIG_BYTES => {
                let message = format!("{}: too large for a preprocessing config", c.name());
                return store.dispatch(Action::Error(message));
            }
            Some(c) => match JsFuture::from(c.text())
                .await
                .ok()
                .and_then(|t| t.as_string())
            {
                Some(text) => Some((c.name(), text)),
                None => return store.dispatch(Action::Error(format!("cannot read {}", c.name()))),
            },
        };
        let name = file.name();
        match web_sys::Url::create_object_url_with_blob(&file) {
            Ok(url) => {
                store.dispatch(Action::WeightsRequested);
                store.dispatch(Action::FileUrl(Some(url.clone())));
                link.send.emit(Request::LoadWeightsFile {
                    name,
                    url,
                    preprocess,
                });
            }
            Err(_) => store.dispatch(Action::Error(format!("cannot read {name}"))),
        }
    });
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
