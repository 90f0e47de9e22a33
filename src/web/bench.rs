//! Entry points for `make bench`: the same folded inference network the worker runs, exposed to
//! the benchmark page so that it is timed in the same browser as ONNX Runtime Web and TF.js.

use candle_core::{Device, Tensor};
use wasm_bindgen::prelude::*;

use crate::analysis::cam::{CamJob, CamOptions};
use crate::config::ResNetConfig;
use crate::model::ResNet;
use crate::weights::{Init, InitKind, Weights};

/// A ResNet-50 (He init, seed 0, batch norm folded) and a fixed input.
#[wasm_bindgen]
pub struct BenchModel {
    model: ResNet,
    input: Tensor,
    /// The raw weights (seeded, generated when asked for), for a CAM's backward.
    weights: Weights,
}

#[wasm_bindgen]
impl BenchModel {
    /// Builds the network for `size`×`size` inputs.
    #[wasm_bindgen(constructor)]
    pub fn new(size: usize) -> Result<BenchModel, JsError> {
        let config = ResNetConfig {
            input_size: size,
            ..ResNetConfig::resnet50(1000)
        };
        let weights = Init::new(InitKind::He, 0)
            .weights(&config)
            .map_err(|e| JsError::new(&e.to_string()))?;
        // The lean network the engine keeps, so that the bench's memory figure is the page's.
        let model = ResNet::new(config, &weights)
            .and_then(|m| m.for_inference())
            .map_err(|e| JsError::new(&e.to_string()))?;
        let input = Tensor::ones((1, 3, size, size), candle_core::DType::F32, &Device::Cpu)
            .map_err(|e| JsError::new(&e.to_string()))?;
        Ok(BenchModel {
            model,
            input,
            weights,
        })
    }

    /// One forward pass; returns the first logit (so nothing is optimized away).
    pub fn forward(&self) -> Result<f32, JsError> {
        let logits = self
            .model
            .forward(&self.input)
            .map_err(|e| JsError::new(&e.to_string()))?;
        logits
            .flatten_all()
            .and_then(|l| l.get(0))
            .and_then(|v| v.to_scalar::<f32>())
            .map_err(|e| JsError::new(&e.to_string()))
    }
}

#[wasm_bindgen]
impl BenchModel {
    /// Grad-CAM of the `top_k` top classes at `stage` (as the page's Explore computes it: one
    /// forward, the classes' backward as one batch); returns the first map's first value.
    pub fn cam(&self, top_k: usize, stage: usize) -> Result<f32, JsError> {
        let options = CamOptions {
            stage,
            top_k,
            ..CamOptions::default()
        };
        let result = CamJob::new(
            self.model.clone(),
            self.weights.clone(),
            &self.input,
            options,
        )
        .and_then(CamJob::finish)
        .map_err(|e| JsError::new(&e.to_string()))?;
        Ok(result
            .maps
            .first()
            .and_then(|m| m.values.first().copied())
            .unwrap_or_default())
    }

    /// Time per kind of layer for one forward pass, as JSON (`[{kind, count, ms, gflop}]`).
    pub fn profile(&self) -> Result<String, JsError> {
        let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into())
            .ok()
            .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
            .ok_or_else(|| JsError::new("no performance clock"))?;
        let now = move || performance.now();
        let rows = crate::infer::profile::profile_forward(&self.model, &self.input, &now)
            .map_err(|e| JsError::new(&e.to_string()))?;
        serde_json::to_string(&rows).map_err(|e| JsError::new(&e.to_string()))
    }
}

/// Current size of this module's linear memory in bytes (it only grows, so this is the peak).
#[wasm_bindgen]
pub fn wasm_memory_bytes() -> f64 {
    super::memory::wasm_memory_bytes() as f64
}

/// The same network on the GPU path (WebGPU kernels), for the benchmark's WebGPU rows.
#[cfg(feature = "webgpu")]
#[wasm_bindgen]
pub struct BenchGpuModel {
    /// Taken out while a forward pass runs (so no borrow is held across its awaits).
    model: std::rc::Rc<std::cell::Cell<Option<crate::gpu::GpuResNet>>>,
    input: Tensor,
    adapter: String,
}

#[cfg(feature = "webgpu")]
#[wasm_bindgen]
impl BenchGpuModel {
    /// Asks for a WebGPU device and uploads the network for `size`×`size` inputs.
    pub async fn create(size: usize) -> Result<BenchGpuModel, JsError> {
        let js = |e: crate::Error| JsError::new(&e.to_string());
        let config = ResNetConfig {
            input_size: size,
            ..ResNetConfig::resnet50(1000)
        };
        let weights = Init::new(InitKind::He, 0).weights(&config).map_err(js)?;
        let model = ResNet::new(config, &weights)
            .and_then(|m| m.fold_batch_norm())
            .map_err(js)?;
        let ctx = crate::gpu::GpuContext::new().await.map_err(js)?;
        let adapter = ctx.adapter_name.clone();
        let gpu = crate::gpu::GpuResNet::new(ctx, &model).map_err(js)?;
        let input = Tensor::ones((1, 3, size, size), candle_core::DType::F32, &Device::Cpu)
            .map_err(|e| JsError::new(&e.to_string()))?;
        Ok(BenchGpuModel {
            model: std::rc::Rc::new(std::cell::Cell::new(Some(gpu))),
            input,
            adapter,
        })
    }

    /// The adapter's name.
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        self.adapter.clone()
    }

    /// One forward pass with the logits read back; resolves to the first logit.
    pub fn forward(&self) -> js_sys::Promise {
        let (model, input) = (self.model.clone(), self.input.clone());
        wasm_bindgen_futures::future_to_promise(async move {
            let mut gpu = model
                .take()
                .ok_or_else(|| JsValue::from_str("a forward pass is already running"))?;
            let out = gpu.forward(&input, crate::gpu::Readback::Logits).await;
            model.set(Some(gpu));
            let out = out.map_err(|e| JsValue::from_str(&e.to_string()))?;
            let first = out
                .logits
                .flatten_all()
                .and_then(|l| l.get(0))
                .and_then(|v| v.to_scalar::<f32>())
                .map_err(|e| JsValue::from_str(&e.to_string()))?;
            Ok(JsValue::from_f64(first as f64))
        })
    }
}

/// Threads the forward pass uses (the caller plus the pool's workers).
#[wasm_bindgen]
pub fn parallel_threads() -> usize {
    crate::kernels::thread_pool::threads()
}

/// This module, to start pool workers on it (threaded build).
#[cfg(target_feature = "atomics")]
#[wasm_bindgen]
pub fn shared_module() -> JsValue {
    wasm_bindgen::module()
}

/// This module's shared memory, to start pool workers on it (threaded build).
#[cfg(target_feature = "atomics")]
#[wasm_bindgen]
pub fn shared_memory() -> JsValue {
    wasm_bindgen::memory()
}
