//! The inference network's kernels against plain references, natively (the packed matrix
//! product runs on 4-lane arrays here; natively the network itself uses the gemm crate).

mod kernel_checks;

#[test]
fn winograd_matches_direct_convolution_over_random_shapes() {
    let worst = kernel_checks::winograd_cases(60, 42);
    eprintln!("winograd: worst relative error {worst:e}");
}

#[test]
fn winograd_f4_matches_direct_convolution_over_random_shapes() {
    let worst = kernel_checks::winograd4_cases(60, 42);
    // The same cases as F(2,3) above (same seed): how much its larger transforms add.
    let f2 = kernel_checks::winograd_cases(60, 42);
    eprintln!(
        "winograd F(4,3): worst relative error {worst:e}, {:.1}x F(2,3)'s {f2:e}",
        worst / f2
    );
}

#[test]
fn gemm_conv_matches_candle_over_kernels_strides_and_paddings() {
    let worst = kernel_checks::gemm_conv_cases(60, 7);
    eprintln!("gemm conv: worst relative error {worst:e}");
}

#[test]
fn packed_gemm_matches_the_textbook_product_across_blocks() {
    let worst = kernel_checks::packed_gemm_cases(12, 9);
    eprintln!("packed gemm: worst relative error {worst:e}");
}

#[test]
fn batch_norm_in_training_mode_matches_autograd_over_random_shapes() {
    let worst = kernel_checks::batch_norm_cases(40, 11);
    eprintln!("batch norm (train): worst relative error in f32 {worst:e}");
}

#[test]
fn differentiable_conv_matches_candle_autograd_over_kernels_strides_and_paddings() {
    let worst = kernel_checks::conv_grad_cases(60, 13);
    eprintln!("differentiable conv: worst relative error in f32 {worst:e}");
}

#[test]
fn pooling_and_relu_backward_match_candle_autograd_over_random_shapes() {
    let worst = kernel_checks::pool_grad_cases(40, 15);
    eprintln!("pooling and ReLU backward: worst relative error {worst:e}");
}

#[test]
fn filter_gradient_norm_through_gram_matrices_matches_candle_autograd() {
    let worst = kernel_checks::filter_grad_norm_cases(60, 19);
    eprintln!("Gram filter-gradient norm: worst relative error in f32 {worst:e}");
}

#[test]
fn lab_convolutions_forward_and_input_gradient_match_candle_autograd() {
    let worst = kernel_checks::lab_conv_cases(60, 17);
    eprintln!("lab convolutions: worst relative error {worst:e}");
}
