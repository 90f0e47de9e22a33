//! The footer's engine status: "engine ready vX.Y.Z" once the worker answered the ping.

use yew::prelude::*;

use crate::web::state::Store;

/// Engine status line.
#[function_component(EngineStatus)]
pub fn engine_status() -> Html {
    let Some(store) = use_context::<Store>() else {
        return html! {};
    };
    let s = store.lang.strings();
    match &store.engine_version {
        Some(v) => html! {
            <span class="engine ready" data-testid="engine-status" data-state="ready">
                { format!("{} v{v}", s.engine_ready) }
                { for store.engine_memory.map(|bytes| html! {
                    <span data-testid="engine-memory" data-bytes={bytes.to_string()}>
                        { format!(" · {} {:.0} MB", s.engine_memory, bytes as f64 / 1048576.0) }
                    </span>
                }) }
            </span>
        },
        None => html! {
            <span class="engine" data-testid="engine-status" data-state="starting">{ s.engine_starting }</span>
        },
    }
}
