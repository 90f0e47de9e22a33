//! The preprocessing a checkpoint was trained with: resize the shorter side (bilinear or
//! bicubic, as PIL), centre-crop, normalize. Read from the checkpoint's own config (timm's
//! `config.json`, transformers' `preprocessor_config.json`) or from this crate's own JSON;
//! torchvision's recipe for files that come without one.

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Interpolation, RgbImage, Window, IMAGENET_MEAN, IMAGENET_STD};
use crate::{Error, Result};

/// A checkpoint's preprocessing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preprocess {
    /// The shorter side after resizing (the longer one keeps the aspect ratio, truncated).
    pub resize: u32,
    /// The resizing filter.
    pub interpolation: Interpolation,
    /// The side of the centred square crop: the network's input.
    pub crop: u32,
    /// The crop fraction the config gave (`crop / resize` before rounding), for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crop_pct: Option<f64>,
    /// Channel means (RGB, on [0, 1]).
    pub mean: [f32; 3],
    /// Channel standard deviations (RGB).
    pub std: [f32; 3],
    /// Where the recipe came from.
    #[serde(default = "default_source")]
    pub source: String,
}

fn default_source() -> String {
    "recipe file".into()
}

fn invalid(what: &str) -> Error {
    Error::InvalidArgument(format!("preprocessing config: {what}"))
}

/// `value` as `[f32; 3]` (mean or std), with `what` naming it in the error.
fn triple(value: &Value, what: &str) -> Result<[f32; 3]> {
    let items = value
        .as_array()
        .filter(|a| a.len() == 3)
        .ok_or_else(|| invalid(&format!("{what} must be three numbers")))?;
    let mut out = [0f32; 3];
    for (o, v) in out.iter_mut().zip(items) {
        let x = v
            .as_f64()
            .ok_or_else(|| invalid(&format!("{what} must be three numbers")))?;
        *o = x as f32;
    }
    Ok(out)
}

/// A crop fraction in (0, 1].
fn fraction(value: &Value, what: &str) -> Result<f64> {
    value
        .as_f64()
        .filter(|p| *p > 0.0 && *p <= 1.0)
        .ok_or_else(|| invalid(&format!("{what} must be in (0, 1]")))
}

fn side(value: &Value, what: &str) -> Result<u32> {
    value
        .as_u64()
        .filter(|s| (1..=4096).contains(s))
        .map(|s| s as u32)
        .ok_or_else(|| invalid(&format!("{what} must be a side of 1 to 4096 pixels")))
}

impl Preprocess {
    /// torchvision's ImageNet recipe scaled to `crop`: bilinear `Resize(crop·256/224)`,
    /// `CenterCrop(crop)`, ImageNet mean and std (IMAGENET1K_V1's weights).
    pub fn torchvision(crop: u32) -> Self {
        Self {
            resize: (crop as f64 * 256.0 / 224.0).round() as u32,
            interpolation: Interpolation::Bilinear,
            crop,
            crop_pct: Some(0.875),
            mean: IMAGENET_MEAN,
            std: IMAGENET_STD,
            source: "torchvision default".into(),
        }
    }

    /// Reads any of the configs a checkpoint comes with: timm's `config.json` (its
    /// `pretrained_cfg`), a bare `pretrained_cfg`, transformers' `preprocessor_config.json`, or
    /// this crate's own recipe JSON.
    pub fn from_json(text: &str) -> Result<Self> {
        Self::from_config(text)?.ok_or_else(|| {
            invalid("not a timm config.json, a transformers preprocessor_config.json or a recipe")
        })
    }

    /// [`Preprocess::from_json`], with `None` for valid JSON that says nothing about
    /// preprocessing (a transformers model's `config.json`, which sits beside its weights too).
    pub fn from_config(text: &str) -> Result<Option<Self>> {
        let value: Value = serde_json::from_str(text).map_err(|e| invalid(&e.to_string()))?;
        let recipe = if let Some(cfg) = value.get("pretrained_cfg") {
            Self::from_timm(cfg)?
        } else if value.get("input_size").is_some() {
            Self::from_timm(&value)?
        } else if value.get("image_mean").is_some() || value.get("resample").is_some() {
            Self::from_transformers(&value)?
        } else if value.get("resize").is_some() && value.get("crop").is_some() {
            let recipe: Preprocess =
                serde_json::from_value(value).map_err(|e| invalid(&e.to_string()))?;
            recipe.checked()?
        } else {
            return Ok(None);
        };
        Ok(Some(recipe))
    }

