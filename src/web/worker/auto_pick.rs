//! "Auto" in the worker: which backend an Explore run uses, and the one-time measurement that
//! decides it for a hardware adapter (see `crate::backend::auto`).

use super::{cpu_ran_on, now_ms, Worker};
use crate::backend::auto::{AdapterFacts, AutoPick};
use crate::backend::BackendKind;
use crate::engine::{Engine, PredictOptions};
use crate::web::protocol::Event;

/// Where an Auto run goes.
pub(super) enum AutoPlan {
    /// The CPU: no adapter, a software one, or the CPU was measured faster.
    Cpu,
    /// WebGPU: it was measured faster on this adapter and engine build.
    Gpu,
    /// The CPU now (the user's result comes first), then both timed on the same input.
    CpuThenMeasure(AdapterFacts),
}

impl Worker {
    /// The plan for an Auto run: the remembered choice when it was made for this adapter and
    /// build, else the CPU for a software adapter, else a measurement.
    pub(super) async fn auto_plan(&mut self) -> AutoPlan {
        if !cfg!(feature = "webgpu") {
            return AutoPlan::Cpu;
        }
        if self.adapter.is_none() {
            self.adapter = Some(adapter_facts().await);
        }
        let Some(Some(adapter)) = self.adapter.clone() else {
            return AutoPlan::Cpu;
        };
        if let Some(pick) = self.auto.as_ref().filter(|p| p.applies_to(&adapter)) {
            return match pick.picked {
                BackendKind::Cpu => AutoPlan::Cpu,
                BackendKind::WebGpu => AutoPlan::Gpu,
            };
        }
        if adapter.is_software() && !self.measure_software {
            let pick = AutoPick::software(adapter, cpu_ran_on());
            self.auto = Some(pick.clone());
            // Told to the page only to show and remember; failing to send ends the worker
            // at its next send anyway.
            let _ = self.send(Event::AutoPicked(pick)).await;
            return AutoPlan::Cpu;
        }
        AutoPlan::CpuThenMeasure(adapter)
    }

    /// Times the Explore forward of `input` on the CPU and, after one untimed run that builds
    /// the device and uploads the weights, on WebGPU; keeps the faster and tells the page.
    pub(super) async fn measure_auto(
        &mut self,
        engine: &Engine,
        input: &candle_core::Tensor,
        adapter: AdapterFacts,
    ) -> bool {
        let cpu = cpu_ran_on();
        let cpu_ms = match time_cpu_explore(engine, input) {
            Ok(ms) => ms,
            Err(e) => return self.fail_measure(adapter, e.to_string()).await,
        };
        let mut gpu_ms = None;
        for _ in 0..2 {
            match self.explore_gpu(engine, input).await {
                Ok(Some(done)) => gpu_ms = Some(done.compute_ms),
                Ok(None) => {
                    let why = self.gpu_problem().unwrap_or_default();
                    return self.fail_measure(adapter, why).await;
                }
                Err(e) => return self.fail_measure(adapter, e.to_string()).await,
            }
        }
        let pick = match gpu_ms {
            Some(gpu_ms) => AutoPick::measured(adapter, cpu, cpu_ms, gpu_ms),
            None => AutoPick::gpu_failed(adapter, cpu, "no timing".into()),
        };
        self.remember(pick).await
    }

    async fn fail_measure(&mut self, adapter: AdapterFacts, why: String) -> bool {
        self.remember(AutoPick::gpu_failed(adapter, cpu_ran_on(), why))
            .await
    }

    async fn remember(&mut self, pick: AutoPick) -> bool {
        if pick.picked == BackendKind::Cpu {
            // Memory is a budget: the weights on the GPU are of no use to the CPU.
            self.release_gpu();
        }
        self.auto = Some(pick.clone());
        self.send(Event::AutoPicked(pick)).await
    }
}

/// Wall time of one Explore forward on the CPU, its statistics included (what a run costs).
fn time_cpu_explore(engine: &Engine, input: &candle_core::Tensor) -> crate::Result<f64> {
    let t0 = now_ms();
    let mut run = engine.start_explore(input, &PredictOptions::default())?;
    while !run.is_done() {
        run.step()?;
    }
    run.finish()?;
    Ok(now_ms() - t0)
}

/// What `navigator.gpu.requestAdapter()` says about the adapter (the one wgpu gets with the
/// same options), or `None` without WebGPU or an adapter. wgpu's own `AdapterInfo` leaves out
/// the vendor and architecture, which name SwiftShader in Chromium.
async fn adapter_facts() -> Option<AdapterFacts> {
    use js_sys::{Function, Object, Promise, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    let get = |target: &JsValue, key: &str| {
        Reflect::get(target, &JsValue::from_str(key))
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    };
    let navigator = get(&js_sys::global(), "navigator")?;
    let gpu = get(&navigator, "gpu")?;
    let request = get(&gpu, "requestAdapter")?.dyn_into::<Function>().ok()?;
    let options = Object::new();
    Reflect::set(
        &options,
        &JsValue::from_str("powerPreference"),
        &JsValue::from_str("high-performance"),
    )
    .ok()?;
    let promise = request
        .call1(&gpu, &options)
        .ok()?
        .dyn_into::<Promise>()
        .ok()?;
    let adapter = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    if adapter.is_null() || adapter.is_undefined() {
        return None;
    }
    let info = get(&adapter, "info").unwrap_or(JsValue::UNDEFINED);
    let text = |key: &str| {
        get(&info, key)
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let flag = |target: &JsValue| get(target, "isFallbackAdapter").and_then(|v| v.as_bool());
    Some(AdapterFacts {
        vendor: text("vendor"),
        architecture: text("architecture"),
        device: text("device"),
        description: text("description"),
        is_fallback: flag(&info).or_else(|| flag(&adapter)).unwrap_or(false),
    })
}
