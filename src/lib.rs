//! ResNet Lab: a full ResNet-50 that runs in the browser (and natively) and shows why residual
//! networks work — per-stage feature maps, residual additions, and gradient flow with and
//! without skip connections.
//!
//! # Layers
//! Lower layers first: each module imports only modules on lines above its own, never one on
//! its own line. `tests/layers.rs` reads every `crate::…` and `super::…` path under `src/` and
//! fails on an import against this order (`cargo test --test layers`, part of `make lint`).
//!
//! 1. `error` — the crate's one error type.
//! 2. `job`, `lang`, `imagenet`, `backend`, `config` — progress, steps and cancellation;
//!    languages; top-k over the labels; which backend ran; what network to build.
//! 3. `kernels` — computation on plain slices: matrix products, im2col, Winograd, thread pool.
//! 4. `weights` — bytes → named tensors (safetensors, naming, seeded init, export).
//! 5. `model` — the typed ResNet-50 on candle, built from weights; differentiable.
//! 6. `infer` — the folded inference network in each layer's fastest form; its profile.
//! 7. `gpu` — the WebGPU path, uploaded from the folded network.
//! 8. `image` — image bytes or RGBA → normalized input tensor.
//! 9. `analysis` — what Explore shows, feature statistics, gradient flow, readings.
//! 10. `charts` — plotters charts of the analysis, generic over the backend.
//! 11. `engine` — the façade the CLI and the worker both call.
//! 12. `cli`, `web` — the command line; the browser (never import each other).
//!
//! The weights sit below the model because a model is built *from* weights, while the weights
//! need only the architecture's description (`config`), not its candle modules.

pub mod analysis;
pub mod backend;
pub mod charts;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
#[cfg(feature = "webgpu")]
pub mod gpu;
pub mod image;
pub mod imagenet;
pub mod infer;
pub mod job;
pub mod kernels;
pub mod lang;
pub mod model;
pub mod weights;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{Error, Result};

/// The crate version, shown by the page's footer once the worker answers.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
