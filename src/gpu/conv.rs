//! Convolution with folded batch norm, bias, residual add and ReLU (`conv.wgsl`).

use super::context::GpuContext;
use super::dispatch::{uniform_words, Dispatch};
use crate::Result;

/// The kernel's parameters (`Params` in `conv.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvParams {
    /// Input channels.
    pub cin: u32,
    /// Input height.
    pub h: u32,
    /// Input width.
    pub w: u32,
    /// Output channels.
    pub cout: u32,
    /// Output height.
    pub ho: u32,
    /// Output width.
    pub wo: u32,
    /// Kernel height.
    pub kh: u32,
    /// Kernel width.
    pub kw: u32,
    /// Stride (both axes).
    pub stride: u32,
    /// Zero padding (both axes).
    pub pad: u32,
    /// Apply ReLU.
    pub relu: bool,
    /// Add the residual buffer before the ReLU.
    pub residual: bool,
}

impl ConvParams {
    fn words(&self) -> Vec<u32> {
        uniform_words(&[
            self.cin,
            self.h,
            self.w,
            self.cout,
            self.ho,
            self.wo,
            self.kh,
            self.kw,
            self.stride,
            self.pad,
            self.relu as u32,
            self.residual as u32,
        ])
    }
}

/// A convolution's weights on the GPU: `[cin·kh·kw, cout]` (transposed for coalesced reads) and
/// the bias (folded batch norm).
pub struct ConvWeights {
    /// Output channels.
    pub cout: usize,
    /// Input channels.
    pub cin: usize,
    /// Kernel side.
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Padding.
    pub pad: usize,
    weight_t: wgpu::Buffer,
    bias: wgpu::Buffer,
}

impl ConvWeights {
    /// Uploads `weight` (`[cout, cin, k, k]`, row-major) and `bias` (`[cout]`).
    #[allow(clippy::too_many_arguments)]
    pub fn upload(
        ctx: &GpuContext,
        label: &str,
        weight: &[f32],
        bias: &[f32],
        shape: [usize; 4],
        stride: usize,
        pad: usize,
    ) -> Result<Self> {
        let [cout, cin, kh, kw] = shape;
        // Dense convolutions only (the caller checks groups and dilation: see `upload_conv`).
        if kh != kw || weight.len() != cout * cin * kh * kw || bias.len() != cout {
            return Err(crate::Error::InvalidArgument(format!(
                "{label}: weight {shape:?} with {} values, bias {}",
                weight.len(),
                bias.len()
            )));
        }
        let k_total = cin * kh * kw;
        let mut t = vec![0f32; weight.len()];
        for m in 0..cout {
            for k in 0..k_total {
                t[k * cout + m] = weight[m * k_total + k];
            }
        }
        Ok(Self {
            cout,
            cin,
            k: kh,
            stride,
            pad,
            weight_t: ctx.upload(label, &t),
            bias: ctx.upload(label, bias),
        })
    }

    /// Output side for an input side.
    pub fn out_side(&self, side: usize) -> usize {
        (side + 2 * self.pad - self.k) / self.stride + 1
    }
}

/// The compiled kernel.
pub struct ConvKernel {
    pipeline: wgpu::ComputePipeline,
    no_residual: wgpu::Buffer,
}

impl ConvKernel {
    /// Compiles `conv.wgsl`.
    pub fn new(ctx: &GpuContext) -> Self {
        Self {
            pipeline: ctx.pipeline("conv", include_str!("conv.wgsl")),
            no_residual: ctx.upload("no residual", &[0.0]),
        }
    }

    /// A launch of `weights` on `input` (`[cin, side, side]`) writing `out`
    /// (`[cout, out_side, out_side]`), adding `residual` (same shape as `out`) when given.
    #[allow(clippy::too_many_arguments)]
    pub fn dispatch(
        &self,
        ctx: &GpuContext,
        weights: &ConvWeights,
        input: &wgpu::Buffer,
        side: usize,
        residual: Option<&wgpu::Buffer>,
        relu: bool,
        out: &wgpu::Buffer,
    ) -> Dispatch {
        let so = weights.out_side(side);
        let params = ConvParams {
            cin: weights.cin as u32,
            h: side as u32,
            w: side as u32,
            cout: weights.cout as u32,
            ho: so as u32,
            wo: so as u32,
            kh: weights.k as u32,
            kw: weights.k as u32,
            stride: weights.stride as u32,
            pad: weights.pad as u32,
            relu,
            residual: residual.is_some(),
        };
        let uniform = ctx.uniform("conv params", &params.words());
        let bind_group = ctx.bind(
            "conv",
            &self.pipeline,
            &[
                &uniform,
                input,
                &weights.weight_t,
                &weights.bias,
                residual.unwrap_or(&self.no_residual),
                out,
            ],
        );
        Dispatch {
            pipeline: self.pipeline.clone(),
            bind_group,
            groups: (
                (so * so).div_ceil(64) as u32,
                weights.cout.div_ceil(64) as u32,
            ),
        }
    }
}
