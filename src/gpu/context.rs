//! The GPU device: adapter, queue, buffer helpers, read-back, and loss/error tracking.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use wgpu::util::DeviceExt;

use super::dispatch::Dispatch;
use crate::{Error, Result};

/// A WebGPU (browser) or Vulkan (native) device with its queue.
pub struct GpuContext {
    /// The device kernels run on.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// What the adapter says it is, e.g. `SwiftShader (Vulkan)`.
    pub adapter_name: String,
    lost: Arc<AtomicBool>,
    lost_reason: Arc<Mutex<String>>,
}

impl GpuContext {
    /// Asks for a GPU adapter and device. Errors with [`Error::GpuUnavailable`] when there is
    /// none (no WebGPU in this browser, no Vulkan driver natively).
    pub async fn new() -> Result<Self> {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        desc.backends = wgpu::Backends::BROWSER_WEBGPU | wgpu::Backends::VULKAN;
        let instance = wgpu::Instance::new(desc);
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                force_fallback_adapter: false,
                compatible_surface: None,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::GpuUnavailable(e.to_string()))?;
        let info = adapter.get_info();
        // Browsers keep the adapter's name to themselves.
        let adapter_name = if info.name.is_empty() {
            match info.backend {
                wgpu::Backend::BrowserWebGpu => "browser adapter".to_string(),
                other => format!("{other:?}"),
            }
        } else {
            format!("{} ({:?})", info.name, info.backend)
        };
        let limits = wgpu::Limits::default().using_resolution(adapter.limits());
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("resnet-lab"),
                required_features: wgpu::Features::empty(),
                required_limits: limits,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::GpuUnavailable(e.to_string()))?;
        let lost = Arc::new(AtomicBool::new(false));
        let lost_reason = Arc::new(Mutex::new(String::new()));
        {
            // Errors outside an error scope (an upload that runs out of memory, say) would
            // panic in wgpu's default handler: record them instead, as a lost device.
            let (lost, reason) = (lost.clone(), lost_reason.clone());
            device.on_uncaptured_error(std::sync::Arc::new(move |e: wgpu::Error| {
                lost.store(true, Ordering::SeqCst);
                if let Ok(mut r) = reason.lock() {
                    *r = e.to_string();
                }
            }));
        }
        {
            let (lost, reason) = (lost.clone(), lost_reason.clone());
            device.set_device_lost_callback(move |why, message| {
                lost.store(true, Ordering::SeqCst);
                if let Ok(mut r) = reason.lock() {
                    *r = format!("{why:?}: {message}");
                }
            });
        }
        Ok(Self {
            device,
            queue,
            adapter_name,
            lost,
            lost_reason,
        })
    }

    /// Fails with [`Error::GpuLost`] once the device is gone.
    pub fn check_alive(&self) -> Result<()> {
        if self.lost.load(Ordering::SeqCst) {
            let reason = self
                .lost_reason
                .lock()
                .map(|r| r.clone())
                .unwrap_or_default();
            return Err(Error::GpuLost(reason));
        }
        Ok(())
    }

    /// A read-only storage buffer holding `data`.
    pub fn upload(&self, label: &str, data: &[f32]) -> wgpu::Buffer {
        // WebGPU refuses zero-sized bindings; a one-element buffer stands in for an empty one.
        let bytes: Vec<u8> = if data.is_empty() {
            vec![0; 4]
        } else {
            data.iter().flat_map(|v| v.to_le_bytes()).collect()
        };
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: &bytes,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            })
    }

    /// A storage buffer of `len` f32s that kernels write and the host can copy out of.
    pub fn scratch(&self, label: &str, len: usize) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (len.max(1) * 4) as u64,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// A uniform buffer holding one parameter struct.
    pub fn uniform(&self, label: &str, words: &[u32]) -> wgpu::Buffer {
        let bytes: Vec<u8> = words.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: &bytes,
                usage: wgpu::BufferUsages::UNIFORM,
            })
    }

    /// A compute pipeline from WGSL source with entry point `main` and its layout inferred.
    pub fn pipeline(&self, label: &str, wgsl: &str) -> wgpu::ComputePipeline {
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(wgsl.into()),
            });
        self.device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            })
    }

    /// A bind group for group 0 of `pipeline`, binding `buffers` in order from binding 0.
    pub fn bind(
        &self,
        label: &str,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[&wgpu::Buffer],
    ) -> wgpu::BindGroup {
        let layout = pipeline.get_bind_group_layout(0);
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(label),
            layout: &layout,
            entries: &entries,
        })
    }

    /// Encodes `dispatches` in order into one compute pass and submits it.
    pub fn submit(&self, dispatches: &[Dispatch]) {
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("kernels"),
            });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("kernels"),
                timestamp_writes: None,
            });
            for d in dispatches {
                d.encode(&mut pass);
            }
        }
        self.queue.submit([encoder.finish()]);
    }

    /// Copies the first `len` f32s of each buffer back to the host, in one submission.
    pub async fn read(&self, buffers: &[(&wgpu::Buffer, usize)]) -> Result<Vec<Vec<f32>>> {
        self.check_alive()?;
        let total: usize = buffers.iter().map(|(_, len)| len.max(&1) * 4).sum();
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("read-back"),
            size: total as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("read-back"),
            });
        let mut offset = 0u64;
        for (buffer, len) in buffers {
            let bytes = (len.max(&1) * 4) as u64;
            encoder.copy_buffer_to_buffer(buffer, 0, &staging, offset, bytes);
            offset += bytes;
        }
        self.queue.submit([encoder.finish()]);
        let (tx, rx) = futures_channel::oneshot::channel();
        staging
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |result| {
                let _ = tx.send(result);
            });
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(e.to_string()))?;
        rx.await
            .map_err(|_| Error::GpuLost("the read-back was dropped".into()))?
            .map_err(|e| Error::Gpu(e.to_string()))?;
        self.check_alive()?;
        let mut out = Vec::with_capacity(buffers.len());
        {
            let view = staging
                .slice(..)
                .get_mapped_range()
                .map_err(|e| Error::Gpu(e.to_string()))?;
            let mut start = 0usize;
            for (_, len) in buffers {
                let bytes = &view[start..start + len * 4];
                out.push(
                    bytes
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect(),
                );
                start += len.max(&1) * 4;
            }
        }
        staging.unmap();
        Ok(out)
    }

    /// Opens out-of-memory and validation error scopes; [`ErrorScopes::finish`] turns what they
    /// caught into [`Error::GpuLost`] / [`Error::Gpu`] instead of a panic or a wrong result.
    pub fn error_scopes(&self) -> ErrorScopes {
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        ErrorScopes { oom, validation }
    }
}

/// The error scopes around one forward pass (see [`GpuContext::error_scopes`]).
pub struct ErrorScopes {
    oom: wgpu::ErrorScopeGuard,
    validation: wgpu::ErrorScopeGuard,
}

impl ErrorScopes {
    /// Closes the scopes (innermost first) and reports the first error they caught.
    pub async fn finish(self) -> Result<()> {
        let validation = self.validation.pop().await;
        let oom = self.oom.pop().await;
        if let Some(e) = oom {
            return Err(Error::GpuLost(format!("out of GPU memory: {e}")));
        }
        if let Some(e) = validation {
            return Err(Error::Gpu(e.to_string()));
        }
        Ok(())
    }
}

/// Blocks on a GPU future (native only; the browser awaits instead).
#[cfg(not(target_arch = "wasm32"))]
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    pollster::block_on(future)
}
