//! How the network runs a convolution: through candle (differentiable), or through the faster
//! prepared form the inference network attached to it (see `crate::infer`).

use candle_core::{DType, Tensor};

use super::differentiable_conv::Convolution;

use crate::Result;

/// A convolution prepared once in a faster, non-differentiable form. The model only runs it;
/// `crate::infer` builds it when it folds the network for inference.
pub trait PreparedConv: std::fmt::Debug + Send + Sync {
    /// The convolution of `x`, followed by a ReLU when `relu` is set.
    fn forward(&self, x: &Tensor, relu: bool) -> Result<Tensor>;
    /// How the per-layer profile names this form, e.g. ` (GEMM)`.
    fn label(&self) -> &'static str;
}

/// `prepared` when there is one, else `conv` through candle.
pub fn run_conv(
    conv: &candle_nn::Conv2d,
    prepared: Option<&dyn PreparedConv>,
    x: &Tensor,
) -> Result<Tensor> {
    match prepared {
        Some(p) => p.forward(x, false),
        None => conv_forward(conv, x),
    }
}

/// Runs a convolution, differentiably: through [`Convolution`] (a matrix product per image,
/// forward and backward, on the CPU in f32 or f64), or candle's generic convolution for
/// anything else (groups, dilation, another dtype or device).
pub fn conv_forward(conv: &candle_nn::Conv2d, x: &Tensor) -> Result<Tensor> {
    use candle_nn::Module;
    let cfg = conv.config();
    let w = conv.weight();
    let supported = cfg.groups == 1
        && cfg.dilation == 1
        && x.device().is_cpu()
        && matches!(x.dtype(), DType::F32 | DType::F64)
        && x.dtype() == w.dtype();
    if !supported {
        return Ok(conv.forward(x)?);
    }
    let y = x.contiguous()?.apply_op2(
        &w.contiguous()?,
        Convolution {
            stride: cfg.stride,
            pad: cfg.padding,
        },
    )?;
    Ok(match conv.bias() {
        Some(b) => y.broadcast_add(&b.reshape((1, b.dim(0)?, 1, 1))?)?,
        None => y,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// Property test: the differentiable convolution's forward equals candle's generic
    /// convolution over random shapes, kernels 1/3/7, strides, paddings, batch sizes and biases
    /// (its backward is checked in `tests/kernel_checks`).
    #[test]
    fn conv_forward_equals_the_generic_convolution() {
        use candle_nn::{Conv2d, Conv2dConfig, Module};
        let mut state = 0x1234_5678u64;
        let mut next = |m: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize % m
        };
        for case in 0..40 {
            let (n, ci, co) = (1 + next(2), 1 + next(9), 1 + next(9));
            let (h, w) = (1 + next(13), 1 + next(13));
            let k = [1, 1, 3, 7][case % 4];
            let stride = 1 + next(3);
            let padding = if k > 1 { next(k / 2 + 1) } else { next(2) };
            if h + 2 * padding < k || w + 2 * padding < k {
                continue;
            }
            let x = Tensor::randn(0f32, 1.0, (n, ci, h, w), &Device::Cpu).unwrap();
            let weight = Tensor::randn(0f32, 1.0, (co, ci, k, k), &Device::Cpu).unwrap();
            let bias = (next(2) == 1).then(|| Tensor::randn(0f32, 1.0, co, &Device::Cpu).unwrap());
            let conv = Conv2d::new(
                weight,
                bias,
                Conv2dConfig {
                    stride,
                    padding,
                    ..Default::default()
                },
            );
            let fast = conv_forward(&conv, &x).unwrap();
            let generic = conv.forward(&x).unwrap();
            assert_eq!(fast.dims(), generic.dims(), "case {case}");
            let diff = (fast - generic)
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(
                diff < 1e-4,
                "case {case}: n{n} ci{ci} co{co} {h}×{w} k{k} s{stride}: {diff}"
            );
        }
    }
}
