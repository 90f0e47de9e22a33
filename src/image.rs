//! Image preprocessing equivalent to torchvision's
//! `Resize(256)` (bilinear, antialiased, as PIL) → `CenterCrop(224)` → `ToTensor` → `Normalize`.

use candle_core::{Device, Tensor};

use crate::{Error, Result};

/// ImageNet channel means (RGB).
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations (RGB).
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];
/// Largest accepted side in pixels.
pub const MAX_SIDE: u32 = 8192;
/// Largest accepted pixel count (40 megapixels).
pub const MAX_PIXELS: u64 = 40_000_000;

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

fn check_size(width: u32, height: u32) -> Result<()> {
    if width == 0 || height == 0 {
        return Err(Error::Image(format!(
            "image has no pixels ({width}×{height})"
        )));
    }
    if width > MAX_SIDE || height > MAX_SIDE || width as u64 * height as u64 > MAX_PIXELS {
        return Err(Error::ImageTooLarge { width, height });
    }
    Ok(())
}

impl RgbImage {
    /// From RGBA bytes as a browser canvas gives them (alpha is dropped).
    pub fn from_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<Self> {
        check_size(width, height)?;
        let expected = width as usize * height as usize * 4;
        if rgba.len() != expected {
            return Err(Error::Image(format!(
                "expected {expected} RGBA bytes for {width}×{height}, got {}",
                rgba.len()
            )));
        }
        let data = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// Decodes JPEG, PNG or WebP bytes, refusing oversized images before decoding them.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let reader = ::image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| Error::Image(e.to_string()))?;
        let (width, height) = reader
            .into_dimensions()
            .map_err(|e| Error::Image(format!("not a readable image: {e}")))?;
        check_size(width, height)?;
        let img = ::image::load_from_memory(bytes)
            .map_err(|e| Error::Image(format!("not a readable image: {e}")))?;
        let rgb = img.to_rgb8();
        Ok(Self {
            width,
            height,
            data: rgb.into_raw(),
        })
    }

    /// Resizes so that the shorter side is `short` (the longer one scaled and truncated, as
    /// torchvision computes it), with PIL's antialiased bilinear filter.
    pub fn resize_shorter(&self, short: u32) -> RgbImage {
        let (w, h) = (self.width as u64, self.height as u64);
        let (nw, nh) = if w <= h {
            (short as u64, short as u64 * h / w)
        } else {
            (short as u64 * w / h, short as u64)
        };
        self.resize(nw as u32, nh as u32)
    }

    /// Antialiased bilinear resize (PIL's `Image.resize(…, BILINEAR)`): horizontal pass, then vertical.
    pub fn resize(&self, width: u32, height: u32) -> RgbImage {
        let (w, h) = (self.width as usize, self.height as usize);
        let (nw, nh) = (width as usize, height as usize);
        let src: Vec<f32> = self.data.iter().map(|&v| v as f32).collect();
        let horizontal = if nw == w {
            src
        } else {
            let coeffs = resample_coefficients(w, nw);
            let mut out = vec![0f32; nw * h * 3];
            for y in 0..h {
                for (x, (start, weights)) in coeffs.iter().enumerate() {
                    for c in 0..3 {
                        let mut acc = 0f32;
                        for (k, wt) in weights.iter().enumerate() {
                            acc += wt * src[(y * w + start + k) * 3 + c];
                        }
                        // PIL stores the horizontal pass as 8-bit before the vertical one.
                        out[(y * nw + x) * 3 + c] = acc.round().clamp(0.0, 255.0);
                    }
                }
            }
            out
        };
        let vertical = if nh == h {
            horizontal
        } else {
            let coeffs = resample_coefficients(h, nh);
            let mut out = vec![0f32; nw * nh * 3];
            for (y, (start, weights)) in coeffs.iter().enumerate() {
                for x in 0..nw * 3 {
                    let mut acc = 0f32;
                    for (k, wt) in weights.iter().enumerate() {
                        acc += wt * horizontal[(start + k) * nw * 3 + x];
                    }
                    out[y * nw * 3 + x] = acc;
                }
            }
            out
        };
        RgbImage {
            width,
            height,
            data: vertical
                .iter()
                .map(|v| v.round().clamp(0.0, 255.0) as u8)
                .collect(),
        }
    }

    /// Crops the centred `size`×`size` square (torchvision's `CenterCrop`, Python rounding).
    pub fn center_crop(&self, size: u32) -> Result<RgbImage> {
        if self.width < size || self.height < size {
            return Err(Error::Image(format!(
                "cannot crop {size}×{size} from {}×{}",
                self.width, self.height
            )));
        }
        let top = round_half_even((self.height - size) as f64 / 2.0) as usize;
        let left = round_half_even((self.width - size) as f64 / 2.0) as usize;
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

    /// What the network sees: resize the shorter side to `size·256/224`, centre-crop `size`.
    pub fn network_crop(&self, size: u32) -> Result<RgbImage> {
        let short = (size as f64 * 256.0 / 224.0).round() as u32;
        self.resize_shorter(short).center_crop(size)
    }

    /// `[1, 3, H, W]` f32, scaled to [0, 1] and normalized with the ImageNet mean/std.
    pub fn to_tensor(&self) -> Result<Tensor> {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut chw = vec![0f32; 3 * w * h];
        for (i, px) in self.data.chunks_exact(3).enumerate() {
            for c in 0..3 {
                chw[c * w * h + i] = (px[c] as f32 / 255.0 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
            }
        }
        Ok(Tensor::from_vec(chw, (1, 3, h, w), &Device::Cpu)?)
    }
}

/// Full preprocessing: the network crop of `size` pixels as a normalized tensor.
pub fn preprocess(image: &RgbImage, size: u32) -> Result<Tensor> {
    image.network_crop(size)?.to_tensor()
}

fn round_half_even(v: f64) -> f64 {
    let r = v.round();
    if (v - v.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - v.signum()
    } else {
        r
    }
}

/// PIL's `precompute_coeffs` for the bilinear (triangle) filter: for each output pixel, the
/// first input index and the normalized weights.
fn resample_coefficients(input: usize, output: usize) -> Vec<(usize, Vec<f32>)> {
    let scale = input as f64 / output as f64;
    let filter_scale = scale.max(1.0);
    let support = filter_scale;
    (0..output)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            let xmin = ((center - support + 0.5).trunc() as i64).max(0) as usize;
            let xmax = ((center + support + 0.5).trunc() as usize).min(input);
            let mut weights: Vec<f64> = (xmin..xmax)
                .map(|x| {
                    let t = ((x as f64 - center + 0.5) / filter_scale).abs();
                    if t < 1.0 {
                        1.0 - t
                    } else {
                        0.0
                    }
                })
                .collect();
            let total: f64 = weights.iter().sum();
            if total > 0.0 {
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
        let err = RgbImage::from_rgba(9000, 10, &[]).unwrap_err();
        assert!(
            matches!(err, Error::ImageTooLarge { width: 9000, .. }),
            "{err}"
        );
        let err = RgbImage::from_rgba(8000, 8000, &[]).unwrap_err();
        assert!(err.to_string().contains("40 megapixels"), "{err}");
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
