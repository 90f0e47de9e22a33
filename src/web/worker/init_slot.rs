//! The engine slot: the engine, or the seeded initialization it is being generated from.

use crate::config::ResNetConfig;
use crate::engine::Engine;
use crate::weights::{Init, InitJob, WeightsInfo};

/// The engine, or the seeded initialization it starts from while that is being generated.
///
/// The worker answers the page at once and generates the init one tensor at a time in idle
/// time; a run that needs the engine earlier finishes it first, and loading other weights
/// skips it altogether.
pub(super) enum EngineSlot {
    /// Weights still being generated.
    Pending(InitJob),
    /// Ready to run.
    Ready(Box<Engine>),
    /// Generating or building the engine failed (message shown to the user).
    Broken(String),
}

impl EngineSlot {
    pub(super) fn starting(init: Init) -> Self {
        EngineSlot::Pending(init.start(&ResNetConfig::resnet50(1000)))
    }

    /// What the weights are (known before they are generated).
    pub(super) fn info(&self) -> Option<WeightsInfo> {
        match self {
            EngineSlot::Pending(job) => Some(job.info()),
            EngineSlot::Ready(engine) => Some(engine.weights().info.clone()),
            EngineSlot::Broken(_) => None,
        }
    }

    /// Generates one more tensor; builds the engine after the last.
    pub(super) fn step(&mut self) {
        if let EngineSlot::Pending(job) = self {
            if let Err(e) = job.step() {
                *self = EngineSlot::Broken(e.to_string());
                return;
            }
            if job.is_done() {
                // A failure is kept in `Broken` and reported by the next request.
                let _ = self.engine_now();
            }
        }
    }

    /// The engine, generating whatever is left of the init first.
    pub(super) fn engine_now(&mut self) -> Result<&Engine, String> {
        if let EngineSlot::Pending(_) = self {
            let EngineSlot::Pending(job) =
                std::mem::replace(self, EngineSlot::Broken(String::new()))
            else {
                return Err("engine state lost".into());
            };
            *self = match job.finish().and_then(Engine::with_weights) {
                Ok(engine) => EngineSlot::Ready(Box::new(engine)),
                Err(e) => EngineSlot::Broken(e.to_string()),
            };
        }
        match self {
            EngineSlot::Ready(engine) => Ok(engine),
            EngineSlot::Broken(message) => Err(message.clone()),
            EngineSlot::Pending(_) => Err("engine not ready".into()),
        }
    }
}
