//! Browser-only code: the yew app, its worker and the glue between them (wasm32 only).
//!
//! # Layers
//! Inside `web`, as in the crate (see `src/lib.rs`): each module imports only modules on lines
//! above its own.
//!
//! 1. `query` — the address (its query string; URLs resolved against it).
//! 2. `i18n`, `jobs`, `samples`, `save`, `threads`, `memory`, `auto_memory` — strings in two
//!    languages; run ids; the samples; saving files; the thread pool's workers (`?threads=N`);
//!    wasm memory; Auto's remembered backend.
//! 3. `protocol`, `section`, `lab_settings`, `worker_build`, `offline`, `bench` — what page and
//!    worker say to each other; the page's sections; the Gradient lab's settings and share link;
//!    which worker build to load; what the service worker gives (isolation, offline); the
//!    benchmark's entry points.
//! 4. `canvas`, `image_input`, `state`, `worker` — painting maps; decoding images; the page's
//!    state; the engine worker.
//! 5. `actions` — what views do beyond rendering (start a run, read a file).
//! 6. `components` — the views, one per file.
//! 7. `app` — the root component.

pub mod actions;
pub mod app;
pub mod auto_memory;
#[cfg(feature = "bench")]
pub mod bench;
pub mod canvas;
pub mod components;
pub mod i18n;
pub mod image_input;
pub mod jobs;
pub mod lab_settings;
pub mod memory;
pub mod offline;
pub mod protocol;
pub mod query;
pub mod samples;
pub mod save;
pub mod section;
pub mod state;
pub mod threads;
pub mod worker;
pub mod worker_build;

/// Where trunk puts the worker's script (see www/index.html).
pub const WORKER_PATH: &str = "./worker.js";
