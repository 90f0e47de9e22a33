//! The engine worker: a yew-agent reactor that owns the engine and answers [`Request`]s. This
//! file receives and dispatches requests; the runs (`runs`), the GPU (`gpu_slot`), downloads
//! and their cache (`download`, `load_url`, `blob_bytes`) and the engine being built
//! (`init_slot`) each have their own file.
//!
//! Explore runs advance one stage at a time; between stages the worker yields to its event loop
//! and looks at the queued requests, so a `Cancel` or a newer `Explore` stops the run.

mod auto_pick;
mod blob_bytes;
mod download;
mod gpu_slot;
mod init_slot;
mod load_url;
mod recipe;
mod runs;

use std::collections::VecDeque;

use futures::{FutureExt, SinkExt, StreamExt};
use yew_agent::reactor::{reactor, ReactorScope};

use super::protocol::{default_init, Event, JobId, Request};
use crate::backend::RanOn;
use crate::engine::{GradientOptions, PredictOptions};
use crate::weights::WeightsInfo;
use init_slot::EngineSlot;
use runs::GradientRequest;

/// The CPU backend: the threads it runs on and whether this build has relaxed SIMD (see
/// `super::worker_build`).
fn cpu_ran_on() -> RanOn {
    RanOn::Cpu {
        threads: crate::kernels::thread_pool::threads(),
        relaxed_simd: cfg!(target_feature = "relaxed-simd"),
    }
}

