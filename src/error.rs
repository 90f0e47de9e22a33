//! The crate's one error type.

use thiserror::Error;

/// Everything that can go wrong in ResNet Lab, with messages meant for the person at the screen.
#[derive(Debug, Error)]
pub enum Error {
    /// A tensor operation failed inside candle.
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),

    /// The weights file is not a readable safetensors file (truncated, lying header, bad offsets).
    #[error("the weights file is not a valid safetensors file: {0}")]
    WeightsFormat(String),

    /// The checkpoint uses neither torchvision/timm nor Hugging Face transformers naming.
    #[error("unrecognised checkpoint naming: {0}")]
    UnknownNaming(String),

    /// A tensor the model needs is absent from the checkpoint.
    #[error("missing tensor `{name}` (expected shape {expected:?})")]
    MissingTensor { name: String, expected: Vec<usize> },

    /// The checkpoint holds a tensor the model does not use.
    #[error("unexpected tensor `{name}` with shape {shape:?} in the checkpoint")]
    UnexpectedTensor { name: String, shape: Vec<usize> },

    /// A tensor has the wrong shape.
    #[error("tensor `{name}` has shape {found:?}, expected {expected:?}")]
    ShapeMismatch {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },

    /// A tensor is stored in a dtype we do not read.
    #[error("tensor `{name}` has dtype {dtype}, expected f32, f16 or bf16")]
    UnsupportedDtype { name: String, dtype: String },

    /// A tensor holds NaN or infinite values.
    #[error("tensor `{name}` contains {count} NaN or infinite value(s)")]
    NonFinite { name: String, count: usize },

    /// A checkpoint the page knows by its address is not what that address should give.
    #[error("{url} is not the checkpoint expected there: {problem}")]
    UnexpectedCheckpoint { url: String, problem: String },

    /// The image could not be decoded or has an unusable size.
    #[error("image error: {0}")]
    Image(String),

    /// The image is too large to decode safely (checked from its header).
    #[error("image is {width}×{height} pixels; the limit is 32768 px a side and 200 megapixels")]
    ImageTooLarge { width: u32, height: u32 },

    /// The image is too elongated for a square crop to show anything of it.
    #[error(
        "image is {width}×{height} pixels: one side is more than 32 times the other, too \
         narrow for the network's square crop"
    )]
    ImageAspect { width: u32, height: u32 },

    /// The image data ends early: part of the picture is missing.
    #[error(
        "the image file is incomplete (cut off before its end): part of the picture is missing"
    )]
    ImageTruncated,

    /// An argument or configuration value is out of range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },

    /// No GPU adapter or device could be had (no WebGPU in this browser, no Vulkan driver).
    #[error("no GPU available: {0}")]
    GpuUnavailable(String),

    /// The GPU device was lost or ran out of memory mid-run.
    #[error("the GPU was lost: {0}")]
    GpuLost(String),

    /// A GPU kernel or transfer failed.
    #[error("GPU error: {0}")]
    Gpu(String),

    /// The job was cancelled by the caller.
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    /// True when the error comes from the user's input rather than a bug (CLI exit code 2 vs 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(
            self,
            Error::Candle(_)
                | Error::Cancelled
                | Error::Gpu(_)
                | Error::GpuLost(_)
                | Error::GpuUnavailable(_)
        )
    }
}

/// Result with the crate's error type.
pub type Result<T> = std::result::Result<T, Error>;
