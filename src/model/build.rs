//! Building the network one part at a time, each part handed to a preparation step as soon as
//! it is read: weights read or generated when asked for ([`Weights::stored`],
//! [`Weights::seeded`]) then never sit in memory all at once, and a caller can do other work
//! between parts.
//!
//! The parts come largest first (the classifier, then the blocks from the last to the first,
//! then the stem): each part's raw weights, freed once it is prepared, leave room for the next
//! part's, which are smaller. Built smallest first, every part's raw weights would land past
//! the holes its predecessors left, and wasm memory, which never shrinks, would keep them all.

use candle_nn::Linear;

use super::bottleneck::{BlockId, Bottleneck};
use super::resnet::ResNet;
use super::stem::Stem;
use crate::config::{ResNetConfig, BLOCKS_PER_STAGE};
use crate::weights::Weights;
use crate::Result;

/// One part of the network, as it is built.
pub enum Part {
    /// Stage 1.
    Stem(Stem),
    /// One bottleneck block (boxed: it is much larger than the stem).
    Block(Box<Bottleneck>),
}

/// What becomes of each part once its weights are read (the identity, or folding batch norm
/// into it and preparing its fast forms: `crate::infer`).
pub type PreparePart = Box<dyn Fn(Part) -> Result<Part>>;

/// A network being built part by part (see the module doc).
pub struct NetworkBuild {
    config: ResNetConfig,
    weights: Weights,
    prepare: PreparePart,
    fc: Option<Linear>,
    /// Blocks built so far, last block first.
    blocks: Vec<Bottleneck>,
    stem: Option<Stem>,
}

/// Every block id, in network order.
fn block_ids() -> Vec<BlockId> {
    BLOCKS_PER_STAGE
        .iter()
        .enumerate()
        .flat_map(|(s, &count)| {
            (0..count).map(move |index| BlockId {
                stage: s + 2,
                index,
            })
        })
        .collect()
}

impl NetworkBuild {
    /// Starts building `config` from `weights` (every name and shape checked first; no values
    /// are read yet), preparing each part with `prepare`.
    pub fn new(config: ResNetConfig, weights: &Weights, prepare: PreparePart) -> Result<Self> {
        config.validate()?;
        weights.check_against(&config)?;
        Ok(Self {
            config,
            weights: weights.clone(),
            prepare,
            fc: None,
            blocks: Vec::new(),
            stem: None,
        })
    }

    /// Parts built so far, and how many there are (the classifier, 16 blocks and the stem).
    pub fn progress(&self) -> (usize, usize) {
        let total = 2 + BLOCKS_PER_STAGE.iter().sum::<usize>();
        let done =
            usize::from(self.fc.is_some()) + self.blocks.len() + usize::from(self.stem.is_some());
        (done, total)
    }

    /// True once every part is built.
    pub fn is_done(&self) -> bool {
        let (done, total) = self.progress();
        done == total
    }

    /// Reads and prepares the next part.
    pub fn step(&mut self) -> Result<()> {
        if self.fc.is_none() {
            self.fc = Some(Linear::new(
                self.weights.get("fc.weight")?,
                Some(self.weights.get("fc.bias")?),
            ));
            return Ok(());
        }
        let ids = block_ids();
        if let Some(&id) = ids.iter().rev().nth(self.blocks.len()) {
            let block = Bottleneck::load(&self.weights, id, self.config.variant)?;
            match (self.prepare)(Part::Block(Box::new(block)))? {
                Part::Block(block) => self.blocks.push(*block),
                Part::Stem(_) => return Err(changed_kind()),
            }
            return Ok(());
        }
        if self.stem.is_none() {
            match (self.prepare)(Part::Stem(Stem::load(&self.weights)?))? {
                Part::Stem(stem) => self.stem = Some(stem),
                Part::Block(_) => return Err(changed_kind()),
            }
        }
        Ok(())
    }

    /// The network (every part left built first).
    pub fn finish(mut self) -> Result<ResNet> {
        while !self.is_done() {
            self.step()?;
        }
        let (Some(fc), Some(stem)) = (self.fc, self.stem) else {
            return Err(changed_kind());
        };
        let mut blocks = self.blocks.into_iter().rev();
        let stages = BLOCKS_PER_STAGE
            .iter()
            .map(|&count| blocks.by_ref().take(count).collect())
            .collect();
        Ok(ResNet {
            config: self.config,
            stem,
            stages,
            fc,
            folded: false,
            lean: false,
        })
    }
}

fn changed_kind() -> crate::Error {
    crate::Error::InvalidArgument("a preparation step changed a part's kind".into())
}
