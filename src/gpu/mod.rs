//! The WebGPU path: the same ResNet-50 inference forward as the CPU, as WGSL compute kernels run
//! through wgpu (the browser's WebGPU in wasm, Vulkan natively).
//!
//! One `.wgsl` file and one small wrapper per kernel; [`resnet::GpuResNet`] uploads the folded
//! weights once and records one plan of launches per input size.

pub mod add_relu;
pub mod context;
pub mod conv;
pub mod dispatch;
pub mod global_avg_pool;
pub mod linear;
pub mod max_pool;
pub mod resnet;

pub use context::GpuContext;
pub use resnet::{GpuForward, GpuResNet, Readback};
