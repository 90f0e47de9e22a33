//! The inference network's convolutions in their fastest form: Winograd for stride-1 3×3, one
//! direct matrix product (after im2col where needed) for every other. Built once per weights
//! load from a (folded) candle convolution; run on its tensors through `crate::kernels`.

use candle_core::{DType, Device, Tensor};
use candle_nn::Conv2d;

use crate::kernels::gemm_conv::{ConvShape, GemmConv};
use crate::kernels::scratch::with_scratch;
use crate::kernels::winograd::Winograd3x3;
use crate::model::batch_norm::BatchNorm;
use crate::model::conv::PreparedConv;
use crate::model::values::with_values;
use crate::Result;

/// A convolution of the folded network in its fastest available form.
#[derive(Clone, Debug)]
pub enum FastConv {
    /// 3×3, stride 1, padding 1.
    Winograd(Winograd3x3),
    /// Any other: 1×1 straight into the product, others through im2col.
    Gemm(GemmConv),
}

/// The geometry of `conv`, or `None` when it has no fast form (grouped, dilated, non-square).
pub fn shape_of(conv: &Conv2d) -> Result<Option<ConvShape>> {
    let cfg = conv.config();
    let (cout, cin, kh, kw) = conv.weight().dims4()?;
    Ok(
        (kh == kw && cfg.groups == 1 && cfg.dilation == 1).then_some(ConvShape {
            cout,
            cin,
            k: kh,
            stride: cfg.stride,
            pad: cfg.padding,
        }),
    )
}

/// True for the 3×3 / stride 1 / padding 1 convolutions that Winograd's F(2×2, 3×3) takes.
pub fn is_winograd(shape: ConvShape) -> bool {
    (shape.k, shape.stride, shape.pad) == (3, 1, 1)
}

/// The values Winograd's filter transform stages for `shape`, one transform point at a time
/// (none for a matrix product).
fn staged_len(shape: ConvShape) -> usize {
    if is_winograd(shape) {
        shape.cout * shape.cin
    } else {
        0
    }
}

/// The filters and bias of `conv` as plain values.
fn parameters(conv: &Conv2d) -> Result<(Vec<f32>, Option<Vec<f32>>)> {
    let filters = conv.weight().flatten_all()?.to_vec1::<f32>()?;
    let bias = match conv.bias() {
        Some(b) => Some(b.to_vec1::<f32>()?),
        None => None,
    };
    Ok((filters, bias))
}

impl FastConv {
    /// The fast form of `conv`, if it has one.
    pub fn of(conv: &Conv2d) -> Result<Option<Self>> {
        shape_of(conv)?
            .map(|shape| Self::gemm_or_winograd(conv, shape))
            .transpose()
    }

    /// The Winograd form, or `None` when `conv` is not a 3×3 / stride 1 / padding 1 one.
    pub fn winograd(conv: &Conv2d) -> Result<Option<Self>> {
        match shape_of(conv)? {
            Some(shape) if is_winograd(shape) => Self::gemm_or_winograd(conv, shape).map(Some),
            _ => Ok(None),
        }
    }

    /// The matrix-product form, or `None` for grouped, dilated or non-square kernels.
    pub fn gemm(conv: &Conv2d) -> Result<Option<Self>> {
        let Some(shape) = shape_of(conv)? else {
            return Ok(None);
        };
        let (filters, bias) = parameters(conv)?;
        Ok(Some(FastConv::Gemm(GemmConv::new(&filters, shape, bias)?)))
    }

    /// The fastest form of a convolution of geometry `shape` with row-major `filters`
    /// (`[C_out, C_in, k, k]`) and no bias: Winograd for 3×3 / stride 1 / padding 1, the
    /// matrix product otherwise.
    pub fn new(shape: ConvShape, filters: &[f32]) -> Result<Self> {
        with_scratch([staged_len(shape), 0], |u, _| {
            Self::from_values(shape, filters, None, u)
        })
    }

    /// Its geometry.
    pub fn shape(&self) -> ConvShape {
        match self {
            FastConv::Winograd(k) => ConvShape {
                cout: k.out_channels(),
                cin: k.in_channels(),
                k: 3,
                stride: 1,
                pad: 1,
            },
            FastConv::Gemm(k) => k.shape(),
        }
    }

    /// The Winograd form for a 3×3 / stride 1 / padding 1 `shape`, else the matrix product.
    fn gemm_or_winograd(conv: &Conv2d, shape: ConvShape) -> Result<Self> {
        let (filters, bias) = parameters(conv)?;
        Self::from_values(shape, &filters, bias, &mut vec![0f32; staged_len(shape)])
    }

    /// The form `shape` calls for, from row-major `filters` and an optional bias; `u` stages
    /// Winograd's transform (`C_out·C_in` values, one transform point at a time; unused otherwise).
    fn from_values(
        shape: ConvShape,
        filters: &[f32],
        bias: Option<Vec<f32>>,
        u: &mut [f32],
    ) -> Result<Self> {
        Ok(if is_winograd(shape) {
            FastConv::Winograd(Winograd3x3::new_in(
                filters, shape.cout, shape.cin, bias, u,
            )?)
        } else {
            FastConv::Gemm(GemmConv::new(filters, shape, bias)?)
        })
    }

