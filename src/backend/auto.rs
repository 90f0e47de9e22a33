//! What "Auto" runs on: never a software WebGPU adapter; otherwise the faster of the CPU and
//! WebGPU, timed once on the same input and remembered per adapter and engine build.

use serde::{Deserialize, Serialize};

use super::{BackendKind, RanOn};

/// Names of renderers that run WebGPU on the CPU (matched in lower case): SwiftShader
/// (Chromium's), Mesa's llvmpipe, lavapipe and softpipe, Microsoft's WARP.
const SOFTWARE_RENDERERS: [&str; 6] = [
    "swiftshader",
    "llvmpipe",
    "lavapipe",
    "softpipe",
    "warp",
    "basic render driver",
];

/// What the browser says about its WebGPU adapter (`GPUAdapterInfo`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterFacts {
    /// `info.vendor`, e.g. `google`.
    pub vendor: String,
    /// `info.architecture`, e.g. `swiftshader`.
    pub architecture: String,
    /// `info.device` (often empty: browsers keep it to themselves).
    pub device: String,
    /// `info.description` (often empty).
    pub description: String,
    /// `info.isFallbackAdapter` (or the adapter's older `isFallbackAdapter`).
    pub is_fallback: bool,
}

impl AdapterFacts {
    /// A name for people: the description, else vendor and architecture.
    pub fn name(&self) -> String {
        if !self.description.is_empty() {
            return self.description.clone();
        }
        let parts: Vec<&str> = [&self.vendor, &self.architecture, &self.device]
            .into_iter()
            .map(String::as_str)
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            "browser adapter".to_string()
        } else {
            parts.join(" ")
        }
    }

    /// True for a fallback adapter or a known software renderer: such an adapter runs our
    /// kernels on the CPU, far slower than the wasm engine, so Auto never picks it.
    pub fn is_software(&self) -> bool {
        let named = [
            &self.vendor,
            &self.architecture,
            &self.device,
            &self.description,
        ]
        .iter()
        .map(|s| s.to_lowercase())
        .any(|s| SOFTWARE_RENDERERS.iter().any(|r| s.contains(r)));
        self.is_fallback || named
    }
}

/// The engine build a choice is made with: crate version, threaded or not (cross-origin
/// isolated pages load the threaded build) and SIMD flavour. A new version or another build
/// measures again. It is the build, not the live thread count: the pool's workers join a
/// moment after the worker starts, and a reload must find its choice again.
pub fn engine_id() -> String {
    let threads = if cfg!(all(target_arch = "wasm32", target_feature = "atomics")) {
        "threaded"
    } else {
        "single"
    };
    let simd = if cfg!(target_feature = "relaxed-simd") {
        "relaxed"
    } else {
        "simd128"
    };
    format!("{} {threads} {simd}", crate::VERSION)
}

/// Why Auto runs where it does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AutoReason {
    /// Both backends ran the same Explore forward, warm; wall times in milliseconds.
    Measured {
        /// The CPU's.
        cpu_ms: f64,
        /// WebGPU's (after one untimed run that compiles the kernels and uploads the weights).
        gpu_ms: f64,
    },
    /// The adapter renders in software: not tried.
    SoftwareAdapter,
    /// WebGPU failed while being measured (the message).
    GpuFailed(String),
}

/// Auto's choice for one adapter and engine build.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AutoPick {
    /// The adapter it was made for.
    pub adapter: AdapterFacts,
    /// The engine build it was made with ([`engine_id`]).
    pub engine: String,
    /// The CPU backend it compared (threads, SIMD), for the page to name.
    pub cpu: RanOn,
    /// What Auto runs on.
    pub picked: BackendKind,
    /// Why.
    pub reason: AutoReason,
}

impl AutoPick {
    /// The CPU, because `adapter` renders in software.
    pub fn software(adapter: AdapterFacts, cpu: RanOn) -> Self {
        Self::new(adapter, cpu, BackendKind::Cpu, AutoReason::SoftwareAdapter)
    }

    /// The faster of the two timings (the CPU on a tie: it needs no device).
    pub fn measured(adapter: AdapterFacts, cpu: RanOn, cpu_ms: f64, gpu_ms: f64) -> Self {
        let picked = if gpu_ms < cpu_ms {
            BackendKind::WebGpu
        } else {
            BackendKind::Cpu
        };
        Self::new(
            adapter,
            cpu,
            picked,
            AutoReason::Measured { cpu_ms, gpu_ms },
        )
    }