    /// timm's evaluation transform (`transforms_imagenet_eval`): `Resize(⌊size / crop_pct⌋)`
    /// with its interpolation, `CenterCrop(size)`, its mean and std.
    fn from_timm(cfg: &Value) -> Result<Self> {
        let size = cfg
            .get("input_size")
            .and_then(Value::as_array)
            .filter(|s| s.len() == 3 && s[1] == s[2])
            .ok_or_else(|| invalid("input_size must be [3, S, S]"))?;
        let crop = side(&size[1], "input_size")?;
        let crop_pct = match cfg.get("crop_pct") {
            Some(v) if !v.is_null() => fraction(v, "crop_pct")?,
            _ => 0.875,
        };
        match cfg.get("crop_mode").and_then(Value::as_str) {
            None | Some("center") => {}
            Some(other) => return Err(invalid(&format!("crop_mode `{other}` is not supported"))),
        }
        let interpolation = match cfg.get("interpolation").and_then(Value::as_str) {
            Some("bicubic") => Interpolation::Bicubic,
            None | Some("bilinear") => Interpolation::Bilinear,
            Some(other) => {
                return Err(invalid(&format!(
                    "interpolation `{other}` is not supported"
                )))
            }
        };
        Self {
            resize: (crop as f64 / crop_pct).floor() as u32,
            interpolation,
            crop,
            crop_pct: Some(crop_pct),
            mean: cfg
                .get("mean")
                .map_or(Ok(IMAGENET_MEAN), |v| triple(v, "mean"))?,
            std: cfg
                .get("std")
                .map_or(Ok(IMAGENET_STD), |v| triple(v, "std"))?,
            source: "timm pretrained_cfg".into(),
        }
        .checked()
    }

    /// transformers' ConvNext/ResNet image processor: with `crop_pct`, resize the shorter side
    /// to `⌊shortest_edge / crop_pct⌋` and centre-crop `shortest_edge` (below 384 px, as
    /// transformers does); with `crop_size`, resize to `shortest_edge` and crop `crop_size`.
    fn from_transformers(cfg: &Value) -> Result<Self> {
        let shortest = match cfg.get("size") {
            Some(Value::Object(size)) => size
                .get("shortest_edge")
                .ok_or_else(|| invalid("size must have shortest_edge"))?,
            Some(v) => v,
            None => return Err(invalid("size is missing")),
        };
        let shortest = side(shortest, "size")?;
        let interpolation = match cfg.get("resample").and_then(Value::as_u64) {
            Some(2) => Interpolation::Bilinear,
            None | Some(3) => Interpolation::Bicubic,
            Some(other) => {
                return Err(invalid(&format!(
                    "resample {other} is not supported (2 bilinear, 3 bicubic)"
                )))
            }
        };
        let (resize, crop, crop_pct) = match (cfg.get("crop_pct"), cfg.get("crop_size")) {
            (Some(p), _) if !p.is_null() => {
                if shortest >= 384 {
                    return Err(invalid(
                        "shortest_edge ≥ 384 (a warped resize) is not supported",
                    ));
                }
                let p = fraction(p, "crop_pct")?;
                ((shortest as f64 / p) as u32, shortest, Some(p))
            }
            (_, Some(c)) => {
                let crop = match c {
                    Value::Object(c) => side(c.get("height").unwrap_or(&Value::Null), "crop_size")?,
                    v => side(v, "crop_size")?,
                };
                (shortest, crop, None)
            }
            _ => return Err(invalid("neither crop_pct nor crop_size")),
        };
        let normalize = cfg.get("do_normalize").and_then(Value::as_bool) != Some(false);
        Self {
            resize,
            interpolation,
            crop,
            crop_pct,
            mean: match cfg.get("image_mean") {
                Some(v) if normalize => triple(v, "image_mean")?,
                _ if normalize => IMAGENET_MEAN,
                _ => [0.0; 3],
            },
            std: match cfg.get("image_std") {
                Some(v) if normalize => triple(v, "image_std")?,
                _ if normalize => IMAGENET_STD,
                _ => [1.0; 3],
            },
            source: "transformers preprocessor_config.json".into(),
        }
        .checked()
    }

