//! The whole network: stem, four stages of bottlenecks, pooling head and classifier.

use candle_core::{Tensor, D};
use candle_nn::{Linear, Module};
use serde::{Deserialize, Serialize};

use super::bottleneck::{BlockId, BlockOutput, Bottleneck};
use super::build::NetworkBuild;
use super::forward_pass::FORWARD_STEPS;
use super::stem::Stem;
use crate::config::{Head, NormMode, ResNetConfig};
use crate::weights::Weights;
use crate::Result;

/// A point in the network the visualizer can look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LayerId {
    /// Output of stage 1..=5 (Stage 1 is the stem, after its max-pool).
    Stage(usize),
    /// One bottleneck block.
    Block(BlockId),
    /// The pooled, flattened features entering the classifier.
    Pool,
    /// The classifier's logits.
    Logits,
}

impl LayerId {
    /// Short stable name: `stage1`…`stage5`, `layer1.0`…, `pool`, `logits`.
    pub fn name(&self) -> String {
        match self {
            LayerId::Stage(s) => format!("stage{s}"),
            LayerId::Block(b) => b.torch_name(),
            LayerId::Pool => "pool".into(),
            LayerId::Logits => "logits".into(),
        }
    }
}

/// An intermediate result handed to the caller of [`ResNet::forward_with_taps`].
#[derive(Debug)]
pub enum Tap<'a> {
    /// A stage output, a pooled feature vector or the logits.
    Output {
        /// Which one.
        id: LayerId,
        /// Its value.
        value: &'a Tensor,
    },
    /// What a bottleneck block did.
    Block {
        /// Which block.
        id: BlockId,
        /// Its input x.
        input: &'a Tensor,
        /// The pieces of its output.
        parts: &'a BlockOutput,
    },
}

/// ResNet-50 with typed parts; weights are candle tensors (or variables, for gradients).
#[derive(Clone, Debug)]
pub struct ResNet {
    /// What was built.
    pub config: ResNetConfig,
    /// Stage 1.
    pub stem: Stem,
    /// Stages 2–5, each a list of bottleneck blocks.
    pub stages: Vec<Vec<Bottleneck>>,
    /// The classifier (`fc`).
    pub fc: Linear,
    /// True when batch norm is folded into the convolutions (eval-mode inference only).
    pub(crate) folded: bool,
    /// True when the convolutions that have a prepared form keep only their shape (their
    /// values live in the prepared form alone; see `crate::infer`).
    pub(crate) lean: bool,
}

impl ResNet {
    /// Builds the network from weights in canonical (torchvision) naming.
    pub fn new(config: ResNetConfig, weights: &Weights) -> Result<Self> {
        NetworkBuild::new(config, weights, Box::new(Ok))?.finish()
    }

    /// The same weights under another configuration (skips, batch-norm mode, input size).
    pub fn with_config(&self, config: ResNetConfig) -> Result<Self> {
        config.validate()?;
        if self.folded && config.norm != NormMode::Eval {
            return Err(crate::Error::InvalidArgument(
                "a network with folded batch norm only runs in eval mode".into(),
            ));
        }
        Ok(Self {
            config,
            ..self.clone()
        })
    }

    /// True when batch norm is folded into the convolutions.
    pub fn is_folded(&self) -> bool {
        self.folded
    }

    /// True when the convolutions with a prepared form keep only their shape (the network
    /// runs, but its candle convolutions hold no values to read).
    pub fn is_lean(&self) -> bool {
        self.lean
    }

    /// All 16 blocks in network order.
    pub fn blocks(&self) -> impl Iterator<Item = &Bottleneck> {
        self.stages.iter().flatten()
    }

    /// Logits `[N, classes]` for a normalized input `[N, 3, H, W]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_with_taps(x, &mut |_| Ok(()))
    }

    /// Like [`forward`](Self::forward), reporting every stage output and what each block did.
    pub fn forward_with_taps(
        &self,
        x: &Tensor,
        on_tap: &mut dyn FnMut(Tap<'_>) -> Result<()>,
    ) -> Result<Tensor> {
        self.forward_with_hooks(x, on_tap, &mut |_, t| Ok(t))
    }

    /// The forward pass with two hooks: `on_tap` observes, `rewrite` may replace the stem
    /// output and each block output before the network goes on (used to probe gradients).
    pub(crate) fn forward_with_hooks(
        &self,
        x: &Tensor,
        on_tap: &mut dyn FnMut(Tap<'_>) -> Result<()>,
        rewrite: &mut dyn FnMut(LayerId, Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let mut h = self.run_step(0, x, on_tap, rewrite)?;
        for step in 1..FORWARD_STEPS {
            h = self.run_step(step, &h, on_tap, rewrite)?;
        }
        Ok(h)
    }

    /// One of the [`FORWARD_STEPS`] pieces of the forward pass: 0 = Stage 1 (stem),
    /// 1..=4 = Stages 2–5, 5 = pooling and classifier (returns the logits).
    pub(crate) fn run_step(
        &self,
        step: usize,
        h: &Tensor,
        on_tap: &mut dyn FnMut(Tap<'_>) -> Result<()>,
        rewrite: &mut dyn FnMut(LayerId, Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let norm = if self.folded {
            NormMode::Off
        } else {
            self.config.norm
        };
        match step {
            0 => {
                let stem = self.stem.forward(h, norm)?;
                let out = rewrite(LayerId::Stage(1), stem)?;
                on_tap(Tap::Output {
                    id: LayerId::Stage(1),
                    value: &out,
                })?;
                Ok(out)
            }
            s @ 1..=4 => {
                let mut h = h.clone();
                for block in &self.stages[s - 1] {
                    let skip = self.config.skips.enabled(block.id.flat_index());
                    let mut parts = block.forward(&h, norm, skip)?;
                    parts.output = rewrite(LayerId::Block(block.id), parts.output)?;
                    on_tap(Tap::Block {
                        id: block.id,
                        input: &h,
                        parts: &parts,
                    })?;
                    h = parts.output;
                }
                on_tap(Tap::Output {
                    id: LayerId::Stage(s + 1),
                    value: &h,
                })?;
                Ok(h)
            }
            _ => {
                let pooled = match self.config.head {
                    Head::GlobalAvgPool => h.mean(D::Minus1)?.mean(D::Minus1)?,
                    Head::AvgPool2x2Flatten => h.avg_pool2d(2)?.flatten_from(1)?,
                };
                on_tap(Tap::Output {
                    id: LayerId::Pool,
                    value: &pooled,
                })?;
                let logits = self.fc.forward(&pooled)?;
                on_tap(Tap::Output {
                    id: LayerId::Logits,
                    value: &logits,
                })?;
                Ok(logits)
            }
        }
    }
}