/// The answer to [`Request::Ping`]: the crate version and the weights in use.
pub fn ready(weights: &WeightsInfo) -> Event {
    Event::Ready {
        version: crate::VERSION.to_string(),
        weights: weights.clone(),
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

async fn yield_now() {
    gloo::timers::future::TimeoutFuture::new(0).await;
}

struct Worker {
    scope: ReactorScope<Request, Event>,
    queue: VecDeque<Request>,
    /// The input of the last Explore run, for block views on demand.
    last_input: Option<(JobId, candle_core::Tensor)>,
    #[cfg(feature = "webgpu")]
    gpu: gpu_slot::Gpu,
    /// The memory size last told to the page.
    reported_memory: u64,
    /// How Explore turns an image into the network's input: the current weights' recipe.
    preprocess: crate::image::Preprocess,
    /// Auto's choice: remembered by the page, or measured here.
    auto: Option<crate::backend::auto::AutoPick>,
    /// The WebGPU adapter, once asked about (`Some(None)`: there is none).
    adapter: Option<Option<crate::backend::auto::AdapterFacts>>,
    /// Testing hook: Auto measures even a software adapter.
    measure_software: bool,
}

impl Worker {
    async fn send(&mut self, event: Event) -> bool {
        self.scope.send(event).await.is_ok()
    }

    /// Reports that run `job` failed; false once the page is gone.
    async fn fail(&mut self, job: JobId, error: impl std::fmt::Display) -> bool {
        self.send(Event::Failed {
            job,
            message: error.to_string(),
        })
        .await
    }

    async fn next(&mut self) -> Option<Request> {
        match self.queue.pop_front() {
            Some(r) => Some(r),
            None => self.scope.next().await,
        }
    }

    /// Tells the page the module's memory when it grew since the last report; false once the
    /// page is gone.
    async fn report_memory(&mut self) -> bool {
        let bytes = super::memory::wasm_memory_bytes();
        if bytes == self.reported_memory {
            return true;
        }
        self.reported_memory = bytes;
        self.send(Event::Memory { bytes }).await
    }

    /// Moves requests that arrived meanwhile into the queue; true if one of them asks for other
    /// weights (which supersedes a download in progress).
    fn newer_weights_request(&mut self) -> bool {
        while let Some(Some(request)) = self.scope.next().now_or_never() {
            self.queue.push_back(request);
        }
        self.queue.iter().any(|r| {
            matches!(
                r,
                Request::LoadWeightsUrl { .. }
                    | Request::LoadWeightsFile { .. }
                    | Request::UseInit(_)
            )
        })
    }

    /// Moves requests that arrived meanwhile into the queue; true if they cancel `job` (an
    /// Explore or gradient run): a `Cancel` of it, or a newer Explore or gradient run.
    fn drain_cancels(&mut self, job: JobId) -> bool {
        self.superseded(job, |r| {
            matches!(r, Request::Explore { .. } | Request::Gradients { .. })
        })
    }

    /// Moves requests that arrived meanwhile into the queue; true if one is a `Cancel` of
    /// `job` or a request that `newer` says supersedes it.
    fn superseded(&mut self, job: JobId, newer: impl Fn(&Request) -> bool) -> bool {
        let mut cancel = false;
        while let Some(Some(request)) = self.scope.next().now_or_never() {
            match &request {
                Request::Cancel { job: j } if *j == job => cancel = true,
                Request::Cancel { .. } => {}
                r if newer(r) => {
                    cancel = true;
                    self.queue.push_back(request);
                }
                _ => self.queue.push_back(request),
            }
        }
        cancel
    }
}

/// The reactor the page bridges to.
#[reactor(EngineWorker)]
pub async fn engine_worker(scope: ReactorScope<Request, Event>) {
    let mut worker = Worker {
        scope,
        queue: VecDeque::new(),
        last_input: None,
        #[cfg(feature = "webgpu")]
        gpu: gpu_slot::Gpu::Untried,
        reported_memory: 0,
        preprocess: crate::image::Preprocess::torchvision(224),
        auto: None,
        adapter: None,
        measure_software: false,
    };
    let mut slot = EngineSlot::starting(default_init());
    loop {
        let request = if matches!(slot, EngineSlot::Pending(_)) {
            match worker.try_next() {
                Some(Some(request)) => request,
                Some(None) => return,
                None => {
                    slot.step();
                    // The engine just got built: its memory is news for the page.
                    if !matches!(slot, EngineSlot::Pending(_)) && !worker.report_memory().await {
                        return;
                    }
                    yield_now().await;
                    continue;
                }
            }
        } else {
            match worker.next().await {
                Some(request) => request,
                None => return,
            }
        };
        let alive = worker.handle(&mut slot, request).await;
        if !alive || !worker.report_memory().await {
            return;
        }
    }
}

impl Worker {
    /// The next request if one is waiting: `Some(None)` once the page is gone.
    fn try_next(&mut self) -> Option<Option<Request>> {
        match self.queue.pop_front() {
            Some(r) => Some(Some(r)),
            None => self.scope.next().now_or_never(),
        }
    }

    /// Answers one request; false once the page is gone.
    async fn handle(&mut self, slot: &mut EngineSlot, request: Request) -> bool {
        let job_of = |r: &Request| match r {
            Request::Explore { job, .. }
            | Request::BlockMaps { job, .. }
            | Request::Gradients { job, .. } => Some(*job),
            Request::Cam { run, .. } => Some(*run),
            _ => None,
        };
        if let Some(job) = job_of(&request) {
            if let Err(message) = slot.engine_now() {
                return self.fail(job, message).await;
            }
        }
        match request {
            Request::Ping => match slot.info() {
                Some(info) => self.send(ready(&info)).await,
                None => {
                    let message = slot.engine_now().err().unwrap_or_default();
                    self.send(Event::WeightsFailed { message }).await
                }
            },
            Request::Cancel { .. } => true,
            Request::MeasureSoftwareAdapter => {
                self.measure_software = true;
                true
            }
            Request::AutoRemembered(pick) => {
                self.auto = pick;
                true
            }
            Request::LoseGpu => {
                self.lose_gpu();
                true
            }
            Request::StartThreads {
                script_url,
                threads,
            } => {
                // Without a pool the engine runs on one thread, and the page says "1 thread".
                let _ = super::threads::start_pool(&script_url, threads);
                true
            }
            Request::LoadWeightsUrl { url } => self.load_url(slot, url, None).await,
            Request::LoadWeightsFile {
                name,
                url,
                preprocess,
            } => {
                let picked = load_url::Picked { name, preprocess };
                self.load_url(slot, url, Some(picked)).await
            }
            Request::UseInit(init) => {
                *slot = EngineSlot::starting(init);
                self.weights_changed();
                self.preprocess = crate::image::Preprocess::torchvision(224);
                self.send(Event::WeightsLoaded {
                    info: init.info(),
                    from_cache: false,
                    preprocess: self.preprocess.clone(),
                    note: None,
                })
                .await
            }
            Request::Explore {
                job,
                image,
                backend,
            } => match slot {
                EngineSlot::Ready(engine) => self.explore(engine, job, image, backend).await,
                _ => self.fail(job, "engine not ready").await,
            },
            Request::BlockMaps { job, block } => {
                let EngineSlot::Ready(engine) = slot else {
                    return self.fail(job, "engine not ready").await;
                };
                match self.last_input.clone() {
                    Some((j, input)) if j == job => {
                        match engine.block_maps(&input, &PredictOptions::default(), block) {
                            Ok(maps) => {
                                let maps = Box::new(maps);
                                self.send(Event::BlockMaps { job, block, maps }).await
                            }
                            Err(e) => self.fail(job, e).await,
                        }
                    }
                    _ => {
                        self.fail(job, "that image is no longer loaded in the engine")
                            .await
                    }
                }
            }
            Request::Cam { job, run, options } => {
                let EngineSlot::Ready(engine) = slot else {
                    return self.fail(run, "engine not ready").await;
                };
                match self.last_input.clone() {
                    Some((j, input)) if j == job => self.cam(engine, run, &input, options).await,
                    _ => {
                        self.fail(run, "that image is no longer loaded in the engine")
                            .await
                    }
                }
            }
            Request::Gradients {
                job,
                images,
                batch,
                size,
                init,
                norm,
                target,
                precision,
            } => {
                let EngineSlot::Ready(engine) = slot else {
                    return self.fail(job, "engine not ready").await;
                };
                let options = GradientOptions {
                    variant: crate::config::Variant::V1_5,
                    norm,
                    target,
                    precision,
                };
                let request = GradientRequest {
                    images,
                    batch,
                    size,
                    init,
                    options,
                };
                self.gradients(engine, job, request).await
            }
        }
    }
}
