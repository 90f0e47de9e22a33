//! Downloads with byte progress, cached in Cache Storage (used by the worker).

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, ReadableStreamDefaultReader, Response, WorkerGlobalScope};

/// Name of the Cache Storage bucket for weights.
pub const CACHE_NAME: &str = "resnet-lab-weights-v1";

fn describe(err: JsValue) -> String {
    err.as_string()
        .or_else(|| {
            Reflect::get(&err, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| format!("{err:?}"))
}

fn worker_scope() -> Result<WorkerGlobalScope, String> {
    js_sys::global()
        .dyn_into()
        .map_err(|_| "downloads run in the engine worker".to_string())
}

async fn open_cache(scope: &WorkerGlobalScope) -> Option<Cache> {
    let caches = scope.caches().ok()?;
    JsFuture::from(caches.open(CACHE_NAME))
        .await
        .ok()?
        .dyn_into()
        .ok()
}

/// A response body being read chunk by chunk.
pub struct Download {
    reader: ReadableStreamDefaultReader,
    /// Content length, when known.
    pub total: Option<u64>,
    /// Bytes received so far.
    pub bytes: Vec<u8>,
    /// True when the response came from Cache Storage.
    pub from_cache: bool,
}

impl Download {
    fn from_response(response: &Response, from_cache: bool) -> Result<Self, String> {
        let total = response
            .headers()
            .get("content-length")
            .ok()
            .flatten()
            .and_then(|v| v.parse::<u64>().ok());
        let body = response.body().ok_or("the response has no body")?;
        Ok(Self {
            reader: body.get_reader().unchecked_into(),
            total,
            bytes: Vec::with_capacity(total.unwrap_or(0) as usize),
            from_cache,
        })
    }

    /// Starts downloading `url`, from Cache Storage when it was downloaded before.
    pub async fn start(url: &str) -> Result<Self, String> {
        let scope = worker_scope()?;
        if let Some(cache) = open_cache(&scope).await {
            if let Ok(hit) = JsFuture::from(cache.match_with_str(url)).await {
                if let Ok(response) = hit.dyn_into::<Response>() {
                    return Self::from_response(&response, true);
                }
            }
        }
        let response: Response = JsFuture::from(scope.fetch_with_str(url))
            .await
            .map_err(|e| format!("could not download {url}: {}", describe(e)))?
            .dyn_into()
            .map_err(|_| "fetch did not return a response".to_string())?;
        if !response.ok() {
            return Err(format!(
                "could not download {url}: HTTP {} {}",
                response.status(),
                response.status_text()
            ));
        }
        Self::from_response(&response, false)
    }

    /// Reads the next chunk; false once the body is complete.
    pub async fn next_chunk(&mut self) -> Result<bool, String> {
        let chunk = JsFuture::from(self.reader.read()).await.map_err(describe)?;
        let done = Reflect::get(&chunk, &"done".into())
            .map_err(describe)?
            .as_bool()
            .unwrap_or(true);
        if done {
            if let Some(total) = self.total {
                if (self.bytes.len() as u64) < total {
                    return Err(format!(
                        "the download stopped after {} of {total} bytes",
                        self.bytes.len()
                    ));
                }
            }
            return Ok(false);
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into())
            .map_err(describe)?
            .unchecked_into();
        let start = self.bytes.len();
        self.bytes.resize(start + value.length() as usize, 0);
        value.copy_to(&mut self.bytes[start..]);
        Ok(true)
    }
}

/// Stores `bytes` under `url` in Cache Storage (best effort: a full or missing cache is not an
/// error, the next visit just downloads again).
pub async fn remember(url: &str, bytes: &[u8]) {
    let Ok(scope) = worker_scope() else {
        return;
    };
    let Some(cache) = open_cache(&scope).await else {
        return;
    };
    let mut copy = bytes.to_vec();
    if let Ok(response) = Response::new_with_opt_u8_array(Some(&mut copy)) {
        let _ = JsFuture::from(cache.put_with_str(url, &response)).await;
    }
}
