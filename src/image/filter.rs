//! PIL's resampling filters, as its `Image.resize` applies them (antialiased: the filter is
//! stretched by the scale when shrinking).

use serde::{Deserialize, Serialize};

/// How an image is resized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    /// PIL's `BILINEAR` (triangle filter, support 1): torchvision's default.
    Bilinear,
    /// PIL's `BICUBIC` (Keys' cubic with a = −0.5, support 2): timm's and transformers'.
    Bicubic,
}

impl Interpolation {
    /// The filter's half-width at scale 1.
    pub(super) fn support(self) -> f64 {
        match self {
            Interpolation::Bilinear => 1.0,
            Interpolation::Bicubic => 2.0,
        }
    }

    /// The filter's weight at distance `x` (PIL's `bilinear_filter` / `bicubic_filter`).
    pub(super) fn weight(self, x: f64) -> f64 {
        let x = x.abs();
        match self {
            Interpolation::Bilinear => (1.0 - x).max(0.0),
            Interpolation::Bicubic => {
                const A: f64 = -0.5;
                if x < 1.0 {
                    ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * A
                } else {
                    0.0
                }
            }
        }
    }

    /// The lowercase name: `bilinear`, `bicubic`.
    pub fn name(self) -> &'static str {
        match self {
            Interpolation::Bilinear => "bilinear",
            Interpolation::Bicubic => "bicubic",
        }
    }
}
