//! The bottleneck block: the tutorial's identity block, or its convolutional block when it has a
//! projection shortcut.
//!
//! Field names equal torchvision's state-dict keys (`conv1`, `bn1`, `downsample.0`), so a
//! checkpoint maps onto the struct without renaming.

use std::sync::Arc;

use candle_core::Tensor;
use candle_nn::Conv2d;
use serde::{Deserialize, Serialize};

use super::batch_norm::BatchNorm;
use super::conv::{run_conv, PreparedConv};
use super::parameters::{batch_norm, conv};
use super::stem::conv_bn_relu;
use crate::config::{NormMode, Variant, BLOCKS_PER_STAGE};
use crate::weights::Weights;
use crate::Result;

/// The prepared forms of a block's conv1, conv2, conv3 and projection (see [`PreparedConv`]).
pub(crate) type PreparedConvs = [Option<Box<dyn PreparedConv>>; 4];

/// A bottleneck block's place in the network: Stage 2–5 and its index inside the stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlockId {
    /// The tutorial's stage number, 2..=5 (torchvision's `layer1`..`layer4`).
    pub stage: usize,
    /// Index of the block inside its stage, from 0.
    pub index: usize,
}

impl BlockId {
    /// torchvision's module path, e.g. `layer1.0`.
    pub fn torch_name(&self) -> String {
        format!("layer{}.{}", self.stage - 1, self.index)
    }

    /// Position among all 16 blocks in network order.
    pub fn flat_index(&self) -> usize {
        BLOCKS_PER_STAGE[..self.stage - 2].iter().sum::<usize>() + self.index
    }
}

/// The projection shortcut of a convolutional block: conv 1×1 (strided) + batch norm.
#[derive(Clone, Debug)]
pub struct Downsample {
    /// `downsample.0`.
    pub conv: Conv2d,
    /// `downsample.1`.
    pub bn: BatchNorm,
}

/// What one block computed: the pieces of y = ReLU(F(x) + shortcut(x)).
#[derive(Clone, Debug)]
pub struct BlockOutput {
    /// The shortcut path: x itself, or its projection; `None` when the skip is off.
    pub shortcut: Option<Tensor>,
    /// F(x): the residual branch after its last batch norm, before the addition.
    pub residual: Tensor,
    /// The block output: ReLU(F(x) + shortcut) or ReLU(F(x)) without skip.
    pub output: Tensor,
}

/// A bottleneck block: 1×1 reduce, 3×3, 1×1 expand, plus a shortcut.
///
/// With a projection shortcut it is the tutorial's *convolutional block*; otherwise its
/// *identity block*.
#[derive(Clone, Debug)]
pub struct Bottleneck {
    /// Where the block sits.
    pub id: BlockId,
    /// 1×1 reduce (strided in v1 convolutional blocks).
    pub conv1: Conv2d,
    /// Batch norm after `conv1`.
    pub bn1: BatchNorm,
    /// 3×3 (strided in v1.5 convolutional blocks).
    pub conv2: Conv2d,
    /// Batch norm after `conv2`.
    pub bn2: BatchNorm,
    /// 1×1 expand to 4× width.
    pub conv3: Conv2d,
    /// Batch norm after `conv3`.
    pub bn3: BatchNorm,
    /// Projection shortcut (first block of each stage).
    pub downsample: Option<Downsample>,
    /// Fast forms of conv1, conv2, conv3 and the projection, in the folded inference network.
    /// Shared, so cloning the network (`ResNet::with_config`) copies no filters.
    pub(crate) fast: Option<Arc<PreparedConvs>>,
}

impl Bottleneck {
    pub(crate) fn load(weights: &Weights, id: BlockId, variant: Variant) -> Result<Self> {
        let name = id.torch_name();
        let stride = if id.stage > 2 && id.index == 0 { 2 } else { 1 };
        let (s1, s2) = match variant {
            Variant::V1_5 => (1, stride),
            Variant::V1 => (stride, 1),
        };
        let downsample = if id.index == 0 {
            Some(Downsample {
                conv: conv(weights, &format!("{name}.downsample.0"), stride, 0)?,
                bn: batch_norm(weights, &format!("{name}.downsample.1"))?,
            })
        } else {
            None
        };
        Ok(Self {
            id,
            conv1: conv(weights, &format!("{name}.conv1"), s1, 0)?,
            bn1: batch_norm(weights, &format!("{name}.bn1"))?,
            conv2: conv(weights, &format!("{name}.conv2"), s2, 1)?,
            bn2: batch_norm(weights, &format!("{name}.bn2"))?,
            conv3: conv(weights, &format!("{name}.conv3"), 1, 0)?,
            bn3: batch_norm(weights, &format!("{name}.bn3"))?,
            downsample,
            fast: None,
        })
    }

    /// The fast form of conv1 (0), conv2 (1), conv3 (2) or the projection (3), if built.
    pub fn fast_conv(&self, which: usize) -> Option<&dyn PreparedConv> {
        self.fast.as_ref().and_then(|f| f.get(which)?.as_deref())
    }

    /// True for the tutorial's convolutional block (projection shortcut).
    pub fn is_convolutional(&self) -> bool {
        self.downsample.is_some()
    }

    /// Runs the block; `skip` says whether the shortcut is added.
    pub fn forward(&self, x: &Tensor, norm: NormMode, skip: bool) -> Result<BlockOutput> {
        let h = conv_bn_relu(&self.conv1, self.fast_conv(0), &self.bn1, x, norm)?;
        let h = conv_bn_relu(&self.conv2, self.fast_conv(1), &self.bn2, &h, norm)?;
        let h = run_conv(&self.conv3, self.fast_conv(2), &h)?;
        let residual = self.bn3.forward(&h, norm)?;
        if !skip {
            let output = residual.relu()?;
            return Ok(BlockOutput {
                shortcut: None,
                residual,
                output,
            });
        }
        let shortcut = match &self.downsample {
            Some(d) => {
                d.bn.forward(&run_conv(&d.conv, self.fast_conv(3), x)?, norm)?
            }
            None => x.clone(),
        };
        let output = (&residual + &shortcut)?.relu()?;
        Ok(BlockOutput {
            shortcut: Some(shortcut),
            residual,
            output,
        })
    }
}
