//! `max(a + b, 0)` for blocks whose residual F(x) the page wants to see (`add_relu.wgsl`).

use super::context::GpuContext;
use super::dispatch::{groups_1d, uniform_words, Dispatch};

/// The kernel's parameters (`Params` in `add_relu.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddReluParams {
    /// Values.
    pub len: u32,
}

impl AddReluParams {
    fn words(&self) -> Vec<u32> {
        uniform_words(&[self.len])
    }
}

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
        let params = AddReluParams { len: len as u32 };
        let uniform = ctx.uniform("add_relu params", &params.words());
        Dispatch {
            pipeline: self.pipeline.clone(),
            bind_group: ctx.bind("add_relu", &self.pipeline, &[&uniform, a, b, out]),
            groups: groups_1d(len),
        }
    }
}
