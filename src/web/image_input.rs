//! Turning what the user gives (a file, a drop, a paste, a sample URL) into RGBA pixels,
//! decoded by the browser so that every format it reads works.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, CanvasRenderingContext2d, HtmlCanvasElement, ImageBitmap, Response};

use super::protocol::RgbaImage;
use crate::image::{MAX_PIXELS, MAX_SIDE};

/// Decodes an image blob with `createImageBitmap` and reads its pixels through a canvas.
pub async fn decode_blob(blob: &Blob) -> Result<RgbaImage, String> {
    let window = web_sys::window().ok_or("no window")?;
    let promise = window
        .create_image_bitmap_with_blob(blob)
        .map_err(|_| "the browser cannot decode this file".to_string())?;
    let bitmap: ImageBitmap = JsFuture::from(promise)
        .await
        .map_err(|_| {
            "the browser cannot decode this file as an image (corrupt or not an image)".to_string()
        })?
        .dyn_into()
        .map_err(|_| "not an image".to_string())?;
    let (width, height) = (bitmap.width(), bitmap.height());
    if width == 0 || height == 0 {
        return Err("the image has no pixels".into());
    }
    if width > MAX_SIDE || height > MAX_SIDE || width as u64 * height as u64 > MAX_PIXELS {
        return Err(format!(
            "the image is {width}×{height} pixels; the limit is {MAX_SIDE} px a side and 40 megapixels"
        ));
    }
    let document = window.document().ok_or("no document")?;
    let canvas: HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(|_| "cannot create a canvas")?
        .dyn_into()
        .map_err(|_| "cannot create a canvas")?;
    canvas.set_width(width);
    canvas.set_height(height);
    let ctx: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .ok_or("no 2d context")?
        .dyn_into()
        .map_err(|_| "no 2d context")?;
    ctx.draw_image_with_image_bitmap(&bitmap, 0.0, 0.0)
        .map_err(|_| "cannot draw the image")?;
    let data = ctx
        .get_image_data(0.0, 0.0, width as f64, height as f64)
        .map_err(|_| "cannot read the pixels")?;
    bitmap.close();
    Ok(RgbaImage {
        width,
        height,
        rgba: data.data().0,
    })
}

/// Fetches a same-origin URL (a sample image) as a blob.
pub async fn fetch_blob(url: &str) -> Result<Blob, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response: Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| format!("cannot fetch {url}"))?
        .dyn_into()
        .map_err(|_| "fetch did not return a response")?;
    if !response.ok() {
        return Err(format!("cannot fetch {url}: HTTP {}", response.status()));
    }
    let blob = JsFuture::from(response.blob().map_err(|_| "no body")?)
        .await
        .map_err(|_| format!("cannot read {url}"))?;
    blob.dyn_into().map_err(|_| "not a blob".to_string())
}
