//! Batch normalization in training mode on plain slices, forward and backward, for data in f32
//! or f64: every sum over a channel's values accumulates in f64 (a plain f32 sum over 12 544
//! values loses ~1e-3 relative, which the following layers amplify), and the backward is the
//! analytic one, so that a network in training mode keeps only each batch norm's output for
//! its backward pass.
//!
//! Per channel, over its M = N·H·W values: μ = Σx/M, σ² = Σ(x − μ)²/M (biased, as PyTorch
//! normalizes), x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β; and for g = ∂L/∂y:
//! ∂L/∂β = Σg, ∂L/∂γ = Σg·x̂, ∂L/∂x = γ/(M·√(σ² + ε)) · (M·g − ∂L/∂β − x̂·∂L/∂γ).

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

/// y = γ·x̂ + β for every channel (`x` and `out` are `[N, C, H·W]`, `gamma`/`beta` `[C]`).
pub fn forward<T: Value>(x: &[T], dims: Dims, gamma: &[T], beta: &[T], eps: f64, out: &mut [T]) {
    for ch in 0..dims.c {
        let (mean, inv_std) = statistics(x, dims, ch, eps);
        let (g, b) = (gamma[ch].into(), beta[ch].into());
        for img in 0..dims.n {
            let at = (img * dims.c + ch) * dims.hw;
            for (y, &v) in out[at..at + dims.hw].iter_mut().zip(&x[at..at + dims.hw]) {
                *y = T::from_f64((v.into() - mean) * inv_std * g + b);
            }
        }
    }
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
    let mut dx = vec![T::from_f64(0.0); x.len()];
    let (mut dgamma, mut dbeta) = (Vec::with_capacity(dims.c), Vec::with_capacity(dims.c));
    let m = dims.count();
    for (ch, &gamma) in gamma.iter().enumerate().take(dims.c) {
        let (mean, inv_std) = statistics(x, dims, ch, eps);
        let (mut sum_g, mut sum_gx) = (0f64, 0f64);
        for (g, v) in dims.values_of(grad, ch).zip(dims.values_of(x, ch)) {
            let g: f64 = g.into();
            sum_g += g;
            sum_gx += g * (v.into() - mean) * inv_std;
        }
        let scale = gamma.into() * inv_std / m;
        for img in 0..dims.n {
            let at = (img * dims.c + ch) * dims.hw;
            let span = at..at + dims.hw;
            for ((d, &v), &g) in dx[span.clone()]
                .iter_mut()
                .zip(&x[span.clone()])
                .zip(&grad[span])
            {
                let x_hat = (v.into() - mean) * inv_std;
                *d = T::from_f64(scale * (m * g.into() - sum_g - x_hat * sum_gx));
            }
        }
        dgamma.push(T::from_f64(sum_gx));
        dbeta.push(T::from_f64(sum_g));
    }
    Gradients {
        x: dx,
        gamma: dgamma,
        beta: dbeta,
    }
}
