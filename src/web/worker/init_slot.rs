//! The engine slot: the engine, or the network it is being built into part by part.

use crate::config::ResNetConfig;
use crate::engine::{Engine, EngineBuild};
use crate::weights::{Init, Weights, WeightsInfo};

/// The engine, or the build it comes from while that is still going on.
///
/// The worker answers the page at once and builds the seeded network one part at a time in
/// idle time (each part's weights generated, folded and prepared before the next's); a run
/// that needs the engine earlier finishes the build first, and loading other weights drops
/// it altogether.
pub(super) enum EngineSlot {
    /// Still being built.
    Pending(Box<EngineBuild>),
    /// Ready to run.
    Ready(Box<Engine>),
    /// Building the engine failed (message shown to the user).
    Broken(String),
}

impl EngineSlot {
    pub(super) fn starting(init: Init) -> Self {
        match Engine::start(Weights::seeded(init, &ResNetConfig::resnet50(1000))) {
            Ok(build) => EngineSlot::Pending(Box::new(build)),
            Err(e) => EngineSlot::Broken(e.to_string()),
        }
    }

    /// What the weights are (known before the network is built).
    pub(super) fn info(&self) -> Option<WeightsInfo> {
        match self {
            EngineSlot::Pending(build) => Some(build.info().clone()),
            EngineSlot::Ready(engine) => Some(engine.weights().info.clone()),
            EngineSlot::Broken(_) => None,
        }
    }

    /// Builds one more part; makes the engine after the last.
    pub(super) fn step(&mut self) {
        if let EngineSlot::Pending(build) = self {
            if let Err(e) = build.step() {
                *self = EngineSlot::Broken(e.to_string());
                return;
            }
            if build.is_done() {
                // A failure is kept in `Broken` and reported by the next request.
                let _ = self.engine_now();
            }
        }
    }

    /// The engine, building whatever is left of it first.
    pub(super) fn engine_now(&mut self) -> Result<&Engine, String> {
        if let EngineSlot::Pending(_) = self {
            let EngineSlot::Pending(build) =
                std::mem::replace(self, EngineSlot::Broken(String::new()))
            else {
                return Err("engine state lost".into());
            };
            *self = match build.finish() {
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
