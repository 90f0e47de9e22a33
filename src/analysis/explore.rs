//! What Explore shows of one image: the prediction, every stage's maps and every block's
//! residual view, collected from a forward pass's taps (a CPU pass, stage by stage, or the
//! replay of a GPU pass alike).

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use super::features::{BlockView, StageMaps, StageStats};
use crate::imagenet::{top_k, Ranked};
use crate::job::{Progress, Step};
use crate::model::{ForwardPass, LayerId, Tap, FORWARD_STEPS};
use crate::Result;

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

/// What Explore shows: the prediction plus every stage's maps and every block's residual view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exploration {
    /// Logits, top-k and stage statistics.
    pub prediction: Prediction,
    /// Stage 1–5 outputs as 8-bit maps.
    pub maps: Vec<StageMaps>,
    /// The 16 blocks' residual views.
    pub blocks: Vec<BlockView>,
}

/// Collects what Explore shows from a forward pass's taps (CPU pass or GPU replay alike).
#[derive(Default)]
pub(crate) struct ExploreCollector {
    stats: Vec<StageStats>,
    maps: Vec<StageMaps>,
    blocks: Vec<BlockView>,
}

impl ExploreCollector {
    pub(crate) fn on_tap(&mut self, tap: Tap<'_>) -> Result<()> {
        match tap {
            Tap::Output {
                id: id @ LayerId::Stage(_),
                value,
            } => {
                self.stats.push(StageStats::of(&id.name(), value)?);
                self.maps.push(StageMaps::of(&id.name(), value)?);
            }
            Tap::Output {
                id: LayerId::Pool,
                value,
            } => self.stats.push(StageStats::of("pool", value)?),
            Tap::Block { id, parts, .. } => self.blocks.push(BlockView::of(
                &id.torch_name(),
                id.index == 0,
                parts.shortcut.as_ref(),
                &parts.residual,
                &parts.output,
            )?),
            Tap::Output { .. } => {}
        }
        Ok(())
    }

    pub(crate) fn finish(self, logits: Option<&Tensor>, k: usize) -> Result<Exploration> {
        let logits = match logits {
            Some(l) => l.to_vec2::<f32>()?,
            None => Vec::new(),
        };
        let top = logits.first().map(|l| top_k(l, k)).unwrap_or_default();
        Ok(Exploration {
            prediction: Prediction {
                logits,
                top,
                stages: self.stats,
            },
            maps: self.maps,
            blocks: self.blocks,
        })
    }
}

/// An Explore run that advances one stage per [`step`](ExploreJob::step), so that the caller
/// can report progress and cancel between stages.
pub struct ExploreJob {
    pass: ForwardPass,
    top_k: usize,
    collected: ExploreCollector,
    logits: Option<Tensor>,
}

impl ExploreJob {
    /// True once the logits are computed.
    pub fn is_done(&self) -> bool {
        self.logits.is_some()
    }

    /// Runs the next stage (or the head) and says how far the job is.
    pub fn step(&mut self) -> Result<Progress> {
        let step = self.pass.done();
        let collected = &mut self.collected;
        self.logits = self.pass.step(&mut |tap| collected.on_tap(tap))?;
        Ok(Progress::new(
            Step::Stage((step + 1).min(5)),
            step + 1,
            FORWARD_STEPS,
        ))
    }

    /// The result; runs the remaining stages first if needed.
    pub fn finish(mut self) -> Result<Exploration> {
        while !self.is_done() {
            self.step()?;
        }
        self.collected.finish(self.logits.as_ref(), self.top_k)
    }
}

/// What Explore shows, from a GPU forward pass read back with
/// [`Readback::Blocks`](crate::gpu::Readback::Blocks): the same analysis as the CPU path.
#[cfg(feature = "webgpu")]
pub fn exploration_from_gpu(forward: &crate::gpu::GpuForward, top_k: usize) -> Result<Exploration> {
    let mut collected = ExploreCollector::default();
    forward.replay(&mut |tap| collected.on_tap(tap))?;
    collected.finish(Some(&forward.logits), top_k)
}

impl ExploreJob {
    /// A job that runs `pass` and ranks the top `top_k` classes.
    pub fn new(pass: ForwardPass, top_k: usize) -> Self {
        Self {
            pass,
            top_k,
            collected: ExploreCollector::default(),
            logits: None,
        }
    }
}
