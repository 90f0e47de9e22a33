//! The inference convolution kernels against candle's plain convolution, natively.

mod kernel_checks;

#[test]
fn winograd_matches_direct_convolution_over_random_shapes() {
    let worst = kernel_checks::winograd_cases(60, 42);
    eprintln!("winograd: worst relative error {worst:e}");
}

#[test]
fn gemm_conv_matches_candle_over_kernels_strides_and_paddings() {
    let worst = kernel_checks::gemm_conv_cases(60, 7);
    eprintln!("gemm conv: worst relative error {worst:e}");
}