    /// The CPU, because WebGPU failed with `message` while being measured.
    pub fn gpu_failed(adapter: AdapterFacts, cpu: RanOn, message: String) -> Self {
        Self::new(
            adapter,
            cpu,
            BackendKind::Cpu,
            AutoReason::GpuFailed(message),
        )
    }

    fn new(adapter: AdapterFacts, cpu: RanOn, picked: BackendKind, reason: AutoReason) -> Self {
        Self {
            engine: engine_id(),
            adapter,
            cpu,
            picked,
            reason,
        }
    }

    /// Whether this choice was made for `adapter` and this engine build (else Auto measures
    /// again).
    pub fn applies_to(&self, adapter: &AdapterFacts) -> bool {
        self.adapter == *adapter && self.engine == engine_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swiftshader() -> AdapterFacts {
        // What headless Chromium 156 reports with --enable-unsafe-webgpu and no GPU.
        AdapterFacts {
            vendor: "google".into(),
            architecture: "swiftshader".into(),
            is_fallback: true,
            ..Default::default()
        }
    }

    fn hardware() -> AdapterFacts {
        AdapterFacts {
            vendor: "intel".into(),
            architecture: "gen-12lp".into(),
            ..Default::default()
        }
    }

    fn two_threads() -> RanOn {
        RanOn::Cpu {
            threads: 2,
            relaxed_simd: true,
        }
    }

    #[test]
    fn software_adapters_are_told_by_the_flag_or_by_name() {
        assert!(swiftshader().is_software());
        // The name alone suffices (browsers before `info.isFallbackAdapter`).
        let unflagged = AdapterFacts {
            is_fallback: false,
            ..swiftshader()
        };
        assert!(unflagged.is_software());
        for name in [
            "llvmpipe (LLVM 15.0.6, 256 bits)",
            "Lavapipe",
            "Microsoft Basic Render Driver",
        ] {
            let a = AdapterFacts {
                description: name.into(),
                ..hardware()
            };
            assert!(a.is_software(), "{name}");
        }
        let flagged = AdapterFacts {
            is_fallback: true,
            ..hardware()
        };
        assert!(flagged.is_software());
        assert!(!hardware().is_software());
        assert_eq!(swiftshader().name(), "google swiftshader");
        assert_eq!(AdapterFacts::default().name(), "browser adapter");
    }

    #[test]
    fn the_faster_backend_is_picked() {
        let gpu_wins = AutoPick::measured(hardware(), two_threads(), 104.0, 38.0);
        assert_eq!(gpu_wins.picked, BackendKind::WebGpu);
        let cpu_wins = AutoPick::measured(hardware(), two_threads(), 104.0, 7600.0);
        assert_eq!(cpu_wins.picked, BackendKind::Cpu);
        let tie = AutoPick::measured(hardware(), two_threads(), 100.0, 100.0);
        assert_eq!(tie.picked, BackendKind::Cpu);
        let failed = AutoPick::gpu_failed(hardware(), two_threads(), "lost".into());
        assert_eq!(failed.picked, BackendKind::Cpu);
        assert_eq!(
            AutoPick::software(swiftshader(), two_threads()).picked,
            BackendKind::Cpu
        );
    }

    #[test]
    fn a_choice_holds_for_its_adapter_and_engine_build_only() {
        let pick = AutoPick::measured(hardware(), two_threads(), 104.0, 38.0);
        assert!(pick.applies_to(&hardware()));
        assert!(!pick.applies_to(&swiftshader()));
        let other_gpu = AdapterFacts {
            architecture: "rdna-3".into(),
            ..hardware()
        };
        assert!(!pick.applies_to(&other_gpu));
        // Made by another version or build (threaded or not, SIMD flavour): measured again.
        let older = AutoPick {
            engine: "0.0.9 threaded relaxed".into(),
            ..pick.clone()
        };
        assert!(!older.applies_to(&hardware()));
        assert!(pick.engine.starts_with(crate::VERSION));
        // Remembered as JSON in the page's localStorage: it must read back the same.
        let json = serde_json::to_string(&pick).unwrap();
        assert_eq!(serde_json::from_str::<AutoPick>(&json).unwrap(), pick);
    }
}
