//! The façade the CLI and the web worker both call. Knows nothing of transport.

use std::cell::RefCell;
use std::rc::Rc;

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

pub use crate::analysis::cam::{CamJob, CamOptions, CamResult};
pub use crate::analysis::explore::{Exploration, ExploreJob, Prediction};
use crate::analysis::features::{StageMaps, StageStats};
use crate::analysis::gradients::{GradientFlow, GradientJob, LabVariables, Precision};
use crate::config::{NormMode, ResNetConfig, Skips, Variant};
use crate::imagenet::top_k;
use crate::infer::fold::{InferenceBuild, Prepare};
use crate::job::{Progress, Step};
use crate::model::{ForwardPass, LayerId, ResNet, Tap};
use crate::weights::{load::load_safetensors, ByteSource, Init, Weights, WeightsInfo};
use crate::{Error, Result};

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

/// The model's weights plus everything that runs on them.
pub struct Engine {
    weights: Weights,
    /// The standard network (v1.5, all skips) with batch norm folded, built once per weights load
    /// in its lean form (each weight resident once, in its prepared form).
    inference: ResNet,
    /// The last Gradient lab run's variables, for the next run on the same weights (made only
    /// when a run asks; dropped before other ones are made).
    lab_variables: RefCell<Option<Rc<LabVariables>>>,
}

/// The engine being built part by part from its weights (see [`Engine::start`]).
pub struct EngineBuild {
    weights: Weights,
    build: InferenceBuild,
}

impl EngineBuild {
    /// What the weights are.
    pub fn info(&self) -> &WeightsInfo {
        &self.weights.info
    }

    /// True once every part is built.
    pub fn is_done(&self) -> bool {
        self.build.is_done()
    }

    /// Builds the next part of the network.
    pub fn step(&mut self) -> Result<()> {
        self.build.step()
    }

    /// The engine (every part left built first).
    pub fn finish(self) -> Result<Engine> {
        Ok(Engine {
            inference: self.build.finish()?,
            weights: self.weights,
            lab_variables: RefCell::new(None),
        })
    }
}

impl Engine {
    /// An engine on seeded, untrained weights for 1000 classes, generated part by part as the
    /// network is built and generated again when something needs them raw (the lab).
    pub fn with_init(init: Init) -> Result<Self> {
        Self::with_weights(Weights::seeded(init, &ResNetConfig::resnet50(1000)))
    }

    /// An engine on already loaded weights (checked against ResNet-50).
    pub fn with_weights(weights: Weights) -> Result<Self> {
        Self::start(weights)?.finish()
    }

    /// Starts building an engine on `weights` (every name and shape checked now), one part of
    /// the network per [`EngineBuild::step`]: each part's weights are read, folded and prepared
    /// before the next part's are read, so that weights read or generated when asked for
    /// ([`Weights::stored`], [`Weights::seeded`]) never sit in memory whole beside the
    /// prepared ones.
    pub fn start(weights: Weights) -> Result<EngineBuild> {
        let config = ResNetConfig::resnet50(weights.classes()?);
        let build = InferenceBuild::new(config, &weights, Prepare::Lean)?;
        Ok(EngineBuild { weights, build })
    }

    /// An engine on a safetensors checkpoint (ResNet-50 with 1000 classes).
    pub fn from_safetensors(bytes: &[u8], source: &str) -> Result<Self> {
        Self::with_weights(Self::checked_weights(bytes, source)?)
    }

    /// The weights of a safetensors checkpoint, checked against ResNet-50 (every name, shape
    /// and dtype, finite values) without building anything: a caller that replaces an engine
    /// checks first, drops the old engine and the file's bytes, then builds
    /// ([`Engine::with_weights`]), so that two engines never live at once.
    pub fn checked_weights(bytes: &[u8], source: &str) -> Result<Weights> {
        Self::checked(load_safetensors(bytes, source)?)
    }

    /// The weights of the safetensors file in `bytes`, checked as [`Engine::checked_weights`]
    /// checks them, but read one tensor at a time and kept where they are: the engine then
    /// holds the prepared network, and reads a raw tensor again when something needs it.
    pub fn checked_stored(bytes: Rc<dyn ByteSource>, source: &str) -> Result<Weights> {
        let weights = Self::checked(Weights::stored(bytes, source)?)?;
        weights.check_values()?;
        Ok(weights)
    }

    fn checked(weights: Weights) -> Result<Weights> {
        let classes = weights.classes().map_err(|_| Error::MissingTensor {
            name: "fc.weight".into(),
            expected: vec![1000, 2048],
        })?;
        weights.check_against(&ResNetConfig::resnet50(classes))?;
        Ok(weights)
    }

    /// Replaces the weights with a safetensors checkpoint; on any error the old weights stay.
    pub fn load_weights(&mut self, bytes: &[u8], source: &str) -> Result<WeightsInfo> {
        *self = Self::from_safetensors(bytes, source)?;
        Ok(self.weights.info.clone())
    }

    /// The standard network (v1.5, all skips) as the CPU runs it: folded, lean.
    pub fn inference(&self) -> &ResNet {
        &self.inference
    }

