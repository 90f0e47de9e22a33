//! The GPU kernels and the whole GPU network against the CPU, natively (wgpu on Vulkan; Mesa's
//! lavapipe where there is no GPU). Skipped loudly when no adapter exists.
#![cfg(all(feature = "webgpu", not(target_arch = "wasm32")))]

mod gpu_checks;

use gpu_checks::{context_or_skip, conv_cases, network_errors, small_kernel_cases};
use resnet_lab::gpu::context::block_on;

#[test]
fn conv_kernel_matches_cpu_over_random_shapes() {
    let Some(ctx) = block_on(context_or_skip("conv kernel parity")) else {
        return;
    };
    let worst = block_on(conv_cases(&ctx, 60, 1));
    eprintln!(
        "conv on {}: worst relative error {worst:e}",
        ctx.adapter_name
    );
}

#[test]
fn pooling_linear_and_add_relu_match_cpu() {
    let Some(ctx) = block_on(context_or_skip("small kernel parity")) else {
        return;
    };
    let worst = block_on(small_kernel_cases(&ctx, 30, 2));
    eprintln!(
        "pool/linear/add_relu on {}: worst {worst:e}",
        ctx.adapter_name
    );
}

#[test]
fn resnet50_on_gpu_matches_cpu() {
    let Some(ctx) = block_on(context_or_skip("ResNet-50 GPU parity")) else {
        return;
    };
    let name = ctx.adapter_name.clone();
    let (logits, stages, residuals) = block_on(network_errors(ctx, 64));
    eprintln!(
        "ResNet-50 64×64 on {name}: logits {logits:e}, stages {stages:e}, residuals {residuals:e}"
    );
    assert!(logits < 1e-3, "logits differ by {logits:e}");
    assert!(stages < 1e-3, "stage outputs differ by {stages:e}");
    assert!(residuals < 1e-3, "block residuals differ by {residuals:e}");
}
