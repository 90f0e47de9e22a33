//! Gradient flow: per-layer ‖∂L/∂W‖ and per-block ‖∂L/∂x‖, with and without skip connections,
//! on the same weights, each network's forward and backward run by [`super::network_pass`].

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use candle_core::{DType, Tensor, WithDType};

/// Steps of a gradient run: each network's [`PASS_STEPS`], the residual network first.
pub const GRADIENT_STEPS: usize = 2 * PASS_STEPS;
use serde::{Deserialize, Serialize};

use super::lab_convs::LabConvs;
use super::network_pass::{self, Pass, PassResult, PASS_STEPS};
use crate::config::{NormMode, ResNetConfig, Skips, Variant};
use crate::job::{Network, Progress, Step};
use crate::model::values::{sum_of_squares, with_values};
use crate::model::ResNet;
use crate::weights::{spec::weight_layer_names, Init, Weights};
use crate::{Error, Result};

/// One weight layer's gradient norms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerGradient {
    /// torchvision parameter name, e.g. `layer1.0.conv2.weight`.
    pub name: String,
    /// ‖∂L/∂W‖₂ in the residual network.
    pub skip: f64,
    /// ‖∂L/∂W‖₂ without shortcuts; `None` for projection shortcuts (unused there).
    pub plain: Option<f64>,
    /// ‖W‖₂, for relative norms.
    pub weight_norm: f64,
}

/// ‖∂L/∂x‖₂ at one activation (a block output or the stem output).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivationGradient {
    /// `stem` or the block's torchvision path, e.g. `layer3.5`.
    pub name: String,
    /// In the residual network.
    pub skip: f64,
    /// Without shortcuts.
    pub plain: f64,
}

/// Cross-entropy loss of both networks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Losses {
    /// With skips.
    pub skip: f64,
    /// Without skips.
    pub plain: f64,
}

/// A one-line numeric summary of one network's gradients.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkSummary {
    /// log₁₀(largest / smallest) layer gradient norm.
    pub span_decades: f64,
    /// ‖∂L/∂W‖ of the first convolution over that of the last convolution.
    pub first_over_last: f64,
    /// log₁₀ of ‖∂L/∂x‖ at the stem output over ‖∂L/∂x‖ at the last block output: how many
    /// decades the backward signal gains (positive) or loses (negative) on its way down.
    pub activation_decades: f64,
}

/// Both summaries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summaries {
    /// With skips.
    pub skip: NetworkSummary,
    /// Without skips.
    pub plain: NetworkSummary,
}

/// The full result of a gradient-flow run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradientFlow {
    /// Target class of the first image's cross-entropy loss.
    pub target: usize,
    /// Each image's target class.
    pub targets: Vec<usize>,
    /// Images in the batch (the loss is their mean, batch norm's statistics are over all).
    pub batch: usize,
    /// Batch-norm mode used.
    pub norm: NormMode,
    /// Input side in pixels.
    pub input_size: usize,
    /// Arithmetic precision.
    pub precision: Precision,
    /// Losses.
    pub loss: Losses,
    /// Every convolution weight and `fc.weight`, in network order.
    pub layers: Vec<LayerGradient>,
    /// ‖∂L/∂x‖ at the stem output (Stage 1).
    pub stem: ActivationGradient,
    /// ‖∂L/∂x‖ at each of the 16 block outputs.
    pub blocks: Vec<ActivationGradient>,
    /// Per-network summaries.
    pub summary: Summaries,
}

/// ‖t‖₂, summed in f64 straight from the tensor's values (no converted copy).
fn l2(t: &Tensor) -> Result<f64> {
    fn sum_sq<T: WithDType>(t: &Tensor) -> Result<f64> {
        with_values(t, |v: &[T]| Ok::<_, Error>(sum_of_squares(v)))
    }
    Ok(match t.dtype() {
        DType::F32 => sum_sq::<f32>(t)?,
        _ => sum_sq::<f64>(&t.to_dtype(DType::F64)?)?,
    }
    .sqrt())
}

