//! The page frame: owns the state and the worker bridge; header, current view, footer.

use yew::prelude::*;
use yew_agent::reactor::{use_reactor_bridge, ReactorEvent};

use super::backend_panel::BackendPanel;
use super::engine_status::EngineStatus;
use super::error_banner::ErrorBanner;
use super::explore::Explore;
use super::gradient_lab::GradientLab;
use super::header::Header;
use super::learn::Learn;
use super::offline_status::OfflineStatus;
use super::weights_offer::WeightsOfferBanner;
use super::weights_panel::WeightsPanel;
use crate::backend::{BackendChoice, BackendKind};
use crate::web::actions::offer_weights;
use crate::web::actions::start_run;
use crate::web::auto_memory;
use crate::web::i18n::Lang;
use crate::web::protocol::Request;
use crate::web::query::{absolute_url, foreign_host, query_param};
use crate::web::section::Section;
use crate::web::state::{Action, AppState, EngineLink, Store};
use crate::web::worker::EngineWorker;

/// Properties of [`Shell`].
#[derive(Properties, PartialEq)]
pub struct ShellProps {
    /// Starting language.
    pub lang: Lang,
    /// The engine worker's script (the build this page runs).
    pub worker_path: AttrValue,
    /// The worker loaded is a threaded build, with its script here: start its pool first.
    #[prop_or_default]
    pub threaded_script: Option<AttrValue>,
}

/// Header, main view and footer; the state lives here.
#[function_component(Shell)]
pub fn shell(props: &ShellProps) -> Html {
    let browser_lang = props.lang;
    let store = use_reducer(move || {
        let lang = match query_param("lang").as_deref() {
            Some("vi") => Lang::Vi,
            Some("en") => Lang::En,
            _ => browser_lang,
        };
        let mut state = AppState::new(lang);
        if let Some(section) = query_param("section") {
            if let Some(&found) = Section::ALL.iter().find(|s| s.id() == section) {
                state.section = found;
            }
        }
        if let Some(choice) = query_param("backend").and_then(|b| BackendChoice::from_id(&b)) {
            state.backend = choice;
        }
        state.auto_pick = auto_memory::load();
        state
    });
    let bridge = {
        let store = store.clone();
        use_reactor_bridge::<EngineWorker, _>(move |event| {
            if let ReactorEvent::Output(event) = event {
                store.dispatch(Action::Worker(event));
            }
        })
    };
    let link = use_memo((), move |_| EngineLink {
        send: Callback::from(move |request| bridge.send(request)),
    });
    {
        let (store, link) = (store.clone(), link.clone());
        let threaded_script = props.threaded_script.clone();
        use_effect_with((), move |_| {
            if let Some(script) = threaded_script {
                link.send.emit(Request::StartThreads {
                    script_url: absolute_url(&script),
                    threads: crate::web::threads::wanted_threads(),
                });
            }
            if query_param("auto_adapter").as_deref() == Some("measure") {
                link.send.emit(Request::MeasureSoftwareAdapter);
            }
            // Before any run: Auto uses the choice it measured on an earlier visit.
            link.send
                .emit(Request::AutoRemembered(store.auto_pick.clone()));
            link.send.emit(Request::Ping);
            if let Some(url) = query_param("weights") {
                let url = absolute_url(&url);
                match foreign_host(&url) {
                    // Another site: ask first, showing where from and how much.
                    Some(host) => offer_weights(&store, url, host),
                    None => {
                        store.dispatch(Action::WeightsRequested);
                        link.send.emit(Request::LoadWeightsUrl { url });
                    }
                }
            }
        });
    }
    // Auto's choice outlives the page (the worker has no localStorage of its own).
    use_effect_with(store.auto_pick.clone(), |pick| match pick {
        Some(pick) => auto_memory::save(pick),
        None => auto_memory::forget(),
    });
    {
        // `?gpu_fault=lose` (a test hook): after the first WebGPU run, destroy the GPU device so
        // the next run shows the fall-back to the CPU.
        let link = link.clone();
        let lost = use_mut_ref(|| false);
        let ran_on_gpu = store
            .result
            .as_ref()
            .is_some_and(|r| r.ran.kind() == BackendKind::WebGpu);
        use_effect_with(ran_on_gpu, move |&on_gpu| {
            if on_gpu && !*lost.borrow() && query_param("gpu_fault").as_deref() == Some("lose") {
                *lost.borrow_mut() = true;
                link.send.emit(Request::LoseGpu);
            }
        });
    }
    {
        // New weights or another backend: run the current image again so the page shows it.
        let (store, link) = (store.clone(), link.clone());
        let weights = (store.weights.clone(), store.backend);
        use_effect_with(weights, move |_| {
            if let (Some(image), Some(_)) = (store.image.clone(), store.result.as_ref()) {
                start_run(&store, &link, image);
            }
        });
    }
    // Told to www/index.html's service-worker script: register once the engine is up (its
    // install then does not compete with the engine's own download), and never reload the page
    // while it holds the user's work.
    use_effect_with(store.engine_version.is_some(), |&ready| {
        let window = web_sys::window().filter(|_| ready);
        if let (Some(window), Ok(event)) = (window, web_sys::Event::new("resnet-lab:engine-ready"))
        {
            let _ = window.dispatch_event(&event);
        }
    });
    use_effect_with(store.has_user_work(), |&work| {
        let root = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element());
        if let Some(root) = root {
            let _ = if work {
                root.set_attribute("data-user-work", "")
            } else {
                root.remove_attribute("data-user-work")
            };
        }
    });
    {
        let lang = store.lang;
        use_effect_with(lang, move |lang| {
            if let Some(root) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.document_element())
            {
                let _ = root.set_attribute("lang", lang.code());
            }
        });
    }
    let s = store.lang.strings();
    let on_section = {
        let store = store.clone();
        Callback::from(move |section| store.dispatch(Action::Section(section)))
    };
    let on_lang = {
        let store = store.clone();
        Callback::from(move |lang| store.dispatch(Action::Lang(lang)))
    };
    let section = store.section;
    let view = match section {
        Section::Explore => html! { <Explore /> },
        Section::Settings => html! {
            <>
                <h2>{ s.settings }</h2>
                <p>{ s.settings_intro }</p>
                <WeightsPanel />
                <BackendPanel />
            </>
        },
        Section::Learn => html! { <Learn /> },
        Section::GradientLab => html! { <GradientLab /> },
    };
    html! {
        <ContextProvider<Store> context={store.clone()}>
        <ContextProvider<EngineLink> context={(*link).clone()}>
            <div class="shell">
                <Header lang={store.lang} {section} {on_section} {on_lang} />
                <ErrorBanner />
                <WeightsOfferBanner />
                <main data-testid="main" data-section={section.id()}>{ view }</main>
                <footer>
                    <span data-testid="footer-local">{ s.footer_local }</span>
                    <EngineStatus />
                    <OfflineStatus engine_script={props.worker_path.clone()} />
                </footer>
            </div>
        </ContextProvider<EngineLink>>
        </ContextProvider<Store>>
    }
}
