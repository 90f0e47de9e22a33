//! Global average pooling (`global_avg_pool.wgsl`).

use super::context::GpuContext;
use super::dispatch::{groups_1d, uniform_words, Dispatch};

/// The kernel's parameters (`Params` in `global_avg_pool.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalAvgPoolParams {
    /// Channels.
    pub c: u32,
    /// Pixels per channel.
    pub hw: u32,
}

impl GlobalAvgPoolParams {
    fn words(&self) -> Vec<u32> {
        uniform_words(&[self.c, self.hw])
    }
}

/// The compiled kernel.
pub struct GlobalAvgPoolKernel {
    pipeline: wgpu::ComputePipeline,
}

impl GlobalAvgPoolKernel {
    /// Compiles `global_avg_pool.wgsl`.
    pub fn new(ctx: &GpuContext) -> Self {
        Self {
            pipeline: ctx.pipeline("global_avg_pool", include_str!("global_avg_pool.wgsl")),
        }
    }

    /// Averages each of `channels` maps of `pixels` values in `input` into `out` (`[channels]`).
    pub fn dispatch(
        &self,
        ctx: &GpuContext,
        input: &wgpu::Buffer,
        channels: usize,
        pixels: usize,
        out: &wgpu::Buffer,
    ) -> Dispatch {
        let params = GlobalAvgPoolParams {
            c: channels as u32,
            hw: pixels as u32,
        };
        let uniform = ctx.uniform("global_avg_pool params", &params.words());
        Dispatch {
            pipeline: self.pipeline.clone(),
            bind_group: ctx.bind("global_avg_pool", &self.pipeline, &[&uniform, input, out]),
            groups: groups_1d(channels),
        }
    }
}
