//! The inference network's kernels against plain references in the browser: wasm SIMD, and
//! again with relaxed SIMD's fused multiply-add (`make test` builds this test both ways).
#![cfg(target_arch = "wasm32")]

mod kernel_checks;

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn winograd_matches_direct_convolution_over_random_shapes() {
    let worst = kernel_checks::winograd_cases(40, 43);
    console_log!("winograd in wasm: worst relative error {worst:e}");
}

#[wasm_bindgen_test]
fn winograd_f4_matches_direct_convolution_over_random_shapes() {
    let worst = kernel_checks::winograd4_cases(40, 43);
    console_log!("winograd F(4,3) in wasm: worst relative error {worst:e}");
}

#[wasm_bindgen_test]
fn gemm_conv_matches_candle_over_kernels_strides_and_paddings() {
    let worst = kernel_checks::gemm_conv_cases(40, 8);
    console_log!("gemm conv in wasm: worst relative error {worst:e}");
}

#[wasm_bindgen_test]
fn packed_gemm_matches_the_textbook_product_across_blocks() {
    let worst = kernel_checks::packed_gemm_cases(12, 10);
    console_log!(
        "packed gemm in wasm (relaxed SIMD: {}): worst relative error {worst:e}",
        cfg!(target_feature = "relaxed-simd")
    );
}

#[wasm_bindgen_test]
fn batch_norm_in_training_mode_matches_autograd_over_random_shapes() {
    let worst = kernel_checks::batch_norm_cases(24, 12);
    console_log!("batch norm (train) in wasm: worst relative error in f32 {worst:e}");
}

#[wasm_bindgen_test]
fn differentiable_conv_matches_candle_autograd_over_kernels_strides_and_paddings() {
    let worst = kernel_checks::conv_grad_cases(32, 14);
    console_log!("differentiable conv in wasm: worst relative error in f32 {worst:e}");
}

#[wasm_bindgen_test]
fn pooling_and_relu_backward_match_candle_autograd_over_random_shapes() {
    let worst = kernel_checks::pool_grad_cases(24, 16);
    console_log!("pooling and ReLU backward in wasm: worst relative error {worst:e}");
}

#[wasm_bindgen_test]
fn filter_gradient_norm_through_gram_matrices_matches_candle_autograd() {
    let worst = kernel_checks::filter_grad_norm_cases(40, 20);
    console_log!("Gram filter-gradient norm in wasm: worst relative error in f32 {worst:e}");
}

#[wasm_bindgen_test]
fn lab_convolutions_forward_and_input_gradient_match_candle_autograd() {
    let worst = kernel_checks::lab_conv_cases(40, 18);
    console_log!("lab convolutions in wasm: worst relative error {worst:e}");
}
