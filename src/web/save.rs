//! Saving a file from the page: a link clicked on the user's behalf.

use wasm_bindgen::JsCast;
use web_sys::HtmlAnchorElement;

/// Saves what `href` points to (a data or object URL) as `filename`.
pub fn download(href: &str, filename: &str) {
    let anchor = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<HtmlAnchorElement>().ok());
    if let Some(a) = anchor {
        a.set_href(href);
        a.set_download(filename);
        a.click();
    }
}

/// Saves `text` as a CSV file named `filename`.
pub fn download_text(text: &str, filename: &str) {
    let parts = js_sys::Array::of1(&text.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/csv");
    if let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) {
        if let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) {
            download(&url, filename);
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    }
}
