//! What the service worker (www/sw.js) gives this page: cross-origin isolation on a host that
//! sends no headers, and the whole site cached for offline use.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Why the page is, or is not, cross-origin isolated (and so runs threaded or not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// Shared memory is available: by the host's headers or the service worker's.
    Isolated,
    /// Not isolated, but the service worker can make it so (it reloads the page once it has
    /// taken over, or the browser refused isolation).
    Pending,
    /// Not isolated, and no service worker here: an insecure (`http://`, not localhost) origin,
    /// or a browser with service workers or site data turned off (registering failed:
    /// www/index.html marks the page with `data-service-worker="unavailable"`).
    Unavailable,
}

/// This page's [`Isolation`].
pub fn isolation() -> Isolation {
    if super::threads::cross_origin_isolated() {
        Isolation::Isolated
    } else if service_worker_container().is_some() && !registration_failed() {
        Isolation::Pending
    } else {
        Isolation::Unavailable
    }
}

/// Whether www/index.html could not register the service worker.
fn registration_failed() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|e| e.get_attribute("data-service-worker"))
        .is_some_and(|v| v == "unavailable")
}

/// `navigator.serviceWorker`, where the browser has it (absent on insecure origins).
fn service_worker_container() -> Option<web_sys::ServiceWorkerContainer> {
    let navigator = web_sys::window()?.navigator();
    let container = js_sys::Reflect::get(&navigator, &"serviceWorker".into()).ok()?;
    container.dyn_into().ok()
}

/// Whether the page would open and run with the network gone: a service worker controls it
/// (it activates only once the whole build is cached) and `engine_script`, the worker build this
/// page runs, is in its cache.
pub async fn available_offline(engine_script: &str) -> bool {
    let controlled = service_worker_container().is_some_and(|c| c.controller().is_some());
    if !controlled {
        return false;
    }
    let caches = web_sys::window().and_then(|w| w.caches().ok());
    let Some(caches) = caches.filter(|c| !c.is_undefined()) else {
        return false;
    };
    let url = super::query::absolute_url(engine_script);
    match JsFuture::from(caches.match_with_str(&url)).await {
        Ok(found) => found.dyn_into::<web_sys::Response>().is_ok(),
        Err(_) => false,
    }
}
