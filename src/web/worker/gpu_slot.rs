//! The worker's GPU: created on first use, kept across runs and weights, given up (the CPU runs
//! instead, saying why) when there is no adapter or the device is lost.

#[cfg(feature = "webgpu")]
use super::now_ms;
use super::Worker;
use crate::backend::RanOn;
#[cfg(feature = "webgpu")]
use crate::engine::PredictOptions;
use crate::engine::{Engine, Exploration};

/// The worker's GPU, created on first use and kept across runs.
#[cfg(feature = "webgpu")]
pub(super) enum Gpu {
    /// Not asked for yet.
    Untried,
    /// No adapter, or the device was lost: the CPU runs everything from now on.
    Unavailable(String),
    /// The device, its kernels and the weights in use.
    Ready(Box<crate::gpu::GpuResNet>),
    /// The device and its kernels, with old weights: the new ones are uploaded on next use.
    Stale(Box<crate::gpu::GpuResNet>),
}

/// What an Explore forward produced and where it ran.
pub(super) struct Explored {
    pub(super) result: Exploration,
    pub(super) compute_ms: f64,
    pub(super) ran: RanOn,
    pub(super) fallback: Option<String>,
}

impl Worker {
    /// Why the GPU is not used, once it has been tried.
    #[cfg(feature = "webgpu")]
    pub(super) fn gpu_problem(&self) -> Option<String> {
        match &self.gpu {
            Gpu::Unavailable(why) => Some(why.clone()),
            _ => None,
        }
    }

    #[cfg(not(feature = "webgpu"))]
    pub(super) fn gpu_problem(&self) -> Option<String> {
        Some("this build has no WebGPU path".into())
    }

    /// The Explore forward on the GPU: `Ok(None)` when there is no GPU to use, `Err` when the
    /// GPU failed mid-run (it is then given up and the caller runs the CPU, saying why).
    #[cfg(feature = "webgpu")]
    pub(super) async fn explore_gpu(
        &mut self,
        engine: &Engine,
        input: &candle_core::Tensor,
    ) -> crate::Result<Option<Explored>> {
        use crate::gpu::{GpuContext, GpuResNet, Readback};
        let state = std::mem::replace(&mut self.gpu, Gpu::Untried);
        let ready = match state {
            Gpu::Ready(net) => Ok(*net),
            Gpu::Unavailable(why) => {
                self.gpu = Gpu::Unavailable(why);
                return Ok(None);
            }
            Gpu::Stale(mut net) => engine
                .gpu_network()
                .and_then(|model| net.load(&model))
                .map(|()| *net),
            Gpu::Untried => match GpuContext::new().await {
                Ok(ctx) => engine
                    .gpu_network()
                    .and_then(|model| GpuResNet::new(ctx, &model)),
                Err(e) => Err(e),
            },
        };
        let mut net = match ready {
            Ok(net) => net,
            Err(e) => {
                self.gpu = Gpu::Unavailable(e.to_string());
                return Ok(None);
            }
        };
        let t0 = now_ms();
        let forward = net.forward(input, Readback::Blocks).await;
        let compute_ms = now_ms() - t0;
        let adapter = net.context().adapter_name.clone();
        match forward {
            Ok(forward) => {
                self.gpu = Gpu::Ready(Box::new(net));
                let top_k = PredictOptions::default().top_k;
                let result = crate::analysis::explore::exploration_from_gpu(&forward, top_k)?;
                Ok(Some(Explored {
                    result,
                    compute_ms,
                    ran: RanOn::WebGpu { adapter },
                    fallback: None,
                }))
            }
            Err(e) => {
                // A lost device is gone for good; any other failure costs this run only.
                self.gpu = match e {
                    crate::Error::GpuLost(_) | crate::Error::GpuUnavailable(_) => {
                        Gpu::Unavailable(e.to_string())
                    }
                    _ => Gpu::Ready(Box::new(net)),
                };
                Err(e)
            }
        }
    }

    #[cfg(not(feature = "webgpu"))]
    pub(super) async fn explore_gpu(
        &mut self,
        _: &Engine,
        _: &candle_core::Tensor,
    ) -> crate::Result<Option<Explored>> {
        Ok(None)
    }

    /// New weights: the GPU keeps its device and uploads them on next use.
    pub(super) fn weights_changed(&mut self) {
        #[cfg(feature = "webgpu")]
        {
            self.gpu = match std::mem::replace(&mut self.gpu, Gpu::Untried) {
                Gpu::Ready(net) => Gpu::Stale(net),
                other => other,
            };
        }
    }

    /// Gives back the GPU device and the weights on it (Auto measured the CPU faster): a later
    /// explicit WebGPU run builds them again.
    pub(super) fn release_gpu(&mut self) {
        #[cfg(feature = "webgpu")]
        {
            self.gpu = Gpu::Untried;
        }
    }

    /// Destroys the GPU device as a driver reset would (the page's `?gpu_fault=lose` test hook).
    pub(super) fn lose_gpu(&mut self) {
        #[cfg(feature = "webgpu")]
        if let Gpu::Ready(net) = &self.gpu {
            net.context().device.destroy();
        }
    }
}
