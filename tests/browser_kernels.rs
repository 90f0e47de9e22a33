//! The inference convolution kernels against candle's plain convolution in the browser (wasm
//! simd128: the gemm crate's wasm kernels and our Winograd transforms).
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
fn gemm_conv_matches_candle_over_kernels_strides_and_paddings() {
    let worst = kernel_checks::gemm_conv_cases(40, 8);
    console_log!("gemm conv in wasm: worst relative error {worst:e}");
}
