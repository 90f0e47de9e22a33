//! The fully connected classifier (`linear.wgsl`).

use super::context::GpuContext;
use super::dispatch::{groups_1d, uniform_words, Dispatch};
use crate::Result;

/// The kernel's parameters (`Params` in `linear.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinearParams {
    /// Input features.
    pub inputs: u32,
    /// Output features.
    pub outputs: u32,
}

impl LinearParams {
    fn words(&self) -> Vec<u32> {
        uniform_words(&[self.inputs, self.outputs])
    }
}

/// A linear layer's weights on the GPU.
pub struct LinearWeights {
    /// Input features.
    pub inputs: usize,
    /// Output features.
    pub outputs: usize,
    weight: wgpu::Buffer,
    bias: wgpu::Buffer,
}

impl LinearWeights {
    /// Uploads `weight` (`[outputs, inputs]`) and `bias` (`[outputs]`).
    pub fn upload(
        ctx: &GpuContext,
        weight: &[f32],
        bias: &[f32],
        outputs: usize,
        inputs: usize,
    ) -> Result<Self> {
        if weight.len() != outputs * inputs || bias.len() != outputs {
            return Err(crate::Error::InvalidArgument(format!(
                "linear: weight of {} values for [{outputs}, {inputs}], bias {}",
                weight.len(),
                bias.len()
            )));
        }
        Ok(Self {
            inputs,
            outputs,
            weight: ctx.upload("fc.weight", weight),
            bias: ctx.upload("fc.bias", bias),
        })
    }
}

/// The compiled kernel.
pub struct LinearKernel {
    pipeline: wgpu::ComputePipeline,
}

impl LinearKernel {
    /// Compiles `linear.wgsl`.
    pub fn new(ctx: &GpuContext) -> Self {
        Self {
            pipeline: ctx.pipeline("linear", include_str!("linear.wgsl")),
        }
    }

    /// `out = weight · input + bias`.
    pub fn dispatch(
        &self,
        ctx: &GpuContext,
        weights: &LinearWeights,
        input: &wgpu::Buffer,
        out: &wgpu::Buffer,
    ) -> Dispatch {
        let params = LinearParams {
            inputs: weights.inputs as u32,
            outputs: weights.outputs as u32,
        };
        let uniform = ctx.uniform("linear params", &params.words());
        Dispatch {
            pipeline: self.pipeline.clone(),
            bind_group: ctx.bind(
                "linear",
                &self.pipeline,
                &[&uniform, input, &weights.weight, &weights.bias, out],
            ),
            groups: groups_1d(weights.outputs),
        }
    }
}
