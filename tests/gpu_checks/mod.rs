//! GPU-versus-CPU checks shared by the native test (`tests/gpu_parity.rs`, Vulkan) and the
//! browser test (`tests/browser_gpu.rs`, WebGPU): every kernel against the CPU reference over
//! random shapes, strides and paddings, then the whole network's logits and stage outputs.
#![allow(dead_code)]

#[path = "../check_util/mod.rs"]
mod check_util;

pub use check_util::{flat, rel_err, tensor, Rng};

use candle_core::D;
use resnet_lab::config::ResNetConfig;
use resnet_lab::gpu::add_relu::AddReluKernel;
use resnet_lab::gpu::conv::{ConvKernel, ConvWeights};
use resnet_lab::gpu::global_avg_pool::GlobalAvgPoolKernel;
use resnet_lab::gpu::linear::{LinearKernel, LinearWeights};
use resnet_lab::gpu::max_pool::{pooled_side, MaxPoolKernel};
use resnet_lab::gpu::{GpuContext, GpuResNet, Readback};
use resnet_lab::model::max_pool::max_pool_3x3_s2;
use resnet_lab::model::{LayerId, ResNet, Tap};
use resnet_lab::weights::{Init, InitKind};

/// Says so loudly when there is no adapter; fails instead when `RESNET_LAB_REQUIRE_GPU` is set
/// at build time (as `make test` does), so a missing adapter can never pass silently there.
pub async fn context_or_skip(what: &str) -> Option<GpuContext> {
    match GpuContext::new().await {
        Ok(ctx) => Some(ctx),
        Err(e) => {
            let message = format!("SKIPPED {what}: {e}");
            if option_env!("RESNET_LAB_REQUIRE_GPU").is_some() {
                panic!("{message} (RESNET_LAB_REQUIRE_GPU is set)");
            }
            eprintln!("\n!!!!!!!! {message} !!!!!!!!\n");
            None
        }
    }
}

/// The convolution kernel against candle's conv2d (+ bias, residual, ReLU) on `cases` random
/// shapes; returns the largest relative error.
pub async fn conv_cases(ctx: &GpuContext, cases: usize, seed: u64) -> f32 {
    let kernel = ConvKernel::new(ctx);
    let mut rng = Rng::new(seed);
    let mut worst = 0f32;
    for case in 0..cases {
        let k = [1, 3, 7][rng.range(0, 2)];
        let stride = rng.range(1, 2);
        let pad = rng.range(0, k / 2 + 1);
        let cin = rng.range(1, 24);
        let cout = rng.range(1, 80);
        let side = rng.range(k.saturating_sub(2 * pad).max(1), 20);
        let residual = rng.range(0, 1) == 1;
        let relu = rng.range(0, 1) == 1;
        let x = rng.values(cin * side * side);
        let w = rng.values(cout * cin * k * k);
        let b = rng.values(cout);
        let weights =
            ConvWeights::upload(ctx, "case", &w, &b, [cout, cin, k, k], stride, pad).unwrap();
        let so = weights.out_side(side);
        let r = rng.values(cout * so * so);

        let xt = tensor(x.clone(), &[1, cin, side, side]);
        let wt = tensor(w, &[cout, cin, k, k]);
        let mut want = xt
            .conv2d(&wt, pad, stride, 1, 1)
            .unwrap()
            .broadcast_add(&tensor(b, &[1, cout, 1, 1]))
            .unwrap();
        if residual {
            want = (want + tensor(r.clone(), &[1, cout, so, so])).unwrap();
        }
        if relu {
            want = want.relu().unwrap();
        }

        let input = ctx.upload("x", &x);
        let res = ctx.upload("r", &r);
        let out = ctx.scratch("out", cout * so * so);
        let d = kernel.dispatch(
            ctx,
            &weights,
            &input,
            side,
            residual.then_some(&res),
            relu,
            &out,
        );
        ctx.submit(&[d]);
        let got = ctx.read(&[(&out, cout * so * so)]).await.unwrap();
        let err = rel_err(&got[0], &flat(&want));
        assert!(
            err < 1e-4,
            "conv case {case}: cin {cin} cout {cout} side {side} k {k} stride {stride} pad {pad} \
             residual {residual} relu {relu}: error {err:e}"
        );
        worst = worst.max(err);
    }
    worst
}

