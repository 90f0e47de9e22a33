//! Batch normalization with its three modes (off, eval, train) and its folding into the
//! convolution before it.

use candle_core::{DType, Tensor};

use crate::config::NormMode;
use crate::Result;

/// PyTorch's default batch-norm epsilon.
pub const BN_EPS: f64 = 1e-5;

/// Batch normalization with learned scale/shift and running statistics (torchvision's `bnN`).
#[derive(Clone, Debug)]
pub struct BatchNorm {
    /// Learned scale γ.
    pub weight: Tensor,
    /// Learned shift β.
    pub bias: Tensor,
    /// Running mean used in eval mode.
    pub running_mean: Tensor,
    /// Running (unbiased) variance used in eval mode.
    pub running_var: Tensor,
}

impl BatchNorm {
    /// Normalizes `[N, C, H, W]` per channel as `mode` says.
    pub fn forward(&self, x: &Tensor, mode: NormMode) -> Result<Tensor> {
        let channels = x.dim(1)?;
        let per_channel = |t: &Tensor| t.reshape((1, channels, 1, 1));
        match mode {
            NormMode::Off => Ok(x.clone()),
            NormMode::Eval => {
                let (scale, shift) = self.scale_and_shift()?;
                Ok(x.broadcast_mul(&per_channel(&scale)?)?
                    .broadcast_add(&per_channel(&shift)?)?)
            }
            NormMode::Train => {
                // Batch statistics in f64: a plain f32 sum over 12 544 values per channel loses
                // ~1e-3 relative, which the following layers amplify (PyTorch sums pairwise).
                let wide = x.to_dtype(DType::F64)?;
                let mean = wide.mean_keepdim((0, 2, 3))?;
                let centered = wide.broadcast_sub(&mean)?;
                let var = centered.sqr()?.mean_keepdim((0, 2, 3))?;
                let normalized = centered
                    .broadcast_div(&(var + BN_EPS)?.sqrt()?)?
                    .to_dtype(x.dtype())?;
                Ok(normalized
                    .broadcast_mul(&per_channel(&self.weight)?)?
                    .broadcast_add(&per_channel(&self.bias)?)?)
            }
        }
    }
}

impl BatchNorm {
    /// Eval mode as one affine map per channel: scale γ/√(σ²+ε) and shift β − μ·γ/√(σ²+ε).
    /// The one place this arithmetic lives (the forward pass and every folding use it).
    pub fn scale_and_shift(&self) -> Result<(Tensor, Tensor)> {
        let scale = (&self.weight / (&self.running_var + BN_EPS)?.sqrt()?)?;
        let shift = (&self.bias - (&self.running_mean * &scale)?)?;
        Ok((scale, shift))
    }

    /// The convolution followed by this (eval-mode) batch norm, as one convolution with bias:
    /// w' = w·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε) (+ b·γ/√(σ²+ε) for a biased convolution).
    pub fn fold_into(&self, conv: &candle_nn::Conv2d) -> Result<candle_nn::Conv2d> {
        let (scale, mut bias) = self.scale_and_shift()?;
        let out = scale.dim(0)?;
        let weight = conv
            .weight()
            .broadcast_mul(&scale.reshape((out, 1, 1, 1))?)?;
        if let Some(b) = conv.bias() {
            bias = (bias + (b * &scale)?)?;
        }
        Ok(candle_nn::Conv2d::new(weight, Some(bias), *conv.config()))
    }
}
