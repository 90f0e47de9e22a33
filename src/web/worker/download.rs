//! Downloads with byte progress, cached in Cache Storage (used by the worker).

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, Cache, ReadableStreamDefaultReader, Response, WorkerGlobalScope};

/// Name of the Cache Storage bucket for weights.
pub const CACHE_NAME: &str = "resnet-lab-weights-v1";

/// The most a download may bring: 512 MB, five times a ResNet-50 checkpoint in f32. A server
/// that states more is refused before a byte is read; one that sends more is cut off.
pub const MAX_DOWNLOAD_BYTES: u64 = 512 << 20;

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

/// The checkpoint cache, where the browser has Cache Storage: not on an insecure (plain
/// `http://`, not localhost) origin, where `caches` is undefined and the download goes on
/// without a cache.
async fn open_cache(scope: &WorkerGlobalScope) -> Option<Cache> {
    let caches = scope.caches().ok().filter(|c| !c.is_undefined())?;
    JsFuture::from(caches.open(CACHE_NAME))
        .await
        .ok()?
        .dyn_into()
        .ok()
}

/// A response body being read chunk by chunk. The chunks stay in the browser (JavaScript
/// memory, or disk for a large `Blob`), never in wasm memory, which never shrinks: the
/// checkpoint is read from them one tensor at a time. Nothing is sized from the headers.
pub struct Download {
    reader: ReadableStreamDefaultReader,
    /// Content length, when known.
    pub total: Option<u64>,
    /// True when `total` counts the bytes that arrive (no content encoding in between).
    exact: bool,
    /// The chunks received so far.
    chunks: Array,
    /// Bytes received so far.
    pub received: u64,
    /// True when the response came from Cache Storage.
    pub from_cache: bool,
}

impl Download {
    fn from_response(response: &Response, from_cache: bool) -> Result<Self, String> {
        let header = |name: &str| response.headers().get(name).ok().flatten();
        let total = header("content-length").and_then(|v| v.trim().parse::<u64>().ok());
        // A compressed response's length counts the compressed bytes, not those read.
        let exact = header("content-encoding")
            .is_none_or(|e| e.trim().is_empty() || e.eq_ignore_ascii_case("identity"));
        if let Some(total) = total.filter(|t| *t > MAX_DOWNLOAD_BYTES) {
            return Err(too_large(total));
        }
        let body = response.body().ok_or("the response has no body")?;
        Ok(Self {
            reader: body.get_reader().unchecked_into(),
            total,
            exact,
            chunks: Array::new(),
            received: 0,
            from_cache,
        })
    }

    /// Starts downloading `url`, from Cache Storage when it was downloaded before and
    /// `use_cache` is set.
    pub async fn start(url: &str, use_cache: bool) -> Result<Self, String> {
        let scope = worker_scope()?;
        if let Some(cache) = open_cache(&scope).await.filter(|_| use_cache) {
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
        let chunk = JsFuture::from(self.reader.read()).await.map_err(|e| {
            let of = match self.total {
                Some(total) => format!(" of {total}"),
                None => String::new(),
            };
            format!(
                "the download broke off after {}{of} bytes ({}): the connection was cut or the \
                 server sent less than it announced",
                self.received,
                describe(e)
            )
        })?;
        let done = Reflect::get(&chunk, &"done".into())
            .map_err(describe)?
            .as_bool()
            .unwrap_or(true);
        if done {
            return match self.total.filter(|_| self.exact) {
                Some(total) if self.received < total => Err(format!(
                    "the download stopped after {} of {total} bytes: the connection was cut \
                     or the server sent less than it announced",
                    self.received
                )),
                _ => Ok(false),
            };
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into())
            .map_err(describe)?
            .unchecked_into();
        let end = self.received + value.length() as u64;
        if end > MAX_DOWNLOAD_BYTES {
            self.cancel();
            return Err(too_large(end));
        }
        if let Some(total) = self.total.filter(|t| self.exact && end > *t) {
            self.cancel();
            return Err(format!(
                "the server sent more than the {total} bytes it announced: the file is not \
                 what it claims to be"
            ));
        }
        self.chunks.push(&value);
        self.received = end;
        Ok(true)
    }

    /// The whole body as one `Blob` (no copy into wasm memory).
    pub fn into_blob(self) -> Result<Blob, String> {
        Blob::new_with_u8_array_sequence(&self.chunks).map_err(describe)
    }

    /// Stops reading: the browser drops the rest of the body.
    pub fn cancel(&self) {
        let _ = self.reader.cancel();
    }
}

fn too_large(bytes: u64) -> String {
    format!(
        "the download is {} MB, more than the {} MB a weights file may have",
        bytes >> 20,
        MAX_DOWNLOAD_BYTES >> 20
    )
}

/// Stores `body` under `url` in Cache Storage (best effort: a full or missing cache is not an
/// error, the next visit just downloads again). The browser copies it, not wasm.
pub async fn remember(url: &str, body: &Blob) {
    let Ok(scope) = worker_scope() else {
        return;
    };
    let Some(cache) = open_cache(&scope).await else {
        return;
    };
    if let Ok(response) = Response::new_with_opt_blob(Some(body)) {
        let _ = JsFuture::from(cache.put_with_str(url, &response)).await;
    }
}

/// Deletes the cached copy of `url` (best effort), so that the next load downloads it again.
pub async fn forget(url: &str) {
    let Ok(scope) = worker_scope() else {
        return;
    };
    if let Some(cache) = open_cache(&scope).await {
        let _ = JsFuture::from(cache.delete_with_str(url)).await;
    }
}
