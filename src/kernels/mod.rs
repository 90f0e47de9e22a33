//! Computation on plain slices that knows no network and no tensor: matrix products (our packed
//! kernel for wasm SIMD, the `gemm` crate natively), im2col, Winograd's transforms, and the
//! thread pool of the threaded wasm build. Property-tested against plain references in
//! `tests/kernel_checks` (natively and in the browser).

pub mod batch_norm;
pub mod conv_grad;
pub mod conv_io;
pub mod filter_grad_norm;
pub mod gemm;
pub mod gemm_conv;
pub mod im2col;
pub mod packed_gemm;
pub mod pool_grad;
pub mod scratch;
pub mod thread_pool;
pub mod winograd;
pub mod winograd4;
