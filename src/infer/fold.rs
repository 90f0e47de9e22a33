//! The inference network: batch norm (eval mode) folded into every convolution once per weights
//! load, and each convolution prepared in its fastest form ([`FastConv`]). The lean form keeps
//! one resident copy of each weight: the prepared one.

use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use candle_nn::Conv2d;

use super::fast_conv::FastConv;
use crate::config::NormMode;
use crate::config::ResNetConfig;
use crate::kernels::scratch::release_scratch;
use crate::model::batch_norm::BatchNorm;
use crate::model::conv::PreparedConv;
use crate::model::{Bottleneck, Downsample, NetworkBuild, Part, ResNet, Stem};
use crate::weights::Weights;
use crate::{Error, Result};

fn boxed(fast: Option<FastConv>) -> Option<Box<dyn PreparedConv>> {
    fast.map(|f| Box::new(f) as Box<dyn PreparedConv>)
}

/// `conv`'s shape and settings without its values: a one-element tensor broadcast to the
/// filter's shape (4 bytes instead of the filters).
fn shape_only(conv: &Conv2d) -> Result<Conv2d> {
    let weight = Tensor::zeros((), DType::F32, &Device::Cpu)?.broadcast_as(conv.weight().dims())?;
    Ok(Conv2d::new(weight, None, *conv.config()))
}

/// What folding a network prepares for each convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prepare {
    /// The folded candle convolution and its fast form (tests, the general case).
    Both,
    /// The fast form only, made straight from the checkpoint's values; the convolution keeps
    /// only its shape (what the CPU engine keeps).
    Lean,
    /// The folded candle convolution only (what the GPU uploads: no fast form is built).
    Folded,
}

/// `conv` with `bn` folded in, and what `prepare` asks for beside it. Lean: the fast form is
/// made straight from the checkpoint's values ([`FastConv::folded`]) and no folded copy is
/// ever allocated.
fn fold_conv(
    bn: &BatchNorm,
    conv: &Conv2d,
    prepare: Prepare,
) -> Result<(Conv2d, Option<Box<dyn PreparedConv>>)> {
    if prepare == Prepare::Lean {
        if let Some(fast) = FastConv::folded(conv, bn)? {
            return Ok((shape_only(conv)?, boxed(Some(fast))));
        }
    }
    let folded = bn.fold_into(conv)?;
    let fast = match prepare {
        Prepare::Folded => None,
        _ => boxed(FastConv::of(&folded)?),
    };
    Ok((folded, fast))
}

fn prepare_part(part: Part, prepare: Prepare) -> Result<Part> {
    Ok(match part {
        Part::Stem(stem) => Part::Stem(stem.folded(prepare)?),
        Part::Block(block) => Part::Block(Box::new(block.folded(prepare)?)),
    })
}

/// An inference network being built part by part: each part is read, folded and prepared
/// before the next is read, so that with weights read or generated when asked for, at most one
/// part's raw weights exist beside what is already prepared.
pub struct InferenceBuild {
    build: NetworkBuild,
    prepare: Prepare,
}

impl InferenceBuild {
    /// Starts building `config` (eval-mode batch norm) from `weights`.
    pub fn new(config: ResNetConfig, weights: &Weights, prepare: Prepare) -> Result<Self> {
        if config.norm != NormMode::Eval {
            return Err(Error::InvalidArgument(
                "only eval-mode batch norm can be folded".into(),
            ));
        }
        Ok(Self {
            build: NetworkBuild::new(
                config,
                weights,
                Box::new(move |part| prepare_part(part, prepare)),
            )?,
            prepare,
        })
    }

    /// True once every part is built.
    pub fn is_done(&self) -> bool {
        self.build.is_done()
    }

    /// Reads, folds and prepares the next part.
    pub fn step(&mut self) -> Result<()> {
        self.build.step()
    }

