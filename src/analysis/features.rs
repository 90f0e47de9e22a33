//! Per-stage statistics of the activations.

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use crate::model::layers::summary_stats;
use crate::Result;

/// Shape and population statistics of one stage output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageStats {
    /// `stage1`…`stage5` or `pool`.
    pub name: String,
    /// Tensor shape, e.g. `[1, 256, 56, 56]`.
    pub shape: Vec<usize>,
    /// Mean of all values.
    pub mean: f32,
    /// Population standard deviation.
    pub std: f32,
    /// Smallest value.
    pub min: f32,
    /// Largest value.
    pub max: f32,
}

impl StageStats {
    /// Statistics of `value` under `name`.
    pub fn of(name: &str, value: &Tensor) -> Result<Self> {
        let [mean, std, min, max] = summary_stats(value)?;
        Ok(Self {
            name: name.to_string(),
            shape: value.dims().to_vec(),
            mean,
            std,
            min,
            max,
        })
    }
}
