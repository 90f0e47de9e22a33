//! How the network runs a convolution: through candle (differentiable), or through the faster
//! prepared form the inference network attached to it (see `crate::infer`).

use candle_core::Tensor;

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

/// Runs a convolution. Natively a 1×1 convolution is one matrix product per image (`W · X` with
/// X as `[C_in, H·W]`), which skips the im2col copy candle's generic path makes (1-thread forward
/// 171 → 150 ms). In wasm the same product is *slower* than candle's im2col layout (398 → 623
/// ms in `make bench`), so wasm keeps the generic path. Differentiable either way.
pub fn conv_forward(conv: &candle_nn::Conv2d, x: &Tensor) -> Result<Tensor> {
    use candle_nn::Module;
    if cfg!(target_arch = "wasm32") {
        return Ok(conv.forward(x)?);
    }
    conv_1x1_as_matmul(conv, x)
}

/// The 1×1 fast path of [`conv_forward`] (any other kernel falls through to candle).
pub fn conv_1x1_as_matmul(conv: &candle_nn::Conv2d, x: &Tensor) -> Result<Tensor> {
    use candle_nn::Module;
    let w = conv.weight();
    let (co, ci, kh, kw) = w.dims4()?;
    let cfg = conv.config();
    if kh != 1 || kw != 1 || cfg.padding != 0 || cfg.groups != 1 {
        return Ok(conv.forward(x)?);
    }
    let x = if cfg.stride > 1 {
        let (n, c, h, wd) = x.dims4()?;
        let (oh, ow) = ((h - 1) / cfg.stride + 1, (wd - 1) / cfg.stride + 1);
        // Keep every stride-th row and column: pad to a multiple, split, take index 0.
        let (ph, pw) = (oh * cfg.stride, ow * cfg.stride);
        let x = x
            .pad_with_zeros(2, 0, ph - h)?
            .pad_with_zeros(3, 0, pw - wd)?;
        x.reshape((n, c, oh, cfg.stride, ow, cfg.stride))?
            .narrow(3, 0, 1)?
            .narrow(5, 0, 1)?
            .reshape((n, c, oh, ow))?
    } else {
        x.clone()
    };
    let (n, _, h, wd) = x.dims4()?;
    let y = w
        .reshape((co, ci))?
        .broadcast_matmul(&x.reshape((n, ci, h * wd))?.contiguous()?)?
        .reshape((n, co, h, wd))?;
    Ok(match conv.bias() {
        Some(b) => y.broadcast_add(&b.reshape((1, co, 1, 1))?)?,
        None => y,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// Property test: the 1×1 fast path equals candle's generic convolution over random shapes,
    /// strides, batch sizes and biases (and other kernels fall through unchanged).
    #[test]
    fn conv_fast_path_equals_the_generic_convolution() {
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
            let k = if case % 5 == 4 { 3 } else { 1 };
            let stride = 1 + next(3);
            let padding = if k == 3 { next(2) } else { 0 };
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
            let fast = conv_1x1_as_matmul(&conv, &x).unwrap();
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