    /// The standard network folded for the GPU to upload, from the same weights: built when
    /// asked and dropped after the upload, so that the CPU's network stays lean.
    pub fn gpu_network(&self) -> Result<ResNet> {
        let config = ResNetConfig::resnet50(self.inference.config.classes);
        ResNet::inference_from(config, &self.weights, Prepare::Folded)
    }

    /// The current weights.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// The folded inference network for `options` and an input tensor: the cached one for v1.5
    /// (with or without skips), otherwise built part by part now.
    fn inference_for(&self, input: &Tensor, options: &PredictOptions) -> Result<ResNet> {
        let config = self.config_for(
            input,
            options.variant,
            options.skips.clone(),
            NormMode::Eval,
        )?;
        // Skips change only how blocks add up, not a single weight: the cached network serves.
        if options.variant == Variant::V1_5 {
            self.inference.with_config(config)
        } else {
            ResNet::inference_from(config, &self.weights, Prepare::Lean)
        }
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
            ..ResNetConfig::resnet50(self.inference.config.classes)
        })
    }

    /// Classifies a normalized `[N, 3, S, S]` input, reporting each stage as it finishes.
    pub fn predict(
        &self,
        input: &Tensor,
        options: &PredictOptions,
        progress: &mut dyn FnMut(Progress) -> Result<()>,
    ) -> Result<Prediction> {
        let model = self.inference_for(input, options)?;
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

    /// The output of block `block` (0..16, network order) as 8-bit channel maps, for the page's
    /// "channels of this block" view. Stops the forward pass right after that block.
    pub fn block_maps(
        &self,
        input: &Tensor,
        options: &PredictOptions,
        block: usize,
    ) -> Result<StageMaps> {
        let model = self.inference_for(input, options)?;
        let mut found = None;
        let run = model.forward_with_taps(input, &mut |tap| {
            if let Tap::Block { id, parts, .. } = tap {
                if id.flat_index() == block {
                    found = Some(StageMaps::of(&id.torch_name(), &parts.output)?);
                    return Err(Error::Cancelled);
                }
            }
            Ok(())
        });
        match (found, run) {
            (Some(maps), _) => Ok(maps),
            (None, Err(e)) => Err(e),
            (None, Ok(_)) => Err(Error::InvalidArgument(format!(
                "no block {block} (there are 16)"
            ))),
        }
    }

    /// Starts an Explore run on a normalized `[1, 3, S, S]` input.
    pub fn start_explore(&self, input: &Tensor, options: &PredictOptions) -> Result<ExploreJob> {
        let model = self.inference_for(input, options)?;
        Ok(ExploreJob::new(
            ForwardPass::new(model, input.clone()),
            options.top_k,
        ))
    }

    /// Starts the class activation maps of a normalized `[1, 3, S, S]` input (see [`CamJob`]):
    /// the forward on the folded network, the backward on the raw weights of the blocks after
    /// the mapped stage, read one block at a time.
    pub fn start_cam(
        &self,
        input: &Tensor,
        variant: Variant,
        options: CamOptions,
    ) -> Result<CamJob> {
        let predict = PredictOptions {
            variant,
            ..PredictOptions::default()
        };
        let model = self.inference_for(input, &predict)?;
        CamJob::new(model, self.weights.clone(), input, options)
    }

    /// Gradient flow with and without skips (target default: the residual network's top-1,
    /// from the logits of its own pass).
    pub fn gradient_flow(
        &self,
        input: &Tensor,
        options: &GradientOptions,
        progress: &mut dyn FnMut(Progress) -> Result<()>,
    ) -> Result<GradientFlow> {
        self.start_gradient_flow(input, options, None)?
            .finish(progress)
    }

    /// Starts a two-step gradient-flow run (see [`GradientJob`]) on the current weights, or on
    /// freshly initialized ones when `init` is given (the lab's presets).
    pub fn start_gradient_flow(
        &self,
        input: &Tensor,
        options: &GradientOptions,
        init: Option<Init>,
    ) -> Result<GradientJob> {
        let config = self.config_for(input, options.variant, Skips::All, options.norm)?;
        GradientJob::new(
            self.lab_variables(init, options.precision, &config)?,
            &config,
            input,
            options.target,
        )
    }

    /// The variables of a lab run on `init` (or the weights in use): the last run's when they
    /// are the same, else made now, after the last run's are dropped.
    fn lab_variables(
        &self,
        init: Option<Init>,
        precision: Precision,
        config: &ResNetConfig,
    ) -> Result<Rc<LabVariables>> {
        let mut cached = self.lab_variables.borrow_mut();
        if let Some(v) = cached.as_ref() {
            if v.source == init && v.precision == precision {
                return Ok(v.clone());
            }
        }
        *cached = None;
        let made = Rc::new(match init {
            // Generated tensor by tensor as the variables are made: never resident.
            Some(init) => LabVariables::new(&Weights::seeded(init, config), Some(init), precision)?,
            None => LabVariables::new(&self.weights, None, precision)?,
        });
        *cached = Some(made.clone());
        Ok(made)
    }
}
