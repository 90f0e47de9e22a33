//! Property checks of the inference network's convolution kernels against candle's plain
//! convolution, shared by the native test (`tests/kernel_parity.rs`) and the browser test
//! (`tests/browser_kernels.rs`, wasm simd128): random shapes, kernels, strides and paddings.
#![allow(dead_code)]

#[path = "../check_util/mod.rs"]
mod check_util;

use check_util::{flat, rel_err, Rng};

use candle_core::Tensor;
use candle_nn::{Conv2d, Conv2dConfig, Module};
use resnet_lab::model::gemm_conv::GemmConv;
use resnet_lab::model::winograd::Winograd3x3;

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

/// `fast(conv, x, relu)` against candle's conv2d (+ ReLU): the relative error, after checking
/// the shape.
fn compare(
    conv: &Conv2d,
    x: &Tensor,
    relu: bool,
    fast: impl Fn(&Conv2d, &Tensor, bool) -> Tensor,
) -> f32 {
    let want = conv.forward(x).unwrap();
    let want = if relu { want.relu().unwrap() } else { want };
    let got = fast(conv, x, relu);
    assert_eq!(got.dims(), want.dims());
    rel_err(&flat(&got), &flat(&want))
}

/// Winograd F(2×2, 3×3) against candle's conv2d (+ ReLU on some); the worst relative error.
pub fn winograd_cases(cases: usize, seed: u64) -> f32 {
    let mut rng = Rng::new(seed);
    let mut worst = 0f32;
    for case in 0..cases {
        // The first case is the largest, so later ones run on a dirty scratch buffer.
        let big = case == 0;
        let (n, cin, cout) = if big {
            (2, 20, 20)
        } else {
            (rng.range(1, 2), rng.range(1, 20), rng.range(1, 20))
        };
        let (h, w) = if big {
            (17, 17)
        } else {
            (rng.range(1, 17), rng.range(1, 17))
        };
        let x = rng.tensor(&[n, cin, h, w]);
        let conv = random_conv(&mut rng, cin, cout, 3, 1, 1, case % 2 == 0);
        let err = compare(&conv, &x, case % 4 >= 2, |conv, x, relu| {
            let fast = Winograd3x3::of(conv).unwrap().unwrap();
            fast.forward(x, relu).unwrap()
        });
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
    let mut rng = Rng::new(seed);
    let mut worst = 0f32;
    for case in 0..cases {
        // The first case is the largest im2col (3×3, padding 1), so the padded cases that follow
        // run on a dirty scratch buffer.
        let big = case == 0;
        let k = if big { 3 } else { [1, 3, 7][case % 3] };
        let (stride, pad) = if big {
            (1, 1)
        } else {
            (1 + case % 2, rng.range(0, k / 2 + 1))
        };
        let (n, cin, cout) = if big {
            (2, 40, 40)
        } else {
            (rng.range(1, 2), rng.range(1, 40), rng.range(1, 40))
        };
        let min_side = k.saturating_sub(2 * pad).max(1);
        let (h, w) = if big {
            (15, 15)
        } else {
            (rng.range(min_side, 15), rng.range(min_side, 15))
        };
        let x = rng.tensor(&[n, cin, h, w]);
        let conv = random_conv(&mut rng, cin, cout, k, stride, pad, case % 2 == 0);
        let err = compare(&conv, &x, case % 4 >= 2, |conv, x, relu| {
            GemmConv::of(conv)
                .unwrap()
                .unwrap()
                .forward(x, relu)
                .unwrap()
        });
        assert!(
            err < 1e-5,
            "gemm conv case {case}: n {n} cin {cin} cout {cout} {h}×{w} k {k}/{stride} pad {pad}: {err:e}"
        );
        worst = worst.max(err);
    }
    worst
}
