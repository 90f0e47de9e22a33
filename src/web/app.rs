//! The root component: the engine worker's provider around the page shell.

use yew::prelude::*;
use yew_agent::reactor::ReactorProvider;
use yew_agent::Reach;

use super::components::shell::Shell;
use super::i18n::Lang;
use super::worker::EngineWorker;

/// Properties of [`App`].
#[derive(Properties, PartialEq)]
pub struct AppProps {
    /// Path of the worker script (trunk's worker target unless chosen otherwise).
    #[prop_or(AttrValue::Static(super::WORKER_PATH))]
    pub worker_path: AttrValue,
    /// The worker is a threaded build (the page starts its thread pool).
    #[prop_or_default]
    pub threaded: bool,
}

/// The whole page.
#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    html! {
        // Private: the one bridge (the shell's) gets its own worker and the one reactor in it.
        // A public provider holds a bridge of its own, and each bridge starts a reactor: the
        // page then had two engines in one worker, the idle one doubling wasm memory.
        <ReactorProvider<EngineWorker> path={props.worker_path.clone()} reach={Reach::Private}>
            <Shell lang={Lang::from_browser()} worker_path={props.worker_path.clone()}
                   threaded_script={props.threaded.then(|| props.worker_path.clone())} />
        </ReactorProvider<EngineWorker>>
    }
}