/// The weights a gradient run differentiates, in its precision: made once and
/// kept by the engine for the next run on the same weights (a fresh init is generated, and any
/// weights converted, only when they change).
pub struct LabVariables {
    /// What the values are: a fresh init, or `None` for the engine's own weights.
    pub source: Option<Init>,
    /// The precision they are in.
    pub precision: Precision,
    /// The values in `precision` (for the network).
    weights: Weights,
    /// ‖W‖₂ of each variable, summed once for every run on them.
    norms: BTreeMap<String, f64>,
    /// In f32, the convolutions prepared for the fast kernels (for the variant they were
    /// prepared for): made by the first run, shared by both networks and every later run.
    convs: RefCell<Option<(Variant, Rc<LabConvs>)>>,
}

impl LabVariables {
    /// `weights` converted to `precision` and made variables, tensor by tensor, so that one
    /// copy of the values is held.
    pub fn new(weights: &Weights, source: Option<Init>, precision: Precision) -> Result<Self> {
        let weights = weights.in_dtype(precision.dtype())?;
        let norms = weights
            .names()
            .into_iter()
            .map(|name| {
                let norm = l2(&weights.get(&name)?)?;
                Ok((name, norm))
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            source,
            precision,
            weights,
            norms,
            convs: RefCell::new(None),
        })
    }

    /// The convolutions of `model` (built on these variables) prepared for the fast kernels,
    /// made on first use; `None` in f64, which runs on `kernels::conv_grad` alone.
    fn prepared_convs(&self, model: &ResNet) -> Result<Option<Rc<LabConvs>>> {
        if self.precision != Precision::F32 {
            return Ok(None);
        }
        let variant = model.config.variant;
        if let Some((v, convs)) = self.convs.borrow().as_ref() {
            if *v == variant {
                return Ok(Some(convs.clone()));
            }
        }
        // Another variant's forms go before the new ones are made (memory never shrinks).
        self.convs.replace(None);
        let convs = Rc::new(LabConvs::new(model)?);
        self.convs.replace(Some((variant, convs.clone())));
        Ok(Some(convs))
    }
}

/// A batch of `batch` images from `images` (each `[1, 3, S, S]`): the images, then their mirror
/// images (flipped left to right, the augmentation training itself applies), then the images
/// again, and so on.
pub fn mirrored_batch(images: &[Tensor], batch: usize) -> Result<Tensor> {
    if images.is_empty() {
        return Err(Error::InvalidArgument(
            "a batch needs at least one image".into(),
        ));
    }
    let mirrors = if batch > images.len() {
        images
            .iter()
            .map(|t| t.flip(&[3]))
            .collect::<candle_core::Result<Vec<_>>>()?
    } else {
        Vec::new()
    };
    let cycle: Vec<&Tensor> = images.iter().chain(&mirrors).collect();
    let picked: Vec<&Tensor> = cycle.iter().copied().cycle().take(batch.max(1)).collect();
    Ok(Tensor::cat(&picked, 0)?)
}

fn summarize(norms: &[f64], stem: f64, last_block: f64) -> NetworkSummary {
    let positive: Vec<f64> = norms.iter().copied().filter(|v| *v > 0.0).collect();
    let max = positive.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = positive.iter().copied().fold(f64::INFINITY, f64::min);
    // norms are conv layers then fc; the last convolution is the one before fc.
    let first = norms.first().copied().unwrap_or(f64::NAN);
    let last_conv = norms
        .len()
        .checked_sub(2)
        .map(|i| norms[i])
        .unwrap_or(f64::NAN);
    NetworkSummary {
        span_decades: if positive.is_empty() {
            0.0
        } else {
            (max / min).log10()
        },
        first_over_last: first / last_conv,
        activation_decades: (stem / last_block).log10(),
    }
}

/// Arithmetic precision of a gradient-flow run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Precision {
    /// 32-bit floats, as PyTorch by default.
    #[default]
    F32,
    /// 64-bit floats: slower, but immune to the float32 rounding that batch norm in training
    /// mode amplifies on a single small image.
    F64,
}

