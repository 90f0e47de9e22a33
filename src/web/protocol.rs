//! Messages between the page and the engine worker. Only compact summaries cross this boundary:
//! statistics, 8-bit maps, the crop the network saw — never f32 activations.

use serde::{Deserialize, Serialize};

use crate::analysis::cam::{CamOptions, CamResult};
use crate::analysis::features::StageMaps;
use crate::analysis::gradients::{GradientFlow, Precision};
use crate::backend::auto::AutoPick;
use crate::backend::{BackendChoice, RanOn};
use crate::config::NormMode;
use crate::engine::Exploration;
use crate::image::Preprocess;
use crate::job::Progress;
use crate::weights::{Init, InitKind, WeightsInfo};

/// Identifies one Explore run; results of older runs are dropped.
pub type JobId = u32;

/// An image as RGBA bytes, decoded by the browser.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RgbaImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width × height × 4` bytes.
    pub rgba: Vec<u8>,
}

/// What the page asks of the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Is the engine alive? Answered with [`Event::Ready`].
    Ping,
    /// Run the network on an image, preprocessed by the current weights' recipe (its crop is
    /// the input size), streaming progress per stage. A new `Explore` cancels the one running.
    Explore {
        /// Run id.
        job: JobId,
        /// The image.
        image: RgbaImage,
        /// Which hardware to run on.
        backend: BackendChoice,
    },
    /// The channels of block `block` (0..16) for the image of Explore run `job`.
    BlockMaps {
        /// The Explore run whose image to use.
        job: JobId,
        /// Block index in network order.
        block: usize,
    },
    /// Class activation maps for the image of Explore run `job` (a newer `Cam` or `Explore`
    /// cancels the one running).
    Cam {
        /// The Explore run whose image to map.
        job: JobId,
        /// This run's id (shared numbering).
        run: JobId,
        /// Stage, method and classes.
        options: CamOptions,
    },
    /// Stop run `job` if it is still going.
    Cancel {
        /// Run id.
        job: JobId,
    },
    /// Download (or take from Cache Storage) a safetensors checkpoint and load it.
    LoadWeightsUrl {
        /// Where from.
        url: String,
    },
    /// Load a checkpoint the user picked or dropped: the worker reads the file itself through
    /// an object URL the page made for it (no copy on the page's thread, the download's cap).
    LoadWeightsFile {
        /// File name, for the status line.
        name: String,
        /// `blob:` URL of the file (the page revokes it once the worker answered).
        url: String,
        /// The preprocessing config picked with it (file name, text), if any.
        preprocess: Option<(String, String)>,
    },
    /// Start the engine's thread pool (threaded build; the page sends it once, first).
    StartThreads {
        /// Absolute URL of the threaded worker's script, which each pool worker loads.
        script_url: String,
        /// Threads wanted, the engine's own included.
        threads: usize,
    },
    /// Testing hook: destroy the GPU device as a driver reset would, so the next run must fall
    /// back to the CPU (sent by the page when it was opened with `?gpu_fault=lose`).
    LoseGpu,
    /// Testing hook: let Auto measure a software adapter instead of passing it over, so that
    /// a machine without a GPU runs the measurement (sent when the page was opened with
    /// `?auto_adapter=measure`).
    MeasureSoftwareAdapter,
    /// Go back to seeded, untrained weights.
    UseInit(Init),
    /// Auto's choice the page remembered (localStorage; the worker has none), or `None` to
    /// measure again. The worker uses it only for the adapter and engine build it was made for.
    AutoRemembered(Option<AutoPick>),
    /// Gradient flow with and without skips on `image` (a new run cancels the one running).
    Gradients {
        /// Run id (shared numbering with Explore runs).
        job: JobId,
        /// The batch's distinct images, first image first.
        images: Vec<RgbaImage>,
        /// Images in the batch (1 to 8): `images`, then their mirror images.
        batch: usize,
        /// Input side: 64, 112 or 224.
        size: u32,
        /// Fresh initialization, or `None` for the weights in use.
        init: Option<Init>,
        /// Batch-norm mode.
        norm: NormMode,
        /// Target class, or `None` for the residual network's top-1.
        target: Option<usize>,
        /// f32 or f64.
        precision: Precision,
    },
}

/// What the worker tells the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// The engine is loaded; carries the crate version and the current weights.
    Ready {
        /// `CARGO_PKG_VERSION` of the worker's build.
        version: String,
        /// The weights in use.
        weights: WeightsInfo,
    },
    /// The worker's wasm memory after a request (it never shrinks: also its high-water mark).
    Memory {
        /// Bytes.
        bytes: u64,
    },
    /// The crop the network sees (RGBA, `size`×`size`).
    Crop {
        /// Run id.
        job: JobId,
        /// The crop.
        image: RgbaImage,
    },
    /// A stage of run `job` finished.
    Progress {
        /// Run id.
        job: JobId,
        /// How far.
        progress: Progress,
    },
    /// Run `job` finished.
    Explored {
        /// Run id.
        job: JobId,
        /// Everything Explore shows.
        result: Box<Exploration>,
        /// Wall time of the forward pass in the worker.
        elapsed_ms: f64,
        /// What ran it.
        ran: RanOn,
        /// Why the GPU was not used although it was asked for (no adapter, device lost).
        fallback: Option<String>,
    },
    /// Auto made a new choice (remember it for this adapter and engine build).
    AutoPicked(AutoPick),
    /// Gradient run `job` finished.
    Gradients {
        /// Run id.
        job: JobId,
        /// The numbers.
        flow: Box<GradientFlow>,
        /// Wall time in the worker.
        elapsed_ms: f64,
    },
    /// Class activation maps of run `run` (answer to [`Request::Cam`]).
    Cam {
        /// The CAM run.
        run: JobId,
        /// The maps at stage resolution.
        result: Box<CamResult>,
        /// Wall time in the worker.
        elapsed_ms: f64,
    },
    /// The channels of one block (answer to [`Request::BlockMaps`]).
    BlockMaps {
        /// The Explore run.
        job: JobId,
        /// Block index.
        block: usize,
        /// Its output as 8-bit maps.
        maps: Box<StageMaps>,
    },
    /// Run `job` was cancelled.
    Cancelled {
        /// Run id.
        job: JobId,
    },
    /// Run `job` failed (bad image, …); the page keeps what it showed.
    Failed {
        /// Run id.
        job: JobId,
        /// What went wrong.
        message: String,
    },
    /// Bytes of a weights download so far.
    WeightsProgress {
        /// Bytes received.
        loaded: u64,
        /// Content length, when the server says.
        total: Option<u64>,
        /// Average speed so far.
        mb_per_s: f64,
    },
    /// New weights are in use.
    WeightsLoaded {
        /// What they are.
        info: WeightsInfo,
        /// True when they came from Cache Storage instead of the network.
        from_cache: bool,
        /// Their preprocessing (from the config that came with them, else torchvision's).
        preprocess: Preprocess,
        /// Why a config that came with them is not used, if one did not read.
        note: Option<String>,
    },
    /// Loading weights failed; the previous weights stay in use.
    WeightsFailed {
        /// What went wrong.
        message: String,
    },
}

/// The weights the page starts with: untrained, seeded He init.
pub fn default_init() -> Init {
    Init::new(InitKind::He, 0)
}
