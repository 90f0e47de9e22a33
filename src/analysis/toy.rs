//! A toy for the Learn page: backward gradient norms through a stack of fully connected ReLU
//! layers, plain (h ← ReLU(W h)) versus residual (h ← h + ReLU(W h)/√depth), so a learner can
//! drag the depth and watch the plain stack's gradient vanish. Deterministic and cheap enough to
//! recompute on every slider move.

/// ‖∂L/∂h‖ at each layer input, from the first layer (index 0) to the last.
#[derive(Clone, Debug, PartialEq)]
pub struct ToyGradients {
    /// Plain stack.
    pub plain: Vec<f64>,
    /// Residual stack.
    pub residual: Vec<f64>,
}

struct Rng(u64);

impl Rng {
    fn normal(&mut self) -> f64 {
        let mut next = || {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (((z ^ (z >> 31)) >> 11) + 1) as f64 / (1u64 << 53) as f64
        };
        let (u, v) = (next(), next());
        libm::sqrt(-2.0 * libm::log(u)) * libm::cos(2.0 * std::f64::consts::PI * v)
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Gradient norms for `depth` layers of `width` units with Xavier-initialized weights.
pub fn toy_gradients(depth: usize, width: usize, seed: u64) -> ToyGradients {
    let mut rng = Rng(seed ^ 0x5eed);
    let std = (1.0 / width as f64).sqrt(); // Xavier: 2 / (fan_in + fan_out)
    let weights: Vec<Vec<f64>> = (0..depth)
        .map(|_| (0..width * width).map(|_| rng.normal() * std).collect())
        .collect();
    let x: Vec<f64> = (0..width).map(|_| rng.normal()).collect();
    let upstream: Vec<f64> = (0..width).map(|_| rng.normal()).collect();
    let matvec = |w: &[f64], v: &[f64]| -> Vec<f64> {
        (0..width)
            .map(|i| (0..width).map(|j| w[i * width + j] * v[j]).sum())
            .collect()
    };
    let matvec_t = |w: &[f64], v: &[f64]| -> Vec<f64> {
        (0..width)
            .map(|j| (0..width).map(|i| w[i * width + j] * v[i]).sum())
            .collect()
    };
    let alpha = 1.0 / (depth as f64).sqrt();
    let run = |residual: bool| -> Vec<f64> {
        let mut h = x.clone();
        let mut masks = Vec::with_capacity(depth);
        for w in &weights {
            let z = matvec(w, &h);
            let mask: Vec<bool> = z.iter().map(|v| *v > 0.0).collect();
            let f: Vec<f64> = z.iter().map(|v| v.max(0.0)).collect();
            h = if residual {
                h.iter().zip(&f).map(|(a, b)| a + alpha * b).collect()
            } else {
                f
            };
            masks.push(mask);
        }
        let mut g = upstream.clone();
        let mut norms = vec![0.0; depth];
        for l in (0..depth).rev() {
            let masked: Vec<f64> = g
                .iter()
                .zip(&masks[l])
                .map(|(v, m)| if *m { *v } else { 0.0 })
                .collect();
            let back = matvec_t(&weights[l], &masked);
            g = if residual {
                g.iter().zip(&back).map(|(a, b)| a + alpha * b).collect()
            } else {
                back
            };
            norms[l] = norm(&g);
        }
        norms
    };
    ToyGradients {
        plain: run(false),
        residual: run(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_stack_vanishes_residual_does_not() {
        let g = toy_gradients(50, 64, 1);
        assert_eq!(g.plain.len(), 50);
        let plain = g.plain[0] / g.plain[49];
        let residual = g.residual[0] / g.residual[49];
        assert!(plain < 1e-5, "plain first/last = {plain:e}");
        assert!(
            (0.1..10.0).contains(&residual),
            "residual first/last = {residual}"
        );
        let shallow = toy_gradients(5, 64, 1);
        assert!(shallow.plain[0] / shallow.plain[4] > 1e-2);
    }
}