impl Precision {
    /// The candle dtype of this precision.
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::F64 => DType::F64,
        }
    }
}

/// A gradient-flow run in [`GRADIENT_STEPS`] steps (the residual network's forward block by
/// block and its backward, then the plain network's), so that the caller reports progress and
/// cancels between blocks.
pub struct GradientJob {
    /// The weights in the run's precision, with their norms.
    variables: Rc<LabVariables>,
    config: ResNetConfig,
    input: Tensor,
    /// Each image's class differentiated: given, or its top-1 in the residual network once
    /// that pass ran.
    targets: Option<Vec<usize>>,
    /// The pass under way.
    current: Option<(Network, Box<dyn Pass>)>,
    skip: Option<PassResult>,
    plain: Option<PassResult>,
}

impl GradientJob {
    /// Prepares a run on the batch `input` (`[N, 3, S, S]`); `config` gives variant, head and
    /// batch-norm mode (its `skips` is ignored). With a `target`, every image's loss is for
    /// that class; without, each image's top-1 in the residual network is taken from the
    /// logits of its forward pass (no forward of its own), and the plain network uses it too.
    pub fn new(
        variables: Rc<LabVariables>,
        config: &ResNetConfig,
        input: &Tensor,
        target: Option<usize>,
    ) -> Result<Self> {
        let precision = variables.precision;
        if let Some(target) = target.filter(|t| *t >= config.classes) {
            return Err(Error::InvalidArgument(format!(
                "target class {target} is outside 0..{}",
                config.classes
            )));
        }
        Ok(Self {
            variables,
            config: config.clone(),
            input: input.to_dtype(precision.dtype())?.contiguous()?,
            targets: target.map(|t| vec![t; input.dim(0).unwrap_or(1)]),
            current: None,
            skip: None,
            plain: None,
        })
    }

    /// True once both networks ran.
    pub fn is_done(&self) -> bool {
        self.plain.is_some()
    }

    /// Runs the next step (the stem, a block or the head, forward or backward, in one of the
    /// networks).
    pub fn step(&mut self, progress: &mut dyn FnMut(Progress) -> Result<()>) -> Result<()> {
        if self.is_done() {
            return Ok(());
        }
        let (network, mut pass) = match self.current.take() {
            Some(current) => current,
            None => {
                let (skips, network) = if self.skip.is_none() {
                    (Skips::All, Network::Skip)
                } else {
                    (Skips::None, Network::Plain)
                };
                let config = ResNetConfig {
                    skips,
                    ..self.config.clone()
                };
                let model = ResNet::new(config, &self.variables.weights)?;
                let convs = self.variables.prepared_convs(&model)?;
                (
                    network,
                    network_pass::start(model, convs, &self.input, self.targets.clone())?,
                )
            }
        };
        pass.step()?;
        let done = pass.done();
        let before = match network {
            Network::Skip => 0,
            Network::Plain => PASS_STEPS,
        };
        let step = if done <= network_pass::FORWARD_STEPS {
            Step::Forward(network)
        } else {
            Step::Backward(network)
        };
        if done < PASS_STEPS {
            self.current = Some((network, pass));
        } else {
            let result = pass.result()?;
            self.targets = Some(result.targets.clone());
            match network {
                Network::Skip => self.skip = Some(result),
                Network::Plain => self.plain = Some(result),
            }
        }
        progress(Progress::new(step, before + done, GRADIENT_STEPS))
    }

    /// Runs what is left and assembles the result.
    pub fn finish(
        mut self,
        progress: &mut dyn FnMut(Progress) -> Result<()>,
    ) -> Result<GradientFlow> {
        while !self.is_done() {
            self.step(progress)?;
        }
        let (Some(skip), Some(plain)) = (self.skip.take(), self.plain.take()) else {
            return Err(Error::InvalidArgument("gradient run incomplete".into()));
        };
        assemble(&self.variables, &self.config, &self.input, skip, plain)
    }
}

