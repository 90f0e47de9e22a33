//! The stem's 3×3 / stride 2 / padding 1 max pooling (`max_pool.wgsl`).

use super::context::GpuContext;
use super::dispatch::{groups_1d, uniform_words, Dispatch};

/// The kernel's parameters (`Params` in `max_pool.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPoolParams {
    /// Channels.
    pub c: u32,
    /// Input height.
    pub h: u32,
    /// Input width.
    pub w: u32,
    /// Output height.
    pub ho: u32,
    /// Output width.
    pub wo: u32,
}

impl MaxPoolParams {
    fn words(&self) -> Vec<u32> {
        uniform_words(&[self.c, self.h, self.w, self.ho, self.wo])
    }
}

/// Output side of the pool for an input side.
pub fn pooled_side(side: usize) -> usize {
    (side + 2 - 3) / 2 + 1
}

/// The compiled kernel.
pub struct MaxPoolKernel {
    pipeline: wgpu::ComputePipeline,
}

impl MaxPoolKernel {
    /// Compiles `max_pool.wgsl`.
    pub fn new(ctx: &GpuContext) -> Self {
        Self {
            pipeline: ctx.pipeline("max_pool", include_str!("max_pool.wgsl")),
        }
    }

    /// Pools `input` (`[channels, side, side]`) into `out`.
    pub fn dispatch(
        &self,
        ctx: &GpuContext,
        input: &wgpu::Buffer,
        channels: usize,
        side: usize,
        out: &wgpu::Buffer,
    ) -> Dispatch {
        let so = pooled_side(side);
        let params = MaxPoolParams {
            c: channels as u32,
            h: side as u32,
            w: side as u32,
            ho: so as u32,
            wo: so as u32,
        };
        let uniform = ctx.uniform("max_pool params", &params.words());
        Dispatch {
            pipeline: self.pipeline.clone(),
            bind_group: ctx.bind("max_pool", &self.pipeline, &[&uniform, input, out]),
            groups: groups_1d(channels * so * so),
        }
    }
}