    /// The network (every part left built first). The preparation's scratch buffers are freed.
    pub fn finish(self) -> Result<ResNet> {
        let net = self.build.finish();
        release_scratch();
        let mut net = net?;
        net.folded = true;
        net.lean = self.prepare == Prepare::Lean;
        Ok(net)
    }
}

impl ResNet {
    /// `config` built from `weights` straight into its inference form, part by part
    /// ([`InferenceBuild`]): what [`ResNet::new`] then [`ResNet::for_inference`] (for
    /// [`Prepare::Lean`]) give, without every raw weight built first.
    pub fn inference_from(
        config: ResNetConfig,
        weights: &Weights,
        prepare: Prepare,
    ) -> Result<Self> {
        InferenceBuild::new(config, weights, prepare)?.finish()
    }

    /// This network in the form the CPU engine keeps: batch norm folded as in
    /// [`ResNet::fold_batch_norm`], and every convolution that has a fast form keeps only its
    /// shape, so each weight is resident once, in its prepared form (the engine builds that
    /// form part by part from its weights: [`ResNet::inference_from`]). A lean network cannot
    /// be uploaded to the GPU.
    pub fn for_inference(&self) -> Result<Self> {
        self.fold(Prepare::Lean)
    }

    /// The inference network: batch norm (eval mode) folded into the convolutions once, so a
    /// forward pass runs one biased convolution where it ran a convolution and a batch norm;
    /// each convolution also gets its fast form.
    pub fn fold_batch_norm(&self) -> Result<Self> {
        self.fold(Prepare::Both)
    }

    fn fold(&self, prepare: Prepare) -> Result<Self> {
        if self.config.norm != NormMode::Eval {
            return Err(Error::InvalidArgument(
                "only eval-mode batch norm can be folded".into(),
            ));
        }
        Ok(Self {
            config: self.config.clone(),
            stem: self.stem.folded(prepare)?,
            stages: self
                .stages
                .iter()
                .map(|stage| {
                    stage
                        .iter()
                        .map(|b| b.folded(prepare))
                        .collect::<Result<Vec<_>>>()
                })
                .collect::<Result<Vec<_>>>()?,
            fc: self.fc.clone(),
            folded: true,
            lean: prepare == Prepare::Lean,
        })
    }
}

impl Stem {
    /// Batch norm folded into the convolution (for eval-mode inference), with its fast form;
    /// `prepare` says what it keeps ([`Prepare`]).
    pub fn folded(&self, prepare: Prepare) -> Result<Self> {
        let (conv1, fast) = fold_conv(&self.bn1, &self.conv1, prepare)?;
        Ok(Self {
            conv1,
            fast: fast.map(Arc::from),
            bn1: self.bn1.clone(),
        })
    }
}

impl Bottleneck {
    /// Every batch norm folded into the convolution before it (for eval-mode inference), with
    /// their fast forms; `prepare` says what it keeps ([`Prepare`]).
    pub fn folded(&self, prepare: Prepare) -> Result<Self> {
        let fold = |bn: &BatchNorm, conv: &Conv2d| fold_conv(bn, conv, prepare);
        let (conv1, fast1) = fold(&self.bn1, &self.conv1)?;
        let (conv2, fast2) = fold(&self.bn2, &self.conv2)?;
        let (conv3, fast3) = fold(&self.bn3, &self.conv3)?;
        let (downsample, fast_down) = match &self.downsample {
            Some(d) => {
                let (conv, fast) = fold(&d.bn, &d.conv)?;
                let bn = d.bn.clone();
                (Some(Downsample { conv, bn }), fast)
            }
            None => (None, None),
        };
        Ok(Self {
            id: self.id,
            conv1,
            bn1: self.bn1.clone(),
            conv2,
            bn2: self.bn2.clone(),
            conv3,
            bn3: self.bn3.clone(),
            downsample,
            fast: Some(Arc::new([fast1, fast2, fast3, fast_down])),
        })
    }
}
