//! Images: decoding under one policy for page and CLI, and preprocessing (torchvision's
//! `Resize(256)` → `CenterCrop(224)` → `ToTensor` → `Normalize` by default, or a checkpoint's
//! own [`Preprocess`] recipe).
//!
//! # Decoding policy
//! The same file gives the network the same pixels in the page (the browser's decoder) and in
//! the CLI (the `image` crate), and the pixels PIL gives the reference scripts:
//! - **EXIF orientation is applied**, as phone users expect and as PIL's
//!   `ImageOps.exif_transpose` does (the browser's `createImageBitmap` does by default; the CLI
//!   reads the orientation from the decoder).
//! - **Transparency is composited over white** ([`RgbImage::from_rgba`] for the page, the same
//!   function for the CLI), as a white page shows the image. (PIL's `convert("RGB")` would keep
//!   whatever colour lies under a transparent pixel, which a browser canvas cannot give back.)
//! - **Colour profiles are ignored** (ICC, gAMA), as PIL and the `image` crate do: the page asks
//!   the browser not to convert (`colorSpaceConversion: "none"`), which Chromium otherwise does.

use candle_core::Tensor;

use crate::{Error, Result};

mod filter;
pub mod recipe;

pub use filter::Interpolation;
pub use recipe::Preprocess;

/// ImageNet channel means (RGB).
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations (RGB).
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];
/// Largest accepted side in pixels.
pub const MAX_SIDE: u32 = 32_768;
/// Largest accepted pixel count: 200 megapixels, what phone cameras reach. Checked from the
/// header, before any pixel is decoded (a decompression bomb is refused at once, as Pillow's
/// `MAX_IMAGE_PIXELS` does).
pub const MAX_PIXELS: u64 = 200_000_000;
/// Largest accepted ratio of the longer side to the shorter one. Beyond it the network would
/// see a sliver stretched over its whole input.
pub const MAX_ASPECT: u32 = 32;

