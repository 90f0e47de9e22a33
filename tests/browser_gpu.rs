//! The GPU kernels and the whole GPU network against the CPU in the browser's WebGPU (headless
//! Chromium with `--enable-unsafe-webgpu`: SwiftShader on a machine without a GPU). Skipped
//! loudly when the browser has no adapter; `make test` builds them to fail instead.
#![cfg(all(target_arch = "wasm32", feature = "webgpu"))]

mod gpu_checks;

use gpu_checks::{context_or_skip, conv_cases, network_errors, small_kernel_cases};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn conv_kernel_matches_cpu_over_random_shapes() {
    let Some(ctx) = context_or_skip("browser conv kernel parity").await else {
        return;
    };
    let worst = conv_cases(&ctx, 40, 11).await;
    console_log!(
        "conv on {}: worst relative error {worst:e}",
        ctx.adapter_name
    );
}

#[wasm_bindgen_test]
async fn pooling_linear_and_add_relu_match_cpu() {
    let Some(ctx) = context_or_skip("browser small kernel parity").await else {
        return;
    };
    let worst = small_kernel_cases(&ctx, 20, 12).await;
    console_log!(
        "pool/linear/add_relu on {}: worst {worst:e}",
        ctx.adapter_name
    );
}

#[wasm_bindgen_test]
async fn resnet50_on_webgpu_matches_cpu() {
    let Some(ctx) = context_or_skip("browser ResNet-50 GPU parity").await else {
        return;
    };
    let name = ctx.adapter_name.clone();
    let (logits, stages, residuals) = network_errors(ctx, 64).await;
    console_log!(
        "ResNet-50 64×64 on {name}: logits {logits:e}, stages {stages:e}, residuals {residuals:e}"
    );
    assert!(logits < 1e-3, "logits differ by {logits:e}");
    assert!(stages < 1e-3, "stage outputs differ by {stages:e}");
    assert!(residuals < 1e-3, "block residuals differ by {residuals:e}");
}
