//! A forward pass that runs one stage at a time.

use candle_core::Tensor;

use super::resnet::{ResNet, Tap};
use crate::Result;

/// Number of pieces a forward pass is cut into: Stage 1–5, then the head.
pub const FORWARD_STEPS: usize = 6;

/// A forward pass run one stage at a time, so that a caller (the web worker) can report
/// progress and honour cancellation between stages.
pub struct ForwardPass {
    model: ResNet,
    h: Tensor,
    done: usize,
}

impl ForwardPass {
    /// Starts a pass of `model` on `input`.
    pub fn new(model: ResNet, input: Tensor) -> Self {
        Self {
            model,
            h: input,
            done: 0,
        }
    }

    /// Steps finished so far (0..=[`FORWARD_STEPS`]).
    pub fn done(&self) -> usize {
        self.done
    }

    /// Runs the next piece; returns the logits once the last one has run.
    pub fn step(
        &mut self,
        on_tap: &mut dyn FnMut(Tap<'_>) -> Result<()>,
    ) -> Result<Option<Tensor>> {
        if self.done >= FORWARD_STEPS {
            return Ok(Some(self.h.clone()));
        }
        self.h = self
            .model
            .run_step(self.done, &self.h, on_tap, &mut |_, t| Ok(t))?;
        self.done += 1;
        Ok((self.done == FORWARD_STEPS).then(|| self.h.clone()))
    }
}
