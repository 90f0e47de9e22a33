//! The inference network's convolutions in their fastest form: Winograd for stride-1 3×3
//! (F(4×4, 3×3) where its larger filters fit the memory budget), one direct matrix product
//! (after im2col where needed) for every other. Built once per weights
//! load from a (folded) candle convolution; run on its tensors through `crate::kernels`.

use candle_core::{DType, Device, Tensor};
use candle_nn::Conv2d;

use crate::kernels::gemm_conv::{ConvShape, GemmConv};
use crate::kernels::scratch::with_scratch;
use crate::kernels::winograd::Winograd3x3;
use crate::kernels::winograd4::Winograd4x4;
use crate::model::batch_norm::BatchNorm;
use crate::model::conv::PreparedConv;
use crate::model::values::with_values;
use crate::Result;

/// A convolution of the folded network in its fastest available form.
#[derive(Clone, Debug)]
pub enum FastConv {
    /// 3×3, stride 1, padding 1, by F(2×2, 3×3) (it has a backward).
    Winograd(Winograd3x3),
    /// 3×3, stride 1, padding 1, by F(4×4, 3×3): forward only.
    Winograd4(Winograd4x4),
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

/// The geometry of a Winograd layer (3×3, stride 1, padding 1).
fn winograd_shape(cout: usize, cin: usize) -> ConvShape {
    ConvShape {
        cout,
        cin,
        k: 3,
        stride: 1,
        pad: 1,
    }
}

/// The most `C_in·C_out` that the inference network runs by F(4×4, 3×3): its 36 filter matrices
/// hold 20·C_in·C_out values more than F(2,3)'s 16: 4.7 MB over ResNet-50's Stages 2–3 (64 and
/// 128 channels, `tests/engine_memory.rs`) but 100 MB over all stages, past the page's memory
/// budget.
pub const F4_MAX_FILTERS: usize = 128 * 128;

/// The prepared form of a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    Gemm,
    Winograd2,
    Winograd4,
}

impl Form {
    /// The fastest form with a backward: F(2,3) for a 3×3 / stride 1 / padding 1 `shape`.
    fn with_backward(shape: ConvShape) -> Form {
        match is_winograd(shape) {
            true => Form::Winograd2,
            false => Form::Gemm,
        }
    }

    /// The inference network's: F(4,3) instead of F(2,3) for small filter banks.
    fn inference(shape: ConvShape) -> Form {
        match Form::with_backward(shape) {
            Form::Winograd2 if shape.cin * shape.cout <= F4_MAX_FILTERS => Form::Winograd4,
            form => form,
        }
    }
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
            .map(|shape| Self::prepared(conv, shape, Form::inference(shape)))
            .transpose()
    }

    /// The Winograd F(2×2, 3×3) form, or `None` when `conv` is not a 3×3 / stride 1 /
    /// padding 1 one.
    pub fn winograd(conv: &Conv2d) -> Result<Option<Self>> {
        Self::winograd_in(conv, Form::Winograd2)
    }

    /// The Winograd F(4×4, 3×3) form (forward only), or `None` when `conv` is not a 3×3 /
    /// stride 1 / padding 1 one.
    pub fn winograd4(conv: &Conv2d) -> Result<Option<Self>> {
        Self::winograd_in(conv, Form::Winograd4)
    }

    /// `conv` in the Winograd `form`, or `None` when it is not a 3×3 / stride 1 / padding 1 one.
    fn winograd_in(conv: &Conv2d, form: Form) -> Result<Option<Self>> {
        match shape_of(conv)? {
            Some(shape) if is_winograd(shape) => Self::prepared(conv, shape, form).map(Some),
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

    /// The fastest form with a backward of a convolution of geometry `shape` with row-major
    /// `filters` (`[C_out, C_in, k, k]`) and no bias: Winograd F(2×2, 3×3) for 3×3 / stride 1
    /// / padding 1, the matrix product otherwise.
    pub fn new(shape: ConvShape, filters: &[f32]) -> Result<Self> {
        with_scratch([staged_len(shape), 0], |u, _| {
            Self::from_values(shape, filters, None, u, Form::with_backward(shape))
        })
    }

    /// Its geometry.
    pub fn shape(&self) -> ConvShape {
        match self {
            FastConv::Winograd(k) => winograd_shape(k.out_channels(), k.in_channels()),
            FastConv::Winograd4(k) => winograd_shape(k.out_channels(), k.in_channels()),
            FastConv::Gemm(k) => k.shape(),
        }
    }

    /// `conv` (of geometry `shape`) in `form`.
    fn prepared(conv: &Conv2d, shape: ConvShape, form: Form) -> Result<Self> {
        let (filters, bias) = parameters(conv)?;
        Self::from_values(
            shape,
            &filters,
            bias,
            &mut vec![0f32; staged_len(shape)],
            form,
        )
    }

    /// `form` (a Winograd one only for a 3×3 / stride 1 / padding 1 `shape`) from row-major
    /// `filters` and an optional bias; `u` stages Winograd's transform (`C_out·C_in` values, one
    /// transform point at a time; unused otherwise).
    fn from_values(
        shape: ConvShape,
        filters: &[f32],
        bias: Option<Vec<f32>>,
        u: &mut [f32],
        form: Form,
    ) -> Result<Self> {
        let (cout, cin) = (shape.cout, shape.cin);
        Ok(match form {
            Form::Winograd2 => {
                FastConv::Winograd(Winograd3x3::new_in(filters, cout, cin, bias, u)?)
            }
            Form::Winograd4 => {
                FastConv::Winograd4(Winograd4x4::new_in(filters, cout, cin, bias, u)?)
            }
            Form::Gemm => FastConv::Gemm(GemmConv::new(filters, shape, bias)?),
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
                    Self::from_values(shape, filters, Some(bias), u, Form::inference(shape))
                        .map(Some)
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
            FastConv::Winograd4(k) => k.forward(input, dims, relu, &mut out)?,
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
            FastConv::Winograd4(_) => {
                return Err(crate::Error::InvalidArgument(
                    "Winograd F(4,3) has no input gradient: prepare the layer with a backward \
                     (FastConv::new)"
                        .into(),
                ))
            }
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
            FastConv::Winograd4(_) => " (Winograd F(4,3))",
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
        // Inference takes F(4,3) up to F4_MAX_FILTERS, F(2,3) past it; the form with a
        // backward is always F(2,3).
        assert!(matches!(
            FastConv::of(&same).unwrap(),
            Some(FastConv::Winograd4(_))
        ));
        let wide = Conv2d::new(
            zeros((129, 128, 3, 3)),
            None,
            Conv2dConfig {
                padding: 1,
                ..Default::default()
            },
        );
        assert!(matches!(
            FastConv::of(&wide).unwrap(),
            Some(FastConv::Winograd(_))
        ));
        let shape = shape_of(&same).unwrap().unwrap();
        assert!(matches!(
            FastConv::new(shape, &[0.0; 4 * 4 * 9]).unwrap(),
            FastConv::Winograd(_)
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
