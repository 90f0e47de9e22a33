//! Batch normalization with its three modes (off, eval, train) and its folding into the
//! convolution before it.

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Shape, Tensor, WithDType};

use super::values::{stored, with_values};
use crate::config::NormMode;
use crate::kernels::batch_norm::{self, Dims, Value};
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
                Ok(x.contiguous()?
                    .apply_op3(&self.weight, &self.bias, TrainBatchNorm)?)
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

/// Batch norm in training mode as one differentiable op over (x, γ, β): statistics
/// accumulated in f64 and the analytic backward (`crate::kernels::batch_norm`), so that the
/// graph keeps only the output. Composed of candle ops, with the statistics in f64 for
/// accuracy, it kept a dozen full-size tensors per batch norm: the lab at 224 needed 1.4 GB.
struct TrainBatchNorm;

fn op_error(message: &str) -> candle_core::Error {
    candle_core::Error::Msg(format!("batch norm (training mode): {message}"))
}

fn dims_of(shape: &Shape) -> candle_core::Result<Dims> {
    match shape.dims() {
        &[n, c, h, w] => Ok(Dims { n, c, hw: h * w }),
        other => Err(op_error(&format!("expected [N, C, H, W], got {other:?}"))),
    }
}

fn forward_as<T: Value + WithDType>(
    (s1, l1): (&CpuStorage, &Layout),
    (s2, l2): (&CpuStorage, &Layout),
    (s3, l3): (&CpuStorage, &Layout),
) -> candle_core::Result<Vec<T>> {
    let x = stored::<T>(s1, l1)?;
    let mut out = vec![<T as Value>::from_f64(0.0); x.len()];
    let dims = dims_of(l1.shape())?;
    batch_norm::forward(x, dims, stored(s2, l2)?, stored(s3, l3)?, BN_EPS, &mut out);
    Ok(out)
}

fn backward_as<T: Value + WithDType>(
    x: &Tensor,
    gamma: &Tensor,
    grad: &Tensor,
) -> candle_core::Result<(Tensor, Tensor, Tensor)> {
    let dims = dims_of(x.shape())?;
    let g = with_values::<T, _, candle_core::Error>(x, |xs| {
        with_values(gamma, |gs| {
            with_values(grad, |ds| {
                Ok(batch_norm::backward(xs, dims, gs, ds, BN_EPS))
            })
        })
    })?;
    let device = x.device();
    Ok((
        Tensor::from_vec(g.x, x.shape(), device)?,
        Tensor::from_vec(g.gamma, dims.c, device)?,
        Tensor::from_vec(g.beta, dims.c, device)?,
    ))
}

impl CustomOp3 for TrainBatchNorm {
    fn name(&self) -> &'static str {
        "batch-norm-train"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let args = ((s1, l1), (s2, l2), (s3, l3));
        let out = match s1 {
            CpuStorage::F32(_) => CpuStorage::F32(forward_as::<f32>(args.0, args.1, args.2)?),
            CpuStorage::F64(_) => CpuStorage::F64(forward_as::<f64>(args.0, args.1, args.2)?),
            _ => return Err(op_error("the data must be f32 or f64")),
        };
        Ok((out, l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        gamma: &Tensor,
        _beta: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (dx, dgamma, dbeta) = match x.dtype() {
            DType::F32 => backward_as::<f32>(x, gamma, grad)?,
            DType::F64 => backward_as::<f64>(x, gamma, grad)?,
            _ => return Err(op_error("the data must be f32 or f64")),
        };
        Ok((Some(dx), Some(dgamma), Some(dbeta)))
    }
}
