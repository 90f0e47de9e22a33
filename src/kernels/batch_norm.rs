//! Batch normalization in training mode on plain slices, forward and backward, for data in f32
//! or f64: every sum over a channel's values accumulates in f64 (a plain f32 sum over 12 544
//! values loses ~1e-3 relative, which the following layers amplify), and the backward is the
//! analytic one, so that a network in training mode keeps only each batch norm's output for
//! its backward pass.
//!
//! Per channel, over its M = N·H·W values: μ = Σx/M, σ² = Σ(x − μ)²/M (biased, as PyTorch
//! normalizes), x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β; and for g = ∂L/∂y:
//! ∂L/∂β = Σg, ∂L/∂γ = Σg·x̂, ∂L/∂x = γ/(M·√(σ² + ε)) · (M·g − ∂L/∂β − x̂·∂L/∂γ).

use super::gemm::SendPtr;
use super::thread_pool::for_each_range;

/// A float the kernels read and write: f32 or f64, computed on in f64.
pub trait Value: Copy + Into<f64> + Send + Sync {
    /// `v` rounded to this type.
    fn from_f64(v: f64) -> Self;
}

impl Value for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Value for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
}

/// The shape `[N, C, H·W]` of the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dims {
    /// Images.
    pub n: usize,
    /// Channels.
    pub c: usize,
    /// Values per channel and image.
    pub hw: usize,
}

impl Dims {
    fn values_of<'a, T: Copy>(&self, data: &'a [T], ch: usize) -> impl Iterator<Item = T> + 'a {
        let (c, hw) = (self.c, self.hw);
        (0..self.n).flat_map(move |img| {
            data[(img * c + ch) * hw..(img * c + ch + 1) * hw]
                .iter()
                .copied()
        })
    }

    fn count(&self) -> f64 {
        (self.n * self.hw) as f64
    }
}

/// Channel `ch`'s mean and 1/√(σ² + ε).
fn statistics<T: Value>(x: &[T], dims: Dims, ch: usize, eps: f64) -> (f64, f64) {
    let m = dims.count();
    let mean = dims.values_of(x, ch).map(Into::into).sum::<f64>() / m;
    let var = dims
        .values_of(x, ch)
        .map(|v| (v.into() - mean).powi(2))
        .sum::<f64>()
        / m;
    (mean, 1.0 / (var + eps).sqrt())
}

/// The `hw` values of channel `ch` of image `img` in `data` (`[N, C, H·W]` behind `ptr`).
///
/// # Safety
/// `ptr` must point at `n·c·hw` values that outlive the slice, and no other live slice may
/// cover the same channel of the same image.
unsafe fn plane_mut<'a, T>(ptr: SendPtr<T>, dims: Dims, img: usize, ch: usize) -> &'a mut [T] {
    std::slice::from_raw_parts_mut(ptr.get().add((img * dims.c + ch) * dims.hw), dims.hw)
}

/// y = γ·x̂ + β for every channel (`x` and `out` are `[N, C, H·W]`, `gamma`/`beta` `[C]`).
pub fn forward<T: Value>(x: &[T], dims: Dims, gamma: &[T], beta: &[T], eps: f64, out: &mut [T]) {
    assert!(x.len() >= dims.n * dims.c * dims.hw && out.len() >= x.len() && gamma.len() >= dims.c);
    let out = SendPtr(out.as_mut_ptr());
    // Each channel's sums stay in one thread, in order, so the result does not depend on the
    // thread count (here and in the backward).
    for_each_range(dims.c, &|channels| {
        for ch in channels {
            let (mean, inv_std) = statistics(x, dims, ch, eps);
            let (g, b) = (gamma[ch].into(), beta[ch].into());
            for img in 0..dims.n {
                let at = (img * dims.c + ch) * dims.hw;
                // SAFETY: out holds n·c·hw values (asserted) and each channel is one part's.
                let y = unsafe { plane_mut(out, dims, img, ch) };
                for (y, &v) in y.iter_mut().zip(&x[at..at + dims.hw]) {
                    *y = T::from_f64((v.into() - mean) * inv_std * g + b);
                }
            }
        }
    });
}

/// What the backward pass gives: ∂L/∂x (`[N, C, H·W]`), ∂L/∂γ and ∂L/∂β (`[C]`).
pub struct Gradients<T> {
    /// ∂L/∂x.
    pub x: Vec<T>,
    /// ∂L/∂γ.
    pub gamma: Vec<T>,
    /// ∂L/∂β.
    pub beta: Vec<T>,
}

/// The gradients for `grad` = ∂L/∂y (statistics recomputed from `x`: no state is kept).
pub fn backward<T: Value>(x: &[T], dims: Dims, gamma: &[T], grad: &[T], eps: f64) -> Gradients<T> {
    let len = dims.n * dims.c * dims.hw;
    assert!(x.len() >= len && grad.len() >= len && gamma.len() >= dims.c);
    let mut dx = vec![T::from_f64(0.0); len];
    let mut sums = vec![(0f64, 0f64); dims.c];
    let m = dims.count();
    let (dx_ptr, sums_ptr) = (SendPtr(dx.as_mut_ptr()), SendPtr(sums.as_mut_ptr()));
    for_each_range(dims.c, &|channels| {
        for ch in channels {
            let (mean, inv_std) = statistics(x, dims, ch, eps);
            let (mut sum_g, mut sum_gx) = (0f64, 0f64);
            for (g, v) in dims.values_of(grad, ch).zip(dims.values_of(x, ch)) {
                let g: f64 = g.into();
                sum_g += g;
                sum_gx += g * (v.into() - mean) * inv_std;
            }
            let scale = gamma[ch].into() * inv_std / m;
            for img in 0..dims.n {
                let at = (img * dims.c + ch) * dims.hw;
                // SAFETY: dx holds n·c·hw values and each channel is one part's.
                let d = unsafe { plane_mut(dx_ptr, dims, img, ch) };
                for ((d, &v), &g) in d.iter_mut().zip(&x[at..at + dims.hw]).zip(&grad[at..]) {
                    let x_hat = (v.into() - mean) * inv_std;
                    *d = T::from_f64(scale * (m * g.into() - sum_g - x_hat * sum_gx));
                }
            }
            // SAFETY: sums holds c pairs and channel ch is this part's alone.
            unsafe { *sums_ptr.get().add(ch) = (sum_gx, sum_g) };
        }
    });
    Gradients {
        x: dx,
        gamma: sums.iter().map(|s| T::from_f64(s.0)).collect(),
        beta: sums.iter().map(|s| T::from_f64(s.1)).collect(),
    }
}
