//! The inference network: batch norm (eval mode) folded into every convolution once per weights
//! load, and each convolution prepared in its fastest form ([`FastConv`]).

use std::sync::Arc;

use super::fast_conv::FastConv;
use crate::config::NormMode;
use crate::model::conv::PreparedConv;
use crate::model::{Bottleneck, Downsample, ResNet, Stem};
use crate::{Error, Result};

fn boxed(fast: Option<FastConv>) -> Option<Box<dyn PreparedConv>> {
    fast.map(|f| Box::new(f) as Box<dyn PreparedConv>)
}

impl ResNet {
    /// The inference network: batch norm (eval mode) folded into the convolutions once, so a
    /// forward pass runs one biased convolution where it ran a convolution and a batch norm.
    pub fn fold_batch_norm(&self) -> Result<Self> {
        if self.config.norm != NormMode::Eval {
            return Err(Error::InvalidArgument(
                "only eval-mode batch norm can be folded".into(),
            ));
        }
        Ok(Self {
            config: self.config.clone(),
            stem: self.stem.folded()?,
            stages: self
                .stages
                .iter()
                .map(|stage| {
                    stage
                        .iter()
                        .map(Bottleneck::folded)
                        .collect::<Result<Vec<_>>>()
                })
                .collect::<Result<Vec<_>>>()?,
            fc: self.fc.clone(),
            folded: true,
        })
    }
}

impl Stem {
    /// Batch norm folded into the convolution (for eval-mode inference).
    pub fn folded(&self) -> Result<Self> {
        let conv1 = self.bn1.fold_into(&self.conv1)?;
        Ok(Self {
            fast: FastConv::of(&conv1)?.map(|f| Arc::new(f) as Arc<dyn PreparedConv>),
            conv1,
            bn1: self.bn1.clone(),
        })
    }
}

impl Bottleneck {
    /// Every batch norm folded into the convolution before it (for eval-mode inference).
    pub fn folded(&self) -> Result<Self> {
        let downsample = match &self.downsample {
            Some(d) => Some(Downsample {
                conv: d.bn.fold_into(&d.conv)?,
                bn: d.bn.clone(),
            }),
            None => None,
        };
        let (conv1, conv2, conv3) = (
            self.bn1.fold_into(&self.conv1)?,
            self.bn2.fold_into(&self.conv2)?,
            self.bn3.fold_into(&self.conv3)?,
        );
        let fast = [
            boxed(FastConv::of(&conv1)?),
            boxed(FastConv::of(&conv2)?),
            boxed(FastConv::of(&conv3)?),
            match &downsample {
                Some(d) => boxed(FastConv::of(&d.conv)?),
                None => None,
            },
        ];
        Ok(Self {
            id: self.id,
            conv1,
            bn1: self.bn1.clone(),
            conv2,
            bn2: self.bn2.clone(),
            conv3,
            bn3: self.bn3.clone(),
            downsample,
            fast: Some(Arc::new(fast)),
        })
    }
}
