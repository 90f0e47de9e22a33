//! The inference network's convolutions: Winograd for stride-1 3×3, one direct matrix product
//! (after im2col where needed) for every other.

use candle_core::Tensor;
use candle_nn::Conv2d;

use super::gemm_conv::GemmConv;
use super::layers::conv_forward;
use super::winograd::Winograd3x3;
use crate::Result;

/// A convolution of the folded network in its fastest available form.
#[derive(Clone, Debug)]
pub enum FastConv {
    /// 3×3, stride 1, padding 1.
    Winograd(Winograd3x3),
    /// Any other: 1×1 straight into the product, others through im2col.
    Gemm(GemmConv),
}

impl FastConv {
    /// The fast form of `conv`, if it has one.
    pub fn of(conv: &Conv2d) -> Result<Option<Self>> {
        if let Some(w) = Winograd3x3::of(conv)? {
            return Ok(Some(FastConv::Winograd(w)));
        }
        Ok(GemmConv::of(conv)?.map(FastConv::Gemm))
    }

    /// Runs it, followed by a ReLU when `relu` is set (applied as each output is written).
    pub fn forward(&self, x: &Tensor, relu: bool) -> Result<Tensor> {
        match self {
            FastConv::Winograd(w) => w.forward(x, relu),
            FastConv::Gemm(g) => g.forward(x, relu),
        }
    }

    /// How the profile names it.
    pub fn label(&self) -> &'static str {
        match self {
            FastConv::Winograd(_) => " (Winograd F(2,3))",
            FastConv::Gemm(_) => " (GEMM)",
        }
    }
}

/// `fast` when there is one, else `conv` through candle.
pub fn run(conv: &Conv2d, fast: Option<&FastConv>, x: &Tensor) -> Result<Tensor> {
    match fast {
        Some(f) => f.forward(x, false),
        None => conv_forward(conv, x),
    }
}
