//! Property checks of the inference network's convolution kernels against candle's plain
//! convolution, shared by the native test (`tests/kernel_parity.rs`) and the browser test
//! (`tests/browser_kernels.rs`, wasm simd128): random shapes, kernels, strides and paddings.
#![allow(dead_code)]

use candle_core::{Device, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, Module};
use resnet_lab::model::gemm_conv::GemmConv;
use resnet_lab::model::winograd::Winograd3x3;

/// A small deterministic generator (LCG) for shapes and values.
struct Rng(u64);

impl Rng {
    /// Uniform values in [-1, 1).
    fn values(&mut self, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| {
                self.0 = self
                    .0
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// Uniform in `lo..=hi`.
    fn pick(&mut self, lo: usize, hi: usize) -> usize {
        let v = self.values(1)[0];
        (lo + ((v + 1.0) / 2.0 * (hi - lo + 1) as f32) as usize).min(hi)
    }

    fn tensor(&mut self, shape: &[usize]) -> Tensor {
        Tensor::from_vec(self.values(shape.iter().product()), shape, &Device::Cpu).unwrap()
    }
}

fn flat(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1::<f32>().unwrap()
}

/// Largest |a − b| over max |b|.
fn rel_err(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max)
        / scale
}

/// A random convolution of `k`×`k` with the given stride and padding (bias on every other).
fn random_conv(
    rng: &mut Rng,
    cin: usize,
    cout: usize,
    k: usize,
    stride: usize,
    pad: usize,
    bias: bool,
) -> Conv2d {
    let weight = rng.tensor(&[cout, cin, k, k]);
    let bias = bias.then(|| rng.tensor(&[cout]));
    let config = Conv2dConfig {
        stride,
        padding: pad,
        ..Default::default()
    };
    Conv2d::new(weight, bias, config)
}

/// Winograd F(2×2, 3×3) against candle's conv2d (+ ReLU on some); the worst relative error.
pub fn winograd_cases(cases: usize, seed: u64) -> f32 {
    let mut rng = Rng(seed);
    let mut worst = 0f32;
    for case in 0..cases {
        // The first case is the largest, so later ones run on a dirty scratch buffer.
        let big = case == 0;
        let (n, cin, cout) = if big {
            (2, 20, 20)
        } else {
            (rng.pick(1, 2), rng.pick(1, 20), rng.pick(1, 20))
        };
        let (h, w) = if big {
            (17, 17)
        } else {
            (rng.pick(1, 17), rng.pick(1, 17))
        };
        let x = rng.tensor(&[n, cin, h, w]);
        let conv = random_conv(&mut rng, cin, cout, 3, 1, 1, case % 2 == 0);
        let relu = case % 4 >= 2;
        let want = conv.forward(&x).unwrap();
        let want = if relu { want.relu().unwrap() } else { want };
        let got = Winograd3x3::of(&conv)
            .unwrap()
            .unwrap()
            .forward(&x, relu)
            .unwrap();
        assert_eq!(got.dims(), want.dims(), "case {case}");
        let err = rel_err(&flat(&got), &flat(&want));
        assert!(
            err < 1e-5,
            "winograd case {case}: n {n} cin {cin} cout {cout} {h}×{w}: {err:e}"
        );
        worst = worst.max(err);
    }
    worst
}

/// The gemm convolution (1×1 straight, others via im2col) against candle's conv2d over kernels
/// 1, 3 and 7, strides 1 and 2, paddings 0..k/2+1 (+ ReLU on some); the worst relative error.
pub fn gemm_conv_cases(cases: usize, seed: u64) -> f32 {
    let mut rng = Rng(seed);
    let mut worst = 0f32;
    for case in 0..cases {
        // The first case is the largest im2col (3×3, padding 1), so the padded cases that follow
        // run on a dirty scratch buffer.
        let big = case == 0;
        let k = if big { 3 } else { [1, 3, 7][case % 3] };
        let (stride, pad) = if big {
            (1, 1)
        } else {
            (1 + case % 2, rng.pick(0, k / 2 + 1))
        };
        let (n, cin, cout) = if big {
            (2, 40, 40)
        } else {
            (rng.pick(1, 2), rng.pick(1, 40), rng.pick(1, 40))
        };
        let min_side = k.saturating_sub(2 * pad).max(1);
        let (h, w) = if big {
            (15, 15)
        } else {
            (rng.pick(min_side, 15), rng.pick(min_side, 15))
        };
        let x = rng.tensor(&[n, cin, h, w]);
        let conv = random_conv(&mut rng, cin, cout, k, stride, pad, case % 2 == 0);
        let relu = case % 4 >= 2;
        let want = conv.forward(&x).unwrap();
        let want = if relu { want.relu().unwrap() } else { want };
        let got = GemmConv::of(&conv)
            .unwrap()
            .unwrap()
            .forward(&x, relu)
            .unwrap();
        assert_eq!(got.dims(), want.dims(), "case {case}");
        let err = rel_err(&flat(&got), &flat(&want));
        assert!(
            err < 1e-5,
            "gemm conv case {case}: n {n} cin {cin} cout {cout} {h}×{w} k {k}/{stride} pad {pad}: {err:e}"
        );
        worst = worst.max(err);
    }
    worst
}
