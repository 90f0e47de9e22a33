//! The engine's threads in the browser: how many, and the pool of Web Workers a threaded build
//! starts on its shared memory (see `crate::kernels::thread_pool`; which build loads: `super::worker_build`).

/// Whether the page is cross-origin isolated (shared memory allowed, so threads possible).
pub fn cross_origin_isolated() -> bool {
    js_sys::Reflect::get(&js_sys::global(), &"crossOriginIsolated".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// How many threads the engine should use: `?threads=N` when the address says (1–4, for
/// comparisons and `make bench`), else the browser's cores, at most 4.
pub fn wanted_threads() -> usize {
    if let Some(n) = super::query::query_param("threads").and_then(|v| v.parse::<usize>().ok()) {
        return n.clamp(1, 4);
    }
    web_sys::window()
        .map(|w| w.navigator().hardware_concurrency() as usize)
        .unwrap_or(1)
        .clamp(1, 4)
}

/// Starts `threads − 1` pool workers on this module and memory (threaded build only; the
/// single-threaded build ignores it). `script_url` is the absolute URL of the threaded
/// worker's script, which each pool worker loads. Returns the workers started.
pub fn start_pool(script_url: &str, threads: usize) -> Result<usize, String> {
    #[cfg(target_feature = "atomics")]
    {
        const BOOT: &str = "self.onmessage = (e) => { const [url, module, memory] = e.data; \
             importScripts(url); wasm_bindgen.initSync({ module, memory }); \
             wasm_bindgen.pool_worker_run(); };";
        let parts = js_sys::Array::of1(&BOOT.into());
        let options = web_sys::BlobPropertyBag::new();
        options.set_type("application/javascript");
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
            .map_err(|e| format!("{e:?}"))?;
        let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
        let mut started = 0;
        for _ in 1..threads {
            let worker = web_sys::Worker::new(&url).map_err(|e| format!("{e:?}"))?;
            let message = js_sys::Array::of3(
                &script_url.into(),
                &wasm_bindgen::module(),
                &wasm_bindgen::memory(),
            );
            worker
                .post_message(&message)
                .map_err(|e| format!("{e:?}"))?;
            started += 1;
        }
        Ok(started)
    }
    #[cfg(not(target_feature = "atomics"))]
    {
        let _ = (script_url, threads);
        Ok(0)
    }
}

/// Joins the thread pool and never returns (each pool worker calls it after loading the
/// module; threaded build only).
#[cfg(target_feature = "atomics")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn pool_worker_run() {
    crate::kernels::thread_pool::worker_loop();
}