    fn checked(self) -> Result<Self> {
        if self.crop == 0 || self.crop > self.resize || self.resize > 4096 {
            return Err(invalid(&format!(
                "crop {} from a resize to {} is not possible",
                self.crop, self.resize
            )));
        }
        if self.std.iter().any(|s| *s <= 0.0) {
            return Err(invalid("std must be positive"));
        }
        Ok(self)
    }

    /// In words: "bicubic → 235, crop 224 (0.95)".
    pub fn describe(&self) -> String {
        let pct = self
            .crop_pct
            .map(|p| format!(" ({})", (p * 1000.0).round() / 1000.0))
            .unwrap_or_default();
        format!(
            "{} → {}, crop {}{pct}",
            self.interpolation.name(),
            self.resize,
            self.crop
        )
    }

    /// The crop the network sees: only its pixels are computed ([`RgbImage::resample_window`]).
    pub fn crop_of(&self, image: &RgbImage) -> Result<RgbImage> {
        let (width, height) = image.size_for_shorter(self.resize);
        let window = Window::centered(width, height, self.crop)?;
        Ok(image.resample_window((width, height), window, self.interpolation))
    }

    /// `crop` as the network's input: `[1, 3, H, W]`, scaled to [0, 1] and normalized.
    pub fn normalize(&self, crop: &RgbImage) -> Result<Tensor> {
        let (w, h) = (crop.width as usize, crop.height as usize);
        let mut chw = vec![0f32; 3 * w * h];
        for (i, px) in crop.data.chunks_exact(3).enumerate() {
            for c in 0..3 {
                chw[c * w * h + i] = (px[c] as f32 / 255.0 - self.mean[c]) / self.std[c];
            }
        }
        Ok(Tensor::from_vec(chw, (1, 3, h, w), &Device::Cpu)?)
    }

    /// The whole recipe: image to input tensor.
    pub fn apply(&self, image: &RgbImage) -> Result<Tensor> {
        self.normalize(&self.crop_of(image)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timm_resnet50_a1_reads_as_bicubic_235_crop_224() {
        let config = r#"{"architecture": "resnet50", "pretrained_cfg": {"tag": "a1_in1k",
            "input_size": [3, 224, 224], "test_input_size": [3, 288, 288],
            "interpolation": "bicubic", "crop_pct": 0.95, "test_crop_pct": 1.0,
            "crop_mode": "center", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}}"#;
        let p = Preprocess::from_json(config).unwrap();
        assert_eq!(
            (p.resize, p.crop, p.interpolation),
            (235, 224, Interpolation::Bicubic)
        );
        assert_eq!(p.describe(), "bicubic → 235, crop 224 (0.95)");
    }

    #[test]
    fn microsoft_resnet_50_reads_as_bicubic_256_crop_224() {
        for config in [
            r#"{"crop_pct": 0.875, "do_normalize": true, "do_resize": true,
               "feature_extractor_type": "ConvNextFeatureExtractor",
               "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225],
               "resample": 3, "size": 224}"#,
            r#"{"crop_pct": 0.875, "image_processor_type": "ConvNextImageProcessor",
               "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225],
               "resample": 3, "size": {"shortest_edge": 224}}"#,
        ] {
            let p = Preprocess::from_json(config).unwrap();
            assert_eq!(
                (p.resize, p.crop, p.interpolation),
                (256, 224, Interpolation::Bicubic)
            );
        }
    }

    #[test]
    fn torchvision_is_the_default_and_our_json_round_trips() {
        let p = Preprocess::torchvision(224);
        assert_eq!(p.describe(), "bilinear → 256, crop 224 (0.875)");
        let back = Preprocess::from_json(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn bad_configs_say_what_is_wrong() {
        for (config, words) in [
            (
                r#"{"pretrained_cfg": {"input_size": [3, 224, 224], "crop_pct": 1.5}}"#,
                "crop_pct",
            ),
            (
                r#"{"pretrained_cfg": {"input_size": [3, 224, 224], "interpolation": "lanczos"}}"#,
                "lanczos",
            ),
            (
                r#"{"resample": 1, "size": 224, "crop_pct": 0.875}"#,
                "resample 1",
            ),
            (
                r#"{"resize": 200, "crop": 224, "interpolation": "bilinear", "mean": [0, 0, 0], "std": [1, 1, 1]}"#,
                "crop 224",
            ),
            (r#"{"hello": 1}"#, "not a timm"),
            ("not json", "preprocessing config"),
        ] {
            let err = Preprocess::from_json(config).unwrap_err().to_string();
            assert!(err.contains(words), "{config}: {err}");
        }
    }
}
