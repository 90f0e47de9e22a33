//! Which hardware runs the forward pass: the user's choice and what actually ran.

use serde::{Deserialize, Serialize};

pub mod auto;

/// The backend the user picked in Settings (or with `?backend=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendChoice {
    /// The faster of the CPU and a hardware WebGPU adapter, measured once (see [`auto`]).
    #[default]
    Auto,
    /// Always the CPU (wasm).
    Cpu,
    /// WebGPU; falls back to the CPU, saying so, when there is no adapter or it fails.
    WebGpu,
}

impl BackendChoice {
    /// Every choice, in the order the page lists them.
    pub const ALL: [BackendChoice; 3] = [
        BackendChoice::Auto,
        BackendChoice::Cpu,
        BackendChoice::WebGpu,
    ];

    /// Stable id: `auto`, `cpu`, `webgpu` (option values, query parameter).
    pub fn id(self) -> &'static str {
        match self {
            BackendChoice::Auto => "auto",
            BackendChoice::Cpu => "cpu",
            BackendChoice::WebGpu => "webgpu",
        }
    }

    /// The choice with id `id`, if any.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.id() == id)
    }
}

/// The kind of backend that ran a forward pass (see [`RanOn`] for the detail).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendKind {
    /// wasm (or native) CPU kernels.
    Cpu,
    /// The WGSL kernels through WebGPU (or Vulkan natively).
    WebGpu,
}

impl BackendKind {
    /// Stable id: `cpu` or `webgpu` (`data-backend` on `run-status`).
    pub fn id(self) -> &'static str {
        match self {
            BackendKind::Cpu => "cpu",
            BackendKind::WebGpu => "webgpu",
        }
    }
}

/// What ran a forward pass, in enough detail for the page to name it in either language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RanOn {
    /// The wasm CPU engine on `threads` threads, in a build with relaxed SIMD or without.
    Cpu {
        /// Threads that took part.
        threads: usize,
        /// The build multiplies and adds with relaxed SIMD's fused instruction.
        relaxed_simd: bool,
    },
    /// The WGSL kernels on this WebGPU adapter.
    WebGpu {
        /// The adapter's name.
        adapter: String,
    },
}

impl RanOn {
    /// Which kind of backend that is.
    pub fn kind(&self) -> BackendKind {
        match self {
            RanOn::Cpu { .. } => BackendKind::Cpu,
            RanOn::WebGpu { .. } => BackendKind::WebGpu,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for c in BackendChoice::ALL {
            assert_eq!(BackendChoice::from_id(c.id()), Some(c));
        }
        assert_eq!(BackendChoice::from_id("tpu"), None);
    }
}
