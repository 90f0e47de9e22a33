//! The footer's engine status: pings the worker and shows its version once it answers.

use yew::prelude::*;
use yew_agent::reactor::{use_reactor_bridge, ReactorEvent};

use crate::web::i18n::Lang;
use crate::web::protocol::{Event, Request};
use crate::web::worker::EngineWorker;

/// Properties of [`EngineStatus`].
#[derive(Properties, PartialEq)]
pub struct EngineStatusProps {
    /// Current language.
    pub lang: Lang,
}

/// "engine ready vX.Y.Z" once the worker answers the ping.
#[function_component(EngineStatus)]
pub fn engine_status(props: &EngineStatusProps) -> Html {
    let version = use_state(|| None::<String>);
    let bridge = {
        let version = version.clone();
        use_reactor_bridge::<EngineWorker, _>(move |event| {
            if let ReactorEvent::Output(Event::Ready { version: v }) = event {
                version.set(Some(v));
            }
        })
    };
    use_effect_with((), move |_| bridge.send(Request::Ping));
    let s = props.lang.strings();
    match &*version {
        Some(v) => html! {
            <span class="engine ready" data-testid="engine-status" data-state="ready">
                { format!("{} v{v}", s.engine_ready) }
            </span>
        },
        None => html! {
            <span class="engine" data-testid="engine-status" data-state="starting">{ s.engine_starting }</span>
        },
    }
}