    /// The fast form of `conv` followed by the eval-mode batch norm `bn`, folded on the fly:
    /// filters `w·γ/√(σ²+ε)`, bias `β − μ·γ/√(σ²+ε)` ([`BatchNorm::scale_and_shift`], as
    /// [`BatchNorm::fold_into`]), straight from the checkpoint's values into reused scratch
    /// buffers, so that only the prepared (packed) form is allocated for good. `None` when the
    /// convolution has no fast form (or a bias of its own).
    pub fn folded(conv: &Conv2d, bn: &BatchNorm) -> Result<Option<Self>> {
        let Some(shape) = shape_of(conv)?.filter(|_| conv.bias().is_none()) else {
            return Ok(None);
        };
        let values = |t: Tensor| t.to_dtype(DType::F32)?.to_vec1::<f32>();
        let (scale, shift) = bn.scale_and_shift()?;
        let (scale, bias) = (values(scale)?, values(shift)?);
        let per_filter = shape.cin * shape.k * shape.k;
        with_values(conv.weight(), |raw: &[f32]| {
            with_scratch(
                [shape.cout * per_filter, staged_len(shape)],
                |filters, u| {
                    for (o, (dst, src)) in filters
                        .chunks_exact_mut(per_filter)
                        .zip(raw.chunks_exact(per_filter))
                        .enumerate()
                    {
                        for (d, w) in dst.iter_mut().zip(src) {
                            *d = w * scale[o];
                        }
                    }
                    Self::from_values(shape, filters, Some(bias), u).map(Some)
                },
            )
        })
    }

    /// Output channels and side for an `h`×`w` input.
    pub fn output_dims(&self, h: usize, w: usize) -> Result<(usize, usize, usize)> {
        let shape = self.shape();
        let (ho, wo) = shape.output_size(h, w)?;
        Ok((shape.cout, ho, wo))
    }

    /// Runs it on `x` (`[N, C_in, H, W]`), followed by a ReLU when `relu` is set (applied as
    /// each output is written).
    pub fn forward(&self, x: &Tensor, relu: bool) -> Result<Tensor> {
        let (n, c, h, w) = x.dims4()?;
        let (cout, ho, wo) = self.output_dims(h, w)?;
        let out = with_values(x, |input: &[f32]| {
            self.forward_values(input, [n, c, h, w], relu)
        })?;
        Ok(Tensor::from_vec(out, (n, cout, ho, wo), &Device::Cpu)?)
    }

    /// [`FastConv::forward`] on plain values: `input` is `[N, C_in, H, W]` as `dims` says; the
    /// result `[N, C_out, H_out, W_out]`.
    pub fn forward_values(&self, input: &[f32], dims: [usize; 4], relu: bool) -> Result<Vec<f32>> {
        let (cout, ho, wo) = self.output_dims(dims[2], dims[3])?;
        let mut out = vec![0f32; dims[0] * cout * ho * wo];
        match self {
            FastConv::Winograd(k) => k.forward(input, dims, relu, &mut out)?,
            FastConv::Gemm(k) => k.forward(input, dims, relu, &mut out)?,
        }
        Ok(out)
    }

    /// ∂L/∂x (`[N, C_in, H, W]`) from `dy` = ∂L/∂y (`[N, C_out, H_out, W_out]` as `dims` says)
    /// for an `h`×`w` input, by the same prepared filters read transposed (a bias has no part
    /// in it).
    pub fn input_grad_values(
        &self,
        dy: &[f32],
        dims: [usize; 4],
        (h, w): (usize, usize),
    ) -> Result<Vec<f32>> {
        let mut dx = vec![0f32; dims[0] * self.shape().cin * h * w];
        match self {
            FastConv::Winograd(k) => k.input_grad(dy, dims, &mut dx)?,
            FastConv::Gemm(k) => k.input_grad(dy, dims[0], (h, w), &mut dx)?,
        }
        Ok(dx)
    }
}

impl PreparedConv for FastConv {
    fn forward(&self, x: &Tensor, relu: bool) -> Result<Tensor> {
        FastConv::forward(self, x, relu)
    }

    fn label(&self) -> &'static str {
        match self {
            FastConv::Winograd(_) => " (Winograd F(2,3))",
            FastConv::Gemm(_) => " (GEMM)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_nn::Conv2dConfig;

    // Property tests against candle's convolution: tests/kernel_checks (native and browser).

    fn zeros(shape: (usize, usize, usize, usize)) -> Tensor {
        Tensor::zeros(shape, candle_core::DType::F32, &Device::Cpu).unwrap()
    }

    #[test]
    fn only_3x3_stride_1_padding_1_is_winograd() {
        let strided = Conv2d::new(
            zeros((4, 4, 3, 3)),
            None,
            Conv2dConfig {
                padding: 1,
                stride: 2,
                ..Default::default()
            },
        );
        assert!(FastConv::winograd(&strided).unwrap().is_none());
        assert!(matches!(
            FastConv::of(&strided).unwrap(),
            Some(FastConv::Gemm(_))
        ));
        let one = Conv2d::new(zeros((4, 4, 1, 1)), None, Default::default());
        assert!(FastConv::winograd(&one).unwrap().is_none());
        let same = Conv2d::new(
            zeros((4, 4, 3, 3)),
            None,
            Conv2dConfig {
                padding: 1,
                ..Default::default()
            },
        );
        assert!(matches!(
            FastConv::of(&same).unwrap(),
            Some(FastConv::Winograd(_))
        ));
    }

    #[test]
    fn grouped_convolutions_have_no_fast_form() {
        let cfg = Conv2dConfig {
            groups: 2,
            ..Default::default()
        };
        assert!(FastConv::of(&Conv2d::new(zeros((4, 2, 3, 3)), None, cfg))
            .unwrap()
            .is_none());
    }
}
