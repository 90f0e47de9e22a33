//! The folded inference network, prepared once per weights load: batch norm folded into the
//! convolutions, each convolution in its fastest form on `crate::kernels`, and the per-layer
//! profile of a forward pass.

pub mod fast_conv;
pub mod fold;
pub mod profile;

pub use fast_conv::FastConv;
