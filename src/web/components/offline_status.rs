//! The footer's word on the service worker: "available offline" once the whole site is cached,
//! and why the engine runs on one thread where the page is not cross-origin isolated.

use gloo::timers::future::TimeoutFuture;
use yew::prelude::*;

use crate::web::offline::{available_offline, isolation, Isolation};
use crate::web::state::Store;
use crate::web::threads::wanted_threads;

/// Properties of [`OfflineStatus`].
#[derive(Properties, PartialEq)]
pub struct OfflineStatusProps {
    /// The engine worker build this page runs (its script must be cached too).
    pub engine_script: AttrValue,
}

/// How long the footer keeps asking whether the site is cached (the service worker installs in
/// the background, all files at once).
const CHECKS: u32 = 120;
const CHECK_EVERY_MS: u32 = 1000;

/// Offline badge and isolation note.
#[function_component(OfflineStatus)]
pub fn offline_status(props: &OfflineStatusProps) -> Html {
    let offline = use_state(|| false);
    // Asked again with the offline check: registering the service worker may fail later.
    let isolation_now = use_state_eq(isolation);
    {
        let (offline, now, script) = (
            offline.clone(),
            isolation_now.clone(),
            props.engine_script.clone(),
        );
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                for _ in 0..CHECKS {
                    let isolation = isolation();
                    now.set(isolation);
                    if isolation == Isolation::Unavailable {
                        return; // no service worker here: nothing will be cached
                    }
                    if available_offline(&script).await {
                        offline.set(true);
                        return;
                    }
                    TimeoutFuture::new(CHECK_EVERY_MS).await;
                }
            });
        });
    }
    let Some(store) = use_context::<Store>() else {
        return html! {};
    };
    let s = store.lang.strings();
    let note = match *isolation_now {
        _ if wanted_threads() < 2 => None,
        Isolation::Isolated => None,
        Isolation::Pending => Some(("pending", s.one_thread_until_reload)),
        Isolation::Unavailable => Some(("unavailable", s.one_thread_no_service_worker)),
    };
    html! {
        <>
            { for offline.then(|| html! {
                <span class="offline" data-testid="offline" data-state="ready">{ s.available_offline }</span>
            }) }
            { for note.map(|(state, text)| html! {
                <span class="isolation-note" data-testid="isolation-note" data-state={state}>{ text }</span>
            }) }
        </>
    }
}
