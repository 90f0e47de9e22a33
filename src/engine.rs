//! The façade the CLI and the web worker both call. Knows nothing of transport.

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use crate::analysis::features::StageStats;
use crate::analysis::gradients::{gradient_flow, GradientFlow, Precision};
use crate::imagenet::{top_k, Ranked};
use crate::model::{LayerId, NormMode, ResNet, ResNetConfig, Skips, Tap, Variant};
use crate::weights::{load::load_safetensors, Init, Weights, WeightsInfo};
use crate::{Error, Result};

/// Which of the two networks a gradient step belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Network {
    /// With skip connections (the residual network).
    Skip,
    /// Without skip connections (the plain network).
    Plain,
}

/// What a long job has just finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// Stage 1..=5 of a forward pass.
    Stage(usize),
    /// The forward pass of one network (gradient flow).
    Forward(Network),
    /// The backward pass of one network (gradient flow).
    Backward(Network),
}

/// A progress report: `done` of `total` steps, the last being `step`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The step just finished.
    pub step: Step,
    /// Steps finished so far.
    pub done: usize,
    /// Steps in the job.
    pub total: usize,
}

impl Progress {
    /// A report for `step`, `done` of `total`.
    pub fn new(step: Step, done: usize, total: usize) -> Self {
        Self { step, done, total }
    }
}

/// Options of a prediction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PredictOptions {
    /// Stride placement.
    pub variant: Variant,
    /// Shortcuts on or off.
    pub skips: Skips,
    /// How many classes to rank.
    pub top_k: usize,
}

impl Default for PredictOptions {
    fn default() -> Self {
        Self {
            variant: Variant::V1_5,
            skips: Skips::All,
            top_k: 5,
        }
    }
}

/// Options of a gradient-flow run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradientOptions {
    /// Stride placement.
    pub variant: Variant,
    /// Batch-norm mode.
    pub norm: NormMode,
    /// Target class; `None` picks the residual network's own top-1.
    pub target: Option<usize>,
    /// f32 or f64 arithmetic.
    pub precision: Precision,
}

/// What a prediction returns: logits, ranking and per-stage statistics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// `[N][classes]` logits.
    pub logits: Vec<Vec<f32>>,
    /// Top-k of the first image.
    pub top: Vec<Ranked>,
    /// Statistics of Stage 1–5 outputs and the pooled features.
    pub stages: Vec<StageStats>,
}

/// The model's weights plus everything that runs on them.
pub struct Engine {
    weights: Weights,
}

impl Engine {
    /// An engine on seeded, untrained weights for 1000 classes.
    pub fn with_init(init: Init) -> Result<Self> {
        Ok(Self {
            weights: init.weights(&ResNetConfig::resnet50(1000))?,
        })
    }

    /// An engine on already loaded weights (checked against ResNet-50).
    pub fn with_weights(weights: Weights) -> Result<Self> {
        ResNetConfig::resnet50(weights.classes()?).validate()?;
        weights.check_against(&ResNetConfig::resnet50(weights.classes()?))?;
        Ok(Self { weights })
    }

    /// Replaces the weights with a safetensors checkpoint; on any error the old weights stay.
    pub fn load_weights(&mut self, bytes: &[u8], source: &str) -> Result<WeightsInfo> {
        let weights = load_safetensors(bytes, source)?;
        let classes = weights.classes().map_err(|_| Error::MissingTensor {
            name: "fc.weight".into(),
            expected: vec![1000, 2048],
        })?;
        weights.check_against(&ResNetConfig::resnet50(classes))?;
        self.weights = weights;
        Ok(self.weights.info.clone())
    }

    /// The current weights.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// The inference configuration for an input tensor.
    fn config_for(
        &self,
        input: &Tensor,
        variant: Variant,
        skips: Skips,
        norm: NormMode,
    ) -> Result<ResNetConfig> {
        let (_, c, h, w) = input.dims4()?;
        if c != 3 || h != w {
            return Err(Error::InvalidArgument(format!(
                "input must be [N, 3, S, S], got {:?}",
                input.dims()
            )));
        }
        Ok(ResNetConfig {
            variant,
            input_size: h,
            skips,
            norm,
            ..ResNetConfig::resnet50(self.weights.classes()?)
        })
    }

    /// Classifies a normalized `[N, 3, S, S]` input, reporting each stage as it finishes.
    pub fn predict(
        &self,
        input: &Tensor,
        options: &PredictOptions,
        progress: &mut dyn FnMut(Progress) -> Result<()>,
    ) -> Result<Prediction> {
        let config = self.config_for(
            input,
            options.variant,
            options.skips.clone(),
            NormMode::Eval,
        )?;
        let model = ResNet::new(config, &self.weights)?;
        let mut stages = Vec::with_capacity(6);
        let logits = model.forward_with_taps(input, &mut |tap| {
            if let Tap::Output { id, value } = tap {
                match id {
                    LayerId::Stage(s) => {
                        stages.push(StageStats::of(&id.name(), value)?);
                        progress(Progress::new(Step::Stage(s), s, 5))?;
                    }
                    LayerId::Pool => stages.push(StageStats::of("pool", value)?),
                    _ => {}
                }
            }
            Ok(())
        })?;
        let logits = logits.to_vec2::<f32>()?;
        let top = logits
            .first()
            .map(|l| top_k(l, options.top_k))
            .unwrap_or_default();
        Ok(Prediction {
            logits,
            top,
            stages,
        })
    }

    /// Gradient flow with and without skips (target default: the residual network's top-1).
    pub fn gradient_flow(
        &self,
        input: &Tensor,
        options: &GradientOptions,
        progress: &mut dyn FnMut(Progress) -> Result<()>,
    ) -> Result<GradientFlow> {
        let config = self.config_for(input, options.variant, Skips::All, options.norm)?;
        let target = match options.target {
            Some(t) => t,
            None => {
                let logits = ResNet::new(config.clone(), &self.weights)?
                    .forward(input)?
                    .to_vec2::<f32>()?;
                logits
                    .first()
                    .and_then(|l| top_k(l, 1).first().map(|r| r.class))
                    .unwrap_or(0)
            }
        };
        gradient_flow(
            &self.weights,
            &config,
            input,
            target,
            options.precision,
            progress,
        )
    }
}
