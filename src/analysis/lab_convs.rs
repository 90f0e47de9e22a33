//! The Gradient lab's float32 convolutions in the inference network's fast forms, each prepared
//! on its first use where that form pays and kept with the lab's variables for both networks
//! and every later run, where `kernels::conv_grad` multiplies with the `gemm` crate and packs the
//! filters on every call.
//! One prepared copy of each layer's filters serves all three products:
//! - forward: the layer's [`FastConv`] (Winograd for stride-1 3×3, our packed product with
//!   relaxed FMA in wasm otherwise);
//! - ∂L/∂x: `Wᵀ · ∂L/∂y` from the same packed filters read transposed, then col2im where the
//!   layer is not 1×1 / stride 1; for Winograd's layers the convolution of ∂L/∂y by the turned
//!   filters, whose transforms are the forward's, transposed and mirrored;
//! - ∂L/∂W: `∂L/∂y · cols(x)ᵀ` by the same product, ∂L/∂y packed per call and the patch matrix
//!   read transposed (both change with every run).

use std::cell::OnceCell;
use std::collections::BTreeMap;

use candle_nn::Conv2d;

use crate::infer::fast_conv::{is_winograd, shape_of};
use crate::infer::FastConv;
use crate::kernels::conv_grad::ConvGeometry;
use crate::kernels::gemm::matmul_transposed_acc;
use crate::kernels::gemm_conv::ConvShape;
use crate::model::values::with_values;
use crate::model::ResNet;
use crate::Result;

/// One convolution of the lab (no bias, no groups) ready for its forward, ∂L/∂x and ∂L/∂W in
/// f32.
#[derive(Debug)]
pub struct LabConv {
    prepared: FastConv,
}

impl LabConv {
    /// Prepares the convolution of geometry `shape` with row-major `filters`
    /// (`[C_out, C_in, k, k]`).
    pub fn new(shape: ConvShape, filters: &[f32]) -> Result<Self> {
        Ok(Self {
            prepared: FastConv::new(shape, filters)?,
        })
    }

    /// Its geometry.
    pub fn shape(&self) -> ConvShape {
        self.prepared.shape()
    }

    /// Whether the prepared forward beats `conv_grad`'s for a batch of `positions` output
    /// positions in all. Below 16 a product is bound by reading the filters, and Winograd's
    /// read 16/9 as many (in Chromium at one thread, Stage 5 at 64×64, 2×2 positions: 3.2 ms
    /// against 1.0 for a 512-channel 3×3; at 4×4 already 0.65 against 0.79).
    pub fn forward_pays(positions: usize) -> bool {
        positions >= 16
    }

    /// Whether the prepared ∂L/∂x of a convolution of geometry `shape` beats `conv_grad`'s for
    /// `positions` output positions in all: from 49 for Winograd's layers (9.4 against 12.3 ms
    /// for a 512-channel 3×3 at 7×7), from 64 for the others, where the transposed filters are
    /// gathered once per block of the product and fewer columns share the cost (a 2048→512 1×1
    /// at 7×7: 6.3 against 5.8 ms; at 8×8 the prepared one wins).
    pub fn input_grad_pays(shape: ConvShape, positions: usize) -> bool {
        positions >= if is_winograd(shape) { 49 } else { 64 }
    }

    /// The convolution of the batch `x` (`[N, C_in, H, W]` as `g` says): `[N, C_out, H_out, W_out]`.
    pub fn forward(&self, g: &ConvGeometry, x: &[f32]) -> Result<Vec<f32>> {
        self.prepared
            .forward_values(x, [g.n, g.cin, g.h, g.w], false)
    }

    /// ∂L/∂W (`[C_out, C_in, k, k]`) from the convolution's input `x` and `dy` = ∂L/∂y:
    /// `Σₙ ∂L/∂yₙ · cols(xₙ)ᵀ`, the patch matrix read transposed as the product packs it.
    pub fn filter_grad(&self, g: &ConvGeometry, x: &[f32], dy: &[f32]) -> Result<Vec<f32>> {
        g.check(
            "filter gradient",
            [
                (x.len(), g.n * g.input_len()),
                (dy.len(), g.n * g.output_len()),
            ],
        )?;
        let (p, depth, out_len) = (g.positions(), g.depth(), g.output_len());
        let mut dw = vec![0f32; g.cout * depth];
        g.for_each_patch_matrix(x, |i, cols| {
            let dy = &dy[i * out_len..(i + 1) * out_len];
            matmul_transposed_acc(g.cout, depth, p, dy, cols, &mut dw);
        });
        Ok(dw)
    }

    /// ∂L/∂x (`[N, C_in, H, W]`) from `dy` = ∂L/∂y (`[N, C_out, H_out, W_out]`).
    pub fn input_grad(&self, g: &ConvGeometry, dy: &[f32]) -> Result<Vec<f32>> {
        self.prepared
            .input_grad_values(dy, [g.n, g.cout, g.ho, g.wo], (g.h, g.w))
    }
}

/// Every convolution of a lab network in f32, by its torchvision weight name, each prepared on
/// its first use where the prepared kernels pay: at 64×64 Stage 5 (2×2 positions) never is, which
/// spares its filters' second copy (most of the prepared forms' memory).
#[derive(Debug)]
pub struct LabConvs {
    convs: BTreeMap<String, (ConvShape, OnceCell<LabConv>)>,
}

impl LabConvs {
    /// The convolutions of `model` (built on f32 weights), none prepared yet.
    pub fn new(model: &ResNet) -> Result<Self> {
        let mut convs = BTreeMap::new();
        let mut add = |name: String, conv: &Conv2d| -> Result<()> {
            if let Some(shape) = shape_of(conv)?.filter(|_| conv.bias().is_none()) {
                convs.insert(name, (shape, OnceCell::new()));
            }
            Ok(())
        };
        add("conv1.weight".into(), &model.stem.conv1)?;
        for block in model.stages.iter().flatten() {
            let name = block.id.torch_name();
            add(format!("{name}.conv1.weight"), &block.conv1)?;
            add(format!("{name}.conv2.weight"), &block.conv2)?;
            add(format!("{name}.conv3.weight"), &block.conv3)?;
            if let Some(d) = &block.downsample {
                add(format!("{name}.downsample.0.weight"), &d.conv)?;
            }
        }
        Ok(Self { convs })
    }

    /// The convolution named `name` (`conv`, of geometry `shape`) in its prepared form: prepared
    /// now when it was not yet and its forward or ∂L/∂x pays at `positions` output positions in
    /// all; `None` when it does not pay or `shape` is not the one recorded.
    pub fn get(
        &self,
        name: &str,
        conv: &Conv2d,
        shape: ConvShape,
        positions: usize,
    ) -> Result<Option<&LabConv>> {
        let Some((_, cell)) = self.convs.get(name).filter(|(s, _)| *s == shape) else {
            return Ok(None);
        };
        if cell.get().is_none()
            && (LabConv::forward_pays(positions) || LabConv::input_grad_pays(shape, positions))
        {
            let prepared = with_values(conv.weight(), |filters: &[f32]| {
                LabConv::new(shape, filters)
            })?;
            // Empty (checked above, and nothing else runs between): the set cannot fail.
            let _ = cell.set(prepared);
        }
        Ok(cell.get())
    }
}
