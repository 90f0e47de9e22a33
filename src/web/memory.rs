//! How much memory a wasm module holds: its linear memory, which grows and never shrinks, so
//! the figure is also the high-water mark since the module started.

use wasm_bindgen::JsCast;

/// The size of this module's linear memory in bytes (an `ArrayBuffer`, or a
/// `SharedArrayBuffer` in the threaded build).
pub fn wasm_memory_bytes() -> u64 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|m| js_sys::Reflect::get(&m.buffer(), &"byteLength".into()).ok())
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0) as u64
}
