//! Convolution as one differentiable candle op over (x, W), computed by
//! `crate::kernels::conv_grad` (a matrix product per image, forward and backward): the model's
//! convolutions on the CPU, where candle's generic convolution runs a direct loop for ∂L/∂x
//! and C_in matrix–vector products for ∂L/∂W. (The Gradient lab runs the same kernels without
//! a graph, in `crate::analysis::network_pass`.)

use candle_core::{CpuStorage, CustomOp2, DType, Layout, Shape, Tensor, WithDType};

use super::values::{stored, with_values};
use crate::kernels::conv_grad::{self, ConvGeometry, Real};

/// Convolution (no bias, groups or dilation) with this stride and zero padding.
pub(crate) struct Convolution {
    pub stride: usize,
    pub pad: usize,
}

fn op_error(e: impl std::fmt::Display) -> candle_core::Error {
    candle_core::Error::Msg(format!("convolution: {e}"))
}

fn dims4(shape: &Shape) -> candle_core::Result<[usize; 4]> {
    match shape.dims() {
        &[a, b, c, d] => Ok([a, b, c, d]),
        other => Err(op_error(format!("expected 4 dimensions, got {other:?}"))),
    }
}

impl Convolution {
    fn geometry(&self, x: &Shape, w: &Shape) -> candle_core::Result<ConvGeometry> {
        ConvGeometry::new(dims4(x)?, dims4(w)?, self.stride, self.pad).map_err(op_error)
    }

    fn forward_as<T: Real + WithDType>(
        &self,
        (s1, l1): (&CpuStorage, &Layout),
        (s2, l2): (&CpuStorage, &Layout),
    ) -> candle_core::Result<(Vec<T>, Shape)> {
        let g = self.geometry(l1.shape(), l2.shape())?;
        let y =
            conv_grad::forward(&g, stored::<T>(s1, l1)?, stored::<T>(s2, l2)?).map_err(op_error)?;
        Ok((y, Shape::from((g.n, g.cout, g.ho, g.wo))))
    }

    /// ∂L/∂x and ∂L/∂W.
    fn backward_as<T: Real + WithDType>(
        &self,
        x: &Tensor,
        w: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Tensor, Option<Tensor>)> {
        let g = self.geometry(x.shape(), w.shape())?;
        let grad = grad.contiguous()?;
        let (dx, dw) = with_values::<T, _, candle_core::Error>(&grad, |dy| {
            let dx = with_values(w, |ws| conv_grad::input_grad(&g, ws, dy).map_err(op_error))?;
            let dw = with_values(x, |xs| conv_grad::filter_grad(&g, xs, dy).map_err(op_error))?;
            Ok((dx, dw))
        })?;
        let dx = Tensor::from_vec(dx, x.shape(), x.device())?;
        Ok((dx, Some(Tensor::from_vec(dw, w.shape(), w.device())?)))
    }
}

impl CustomOp2 for Convolution {
    fn name(&self) -> &'static str {
        "conv2d-gemm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        match (s1, s2) {
            (CpuStorage::F32(_), CpuStorage::F32(_)) => {
                let (y, shape) = self.forward_as::<f32>((s1, l1), (s2, l2))?;
                Ok((CpuStorage::F32(y), shape))
            }
            (CpuStorage::F64(_), CpuStorage::F64(_)) => {
                let (y, shape) = self.forward_as::<f64>((s1, l1), (s2, l2))?;
                Ok((CpuStorage::F64(y), shape))
            }
            _ => Err(op_error("input and filters must both be f32 or both f64")),
        }
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let (dx, dw) = match x.dtype() {
            DType::F32 => self.backward_as::<f32>(x, w, grad)?,
            DType::F64 => self.backward_as::<f64>(x, w, grad)?,
            _ => return Err(op_error("the data must be f32 or f64")),
        };
        Ok((Some(dx), dw))
    }
}