/// Max pooling, global average pooling, the linear layer and add+ReLU against the CPU.
pub async fn small_kernel_cases(ctx: &GpuContext, cases: usize, seed: u64) -> f32 {
    let max_pool = MaxPoolKernel::new(ctx);
    let gap = GlobalAvgPoolKernel::new(ctx);
    let linear = LinearKernel::new(ctx);
    let add_relu = AddReluKernel::new(ctx);
    let mut rng = Rng::new(seed);
    let mut worst = 0f32;
    for case in 0..cases {
        let c = rng.range(1, 70);
        let side = rng.range(2, 23);
        let x = rng.values(c * side * side);
        let xt = tensor(x.clone(), &[1, c, side, side]);
        let input = ctx.upload("x", &x);

        let so = pooled_side(side);
        let pooled = ctx.scratch("pooled", c * so * so);
        let avg = ctx.scratch("avg", c);
        let y = rng.values(c * side * side);
        let yb = ctx.upload("y", &y);
        let sum = ctx.scratch("sum", c * side * side);
        let (outs, ins) = (rng.range(1, 130), c);
        let w = rng.values(outs * ins);
        let b = rng.values(outs);
        let fc = LinearWeights::upload(ctx, &w, &b, outs, ins).unwrap();
        let logits = ctx.scratch("logits", outs);
        ctx.submit(&[
            max_pool.dispatch(ctx, &input, c, side, &pooled),
            gap.dispatch(ctx, &input, c, side * side, &avg),
            add_relu.dispatch(ctx, &input, &yb, c * side * side, &sum),
            linear.dispatch(ctx, &fc, &avg, &logits),
        ]);
        let got = ctx
            .read(&[
                (&pooled, c * so * so),
                (&avg, c),
                (&sum, c * side * side),
                (&logits, outs),
            ])
            .await
            .unwrap();

        // The CPU max-pool pads with zeros (exact after a ReLU): compare on non-negative input.
        let relu_x = xt.relu().unwrap();
        let relu_in = ctx.upload("relu x", &flat(&relu_x));
        let pooled_relu = ctx.scratch("pooled relu", c * so * so);
        ctx.submit(&[max_pool.dispatch(ctx, &relu_in, c, side, &pooled_relu)]);
        let got_relu = ctx.read(&[(&pooled_relu, c * so * so)]).await.unwrap();
        let want_pool = flat(&max_pool_3x3_s2(&relu_x).unwrap());
        let want_avg_t = xt.mean(D::Minus1).unwrap().mean(D::Minus1).unwrap();
        let want_avg = flat(&want_avg_t);
        let want_sum = flat(
            &(&xt + tensor(y, &[1, c, side, side]))
                .unwrap()
                .relu()
                .unwrap(),
        );
        // The linear layer on the GPU's own average (tests the layer, not the pool twice).
        let avg_t = tensor(got[1].clone(), &[1, c]);
        let want_logits = flat(
            &avg_t
                .matmul(&tensor(w, &[outs, ins]).t().unwrap())
                .unwrap()
                .broadcast_add(&tensor(b, &[1, outs]))
                .unwrap(),
        );
        // -inf padding (GPU) and zero padding (CPU) agree where every window has a value ≥ 0.
        let errs = [
            ("max_pool", rel_err(&got_relu[0], &want_pool)),
            ("global_avg_pool", rel_err(&got[1], &want_avg)),
            ("add_relu", rel_err(&got[2], &want_sum)),
            ("linear", rel_err(&got[3], &want_logits)),
        ];
        // The pool on signed input: each output is the maximum of its in-bounds window.
        for (i, v) in got[0].iter().enumerate() {
            let (ch, oy, ox) = (i / (so * so), (i / so) % so, i % so);
            let mut best = f32::MIN;
            for dy in 0..3 {
                for dx in 0..3 {
                    let (iy, ix) = ((oy * 2 + dy) as isize - 1, (ox * 2 + dx) as isize - 1);
                    if iy >= 0 && ix >= 0 && (iy as usize) < side && (ix as usize) < side {
                        best = best.max(x[(ch * side + iy as usize) * side + ix as usize]);
                    }
                }
            }
            assert_eq!(*v, best, "max_pool case {case} at {i}");
        }
        for (name, err) in errs {
            assert!(
                err < 1e-5,
                "{name} case {case} (c {c}, side {side}): error {err:e}"
            );
            worst = worst.max(err);
        }
    }
    worst
}

