//! Stage 1, the stem: conv 7×7/2, batch norm, ReLU, max-pool 3×3/2.
//!
//! Field names equal torchvision's state-dict keys (`conv1`, `bn1`), so a checkpoint maps onto
//! the struct without renaming.

use std::sync::Arc;

use candle_core::Tensor;
use candle_nn::Conv2d;

use super::batch_norm::BatchNorm;
use super::conv::{run_conv, PreparedConv};
use super::max_pool::max_pool_3x3_s2;
use super::parameters::{batch_norm, conv};
use crate::config::NormMode;
use crate::weights::Weights;
use crate::Result;

/// conv → batch norm → ReLU; in the folded network (batch norm off) the ReLU is applied as the
/// fast convolution writes its output.
pub(crate) fn conv_bn_relu(
    conv: &Conv2d,
    fast: Option<&dyn PreparedConv>,
    bn: &BatchNorm,
    x: &Tensor,
    norm: NormMode,
) -> Result<Tensor> {
    match (fast, norm) {
        (Some(fast), NormMode::Off) => fast.forward(x, true),
        (fast, _) => Ok(bn.forward(&run_conv(conv, fast, x)?, norm)?.relu()?),
    }
}

/// Stage 1: zero-padding 3, conv 7×7/2, batch norm, ReLU, max-pool 3×3/2.
#[derive(Clone, Debug)]
pub struct Stem {
    /// The 7×7 convolution (`conv1`).
    pub conv1: Conv2d,
    /// Its batch norm (`bn1`).
    pub bn1: BatchNorm,
    /// The fast form of `conv1` in the folded inference network (shared by clones).
    pub(crate) fast: Option<Arc<dyn PreparedConv>>,
}

impl Stem {
    pub(crate) fn load(weights: &Weights) -> Result<Self> {
        Ok(Self {
            conv1: conv(weights, "conv1", 2, 3)?,
            bn1: batch_norm(weights, "bn1")?,
            fast: None,
        })
    }

    /// Runs Stage 1.
    pub fn forward(&self, x: &Tensor, norm: NormMode) -> Result<Tensor> {
        let x = conv_bn_relu(&self.conv1, self.fast.as_deref(), &self.bn1, x, norm)?;
        max_pool_3x3_s2(&x)
    }
}
