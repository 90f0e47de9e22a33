//! ResNet Lab: a full ResNet-50 that runs in the browser (and natively) and shows why residual
//! networks work — per-stage feature maps, residual additions, and gradient flow with and
//! without skip connections.

pub mod analysis;
pub mod backend;
pub mod charts;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod engine;
pub mod error;
#[cfg(feature = "webgpu")]
pub mod gpu;
pub mod image;
pub mod imagenet;
pub mod lang;
pub mod model;
pub mod parallel;
pub mod weights;

#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{Error, Result};

/// The crate version, shown by the page's footer once the worker answers.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
