//! The preprocessing that comes with a checkpoint: its config next to the weights file
//! (transformers' `preprocessor_config.json`, timm's `config.json`), fetched like the weights
//! (same cache, same error handling), or the JSON file the user picked with a local one.

use web_sys::FileReaderSync;

use super::download::{remember, Download};
use crate::image::Preprocess;

/// A config is a few hundred bytes; anything past this is not one.
const MAX_CONFIG_BYTES: usize = 1 << 20;

/// The recipe in use and, when a config was there but could not be used, why (the page shows
/// it; torchvision's recipe is used then).
pub(super) struct Recipe {
    pub(super) preprocess: Preprocess,
    pub(super) note: Option<String>,
}

impl Recipe {
    fn default_with(note: Option<String>) -> Self {
        Self {
            preprocess: Preprocess::torchvision(224),
            note,
        }
    }

    /// The recipe read from the config at `source`, or torchvision's with the reason.
    fn read(source: &str, recipe: crate::Result<Preprocess>) -> Self {
        match recipe {
            Ok(preprocess) => Self {
                preprocess,
                note: None,
            },
            Err(e) => Self::default_with(Some(format!(
                "{source}: {e}; torchvision's preprocessing is used"
            ))),
        }
    }

    /// The recipe of a local checkpoint: from the JSON picked with it, else torchvision's.
    pub(super) fn from_picked(json: Option<(String, String)>) -> Self {
        match json {
            None => Self::default_with(None),
            Some((name, text)) => Self::read(&name, Preprocess::from_json(&text)),
        }
    }

    /// The recipe of the checkpoint at `weights_url`: `preprocessor_config.json`, else
    /// `config.json` when it describes preprocessing (timm's does, a transformers model's does
    /// not), from the same folder; torchvision's when neither does.
    pub(super) async fn next_to(weights_url: &str) -> Self {
        for name in ["preprocessor_config.json", "config.json"] {
            let Some(url) = sibling(weights_url, name) else {
                continue;
            };
            let Some(text) = fetch_text(&url).await else {
                continue;
            };
            if let Some(recipe) = Preprocess::from_config(&text).transpose() {
                return Self::read(&url, recipe);
            }
        }
        Self::default_with(None)
    }
}

/// `name` in the folder of `url` (its query dropped: the hub's `?download=true`).
fn sibling(url: &str, name: &str) -> Option<String> {
    let base = web_sys::Url::new(url).ok()?;
    base.set_search("");
    base.set_hash("");
    Some(web_sys::Url::new_with_base(name, &base.href()).ok()?.href())
}

/// The text at `url` through the weights' download path (Cache Storage first), or None when it
/// is missing, too large or not text.
async fn fetch_text(url: &str) -> Option<String> {
    let mut download = Download::start(url, true).await.ok()?;
    while download.next_chunk().await.ok()? {
        if download.received > MAX_CONFIG_BYTES as u64 {
            download.cancel();
            return None;
        }
    }
    let from_cache = download.from_cache;
    let body = download.into_blob().ok()?;
    let bytes = FileReaderSync::new()
        .ok()?
        .read_as_array_buffer(&body)
        .ok()?;
    let text = String::from_utf8(js_sys::Uint8Array::new(&bytes).to_vec()).ok()?;
    if !from_cache {
        remember(url, &body).await;
    }
    Some(text)
}
