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
    /// Channel `ch`'s plane in each image of `data`.
    fn planes_of<'a, T>(&self, data: &'a [T], ch: usize) -> impl Iterator<Item = &'a [T]> + 'a {
        let (c, hw) = (self.c, self.hw);
        (0..self.n).map(move |img| &data[(img * c + ch) * hw..(img * c + ch + 1) * hw])
    }

    fn count(&self) -> f64 {
        (self.n * self.hw) as f64
    }
}

/// Σ f(aᵢ, bᵢ) in f64 over channel `ch` of `a` and `b`, in eight running sums per plane: a
/// single sum waits on each addition, eight fill the SIMD lanes (the order, and so the
/// result, does not depend on the thread count).
fn channel_sum<T: Value>(
    (a, b): (&[T], &[T]),
    dims: Dims,
    ch: usize,
    f: impl Fn(f64, f64) -> f64,
) -> f64 {
    let mut total = 0.0;
    for (pa, pb) in dims.planes_of(a, ch).zip(dims.planes_of(b, ch)) {
        let mut lanes = [0f64; 8];
        let (ca, cb) = (pa.chunks_exact(8), pb.chunks_exact(8));
        let rest: f64 = ca
            .remainder()
            .iter()
            .zip(cb.remainder())
            .map(|(&x, &y)| f(x.into(), y.into()))
            .sum();
        for (xa, xb) in ca.zip(cb) {
            for ((lane, &x), &y) in lanes.iter_mut().zip(xa).zip(xb) {
                *lane += f(x.into(), y.into());
            }
        }
        total += lanes.iter().sum::<f64>() + rest;
    }
    total
}

/// Channel `ch`'s mean and 1/√(σ² + ε) (two passes: the variance about the mean).
fn statistics<T: Value>(x: &[T], dims: Dims, ch: usize, eps: f64) -> (f64, f64) {
    let m = dims.count();
    let mean = channel_sum((x, x), dims, ch, |v, _| v) / m;
    let var = channel_sum((x, x), dims, ch, |v, _| (v - mean) * (v - mean)) / m;
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
            // y = a·(x − mean) + β with a = γ/σ (x − mean first: the mean may dwarf the spread).
            let (a, b) = (gamma[ch].into() * inv_std, beta[ch].into());
            for img in 0..dims.n {
                let at = (img * dims.c + ch) * dims.hw;
                // SAFETY: out holds n·c·hw values (asserted) and each channel is one part's.
                let y = unsafe { plane_mut(out, dims, img, ch) };
                for (y, &v) in y.iter_mut().zip(&x[at..at + dims.hw]) {
                    *y = T::from_f64(a * (v.into() - mean) + b);
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
            let sum_g = channel_sum((grad, grad), dims, ch, |g, _| g);
            let sum_gx = channel_sum((grad, x), dims, ch, |g, v| g * (v - mean)) * inv_std;
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
