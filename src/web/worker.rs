//! The engine worker: a yew-agent reactor that owns the engine and answers [`Request`]s.
//!
//! Explore runs advance one stage at a time; between stages the worker yields to its event loop
//! and looks at the queued requests, so a `Cancel` or a newer `Explore` stops the run.

use std::collections::VecDeque;

use futures::{FutureExt, SinkExt, StreamExt};
use yew_agent::reactor::{reactor, ReactorScope};

use super::fetch::{remember, Download};
use super::protocol::{Event, JobId, Request, RgbaImage};
use crate::backend::{BackendChoice, RanOn};
use crate::engine::{Engine, Exploration, GradientOptions, PredictOptions};
use crate::image::RgbImage;
use crate::model::ResNetConfig;
use crate::weights::{Init, InitJob, InitKind, WeightsInfo};

/// The CPU backend: the threads it runs on and whether this build has relaxed SIMD (see
/// `super::worker_build`).
fn cpu_ran_on() -> RanOn {
    RanOn::Cpu {
        threads: crate::parallel::threads(),
        relaxed_simd: cfg!(target_feature = "relaxed-simd"),
    }
}

/// The weights the page starts with: untrained, seeded He init.
pub fn default_init() -> Init {
    Init::new(InitKind::He, 0)
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

/// The network crop as RGBA for display, and the normalized tensor.
fn prepare(image: &RgbaImage, size: u32) -> crate::Result<(RgbaImage, candle_core::Tensor)> {
    let rgb = RgbImage::from_rgba(image.width, image.height, &image.rgba)?;
    // One resize + crop: the tensor is made from the same crop the page shows.
    let crop = rgb.network_crop(size)?;
    let tensor = crop.to_tensor()?;
    let rgba = crop
        .data
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    Ok((
        RgbaImage {
            width: size,
            height: size,
            rgba,
        },
        tensor,
    ))
}

/// What a gradient run needs, unpacked from [`Request::Gradients`].
struct GradientRequest {
    image: RgbaImage,
    size: u32,
    init: Option<Init>,
    options: GradientOptions,
}

/// The worker's GPU, created on first use and kept across runs.
#[cfg(feature = "webgpu")]
enum Gpu {
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
struct Explored {
    result: Exploration,
    compute_ms: f64,
    ran: RanOn,
    fallback: Option<String>,
}

struct Worker {
    scope: ReactorScope<Request, Event>,
    queue: VecDeque<Request>,
    /// The input of the last Explore run, for block views on demand.
    last_input: Option<(JobId, candle_core::Tensor)>,
    #[cfg(feature = "webgpu")]
    gpu: Gpu,
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

    /// Moves requests that arrived meanwhile into the queue; true if they cancel `job`.
    fn drain_cancels(&mut self, job: JobId) -> bool {
        let mut cancel = false;
        while let Some(Some(request)) = self.scope.next().now_or_never() {
            match &request {
                Request::Cancel { job: j } if *j == job => cancel = true,
                Request::Cancel { .. } => {}
                Request::Explore { .. } | Request::Gradients { .. } => {
                    cancel = true;
                    self.queue.push_back(request);
                }
                _ => self.queue.push_back(request),
            }
        }
        cancel
    }

    async fn explore(
        &mut self,
        engine: &Engine,
        job: JobId,
        image: RgbaImage,
        size: u32,
        backend: BackendChoice,
    ) -> bool {
        let (crop, input) = match prepare(&image, size) {
            Ok(v) => v,
            Err(e) => return self.fail(job, e).await,
        };
        self.last_input = Some((job, input.clone()));
        if !self.send(Event::Crop { job, image: crop }).await {
            return false;
        }
        let mut fallback = None;
        if backend.wants_gpu() {
            let ran = self.explore_gpu(engine, &input).await;
            // The GPU run (and, the first time, the device and the upload) is one await: look
            // for a Cancel or a newer run that arrived meanwhile.
            if self.drain_cancels(job) {
                return self.send(Event::Cancelled { job }).await;
            }
            match ran {
                Ok(Some(done)) => return self.explored(job, done).await,
                Ok(None) => {
                    if backend == BackendChoice::WebGpu {
                        fallback = self.gpu_problem();
                    }
                }
                Err(e) => fallback = Some(e.to_string()),
            }
        }
        let mut run = match engine.start_explore(&input, &PredictOptions::default()) {
            Ok(run) => run,
            Err(e) => return self.fail(job, e).await,
        };
        let mut compute_ms = 0.0;
        while !run.is_done() {
            let t0 = now_ms();
            let progress = match run.step() {
                Ok(p) => p,
                Err(e) => return self.fail(job, e).await,
            };
            compute_ms += now_ms() - t0;
            if !self.send(Event::Progress { job, progress }).await {
                return false;
            }
            yield_now().await;
            if self.drain_cancels(job) {
                return self.send(Event::Cancelled { job }).await;
            }
        }
        match run.finish() {
            Ok(result) => {
                let done = Explored {
                    result,
                    compute_ms,
                    ran: cpu_ran_on(),
                    fallback,
                };
                self.explored(job, done).await
            }
            Err(e) => self.fail(job, e).await,
        }
    }

    async fn explored(&mut self, job: JobId, done: Explored) -> bool {
        self.send(Event::Explored {
            job,
            result: Box::new(done.result),
            elapsed_ms: done.compute_ms,
            ran: done.ran,
            fallback: done.fallback,
        })
        .await
    }

    /// Why the GPU is not used, once it has been tried.
    #[cfg(feature = "webgpu")]
    fn gpu_problem(&self) -> Option<String> {
        match &self.gpu {
            Gpu::Unavailable(why) => Some(why.clone()),
            _ => None,
        }
    }

    #[cfg(not(feature = "webgpu"))]
    fn gpu_problem(&self) -> Option<String> {
        Some("this build has no WebGPU path".into())
    }

    /// The Explore forward on the GPU: `Ok(None)` when there is no GPU to use, `Err` when the
    /// GPU failed mid-run (it is then given up and the caller runs the CPU, saying why).
    #[cfg(feature = "webgpu")]
    async fn explore_gpu(
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
            Gpu::Stale(mut net) => net.load(engine.inference()).map(|()| *net),
            Gpu::Untried => match GpuContext::new().await {
                Ok(ctx) => GpuResNet::new(ctx, engine.inference()),
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
                let result = crate::engine::exploration_from_gpu(&forward, top_k)?;
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
    async fn explore_gpu(
        &mut self,
        _: &Engine,
        _: &candle_core::Tensor,
    ) -> crate::Result<Option<Explored>> {
        Ok(None)
    }

    /// New weights: the GPU keeps its device and uploads them on next use.
    fn weights_changed(&mut self) {
        #[cfg(feature = "webgpu")]
        {
            self.gpu = match std::mem::replace(&mut self.gpu, Gpu::Untried) {
                Gpu::Ready(net) => Gpu::Stale(net),
                other => other,
            };
        }
    }

    /// Destroys the GPU device as a driver reset would (the page's `?gpu_fault=lose` test hook).
    fn lose_gpu(&mut self) {
        #[cfg(feature = "webgpu")]
        if let Gpu::Ready(net) = &self.gpu {
            net.context().device.destroy();
        }
    }

    async fn gradients(&mut self, engine: &Engine, job: JobId, request: GradientRequest) -> bool {
        let GradientRequest {
            image,
            size,
            init,
            options,
        } = request;
        let start = now_ms();
        let prepared = prepare(&image, size).and_then(|(_, input)| {
            let run = engine.start_gradient_flow(&input, &options, init)?;
            Ok(run)
        });
        let mut run = match prepared {
            Ok(run) => run,
            Err(e) => return self.fail(job, e).await,
        };
        while !run.is_done() {
            let mut updates = Vec::new();
            if let Err(e) = run.step(&mut |p| {
                updates.push(p);
                Ok(())
            }) {
                return self.fail(job, e).await;
            }
            for progress in updates {
                if !self.send(Event::Progress { job, progress }).await {
                    return false;
                }
            }
            yield_now().await;
            if self.drain_cancels(job) {
                return self.send(Event::Cancelled { job }).await;
            }
        }
        match run.finish(&mut |_| Ok(())) {
            Ok(flow) => {
                self.send(Event::Gradients {
                    job,
                    flow: Box::new(flow),
                    elapsed_ms: now_ms() - start,
                })
                .await
            }
            Err(e) => self.fail(job, e).await,
        }
    }

    async fn load_url(&mut self, slot: &mut EngineSlot, url: String) -> bool {
        let start = now_ms();
        let mut download = match Download::start(&url).await {
            Ok(d) => d,
            Err(message) => return self.send(Event::WeightsFailed { message }).await,
        };
        let mut last_report = 0.0;
        loop {
            match download.next_chunk().await {
                Ok(more) => {
                    let t = now_ms();
                    if t - last_report > 100.0 || !more {
                        last_report = t;
                        let secs = ((t - start) / 1e3).max(1e-3);
                        let loaded = download.bytes.len() as u64;
                        let update = Event::WeightsProgress {
                            loaded,
                            total: download.total,
                            mb_per_s: loaded as f64 / 1e6 / secs,
                        };
                        if !self.send(update).await {
                            return false;
                        }
                    }
                    if !more {
                        break;
                    }
                }
                Err(message) => return self.send(Event::WeightsFailed { message }).await,
            }
        }
        match Engine::from_safetensors(&download.bytes, &url) {
            Ok(engine) => {
                let info = engine.weights().info.clone();
                *slot = EngineSlot::Ready(Box::new(engine));
                self.weights_changed();
                if !download.from_cache {
                    remember(&url, &download.bytes).await;
                }
                let from_cache = download.from_cache;
                self.send(Event::WeightsLoaded { info, from_cache }).await
            }
            Err(e) => {
                self.send(Event::WeightsFailed {
                    message: format!("{url}: {e}"),
                })
                .await
            }
        }
    }
}

/// The engine, or the seeded initialization it starts from while that is being generated.
///
/// The worker answers the page at once and generates the init one tensor at a time in idle
/// time; a run that needs the engine earlier finishes it first, and loading other weights
/// skips it altogether.
enum EngineSlot {
    /// Weights still being generated.
    Pending(InitJob),
    /// Ready to run.
    Ready(Box<Engine>),
    /// Generating or building the engine failed (message shown to the user).
    Broken(String),
}

impl EngineSlot {
    fn starting(init: Init) -> Self {
        EngineSlot::Pending(init.start(&ResNetConfig::resnet50(1000)))
    }

    /// What the weights are (known before they are generated).
    fn info(&self) -> Option<WeightsInfo> {
        match self {
            EngineSlot::Pending(job) => Some(job.info()),
            EngineSlot::Ready(engine) => Some(engine.weights().info.clone()),
            EngineSlot::Broken(_) => None,
        }
    }

    /// Generates one more tensor; builds the engine after the last.
    fn step(&mut self) {
        if let EngineSlot::Pending(job) = self {
            if let Err(e) = job.step() {
                *self = EngineSlot::Broken(e.to_string());
                return;
            }
            if job.is_done() {
                // A failure is kept in `Broken` and reported by the next request.
                let _ = self.engine_now();
            }
        }
    }

    /// The engine, generating whatever is left of the init first.
    fn engine_now(&mut self) -> Result<&Engine, String> {
        if let EngineSlot::Pending(_) = self {
            let EngineSlot::Pending(job) =
                std::mem::replace(self, EngineSlot::Broken(String::new()))
            else {
                return Err("engine state lost".into());
            };
            *self = match job.finish().and_then(Engine::with_weights) {
                Ok(engine) => EngineSlot::Ready(Box::new(engine)),
                Err(e) => EngineSlot::Broken(e.to_string()),
            };
        }
        match self {
            EngineSlot::Ready(engine) => Ok(engine),
            EngineSlot::Broken(message) => Err(message.clone()),
            EngineSlot::Pending(_) => Err("engine not ready".into()),
        }
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
        gpu: Gpu::Untried,
    };
    let mut slot = EngineSlot::starting(default_init());
    loop {
        let request = if matches!(slot, EngineSlot::Pending(_)) {
            match worker.try_next() {
                Some(Some(request)) => request,
                Some(None) => return,
                None => {
                    slot.step();
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
        if !alive {
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
            Request::LoadWeightsUrl { url } => self.load_url(slot, url).await,
            Request::LoadWeightsBytes { name, bytes } => {
                match Engine::from_safetensors(&bytes, &name) {
                    Ok(engine) => {
                        let info = engine.weights().info.clone();
                        *slot = EngineSlot::Ready(Box::new(engine));
                        self.weights_changed();
                        let from_cache = false;
                        self.send(Event::WeightsLoaded { info, from_cache }).await
                    }
                    Err(e) => {
                        let message = format!("{name}: {e}");
                        self.send(Event::WeightsFailed { message }).await
                    }
                }
            }
            Request::UseInit(init) => {
                *slot = EngineSlot::starting(init);
                self.weights_changed();
                let info = init.info();
                let from_cache = false;
                self.send(Event::WeightsLoaded { info, from_cache }).await
            }
            Request::Explore {
                job,
                image,
                size,
                backend,
            } => match slot {
                EngineSlot::Ready(engine) => self.explore(engine, job, image, size, backend).await,
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
            Request::Gradients {
                job,
                image,
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
                    variant: crate::model::Variant::V1_5,
                    norm,
                    target,
                    precision,
                };
                let request = GradientRequest {
                    image,
                    size,
                    init,
                    options,
                };
                self.gradients(engine, job, request).await
            }
        }
    }
}
