//! Loading weights from a URL: the download with byte progress, then the new engine. A cached
//! copy that does not load (a stale or damaged entry) is deleted and downloaded again, once.

use super::download::{forget, remember, Download};
use super::init_slot::EngineSlot;
use super::{now_ms, Worker};
use crate::engine::Engine;
use crate::web::protocol::Event;

/// What a download ended with.
enum Fetched {
    /// Every byte.
    Complete(Download),
    /// It failed, with this message for the user.
    Failed(String),
    /// A newer weights request arrived (it is queued): this one stops.
    Superseded,
    /// The page is gone.
    PageGone,
}

impl Worker {
    /// Loads the weights at `url`; `file` names a local file the page handed over as an object
    /// URL (read like a download, under the same cap, and never cached).
    pub(super) async fn load_url(
        &mut self,
        slot: &mut EngineSlot,
        url: String,
        file: Option<String>,
    ) -> bool {
        let local = file.is_some();
        let source = file.unwrap_or_else(|| url.clone());
        for use_cache in [!local, false] {
            let mut download = match self.download(&url, use_cache).await {
                Fetched::Complete(d) => d,
                Fetched::Failed(message) => {
                    return self.send(Event::WeightsFailed { message }).await
                }
                Fetched::Superseded => return true,
                Fetched::PageGone => return false,
            };
            let from_cache = download.from_cache;
            if !from_cache && !local {
                remember(&url, &mut download.bytes).await;
            }
            match Engine::from_safetensors(&download.bytes, &source) {
                Ok(engine) => {
                    let info = engine.weights().info.clone();
                    *slot = EngineSlot::Ready(Box::new(engine));
                    self.weights_changed();
                    return self.send(Event::WeightsLoaded { info, from_cache }).await;
                }
                // A cached copy that does not load: delete it and download once more.
                Err(_) if from_cache => forget(&url).await,
                Err(e) => {
                    // Never keep what does not load.
                    if !local {
                        forget(&url).await;
                    }
                    let message = format!("{source}: {e}");
                    return self.send(Event::WeightsFailed { message }).await;
                }
            }
        }
        let message = format!("{source}: the download did not load twice");
        self.send(Event::WeightsFailed { message }).await
    }

    /// Downloads `url` (from Cache Storage when `use_cache` and it is there), reporting the
    /// bytes as they arrive.
    async fn download(&mut self, url: &str, use_cache: bool) -> Fetched {
        let start = now_ms();
        let mut download = match Download::start(url, use_cache).await {
            Ok(d) => d,
            Err(message) => return Fetched::Failed(message),
        };
        let mut last_report = 0.0;
        loop {
            if self.newer_weights_request() {
                download.cancel();
                return Fetched::Superseded;
            }
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
                            return Fetched::PageGone;
                        }
                    }
                    if !more {
                        return Fetched::Complete(download);
                    }
                }
                Err(message) => return Fetched::Failed(message),
            }
        }
    }
}
