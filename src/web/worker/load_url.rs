//! Loading weights from a URL: the download with byte progress, then the new engine.

use super::download::{remember, Download};
use super::init_slot::EngineSlot;
use super::{now_ms, Worker};
use crate::engine::Engine;
use crate::web::protocol::Event;

impl Worker {
    pub(super) async fn load_url(&mut self, slot: &mut EngineSlot, url: String) -> bool {
        let start = now_ms();
        let mut download = match Download::start(&url).await {
            Ok(d) => d,
            Err(message) => return self.send(Event::WeightsFailed { message }).await,
        };
        let mut last_report = 0.0;
        loop {
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
                            return false;
                        }
                    }
                    if !more {
                        break;
                    }
                }
                Err(message) => return self.send(Event::WeightsFailed { message }).await,
            }
        }
        match Engine::from_safetensors(&download.bytes, &url) {
            Ok(engine) => {
                let info = engine.weights().info.clone();
                *slot = EngineSlot::Ready(Box::new(engine));
                self.weights_changed();
                if !download.from_cache {
                    remember(&url, &download.bytes).await;
                }
                let from_cache = download.from_cache;
                self.send(Event::WeightsLoaded { info, from_cache }).await
            }
            Err(e) => {
                self.send(Event::WeightsFailed {
                    message: format!("{url}: {e}"),
                })
                .await
            }
        }
    }
}
