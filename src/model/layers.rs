//! The building pieces shared by every block: batch norm with its three modes and the stem's max-pool.

use candle_core::{DType, Tensor, D};

use super::config::NormMode;
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
                let scale = (&self.weight / (&self.running_var + BN_EPS)?.sqrt()?)?;
                let shift = (&self.bias - (&self.running_mean * &scale)?)?;
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
    /// The convolution followed by this (eval-mode) batch norm, as one convolution with bias:
    /// w' = w·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε) (+ b·γ/√(σ²+ε) for a biased convolution).
    pub fn fold_into(&self, conv: &candle_nn::Conv2d) -> Result<candle_nn::Conv2d> {
        let scale = (&self.weight / (&self.running_var + BN_EPS)?.sqrt()?)?;
        let out = scale.dim(0)?;
        let weight = conv
            .weight()
            .broadcast_mul(&scale.reshape((out, 1, 1, 1))?)?;
        let mut bias = (&self.bias - (&self.running_mean * &scale)?)?;
        if let Some(b) = conv.bias() {
            bias = (bias + (b * &scale)?)?;
        }
        Ok(candle_nn::Conv2d::new(weight, Some(bias), *conv.config()))
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

/// Max-pool 3×3, stride 2, padding 1 (the stem's), as two separable 1-D maxima.
///
/// Built from `maximum` so that it is differentiable (candle's own max-pool has no backward for
/// overlapping windows). Padding is with zeros, which is exact because the input follows a ReLU.
pub fn max_pool_3x3_s2(x: &Tensor) -> Result<Tensor> {
    let rows = max_pool_1d(x, 2)?;
    max_pool_1d(&rows, 3)
}

fn max_pool_1d(x: &Tensor, dim: usize) -> Result<Tensor> {
    let len = x.dim(dim)?;
    let out = (len - 1) / 2 + 1;
    // After padding 1 on the left, output i covers padded positions 2i, 2i+1, 2i+2.
    let extra = (2 * out + 2).saturating_sub(len + 2);
    let padded = x.pad_with_zeros(dim, 1, 1 + extra)?;
    let mut split = padded.dims().to_vec();
    split[dim] = out;
    split.insert(dim + 1, 2);
    let pairs = padded.narrow(dim, 0, 2 * out)?.reshape(split.as_slice())?;
    let next = padded.narrow(dim, 2, 2 * out)?.reshape(split.as_slice())?;
    let a = pairs.narrow(dim + 1, 0, 1)?;
    let b = pairs.narrow(dim + 1, 1, 1)?;
    let c = next.narrow(dim + 1, 0, 1)?;
    Ok(a.maximum(&b)?.maximum(&c)?.squeeze(dim + 1)?)
}

/// Population statistics of a tensor: mean, standard deviation, min and max.
pub fn summary_stats(x: &Tensor) -> Result<[f32; 4]> {
    let flat = x.flatten_all()?.to_dtype(DType::F64)?;
    let mean = flat.mean(D::Minus1)?;
    let std = flat.broadcast_sub(&mean)?.sqr()?.mean(D::Minus1)?.sqrt()?;
    let min = flat.min(D::Minus1)?;
    let max = flat.max(D::Minus1)?;
    Ok([mean, std, min, max].map(|t| t.to_scalar::<f64>().unwrap_or(f64::NAN) as f32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// Plain 3×3/2 max-pool with −∞ padding, the definition PyTorch uses.
    fn reference_pool(x: &[f32], h: usize, w: usize) -> Vec<f32> {
        let (oh, ow) = ((h - 1) / 2 + 1, (w - 1) / 2 + 1);
        let mut out = vec![f32::NEG_INFINITY; oh * ow];
        for i in 0..oh {
            for j in 0..ow {
                for di in 0..3 {
                    for dj in 0..3 {
                        let (y, x_) = ((2 * i + di) as isize - 1, (2 * j + dj) as isize - 1);
                        if y >= 0 && x_ >= 0 && (y as usize) < h && (x_ as usize) < w {
                            let v = x[y as usize * w + x_ as usize];
                            out[i * ow + j] = out[i * ow + j].max(v);
                        }
                    }
                }
            }
        }
        out
    }

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

    #[test]
    fn max_pool_matches_the_padded_definition_for_odd_and_even_sides() {
        for (h, w) in [(8, 8), (7, 9), (5, 4), (112, 112), (3, 3)] {
            let data: Vec<f32> = (0..h * w).map(|i| ((i * 37 % 101) as f32) / 7.0).collect();
            let x = Tensor::from_vec(data.clone(), (1, 1, h, w), &Device::Cpu).unwrap();
            let got = max_pool_3x3_s2(&x)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            assert_eq!(got, reference_pool(&data, h, w), "{h}×{w}");
        }
    }
}
