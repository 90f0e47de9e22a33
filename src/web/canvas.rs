//! Painting 8-bit maps and RGBA images into canvases.

use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use super::protocol::RgbaImage;

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten()?.dyn_into().ok()
}

/// Paints RGBA pixels at their natural size (the canvas is resized to fit).
pub fn paint_rgba(canvas: &HtmlCanvasElement, image: &RgbaImage) {
    canvas.set_width(image.width);
    canvas.set_height(image.height);
    if let (Some(ctx), Ok(data)) = (
        context(canvas),
        ImageData::new_with_u8_clamped_array_and_sh(
            Clamped(&image.rgba),
            image.width,
            image.height,
        ),
    ) {
        let _ = ctx.put_image_data(&data, 0.0, 0.0);
    }
}

/// Paints a `width × height` 8-bit map through a colormap lookup table.
pub fn paint_map(
    canvas: &HtmlCanvasElement,
    width: usize,
    height: usize,
    map: &[u8],
    lut: &[[u8; 3]; 256],
) {
    let rgba: Vec<u8> = map
        .iter()
        .flat_map(|&q| {
            let [r, g, b] = lut[q as usize];
            [r, g, b, 255]
        })
        .collect();
    paint_rgba(
        canvas,
        &RgbaImage {
            width: width as u32,
            height: height as u32,
            rgba,
        },
    );
}

/// Paints `image` with a semi-transparent colour-mapped `map` stretched over it.
pub fn paint_overlay(
    canvas: &HtmlCanvasElement,
    image: &RgbaImage,
    side: usize,
    map: &[u8],
    lut: &[[u8; 3]; 256],
) {
    let (w, h) = (image.width as usize, image.height as usize);
    let mut rgba = image.rgba.clone();
    for y in 0..h {
        for x in 0..w {
            let q = map[(y * side / h) * side + x * side / w];
            let [r, g, b] = lut[q as usize];
            let i = (y * w + x) * 4;
            for (c, v) in [r, g, b].into_iter().enumerate() {
                rgba[i + c] = ((rgba[i + c] as u16 * 2 + v as u16 * 3) / 5) as u8;
            }
        }
    }
    paint_rgba(
        canvas,
        &RgbaImage {
            width: image.width,
            height: image.height,
            rgba,
        },
    );
}
