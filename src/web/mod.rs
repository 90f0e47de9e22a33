//! Browser-only code: the yew app, its worker and the glue between them (wasm32 only).

pub mod app;
pub mod bench;
pub mod canvas;
pub mod components;
pub mod fetch;
pub mod i18n;
pub mod image_input;
pub mod protocol;
pub mod state;
pub mod threads;
pub mod worker;
pub mod worker_build;

/// Where trunk puts the worker's script (see www/index.html).
pub const WORKER_PATH: &str = "./worker.js";
