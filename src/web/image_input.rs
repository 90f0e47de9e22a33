//! Turning what the user gives (a file, a drop, a paste, a sample URL) into RGBA pixels,
//! decoded by the browser so that every format it reads works.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, CanvasRenderingContext2d, ColorSpaceConversion, HtmlCanvasElement, ImageBitmap,
    ImageBitmapOptions, ImageOrientation, PremultiplyAlpha, ResizeQuality, Response,
};

use super::protocol::RgbaImage;
use crate::image::{check_header, check_size};

/// Images above this many pixels are decoded downscaled to it (aspect kept): the network
/// sees a 224×224 crop of the image resized to 256 on its shorter side, so 16 MP keep far more
/// than it needs, and a 200 MP photo never becomes 800 MB of RGBA.
pub const DECODE_PIXELS: u64 = 16_000_000;
/// The largest image file read (a 200 MP JPEG is about 100 MB).
pub const MAX_FILE_BYTES: f64 = 256.0 * 1024.0 * 1024.0;

/// Closes the bitmap when dropped, so that it is released on every path.
struct Bitmap(ImageBitmap);

impl Drop for Bitmap {
    fn drop(&mut self) {
        self.0.close();
    }
}

async fn decode_bitmap(
    promise: Result<js_sys::Promise, wasm_bindgen::JsValue>,
) -> Result<Bitmap, String> {
    let promise = promise.map_err(|_| "the browser cannot decode this file".to_string())?;
    let bitmap: ImageBitmap = JsFuture::from(promise)
        .await
        .map_err(|_| {
            "the browser cannot decode this file as an image (corrupt or not an image)".to_string()
        })?
        .dyn_into()
        .map_err(|_| "not an image".to_string())?;
    Ok(Bitmap(bitmap))
}

/// The file's bytes; refused before reading when it is larger than [`MAX_FILE_BYTES`].
async fn read_bytes(blob: &Blob) -> Result<Vec<u8>, String> {
    if blob.size() > MAX_FILE_BYTES {
        return Err(format!(
            "the file is {:.0} MB; images of up to {:.0} MB are read",
            blob.size() / 1048576.0,
            MAX_FILE_BYTES / 1048576.0
        ));
    }
    let buffer = JsFuture::from(blob.array_buffer())
        .await
        .map_err(|_| "cannot read the file".to_string())?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Decodes an image blob with `createImageBitmap` and reads its pixels through a canvas.
///
/// The same policy as the CLI's decoder (`crate::image`): the size from the file's header is
/// checked before any pixel is decoded, and a JPEG cut short is refused. Formats whose header
/// we do not read (the browser may know more) are checked once decoded. Large photos are
/// decoded downscaled to [`DECODE_PIXELS`].
pub async fn decode_blob(blob: &Blob) -> Result<RgbaImage, String> {
    /// The decoding policy of `crate::image`, as the browser's options: EXIF orientation
    /// applied, no colour-profile conversion (Chromium converts by default), alpha kept as is
    /// (the worker composites over white).
    fn policy() -> ImageBitmapOptions {
        let options = ImageBitmapOptions::new();
        options.set_image_orientation(ImageOrientation::FromImage);
        options.set_color_space_conversion(ColorSpaceConversion::None);
        options.set_premultiply_alpha(PremultiplyAlpha::None);
        options
    }
    let window = web_sys::window().ok_or("no window")?;
    let bytes = read_bytes(blob).await?;
    check_header(&bytes).map_err(|e| e.to_string())?;
    drop(bytes);
    let mut bitmap = decode_bitmap(
        window.create_image_bitmap_with_blob_and_image_bitmap_options(blob, &policy()),
    )
    .await?;
    let (width, height) = (bitmap.0.width(), bitmap.0.height());
    check_size(width, height).map_err(|e| e.to_string())?;
    let pixels = width as u64 * height as u64;
    if pixels > DECODE_PIXELS {
        // From the decoded (and EXIF-oriented) bitmap, so the aspect is exactly its own.
        let scale = (DECODE_PIXELS as f64 / pixels as f64).sqrt();
        let options = policy();
        options.set_resize_width(((width as f64 * scale).floor() as u32).max(1));
        options.set_resize_height(((height as f64 * scale).floor() as u32).max(1));
        options.set_resize_quality(ResizeQuality::High);
        let smaller = decode_bitmap(
            window.create_image_bitmap_with_image_bitmap_and_image_bitmap_options(
                &bitmap.0, &options,
            ),
        )
        .await?;
        bitmap = smaller; // the full-size one is closed here
    }
    let (width, height) = (bitmap.0.width(), bitmap.0.height());
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
    ctx.draw_image_with_image_bitmap(&bitmap.0, 0.0, 0.0)
        .map_err(|_| "cannot draw the image")?;
    drop(bitmap);
    let data = ctx
        .get_image_data(0.0, 0.0, width as f64, height as f64)
        .map_err(|_| "cannot read the pixels")?;
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
