//! `max(a + b, 0)` for blocks whose residual F(x) the page wants to see (`add_relu.wgsl`).

use super::context::GpuContext;
use super::dispatch::{groups_1d, uniform_words, Dispatch};

/// The compiled kernel.
pub struct AddReluKernel {
    pipeline: wgpu::ComputePipeline,
}

impl AddReluKernel {
    /// Compiles `add_relu.wgsl`.
    pub fn new(ctx: &GpuContext) -> Self {
        Self {
            pipeline: ctx.pipeline("add_relu", include_str!("add_relu.wgsl")),
        }
    }

    /// `out[i] = max(a[i] + b[i], 0)` for `len` values.
    pub fn dispatch(
        &self,
        ctx: &GpuContext,
        a: &wgpu::Buffer,
        b: &wgpu::Buffer,
        len: usize,
        out: &wgpu::Buffer,
    ) -> Dispatch {
        let uniform = ctx.uniform("add_relu params", &uniform_words(&[len as u32]));
        Dispatch {
            pipeline: self.pipeline.clone(),
            bind_group: ctx.bind("add_relu", &self.pipeline, &[&uniform, a, b, out]),
            groups: groups_1d(len),
        }
    }
}
