//! Which build of the engine worker the page loads: the fastest this browser can run.
//!
//! `make build` puts four builds of the same worker in `dist/` (see the Makefile): trunk's
//! (plain wasm SIMD, one thread: runs in every current browser), one with relaxed SIMD (the
//! matrix kernel's fused multiply-add), and two threaded ones on shared memory, with and without
//! relaxed SIMD. A module that uses a feature the browser lacks fails to compile as a whole, so
//! the choice is made here, before the worker starts: threads need a cross-origin isolated page
//! (COOP/COEP headers) and more than one core, relaxed SIMD a browser that validates it.
//! A build missing from the server (no nightly when the site was built) is skipped.

use wasm_bindgen::JsCast;

/// One build of the engine worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerBuild {
    /// Shared memory and a pool of Web Workers.
    pub threaded: bool,
    /// Relaxed SIMD (fused multiply-add).
    pub relaxed_simd: bool,
}

impl WorkerBuild {
    /// Trunk's build, which every browser with wasm SIMD runs.
    pub const PLAIN: WorkerBuild = WorkerBuild {
        threaded: false,
        relaxed_simd: false,
    };

    /// Where `make build` puts this build's script.
    pub fn path(self) -> &'static str {
        match (self.threaded, self.relaxed_simd) {
            (false, false) => super::WORKER_PATH,
            (false, true) => "./relaxed/worker.js",
            (true, true) => "./mt-relaxed/worker.js",
            (true, false) => "./mt/worker.js",
        }
    }

    /// The builds this browser can run, fastest first, ending with [`WorkerBuild::PLAIN`].
    pub fn candidates(isolated: bool, cores: usize, relaxed_simd: bool) -> Vec<WorkerBuild> {
        let threads = [true, false]
            .into_iter()
            .filter(|&t| !t || (isolated && cores > 1));
        threads
            .flat_map(|threaded| {
                [true, false]
                    .into_iter()
                    .filter(|&r| !r || relaxed_simd)
                    .map(move |relaxed_simd| WorkerBuild {
                        threaded,
                        relaxed_simd,
                    })
            })
            .collect()
    }

    /// The build to load: the first of [`WorkerBuild::candidates`] that the server has.
    pub async fn choose() -> WorkerBuild {
        let candidates = WorkerBuild::candidates(
            super::threads::cross_origin_isolated(),
            super::threads::wanted_threads(),
            has_relaxed_simd(),
        );
        for build in candidates {
            if build == WorkerBuild::PLAIN || exists(build.path()).await {
                return build;
            }
        }
        WorkerBuild::PLAIN
    }
}

/// A minimal module whose one function uses `f32x4.relaxed_madd` (the instruction the relaxed
/// builds depend on): `WebAssembly.validate` accepts it exactly when the browser has relaxed SIMD.
const RELAXED_SIMD_PROBE: [u8; 40] = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // types: () -> v128
    0x03, 0x02, 0x01, 0x00, // one function of type 0
    0x0a, 0x13, 0x01, 0x11, 0x00, // code: one body of 17 bytes, no locals
    0x41, 0x01, 0xfd, 0x0f, // i32.const 1, i8x16.splat
    0x41, 0x02, 0xfd, 0x0f, // i32.const 2, i8x16.splat
    0x41, 0x03, 0xfd, 0x0f, // i32.const 3, i8x16.splat
    0xfd, 0x85, 0x02, // f32x4.relaxed_madd
    0x0b, // end
];

/// Whether this browser's WebAssembly has relaxed SIMD.
pub fn has_relaxed_simd() -> bool {
    js_sys::WebAssembly::validate(&js_sys::Uint8Array::from(&RELAXED_SIMD_PROBE[..]))
        .unwrap_or(false)
}

/// Whether the server has `path` (a HEAD request answered 2xx).
async fn exists(path: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let init = web_sys::RequestInit::new();
    init.set_method("HEAD");
    let request = window.fetch_with_str_and_init(path, &init);
    match wasm_bindgen_futures::JsFuture::from(request).await {
        Ok(response) => response
            .dyn_into::<web_sys::Response>()
            .is_ok_and(|r| r.ok()),
        Err(_) => false,
    }
}
