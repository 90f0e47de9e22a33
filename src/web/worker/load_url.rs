//! Loading weights from a URL: the download with byte progress, then the new engine. A cached
//! copy that does not load (a stale or damaged entry) is deleted and downloaded again, once.

use std::rc::Rc;

use super::blob_bytes::BlobBytes;
use super::download::{forget, remember, Download};
use super::init_slot::EngineSlot;
use super::recipe::Recipe;
use super::{now_ms, Worker};
use crate::engine::Engine;
use crate::web::protocol::{default_init, Event};
use crate::weights::known::KnownCheckpoint;
use crate::weights::Weights;

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

/// A local checkpoint the user picked: its name, and the preprocessing config picked with it.
pub(super) struct Picked {
    pub(super) name: String,
    pub(super) preprocess: Option<(String, String)>,
}

impl Worker {
    /// Loads the weights at `url`, and the preprocessing that comes with them; `picked` is a
    /// local file the page handed over as an object URL (read like a download, under the same
    /// cap, and never cached), with the config the user picked with it.
    pub(super) async fn load_url(
        &mut self,
        slot: &mut EngineSlot,
        url: String,
        picked: Option<Picked>,
    ) -> bool {
        let local = picked.is_some();
        let (source, picked_config) = match picked {
            Some(p) => (p.name, Some(p.preprocess)),
            None => (url.clone(), None),
        };
        for use_cache in [!local, false] {
            let download = match self.download(&url, use_cache).await {
                Fetched::Complete(d) => d,
                Fetched::Failed(message) => {
                    return self.send(Event::WeightsFailed { message }).await
                }
                Fetched::Superseded => return true,
                Fetched::PageGone => return false,
            };
            let from_cache = download.from_cache;
            let body = match download.into_blob() {
                Ok(body) => body,
                Err(e) => {
                    let message = format!("{source}: {e}");
                    return self.send(Event::WeightsFailed { message }).await;
                }
            };
            if !from_cache && !local {
                remember(&url, &body).await;
            }
            // The file stays in the browser: it is checked, then built from, one tensor at a
            // time, and the engine reads a raw tensor from it again when the lab needs one.
            // A checkpoint known by its address must also be what that address should give.
            let checked = BlobBytes::new(body)
                .and_then(|bytes| Engine::checked_stored(Rc::new(bytes), &source))
                .and_then(
                    |weights| match KnownCheckpoint::at(&url).filter(|_| !local) {
                        Some(known) => known.check(&weights).map(|()| weights),
                        None => Ok(weights),
                    },
                );
            match checked {
                Ok(weights) => {
                    // Checked: now the old engine goes before the new one is built, so that
                    // wasm memory (which never shrinks) holds one engine.
                    let recipe = match picked_config.clone() {
                        Some(config) => Recipe::from_picked(config),
                        None => Recipe::next_to(&url).await,
                    };
                    return self.replace_engine(slot, weights, from_cache, recipe).await;
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

    /// Builds the engine on checked `weights` in place of the old one, which is dropped first.
    /// Building checked weights fails only on an internal error; the page then gets the
    /// seeded init back and says so.
    async fn replace_engine(
        &mut self,
        slot: &mut EngineSlot,
        weights: Weights,
        from_cache: bool,
        recipe: Recipe,
    ) -> bool {
        let source = weights.info.source.clone();
        *slot = EngineSlot::Broken("new weights are being built".into());
        self.weights_changed();
        match Engine::with_weights(weights) {
            Ok(engine) => {
                let info = engine.weights().info.clone();
                *slot = EngineSlot::Ready(Box::new(engine));
                self.preprocess = recipe.preprocess.clone();
                self.send(Event::WeightsLoaded {
                    info,
                    from_cache,
                    preprocess: recipe.preprocess,
                    note: recipe.note,
                })
                .await
            }
            Err(e) => {
                *slot = EngineSlot::starting(default_init());
                let message = format!("{source}: {e} (back to the untrained network)");
                self.send(Event::WeightsFailed { message }).await
            }
        }
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
                        let loaded = download.received;
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