/// Runs both networks (with and without skips) on the same weights and reports gradient norms.
///
/// `config` gives variant, head and batch-norm mode; its `skips` is ignored.
pub fn gradient_flow(
    weights: &Weights,
    config: &ResNetConfig,
    input: &Tensor,
    target: usize,
    precision: Precision,
    progress: &mut dyn FnMut(Progress) -> Result<()>,
) -> Result<GradientFlow> {
    let variables = Rc::new(LabVariables::new(weights, None, precision)?);
    GradientJob::new(variables, config, input, Some(target))?.finish(progress)
}

fn assemble(
    variables: &LabVariables,
    config: &ResNetConfig,
    input: &Tensor,
    skip: PassResult,
    plain: PassResult,
) -> Result<GradientFlow> {
    let names = weight_layer_names(config);
    let mut layers = Vec::with_capacity(names.len());
    for name in names {
        let weight_norm =
            variables
                .norms
                .get(&name)
                .copied()
                .ok_or_else(|| Error::MissingTensor {
                    name: name.clone(),
                    expected: Vec::new(),
                })?;
        let skip_norm = skip.layers.get(&name).copied().unwrap_or(0.0);
        let plain_norm = if name.contains("downsample") {
            None
        } else {
            Some(plain.layers.get(&name).copied().unwrap_or(0.0))
        };
        layers.push(LayerGradient {
            name,
            skip: skip_norm,
            plain: plain_norm,
            weight_norm,
        });
    }
    let mut acts = skip
        .activations
        .iter()
        .zip(&plain.activations)
        .map(|((name, s), (_, p))| ActivationGradient {
            name: name.clone(),
            skip: *s,
            plain: *p,
        });
    let stem = acts
        .next()
        .ok_or_else(|| Error::InvalidArgument("no activations recorded".into()))?;
    let blocks: Vec<_> = acts.collect();
    let conv_and_fc = |f: fn(&LayerGradient) -> Option<f64>| -> Vec<f64> {
        layers.iter().filter_map(f).collect()
    };
    let last = blocks.last().unwrap_or(&stem);
    let summary = Summaries {
        skip: summarize(&conv_and_fc(|l| Some(l.skip)), stem.skip, last.skip),
        plain: summarize(&conv_and_fc(|l| l.plain), stem.plain, last.plain),
    };
    Ok(GradientFlow {
        target: skip.targets.first().copied().unwrap_or(0),
        targets: skip.targets.clone(),
        batch: input.dim(0)?,
        norm: config.norm,
        input_size: input.dim(2)?,
        precision: variables.precision,
        loss: Losses {
            skip: skip.loss,
            plain: plain.loss,
        },
        layers,
        stem,
        blocks,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_takes_the_images_then_their_mirror_images_in_turn() {
        let image =
            |v: [f32; 2]| Tensor::from_vec(v.to_vec(), (1, 1, 1, 2), &candle_core::Device::Cpu);
        let (a, b) = (image([1.0, 2.0]).unwrap(), image([3.0, 4.0]).unwrap());
        let batch = mirrored_batch(&[a, b], 5).unwrap();
        let rows = batch.flatten_from(1).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(
            rows,
            [[1.0, 2.0], [3.0, 4.0], [2.0, 1.0], [4.0, 3.0], [1.0, 2.0]].map(|r| r.to_vec())
        );
        assert!(mirrored_batch(&[], 2).is_err());
    }

    #[test]
    fn summary_reads_span_and_first_over_last_conv() {
        let s = summarize(&[1e-2, 1.0, 1e-4, 5.0], 1e-9, 1e-1);
        assert!((s.activation_decades + 8.0).abs() < 1e-12);
        assert!((s.span_decades - (5.0f64 / 1e-4).log10()).abs() < 1e-12);
        assert!((s.first_over_last - 1e-2 / 1e-4).abs() < 1e-9);
    }
}