fn config_at(side: usize) -> ResNetConfig {
    ResNetConfig {
        input_size: side,
        ..ResNetConfig::resnet50(1000)
    }
}

/// Relative errors of the whole network on the GPU against the CPU path at `side`×`side`
/// (also after loading other weights): (logits, worst stage output, worst block residual F(x)).
pub async fn network_errors(ctx: GpuContext, side: usize) -> (f32, f32, f32) {
    let config = config_at(side);
    let weights = Init::new(InitKind::He, 0).weights(&config).unwrap();
    let cpu = ResNet::new(config, &weights)
        .unwrap()
        .fold_batch_norm()
        .unwrap();
    let mut gpu = GpuResNet::new(ctx, &cpu).unwrap();
    let input = tensor(Rng::new(7).values(3 * side * side), &[1, 3, side, side]);

    let mut cpu_stages = Vec::new();
    let mut cpu_residuals = Vec::new();
    let cpu_logits = cpu
        .forward_with_taps(&input, &mut |tap| {
            match tap {
                Tap::Output {
                    id: LayerId::Stage(_),
                    value,
                } => cpu_stages.push(flat(value)),
                Tap::Block { parts, .. } => cpu_residuals.push(flat(&parts.residual)),
                _ => {}
            }
            Ok(())
        })
        .unwrap();

    // Fused (logits + stages) and unfused (every block's parts) plans must both agree.
    let fused = gpu.forward(&input, Readback::Stages).await.unwrap();
    let blocks = gpu.forward(&input, Readback::Blocks).await.unwrap();
    let logits = rel_err(&flat(&fused.logits), &flat(&cpu_logits))
        .max(rel_err(&flat(&blocks.logits), &flat(&cpu_logits)));
    assert_eq!(fused.stages.len(), 5);
    let stages = fused
        .stages
        .iter()
        .zip(&cpu_stages)
        .map(|(g, c)| rel_err(&flat(g), c))
        .fold(0f32, f32::max);
    assert_eq!(blocks.blocks.len(), 16);
    let residuals = blocks
        .blocks
        .iter()
        .zip(&cpu_residuals)
        .map(|((_, _, parts), c)| rel_err(&flat(&parts.residual), c))
        .fold(0f32, f32::max);
    // The logits-only plan reuses buffers the most: it must give the same logits.
    let lean = gpu.forward(&input, Readback::Logits).await.unwrap();
    assert_eq!(flat(&lean.logits), flat(&fused.logits));

    // New weights into the same device and kernels (a checkpoint loaded in the page).
    let other = ResNet::new(
        config_at(side),
        &Init::new(InitKind::Xavier, 1)
            .weights(&config_at(side))
            .unwrap(),
    )
    .unwrap()
    .fold_batch_norm()
    .unwrap();
    gpu.load(&other).unwrap();
    let reloaded = gpu.forward(&input, Readback::Logits).await.unwrap();
    let other_cpu = other.forward(&input).unwrap();
    let logits = logits.max(rel_err(&flat(&reloaded.logits), &flat(&other_cpu)));
    (logits, stages, residuals)
}
