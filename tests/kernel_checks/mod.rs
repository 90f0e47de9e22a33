//! Property checks of the inference network's kernels against plain references — the
//! convolutions against candle's, the packed matrix product against the textbook sum — shared by
//! the native test (`tests/kernel_parity.rs`) and the browser test (`tests/browser_kernels.rs`,
//! wasm SIMD, also built with relaxed SIMD by `make test`): random shapes, kernels, strides and
//! paddings.
#![allow(dead_code)]

#[path = "../check_util/mod.rs"]
mod check_util;

use check_util::{flat, rel_err, Rng};

use candle_core::Tensor;
use candle_nn::{Conv2d, Conv2dConfig, Module};
use resnet_lab::infer::FastConv;
use resnet_lab::kernels::packed_gemm::{PackedMatrix, Split, Start};

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
    winograd_form_cases(cases, seed, "F(2,3)", FastConv::winograd)
}

/// Winograd F(4×4, 3×3) against candle's conv2d, as [`winograd_cases`] (the same cases for the
/// same seed): widths and heights 1–17 leave every remainder of the 4-wide tiles.
pub fn winograd4_cases(cases: usize, seed: u64) -> f32 {
    winograd_form_cases(cases, seed, "F(4,3)", FastConv::winograd4)
}

/// A Winograd form made by `prepare` against candle's conv2d (+ ReLU on some) over random
/// shapes: the worst relative error.
fn winograd_form_cases(
    cases: usize,
    seed: u64,
    form: &str,
    prepare: fn(&Conv2d) -> resnet_lab::Result<Option<FastConv>>,
) -> f32 {
    let mut rng = Rng::new(seed);
    let mut worst = 0f32;
    for case in 0..cases {
        // The first case is the largest, so later ones run on a dirty scratch buffer; the
        // second sums over as many channels as ResNet-50's Stage 2.
        let (n, cin, cout, h, w) = match case {
            0 => (2, 20, 20, 17, 17),
            1 => (1, 64, 64, 14, 14),
            _ => (
                rng.range(1, 2),
                rng.range(1, 20),
                rng.range(1, 20),
                rng.range(1, 17),
                rng.range(1, 17),
            ),
        };
        let x = rng.tensor(&[n, cin, h, w]);
        let conv = random_conv(&mut rng, cin, cout, 3, 1, 1, case % 2 == 0);
        let err = compare(&conv, &x, case % 4 >= 2, |conv, x, relu| {
            let fast = prepare(conv).unwrap().unwrap();
            fast.forward(x, relu).unwrap()
        });
        assert!(
            err < 1e-5,
            "winograd {form} case {case}: n {n} cin {cin} cout {cout} {h}×{w}: {err:e}"
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
        // The second case is the stem at 224, whose patch matrix is made a band of output rows
        // at a time (the last band shorter).
        let (n, cin, cout, k, stride, pad, h, w) = if case == 1 {
            (2, 3, 16, 7, 2, 3, 224, 224)
        } else {
            (n, cin, cout, k, stride, pad, h, w)
        };
        let x = rng.tensor(&[n, cin, h, w]);
        let conv = random_conv(&mut rng, cin, cout, k, stride, pad, case % 2 == 0);
        let err = compare(&conv, &x, case % 4 >= 2, |conv, x, relu| {
            FastConv::gemm(conv)
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

/// The packed matrix product `C += A·B` (+ ReLU on some) against the textbook sum in f64, over
/// random sizes that cross every blocking edge (partial row strips and column strips, more than
/// one depth and column block), also for blocks of rows and columns as the threads split it;
/// the worst relative error.
pub fn packed_gemm_cases(cases: usize, seed: u64) -> f32 {
    let mut rng = Rng::new(seed);
    let mut worst = 0f32;
    for case in 0..cases {
        let big = case == 0;
        let (m, n, k) = if big {
            (37, 1100, 600)
        } else {
            (rng.range(1, 40), rng.range(1, 700), rng.range(0, 600))
        };
        let (a, b, c) = (rng.values(m * k), rng.values(k * n), rng.values(m * n));
        let relu = case % 2 == 1;
        let mut want = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let dot: f64 = (0..k)
                    .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                    .sum();
                let v = (c[i * n + j] as f64 + dot) as f32;
                want[i * n + j] = if relu { v.max(0.0) } else { v };
            }
        }
        let packed = PackedMatrix::new(m, k, &a);
        let mut got = c.clone();
        packed.product(n, &b, &mut got, Start::Accumulate, relu);
        let err = rel_err(&got, &want);
        assert!(err < 1e-5, "packed gemm case {case}: {m}×{n}×{k}: {err:e}");
        worst = worst.max(err);
        // As the threaded build splits it (by columns or by row strips), the parts one by one.
        for parts in [2, 3, 8] {
            let mut got = c.clone();
            let start = (Start::Accumulate, relu);
            let split = by_parts(&packed, false, parts, (m, n), &b, (n, 1), &mut got, start);
            let err = rel_err(&got, &want);
            assert!(
                err < 1e-5,
                "packed gemm case {case}: {m}×{n}×{k} split {split:?}: {err:e}"
            );
        }
        // From zero and from a bias instead of C's values, whole and split: C holds NaN,
        // which a read would carry into the result.
        let bias = rng.values(m);
        for start in [Start::Zero, Start::Bias(&bias)] {
            let mut want = vec![0f32; m * n];
            for i in 0..m {
                let first = match start {
                    Start::Bias(bias) => bias[i] as f64,
                    _ => 0.0,
                };
                for j in 0..n {
                    let dot: f64 = (0..k)
                        .map(|p| a[i * k + p] as f64 * b[p * n + j] as f64)
                        .sum();
                    let v = (first + dot) as f32;
                    want[i * n + j] = if relu { v.max(0.0) } else { v };
                }
            }
            let mut got = vec![f32::NAN; m * n];
            packed.product(n, &b, &mut got, start, relu);
            let err = rel_err(&got, &want);
            assert!(
                err < 1e-5,
                "packed gemm case {case}: {m}×{n}×{k} from {start:?}: {err:e}"
            );
            let mut got = vec![f32::NAN; m * n];
            let split = by_parts(
                &packed,
                false,
                3,
                (m, n),
                &b,
                (n, 1),
                &mut got,
                (start, relu),
            );
            let err = rel_err(&got, &want);
            assert!(
                err < 1e-5,
                "packed gemm case {case}: {m}×{n}×{k} from {start:?}, split {split:?}: {err:e}"
            );
        }
        // B read as the transpose of a row-major n×k matrix (the filter gradient's cols(x)ᵀ),
        // split the same way.
        let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
        let mut got = c.clone();
        let start = (Start::Accumulate, relu);
        by_parts(&packed, false, 3, (m, n), &bt, (1, k), &mut got, start);
        let err = rel_err(&got, &want);
        assert!(
            err < 1e-5,
            "packed gemm case {case}: {m}×{n}×{k} with B transposed: {err:e}"
        );
        // The same packed A read as its transpose (k×m, a layer's backward Wᵀ · ∂L/∂y), by
        // parts of row strips and columns as the threads split it.
        let (b2, c2) = (rng.values(m * n), rng.values(k * n));
        let mut want = vec![0f32; k * n];
        for i in 0..k {
            for j in 0..n {
                let dot: f64 = (0..m)
                    .map(|p| a[p * k + i] as f64 * b2[p * n + j] as f64)
                    .sum();
                want[i * n + j] = (c2[i * n + j] as f64 + dot) as f32;
            }
        }
        for parts in [1, 3] {
            let mut got = c2.clone();
            let start = (Start::Accumulate, false);
            let split = by_parts(&packed, true, parts, (k, n), &b2, (n, 1), &mut got, start);
            let err = rel_err(&got, &want);
            assert!(
                err < 1e-5,
                "packed gemm case {case}: {m}×{n}×{k}, A transposed, split {split:?}: {err:e}"
            );
        }
    }
    worst
}

/// `c = start + A · B` (`A` being `packed`, or its transpose when `transposed`; `c` is
/// `rows × n`, B's element (p, j) at `b[p·rs + j·cs]`) as the threaded build splits it into
/// `parts`, the parts one by one; the split it used.
#[allow(clippy::too_many_arguments)]
fn by_parts(
    packed: &PackedMatrix,
    transposed: bool,
    parts: usize,
    (rows, n): (usize, usize),
    b: &[f32],
    (rs, cs): (usize, usize),
    c: &mut [f32],
    start: (Start, bool),
) -> Split {
    let depth = if transposed {
        packed.rows()
    } else {
        packed.depth()
    };
    assert_eq!(
        rows,
        if transposed {
            packed.depth()
        } else {
            packed.rows()
        }
    );
    assert!(
        c.len() >= rows * n && (n == 0 || depth == 0 || b.len() > (depth - 1) * rs + (n - 1) * cs)
    );
    let split = Split::of(n, parts);
    for part in 0..parts {
        let (strips, cols) = split.part(rows, n, part);
        // SAFETY: `b` addresses depth × n values with these strides and `c` holds rows × n
        // (asserted); one part at a time.
        unsafe {
            packed.product_block(
                transposed,
                strips,
                cols.len(),
                b.as_ptr().add(cols.start * cs),
                (rs, cs),
                c.as_mut_ptr().add(cols.start),
                n,
                start,
            )
        };
    }
    split
}

/// Batch norm in training mode (one op with its analytic backward) against candle's autograd
/// of the textbook formula in f64, over random shapes, for data in f64 and in f32: the output
/// and the gradients for x, γ and β of a random projection of the output; the worst relative
/// error over the f32 cases (f64 ones must agree to 1e-9).
pub fn batch_norm_cases(cases: usize, seed: u64) -> f32 {
    use candle_core::{DType, Var};
    use resnet_lab::config::NormMode;
    use resnet_lab::model::batch_norm::{BatchNorm, BN_EPS};

    let mut rng = Rng::new(seed);
    let mut worst = 0f32;
    for case in 0..cases {
        let dtype = if case % 2 == 0 {
            DType::F64
        } else {
            DType::F32
        };
        let (n, c, h, w) = (
            rng.range(1, 4),
            rng.range(1, 9),
            rng.range(1, 12),
            rng.range(1, 12),
        );
        let x = rng.tensor(&[n, c, h, w]);
        let gamma = rng.tensor(&[c]);
        let beta = rng.tensor(&[c]);
        let projection = rng.tensor(&[n, c, h, w]);
        // Ours, in `dtype`.
        let vars =
            [&x, &gamma, &beta].map(|t| Var::from_tensor(&t.to_dtype(dtype).unwrap()).unwrap());
        let bn = BatchNorm {
            weight: vars[1].as_tensor().clone(),
            bias: vars[2].as_tensor().clone(),
            running_mean: gamma.zeros_like().unwrap(),
            running_var: gamma.ones_like().unwrap(),
        };
        let y = bn.forward(vars[0].as_tensor(), NormMode::Train).unwrap();
        let loss = (&y * projection.to_dtype(dtype).unwrap())
            .unwrap()
            .sum_all()
            .unwrap();
        let grads = loss.backward().unwrap();
        // The reference: candle's own ops and autograd, in f64.
        let refs = [&x, &gamma, &beta]
            .map(|t| Var::from_tensor(&t.to_dtype(DType::F64).unwrap()).unwrap());
        let (rx, rg, rb) = (
            refs[0].as_tensor(),
            refs[1].as_tensor(),
            refs[2].as_tensor(),
        );
        let per_channel = |t: &Tensor| t.reshape((1, c, 1, 1)).unwrap();
        let mean = rx.mean_keepdim((0, 2, 3)).unwrap();
        let centered = rx.broadcast_sub(&mean).unwrap();
        let var = centered.sqr().unwrap().mean_keepdim((0, 2, 3)).unwrap();
        let ry = centered
            .broadcast_div(&(var + BN_EPS).unwrap().sqrt().unwrap())
            .unwrap()
            .broadcast_mul(&per_channel(rg))
            .unwrap()
            .broadcast_add(&per_channel(rb))
            .unwrap();
        let rloss = (&ry * projection.to_dtype(DType::F64).unwrap())
            .unwrap()
            .sum_all()
            .unwrap();
        let rgrads = rloss.backward().unwrap();
        let as_f32 = |t: &Tensor| flat(&t.to_dtype(DType::F32).unwrap());
        let mut pairs = vec![(as_f32(&y), as_f32(&ry))];
        for (v, r) in vars.iter().zip(&refs) {
            let got = grads
                .get(v.as_tensor())
                .expect("a gradient for every input");
            let want = rgrads.get(r.as_tensor()).expect("a reference gradient");
            pairs.push((as_f32(got), as_f32(want)));
        }
        for (what, (got, want)) in ["y", "∂x", "∂γ", "∂β"].iter().zip(&pairs) {
            let err = rel_err(got, want);
            let tol = if dtype == DType::F64 { 1e-9 } else { 1e-5 };
            assert!(
                err < tol,
                "batch norm case {case} ({dtype:?}, {n}×{c}×{h}×{w}): {what} off by {err:e}"
            );
            if dtype == DType::F32 {
                worst = worst.max(err);
            }
        }
    }
    worst
}

/// The differentiable convolution (`model::conv::conv_forward`: a matrix product per image,
/// forward and backward) against candle's generic convolution and its autograd, in f64, over
/// random shapes, kernels 1/3/7, strides and paddings, with and without a batch norm in training
/// mode and a ReLU after it: the output and ∂L/∂x, ∂L/∂W of a random projection of the output.
/// f64 cases must agree to 1e-9; returns the worst relative error over the f32 cases.
pub fn conv_grad_cases(cases: usize, seed: u64) -> f32 {
    use candle_core::{DType, Var};
    use resnet_lab::config::NormMode;
    use resnet_lab::model::batch_norm::BatchNorm;
    use resnet_lab::model::conv::conv_forward;

    let mut rng = Rng::new(seed);
    let mut worst = 0f32;
    for case in 0..cases {
        let dtype = if case % 2 == 0 {
            DType::F64
        } else {
            DType::F32
        };
        let k = [1, 3, 7, 1][case % 4];
        let stride = rng.range(1, 3);
        let pad = rng.range(0, k / 2 + usize::from(k == 1));
        let low = k.saturating_sub(2 * pad).max(1);
        let (n, cin, cout) = (rng.range(1, 3), rng.range(1, 9), rng.range(1, 9));
        // Square inputs: candle's conv2d backward takes the output padding of both sides from
        // the height, so it is no reference for a non-square input.
        let h = rng.range(low, low + 12);
        let w = h;
        let with_bn = case % 3 != 0;
        let x = rng.tensor(&[n, cin, h, w]);
        let filters = rng.tensor(&[cout, cin, k, k]);
        let gamma = rng.tensor(&[cout]);
        let (ho, wo) = (
            (h + 2 * pad - k) / stride + 1,
            (w + 2 * pad - k) / stride + 1,
        );
        let projection = rng.tensor(&[n, cout, ho, wo]);
        let config = Conv2dConfig {
            stride,
            padding: pad,
            ..Default::default()
        };
        let run = |dtype: DType, ours: bool| {
            let vars =
                [&x, &filters].map(|t| Var::from_tensor(&t.to_dtype(dtype).unwrap()).unwrap());
            let conv = Conv2d::new(vars[1].as_tensor().clone(), None, config);
            let y = if ours {
                conv_forward(&conv, vars[0].as_tensor()).unwrap()
            } else {
                conv.forward(vars[0].as_tensor()).unwrap()
            };
            let y = if with_bn {
                let gamma = gamma.to_dtype(dtype).unwrap();
                let bn = BatchNorm {
                    weight: gamma.clone(),
                    bias: gamma.zeros_like().unwrap(),
                    running_mean: gamma.zeros_like().unwrap(),
                    running_var: gamma.ones_like().unwrap(),
                };
                bn.forward(&y, NormMode::Train).unwrap().relu().unwrap()
            } else {
                y
            };
            let loss = (&y * projection.to_dtype(dtype).unwrap())
                .unwrap()
                .sum_all()
                .unwrap();
            let grads = loss.backward().unwrap();
            let as_f32 = |t: &Tensor| flat(&t.to_dtype(DType::F32).unwrap());
            let grad = |v: &Var| as_f32(grads.get(v.as_tensor()).expect("a gradient"));
            [as_f32(&y), grad(&vars[0]), grad(&vars[1])]
        };
        let got = run(dtype, true);
        let want = run(DType::F64, false);
        for (what, (got, want)) in ["y", "∂x", "∂W"].iter().zip(got.iter().zip(&want)) {
            let err = rel_err(got, want);
            let tol = if dtype == DType::F64 { 1e-9 } else { 1e-4 };
            assert!(
                err < tol,
                "conv case {case} ({dtype:?}, [{n}, {cin}, {h}, {w}] * [{cout}, {cin}, {k}, {k}] \
                 stride {stride} pad {pad}, bn {with_bn}): {what} off by {err:e}"
            );
            if dtype == DType::F32 {
                worst = worst.max(err);
            }
        }
    }
    worst
}

/// Max-pool 3×3 / stride 2 / padding 1 built from candle's `pad_with_zeros`, `narrow` and
/// `maximum`, so that candle's autograd differentiates it (its own max-pool has no backward for
/// overlapping windows): two separable 1-D maxima. Zero padding is exact on positive values.
fn differentiable_max_pool(x: &Tensor) -> Tensor {
    let pool_1d = |x: &Tensor, dim: usize| {
        let len = x.dim(dim).unwrap();
        let out = (len - 1) / 2 + 1;
        // After padding 1 on the left, output i covers padded positions 2i, 2i+1, 2i+2.
        let extra = (2 * out + 2).saturating_sub(len + 2);
        let padded = x.pad_with_zeros(dim, 1, 1 + extra).unwrap();
        let mut split = padded.dims().to_vec();
        split[dim] = out;
        split.insert(dim + 1, 2);
        let pairs = padded.narrow(dim, 0, 2 * out).unwrap();
        let pairs = pairs.reshape(split.as_slice()).unwrap();
        let next = padded.narrow(dim, 2, 2 * out).unwrap();
        let next = next.reshape(split.as_slice()).unwrap();
        let a = pairs.narrow(dim + 1, 0, 1).unwrap();
        let b = pairs.narrow(dim + 1, 1, 1).unwrap();
        let c = next.narrow(dim + 1, 0, 1).unwrap();
        let m = a.maximum(&b).unwrap().maximum(&c).unwrap();
        m.squeeze(dim + 1).unwrap()
    };
    pool_1d(&pool_1d(x, 2), 3)
}

/// The Gradient lab's pooling and ReLU backward (`kernels::pool_grad`) against candle's
/// autograd over random shapes: the stem's max-pool (made differentiable from `maximum`, see
/// [`differentiable_max_pool`]; its forward is also checked against `model::max_pool`, the
/// inference network's) on positive values (the pool follows a ReLU there), the ReLU, and the
/// 2×2 average pool (even sides); each through ∂L/∂x of a random projection of the output. Exact
/// up to f32 rounding.
pub fn pool_grad_cases(cases: usize, seed: u64) -> f32 {
    use candle_core::Var;
    use resnet_lab::kernels::pool_grad;
    use resnet_lab::model::max_pool::max_pool_3x3_s2;

    let mut rng = Rng::new(seed);
    let mut worst = 0f32;
    let grad_of = |x: &Var, y: &Tensor, projection: &Tensor| {
        let loss = (y * projection).unwrap().sum_all().unwrap();
        flat(loss.backward().unwrap().get(x.as_tensor()).unwrap())
    };
    for case in 0..cases {
        let (n, c, h, w) = (
            rng.range(1, 3),
            rng.range(1, 5),
            rng.range(2, 14),
            rng.range(2, 14),
        );
        let planes = n * c;
        // Max-pool on distinct positive values (no ties, as after a ReLU on real data).
        let values: Vec<f32> = rng
            .values(planes * h * w)
            .iter()
            .map(|v| v.abs() + 1e-3)
            .collect();
        let x = Var::from_tensor(&check_util::tensor(values.clone(), &[n, c, h, w])).unwrap();
        let y = differentiable_max_pool(x.as_tensor());
        assert_eq!(
            flat(&max_pool_3x3_s2(x.as_tensor()).unwrap()),
            flat(&y),
            "case {case}: the inference max-pool"
        );
        let projection = rng.tensor(y.dims());
        let (pooled, picks) = pool_grad::max_pool_3x3_s2(&values, planes, (h, w));
        assert_eq!(pooled, flat(&y), "max-pool case {case}: {n}×{c}×{h}×{w}");
        let got = pool_grad::max_pool_backward(&flat(&projection), &picks, planes, h * w);
        worst = worst.max(rel_err(&got, &grad_of(&x, &y, &projection)));
        // ReLU on values of both signs.
        let values = rng.values(planes * h * w);
        let x = Var::from_tensor(&check_util::tensor(values.clone(), &[n, c, h, w])).unwrap();
        let y = x.as_tensor().relu().unwrap();
        let projection = rng.tensor(y.dims());
        let mut out = values.clone();
        pool_grad::relu(&mut out);
        let mut got = flat(&projection);
        pool_grad::relu_backward(&mut got, &out);
        assert_eq!(out, flat(&y));
        worst = worst.max(rel_err(&got, &grad_of(&x, &y, &projection)));
        // 2×2 average pool, on even sides only: candle's backward spreads the gradient back
        // by nearest-neighbour upsampling, which is off for odd sides (the unit tests of
        // `pool_grad` check those against the definition, PyTorch's).
        if h % 2 == 1 || w % 2 == 1 {
            continue;
        }
        let y = x.as_tensor().avg_pool2d(2).unwrap();
        let projection = rng.tensor(y.dims());
        let pooled = pool_grad::avg_pool_2x2(&values, planes, (h, w), |v| v as f32);
        worst = worst.max(rel_err(&pooled, &flat(&y)));
        let got =
            pool_grad::avg_pool_2x2_backward(&flat(&projection), planes, (h, w), |v| v as f32);
        worst = worst.max(rel_err(&got, &grad_of(&x, &y, &projection)));
        assert!(worst < 1e-6, "pool case {case}: {n}×{c}×{h}×{w}: {worst:e}");
    }
    worst
}

/// The Gradient lab's prepared f32 convolutions (`analysis::lab_convs::LabConv`: the fast
/// forward; ∂L/∂x from the same prepared filters read transposed — `Wᵀ · ∂L/∂y` (+ col2im),
/// or for Winograd's 3×3 the forward's transforms transposed at the mirrored points; ∂L/∂W as
/// `∂L/∂y · cols(x)ᵀ` with the patch matrix read transposed) against candle's convolution and its autograd in f64, over
/// random batches, kernels 1/3/7, strides and paddings: the output, and ∂L/∂x and ∂L/∂W of a
/// random projection of the output. Returns the worst relative error.
pub fn lab_conv_cases(cases: usize, seed: u64) -> f32 {
    use candle_core::DType;
    use resnet_lab::analysis::lab_convs::LabConv;
    use resnet_lab::kernels::conv_grad::ConvGeometry;
    use resnet_lab::kernels::gemm_conv::ConvShape;

    let mut rng = Rng::new(seed);
    let mut worst = 0f32;
    for case in 0..cases {
        let k = [3, 1, 3, 7, 1][case % 5];
        let stride = if case % 3 == 2 { 2 } else { 1 };
        let pad = if k == 3 && case % 2 == 0 {
            1
        } else {
            rng.range(0, k / 2 + 1)
        };
        let low = k.saturating_sub(2 * pad).max(1);
        let (n, cin, cout) = (rng.range(1, 4), rng.range(1, 19), rng.range(1, 19));
        // Square inputs: candle's conv2d backward takes the output padding of both sides from
        // the height.
        let h = rng.range(low, low + 13);
        let x = rng.tensor(&[n, cin, h, h]);
        let filters = rng.tensor(&[cout, cin, k, k]);
        let config = Conv2dConfig {
            stride,
            padding: pad,
            ..Default::default()
        };
        let [y, projection, dx_want, dw_want] = candle_conv_grads(&mut rng, &x, &filters, config);
        let (dx_want, dw_want) = (&dx_want, &dw_want);
        let as_f32 = |t: &Tensor| flat(&t.to_dtype(DType::F32).unwrap());

        let shape = ConvShape {
            cout,
            cin,
            k,
            stride,
            pad,
        };
        let conv = LabConv::new(shape, &flat(&filters)).unwrap();
        let g = ConvGeometry::new([n, cin, h, h], [cout, cin, k, k], stride, pad).unwrap();
        let what = format!(
            "lab conv case {case}: [{n}, {cin}, {h}, {h}] * [{cout}, {cin}, {k}, {k}] stride \
             {stride} pad {pad}"
        );
        let y_got = conv.forward(&g, &flat(&x)).unwrap();
        let dx_got = conv.input_grad(&g, &flat(&projection)).unwrap();
        let dw_got = conv.filter_grad(&g, &flat(&x), &flat(&projection)).unwrap();
        for (part, got, want) in [
            ("y", y_got, as_f32(&y)),
            ("∂x", dx_got, as_f32(dx_want)),
            ("∂W", dw_got, as_f32(dw_want)),
        ] {
            assert_eq!(got.len(), want.len(), "{what}: {part} length");
            let err = rel_err(&got, &want);
            assert!(err < 1e-4, "{what}: {part} off by {err:e}");
            worst = worst.max(err);
        }
    }
    worst
}

/// ‖∂L/∂W‖ through Gram matrices (`kernels::filter_grad_norm`, what the lab runs where a batch
/// has few output positions) against the norm of candle's autograd ∂L/∂W in f64, over random
/// batches, kernels 1/3/7, strides and paddings; on every other case the input has passed a
/// ReLU (the zero columns the Gram skips). In f64 and in f32 (accumulated in f64 either way).
/// Returns the worst relative error of the f32 cases.
pub fn filter_grad_norm_cases(cases: usize, seed: u64) -> f64 {
    use candle_core::DType;
    use resnet_lab::kernels::conv_grad::ConvGeometry;
    use resnet_lab::kernels::filter_grad_norm::filter_grad_norm;

    let mut rng = Rng::new(seed);
    let mut worst = 0f64;
    for case in 0..cases {
        let k = [1, 3, 7, 3][case % 4];
        let stride = rng.range(1, 3);
        let pad = rng.range(0, k / 2 + usize::from(k == 1));
        let low = k.saturating_sub(2 * pad).max(1);
        let (n, cin, cout) = (rng.range(1, 4), rng.range(1, 11), rng.range(1, 11));
        let h = rng.range(low, low + 9);
        let x = rng.tensor(&[n, cin, h, h]);
        let x = if case % 2 == 0 { x.relu().unwrap() } else { x };
        let filters = rng.tensor(&[cout, cin, k, k]);
        let config = Conv2dConfig {
            stride,
            padding: pad,
            ..Default::default()
        };
        let [_, projection, _, dw] = candle_conv_grads(&mut rng, &x, &filters, config);
        let dw = dw
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar::<f64>()
            .unwrap()
            .sqrt();
        let f64_of = |t: &Tensor| t.to_dtype(DType::F64).unwrap();
        let g = ConvGeometry::new([n, cin, h, h], [cout, cin, k, k], stride, pad).unwrap();
        let values = |t: &Tensor| f64_of(t).flatten_all().unwrap().to_vec1::<f64>().unwrap();
        let got64 = filter_grad_norm(&g, &values(&x), &values(&projection)).unwrap();
        let got32 = filter_grad_norm(&g, &flat(&x), &flat(&projection)).unwrap();
        let what = format!(
            "Gram ‖∂W‖ case {case}: [{n}, {cin}, {h}, {h}] * [{cout}, {cin}, {k}, {k}] stride \
             {stride} pad {pad}"
        );
        // A zero gradient (every input a ReLU zeroed) must come out as zero.
        let err64 = (got64 - dw).abs() / dw.max(f64::MIN_POSITIVE);
        let err32 = (got32 - dw).abs() / dw.max(f64::MIN_POSITIVE);
        assert!(err64 < 1e-12, "{what}: f64 off by {err64:e}");
        assert!(err32 < 1e-12, "{what}: f32 off by {err32:e}");
        worst = worst.max(err32);
    }
    worst
}

/// Candle's convolution of `x` by `filters` in f64 and its autograd for the loss Σ y ⊙ P, P a
/// random projection: `[y, P, ∂L/∂x, ∂L/∂W]`.
fn candle_conv_grads(
    rng: &mut Rng,
    x: &Tensor,
    filters: &Tensor,
    config: Conv2dConfig,
) -> [Tensor; 4] {
    use candle_core::{DType, Var};
    let f64_of = |t: &Tensor| t.to_dtype(DType::F64).unwrap();
    let xv = Var::from_tensor(&f64_of(x)).unwrap();
    let wv = Var::from_tensor(&f64_of(filters)).unwrap();
    let y = Conv2d::new(wv.as_tensor().clone(), None, config)
        .forward(xv.as_tensor())
        .unwrap();
    let projection = rng.tensor(y.dims());
    let loss = (&y * f64_of(&projection)).unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    let dx = grads.get(xv.as_tensor()).unwrap().clone();
    let dw = grads.get(wv.as_tensor()).unwrap().clone();
    [y, projection, dx, dw]
}
