//! The model's parameters taken by torchvision name from loaded weights.

use candle_nn::{Conv2d, Conv2dConfig};

use super::batch_norm::BatchNorm;
use crate::weights::Weights;
use crate::Result;

/// The bias-free convolution `name` (`name.weight`) with its stride and padding.
pub(crate) fn conv(weights: &Weights, name: &str, stride: usize, padding: usize) -> Result<Conv2d> {
    let config = Conv2dConfig {
        padding,
        stride,
        ..Default::default()
    };
    Ok(Conv2d::new(
        weights.get(&format!("{name}.weight"))?,
        None,
        config,
    ))
}

/// The batch norm `name` (γ, β and running statistics).
pub(crate) fn batch_norm(weights: &Weights, name: &str) -> Result<BatchNorm> {
    Ok(BatchNorm {
        weight: weights.get(&format!("{name}.weight"))?,
        bias: weights.get(&format!("{name}.bias"))?,
        running_mean: weights.get(&format!("{name}.running_mean"))?,
        running_var: weights.get(&format!("{name}.running_var"))?,
    })
}