/// An 8-bit RGB image, row-major, 3 bytes per pixel.
#[derive(Clone, Debug, PartialEq)]
pub struct RgbImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 3` bytes.
    pub data: Vec<u8>,
}

/// Checks a size read from a header (or a bitmap) before the pixels are touched: not empty,
/// within [`MAX_SIDE`] and [`MAX_PIXELS`], no more elongated than [`MAX_ASPECT`].
pub fn check_size(width: u32, height: u32) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::Image(format!(
            "image has no pixels ({width}×{height})"
        )));
    }
    if width > MAX_SIDE || height > MAX_SIDE || width as u64 * height as u64 > MAX_PIXELS {
        return Err(Error::ImageTooLarge { width, height });
    }
    if width.max(height) / width.min(height) > MAX_ASPECT {
        return Err(Error::ImageAspect { width, height });
    }
    Ok(())
}

/// The checks made on an image file's bytes before anything decodes them (the page and the
/// CLI alike): not empty, the size its header states within [`check_size`], and a JPEG not cut
/// short ([`jpeg_is_complete`]). A format whose header is not known here passes; its size is
/// checked once decoded.
pub fn check_header(bytes: &[u8]) -> Result<()> {
    if bytes.is_empty() {
        return Err(Error::Image("the file is empty".into()));
    }
    if let Ok(size) = imagesize::blob_size(bytes) {
        let side = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        check_size(side(size.width), side(size.height))?;
    }
    if matches!(imagesize::image_type(bytes), Ok(imagesize::ImageType::Jpeg))
        && !jpeg_is_complete(bytes)
    {
        return Err(Error::ImageTruncated);
    }
    Ok(())
}

/// True when JPEG `bytes` end their last scan with the end-of-image marker. A JPEG cut short
/// (a broken download, a partly written file) decodes without complaint in most decoders, with
/// its lower part grey; this tells it apart. Inside entropy-coded data a 0xFF byte is always
/// followed by 0x00 or a restart marker, so a start-of-scan (FF DA) or end-of-image (FF D9)
/// pair is a real marker wherever it appears; an embedded thumbnail's markers come before the
/// main image's scans.
pub fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let marker = |m: u8| bytes.windows(2).rposition(|w| w == [0xFF, m]);
    match (marker(0xDA), marker(0xD9)) {
        (Some(scan), Some(end)) => end > scan,
        _ => false,
    }
}

impl RgbImage {
    /// From RGBA bytes as a browser canvas gives them, composited over white (the decoding
    /// policy, see the module's documentation).
    pub fn from_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<Self> {
        check_size(width, height)?;
        let expected = width as usize * height as usize * 4;
        if rgba.len() != expected {
            return Err(Error::Image(format!(
                "expected {expected} RGBA bytes for {width}×{height}, got {}",
                rgba.len()
            )));
        }
        Ok(Self {
            width,
            height,
            data: over_white(rgba),
        })
    }

    /// Decodes JPEG, PNG or WebP bytes. The file is checked before any pixel is decoded
    /// ([`check_header`]: size from the header, a JPEG cut short), and the decoder runs under
    /// the `image` crate's [`Limits`] for the same budget.
    ///
    /// [`Limits`]: ::image::Limits
    #[cfg(not(target_arch = "wasm32"))]
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        use ::image::metadata::Orientation;
        use ::image::{DynamicImage, ImageDecoder, ImageError, ImageReader, Limits};
        let reader = |bytes| {
            ImageReader::new(std::io::Cursor::new(bytes))
                .with_guessed_format()
                .map_err(|e| Error::Image(e.to_string()))
        };
        let unreadable = |e: ImageError| Error::Image(format!("not a readable image: {e}"));
        check_header(bytes)?;
        let (width, height) = reader(bytes)?.into_dimensions().map_err(unreadable)?;
        check_size(width, height)?;
        let mut limits = Limits::default();
        limits.max_image_width = Some(MAX_SIDE);
        limits.max_image_height = Some(MAX_SIDE);
        // The decoded pixels (up to 4 bytes each, 8 for 16-bit PNG) plus the decoder's own.
        limits.max_alloc = Some(MAX_PIXELS * 8 + (64 << 20));
        let decode_error = |e| match e {
            ImageError::Limits(_) => Error::ImageTooLarge { width, height },
            other => unreadable(other),
        };
        let mut reader = reader(bytes)?;
        reader.limits(limits);
        let mut decoder = reader.into_decoder().map_err(decode_error)?;
        // A file whose EXIF does not read is shown as stored, as browsers do.
        let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
        let mut img = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
        img.apply_orientation(orientation);
        let (width, height) = (img.width(), img.height());
        let data = if img.color().has_alpha() {
            over_white(img.into_rgba8().as_raw())
        } else {
            img.into_rgb8().into_raw()
        };
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// The size after resizing the shorter side to `short` (the longer one scaled and
    /// truncated, as torchvision computes it).
    pub fn size_for_shorter(&self, short: u32) -> (u32, u32) {
        let (w, h) = (self.width as u64, self.height as u64);
        let (nw, nh) = if w <= h {
            (short as u64, short as u64 * h / w)
        } else {
            (short as u64 * w / h, short as u64)
        };
        (nw as u32, nh as u32)
    }

    /// Resizes so that the shorter side is `short`, with PIL's antialiased bilinear filter.
    pub fn resize_shorter(&self, short: u32) -> RgbImage {
        let (nw, nh) = self.size_for_shorter(short);
        self.resize(nw, nh)
    }

    /// Antialiased bilinear resize (PIL's `Image.resize(…, BILINEAR)`): horizontal pass, then
    /// vertical.
    pub fn resize(&self, width: u32, height: u32) -> RgbImage {
        self.resize_window((width, height), Window::whole(width, height))
    }

    /// The `window` of this image resized to `size`, computing only the window's pixels: each
    /// output pixel depends only on its own filter taps, so the result equals cropping the
    /// whole resized image, and memory is the window plus the source rows it reads, never the
    /// resized image.
    pub fn resize_window(&self, (width, height): (u32, u32), window: Window) -> RgbImage {
        self.resample_window((width, height), window, Interpolation::Bilinear)
    }

    /// [`RgbImage::resize_window`] with PIL's `filter` (antialiased, as PIL's `resize`).
    pub fn resample_window(
        &self,
        (width, height): (u32, u32),
        window: Window,
        filter: Interpolation,
    ) -> RgbImage {
        let (w, h) = (self.width as usize, self.height as usize);
        let (nw, nh) = (width as usize, height as usize);
        let (x0, y0, cw, ch) = (
            window.left as usize,
            window.top as usize,
            window.width as usize,
            window.height as usize,
        );
        // The source rows the window's output rows read.
        let vertical = (nh != h).then(|| resample_coefficients(h, nh, y0..y0 + ch, filter));
        let rows = match &vertical {
            Some(coeffs) => {
                let first = coeffs.iter().map(|(s, _)| *s).min().unwrap_or(0);
                let last = coeffs.iter().map(|(s, wt)| s + wt.len()).max().unwrap_or(0);
                first..last.max(first)
            }
            None => y0..y0 + ch,
        };
        // Horizontal pass over those rows, for the window's columns only. PIL stores it as
        // 8-bit before the vertical pass.
        let mut horizontal = vec![0f32; rows.len() * cw * 3];
        let columns = (nw != w).then(|| resample_coefficients(w, nw, x0..x0 + cw, filter));
        for (r, y) in rows.clone().enumerate() {
            let src = &self.data[y * w * 3..(y + 1) * w * 3];
            let out = &mut horizontal[r * cw * 3..(r + 1) * cw * 3];
            match &columns {
                Some(coeffs) => {
                    for (x, (start, weights)) in coeffs.iter().enumerate() {
                        for c in 0..3 {
                            let mut acc = 0f32;
                            for (k, wt) in weights.iter().enumerate() {
                                acc += wt * src[(start + k) * 3 + c] as f32;
                            }
                            out[x * 3 + c] = acc.round().clamp(0.0, 255.0);
                        }
                    }
                }
                None => {
                    for (o, v) in out.iter_mut().zip(&src[x0 * 3..(x0 + cw) * 3]) {
                        *o = *v as f32;
                    }
                }
            }
        }
        let data = match &vertical {
            Some(coeffs) => {
                let mut out = Vec::with_capacity(cw * ch * 3);
                for (start, weights) in coeffs {
                    for x in 0..cw * 3 {
                        let mut acc = 0f32;
                        for (k, wt) in weights.iter().enumerate() {
                            acc += wt * horizontal[(start + k - rows.start) * cw * 3 + x];
                        }
                        out.push(acc.round().clamp(0.0, 255.0) as u8);
                    }
                }
                out
            }
            None => horizontal.iter().map(|v| *v as u8).collect(),
        };
        RgbImage {
            width: window.width,
            height: window.height,
            data,
        }
    }

    /// Crops the centred `size`×`size` square (torchvision's `CenterCrop`, Python rounding).
    pub fn center_crop(&self, size: u32) -> Result<RgbImage> {
        let window = Window::centered(self.width, self.height, size)?;
        let (top, left) = (window.top as usize, window.left as usize);
        let (w, s) = (self.width as usize, size as usize);
        let mut data = Vec::with_capacity(s * s * 3);
        for y in top..top + s {
            data.extend_from_slice(&self.data[(y * w + left) * 3..(y * w + left + s) * 3]);
        }
        Ok(RgbImage {
            width: size,
            height: size,
            data,
        })
    }

    /// What the network sees under torchvision's recipe ([`Preprocess::torchvision`]): resize
    /// the shorter side to `size·256/224`, centre-crop `size`. Only the crop is computed.
    pub fn network_crop(&self, size: u32) -> Result<RgbImage> {
        Preprocess::torchvision(size).crop_of(self)
    }

    /// `[1, 3, H, W]` f32, scaled to [0, 1] and normalized with the ImageNet mean/std.
    pub fn to_tensor(&self) -> Result<Tensor> {
        Preprocess::torchvision(self.width).normalize(self)
    }
}

/// torchvision's preprocessing: the network crop of `size` pixels as a normalized tensor.
pub fn preprocess(image: &RgbImage, size: u32) -> Result<Tensor> {
    Preprocess::torchvision(size).apply(image)
}

/// RGBA pixels composited over opaque white, as RGB: `c·a + 255·(1 − a)`, rounded (PIL's
/// `Image.alpha_composite` onto white, within one level).
fn over_white(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .flat_map(|p| {
            let a = p[3] as u32;
            let blend = |c: u8| ((c as u32 * a + 255 * (255 - a) + 127) / 255) as u8;
            [blend(p[0]), blend(p[1]), blend(p[2])]
        })
        .collect()
}

/// A rectangle of an image, in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// First column.
    pub left: u32,
    /// First row.
    pub top: u32,
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
}

impl Window {
    /// The whole of a `width`×`height` image.
    pub fn whole(width: u32, height: u32) -> Self {
        Self {
            left: 0,
            top: 0,
            width,
            height,
        }
    }

    /// The centred `size`×`size` square of a `width`×`height` image (torchvision's
    /// `CenterCrop`, with Python's rounding of the offsets).
    pub fn centered(width: u32, height: u32, size: u32) -> Result<Self> {
        if width < size || height < size {
            return Err(Error::Image(format!(
                "cannot crop {size}×{size} from {width}×{height}"
            )));
        }
        Ok(Self {
            left: round_half_even((width - size) as f64 / 2.0) as u32,
            top: round_half_even((height - size) as f64 / 2.0) as u32,
            width: size,
            height: size,
        })
    }
}

fn round_half_even(v: f64) -> f64 {
    let r = v.round();
    if (v - v.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - v.signum()
    } else {
        r
    }
}

/// PIL's `precompute_coeffs` for `filter`, for the output pixels in `range` of `output`: for
/// each, the first input index and the normalized weights.
fn resample_coefficients(
    input: usize,
    output: usize,
    range: std::ops::Range<usize>,
    filter: Interpolation,
) -> Vec<(usize, Vec<f32>)> {
    let scale = input as f64 / output as f64;
    let filter_scale = scale.max(1.0);
    let support = filter.support() * filter_scale;
    range
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            let xmin = ((center - support + 0.5).trunc() as i64).max(0) as usize;
            let xmax = ((center + support + 0.5).trunc() as usize).min(input);
            let mut weights: Vec<f64> = (xmin..xmax)
                .map(|x| filter.weight((x as f64 - center + 0.5) / filter_scale))
                .collect();
            let total: f64 = weights.iter().sum();
            if total != 0.0 {
                weights.iter_mut().for_each(|w| *w /= total);
            }
            (xmin, weights.into_iter().map(|w| w as f32).collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_decompression_bombs_before_decoding() {
        let err = RgbImage::from_rgba(40_000, 10, &[]).unwrap_err();
        assert!(
            matches!(err, Error::ImageTooLarge { width: 40_000, .. }),
            "{err}"
        );
        let err = RgbImage::from_rgba(15_000, 15_000, &[]).unwrap_err();
        assert!(err.to_string().contains("200 megapixels"), "{err}");
        // Within the pixel budget but too elongated: refused with its own message.
        let err = RgbImage::from_rgba(8192, 1, &[]).unwrap_err();
        assert!(matches!(err, Error::ImageAspect { .. }), "{err}");
        assert!(check_size(32 * 7, 7).is_ok() && check_size(33 * 7, 7).is_err());
        assert!(check_size(0, 5).is_err());
    }

    /// The end-of-image marker must come after the last scan: an embedded thumbnail's own
    /// end marker (before the main image's scans) does not make a cut-off file complete.
    #[test]
    fn a_thumbnails_end_marker_does_not_complete_a_cut_off_jpeg() {
        let thumbnail = [0xFF, 0xD8, 0xFF, 0xDA, 1, 2, 0xFF, 0x00, 3, 0xFF, 0xD9];
        let mut file = vec![0xFF, 0xD8, 0xFF, 0xE1, 0, 13];
        file.extend(thumbnail);
        file.extend([0xFF, 0xDA, 0, 8, 7, 7, 0xFF, 0x00, 7, 7]);
        assert!(
            !jpeg_is_complete(&file),
            "cut off after the main scan began"
        );
        file.extend([0xFF, 0xD9]);
        assert!(jpeg_is_complete(&file));
        assert!(!jpeg_is_complete(&[]) && !jpeg_is_complete(&[0xFF, 0xD9]));
    }

    /// A random image with `seed`.
    fn noise(width: u32, height: u32, seed: u64) -> RgbImage {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let data = (0..width as usize * height as usize * 3)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        RgbImage {
            width,
            height,
            data,
        }
    }

    /// The crop computed alone equals the crop of the whole resized image, pixel for pixel:
    /// downscaling, upscaling, one side unchanged, odd offsets, both orientations.
    #[test]
    fn the_crop_window_equals_cropping_the_whole_resize() {
        for (i, (w, h)) in [
            (451, 300),
            (300, 451),
            (256, 400),
            (700, 256),
            (100, 60),
            (3000, 257),
        ]
        .into_iter()
        .enumerate()
        {
            let img = noise(w, h, i as u64);
            let window = img.network_crop(224).unwrap();
            let whole = img.resize_shorter(256).center_crop(224).unwrap();
            assert_eq!((window.width, window.height), (224, 224));
            assert!(window.data == whole.data, "{w}×{h}: the window differs");
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn corrupt_bytes_give_a_clear_error() {
        let err = RgbImage::decode(b"\x89PNG\r\n\x1a\nnot really").unwrap_err();
        assert!(err.to_string().starts_with("image error"), "{err}");
    }

    #[test]
    fn resize_keeps_a_flat_colour_and_sizes_like_torchvision() {
        let img = RgbImage::from_rgba(451, 300, &[10, 200, 30, 255].repeat(451 * 300)).unwrap();
        let r = img.resize_shorter(256);
        assert_eq!((r.width, r.height), (384, 256));
        assert!(r.data.chunks(3).all(|p| p == [10, 200, 30]));
        assert_eq!(r.center_crop(224).unwrap().data.len(), 224 * 224 * 3);
    }

    #[test]
    fn python_rounding_for_the_crop_offset() {
        assert_eq!(round_half_even(58.5), 58.0);
        assert_eq!(round_half_even(59.5), 60.0);
        assert_eq!(round_half_even(3.0), 3.0);
    }
}
