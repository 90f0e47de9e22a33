//! The worker's long runs, Explore, class activation maps and the Gradient lab: progress after
//! every step, and a cancel or a newer run honoured between steps.

use super::auto_pick::AutoPlan;
use super::gpu_slot::Explored;
use super::{cpu_ran_on, now_ms, yield_now, Worker};
use crate::analysis::gradients::mirrored_batch;
use crate::backend::BackendChoice;
use crate::config::Variant;
use crate::engine::{CamOptions, Engine, GradientOptions, PredictOptions};
use crate::image::{Preprocess, RgbImage};
use crate::web::protocol::{Event, JobId, Request, RgbaImage};
use crate::weights::Init;

/// The network crop under `recipe` as RGBA for display, and the normalized tensor.
pub(super) fn prepare(
    image: &RgbaImage,
    recipe: &Preprocess,
) -> crate::Result<(RgbaImage, candle_core::Tensor)> {
    let rgb = RgbImage::from_rgba(image.width, image.height, &image.rgba)?;
    // One resize + crop: the tensor is made from the same crop the page shows.
    let crop = recipe.crop_of(&rgb)?;
    let tensor = recipe.normalize(&crop)?;
    let size = crop.width;
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
pub(super) struct GradientRequest {
    pub(super) images: Vec<RgbaImage>,
    pub(super) batch: usize,
    pub(super) size: u32,
    pub(super) init: Option<Init>,
    pub(super) options: GradientOptions,
}

impl Worker {
    pub(super) async fn explore(
        &mut self,
        engine: &Engine,
        job: JobId,
        image: RgbaImage,
        backend: BackendChoice,
    ) -> bool {
        let recipe = self.preprocess.clone();
        let (crop, input) = match prepare(&image, &recipe) {
            Ok(v) => v,
            Err(e) => return self.fail(job, e).await,
        };
        self.last_input = Some((job, input.clone()));
        if !self.send(Event::Crop { job, image: crop }).await {
            return false;
        }
        let plan = match backend {
            BackendChoice::Cpu => AutoPlan::Cpu,
            BackendChoice::WebGpu => AutoPlan::Gpu,
            BackendChoice::Auto => self.auto_plan().await,
        };
        let mut fallback = None;
        if matches!(plan, AutoPlan::Gpu) {
            let ran = self.explore_gpu(engine, &input).await;
            // The GPU run (and, the first time, the device and the upload) is one await: look
            // for a Cancel or a newer run that arrived meanwhile.
            if self.drain_cancels(job) {
                return self.send(Event::Cancelled { job }).await;
            }
            match ran {
                Ok(Some(done)) => return self.explored(job, done).await,
                // Auto plans WebGPU only after measuring it faster: its failing is news too.
                Ok(None) => fallback = self.gpu_problem(),
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
                if !self.explored(job, done).await {
                    return false;
                }
                match plan {
                    AutoPlan::CpuThenMeasure(adapter) => {
                        self.measure_auto(engine, &input, adapter).await
                    }
                    _ => true,
                }
            }
            Err(e) => self.fail(job, e).await,
        }
    }

    /// The class activation maps of `input` (an Explore run's), always on the CPU: a newer CAM
    /// or Explore request cancels them.
    pub(super) async fn cam(
        &mut self,
        engine: &Engine,
        run: JobId,
        input: &candle_core::Tensor,
        options: CamOptions,
    ) -> bool {
        let start = now_ms();
        let mut job = match engine.start_cam(input, Variant::V1_5, options) {
            Ok(job) => job,
            Err(e) => return self.fail(run, e).await,
        };
        while !job.is_done() {
            let progress = match job.step() {
                Ok(p) => p,
                Err(e) => return self.fail(run, e).await,
            };
            if !self.send(Event::Progress { job: run, progress }).await {
                return false;
            }
            yield_now().await;
            if self.superseded(run, |r| {
                matches!(r, Request::Cam { .. } | Request::Explore { .. })
            }) {
                return self.send(Event::Cancelled { job: run }).await;
            }
        }
        match job.finish() {
            Ok(result) => {
                let elapsed_ms = now_ms() - start;
                let result = Box::new(result);
                self.send(Event::Cam {
                    run,
                    result,
                    elapsed_ms,
                })
                .await
            }
            Err(e) => self.fail(run, e).await,
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

    pub(super) async fn gradients(
        &mut self,
        engine: &Engine,
        job: JobId,
        request: GradientRequest,
    ) -> bool {
        let GradientRequest {
            images,
            batch,
            size,
            init,
            options,
        } = request;
        let start = now_ms();
        let recipe = Preprocess::torchvision(size);
        let prepared = images
            .iter()
            .map(|image| prepare(image, &recipe).map(|(_, input)| input))
            .collect::<crate::Result<Vec<_>>>()
            .and_then(|inputs| mirrored_batch(&inputs, batch))
            .and_then(|input| engine.start_gradient_flow(&input, &options, init));
        let mut run = match prepared {
            Ok(run) => run,
            Err(e) => return self.fail(job, e).await,
        };
        // A step is one stage of one network, forward or backward. Between steps the worker
        // reads its messages (a Cancel, or a newer run) once every YIELD_MS: each look costs
        // a timer turn, which browsers clamp to 4 ms when they come in a row.
        const YIELD_MS: f64 = 25.0;
        let mut looked = now_ms();
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
            if now_ms() - looked < YIELD_MS {
                continue;
            }
            yield_now().await;
            looked = now_ms();
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
}
