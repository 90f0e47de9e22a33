//! Browser tests of the app shell (run in headless Chromium by `make test`).
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use resnet_lab::web::app::{App, AppProps};
use resnet_lab::web::protocol::Event;
use resnet_lab::web::worker::ready;
use resnet_lab::weights::{Init, InitKind, WeightsInfo};
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

fn mount() -> Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    // No worker script exists in the test page: the shell must still render.
    let props = AppProps {
        worker_path: "./no-worker-here.js".into(),
        threaded: false,
    };
    yew::Renderer::<App>::with_root_and_props(root.clone(), props).render();
    root
}

async fn settle() {
    yew::platform::time::sleep(Duration::from_millis(50)).await;
}

fn by_testid(root: &Element, id: &str) -> HtmlElement {
    use wasm_bindgen::JsCast;
    root.query_selector(&format!("[data-testid=\"{id}\"]"))
        .unwrap()
        .unwrap_or_else(|| panic!("no [data-testid={id}]"))
        .dyn_into()
        .unwrap()
}

#[wasm_bindgen_test]
async fn app_mounts_with_four_sections_and_switches_view() {
    let root = mount();
    settle().await;
    for id in [
        "nav-learn",
        "nav-explore",
        "nav-gradient-lab",
        "nav-settings",
    ] {
        assert!(!by_testid(&root, id).inner_text().is_empty(), "{id}");
    }
    by_testid(&root, "nav-learn").click();
    settle().await;
    assert_eq!(
        by_testid(&root, "main")
            .get_attribute("data-section")
            .as_deref(),
        Some("learn")
    );
    assert!(by_testid(&root, "footer-local").inner_text().len() > 10);
    root.remove();
}

#[wasm_bindgen_test]
async fn language_switch_changes_the_header_strings() {
    let root = mount();
    settle().await;
    by_testid(&root, "lang-en").click();
    settle().await;
    assert_eq!(by_testid(&root, "nav-learn").inner_text(), "Learn");
    assert_eq!(by_testid(&root, "nav-settings").inner_text(), "Settings");
    by_testid(&root, "lang-vi").click();
    settle().await;
    assert_eq!(by_testid(&root, "nav-learn").inner_text(), "Tìm hiểu");
    assert_eq!(by_testid(&root, "nav-settings").inner_text(), "Cài đặt");
    root.remove();
}

#[wasm_bindgen_test]
fn worker_answers_ping_with_the_crate_version() {
    let weights: WeightsInfo = Init::new(InitKind::He, 0)
        .weights(&resnet_lab::config::ResNetConfig::tutorial(2))
        .unwrap()
        .info;
    match [ready(&weights)].as_slice() {
        [Event::Ready { version, .. }] => assert_eq!(version, env!("CARGO_PKG_VERSION")),
        other => panic!("unexpected answer {other:?}"),
    }
}

#[wasm_bindgen_test]
fn the_page_prefers_threads_then_relaxed_simd_and_always_keeps_the_plain_build() {
    use resnet_lab::web::worker_build::WorkerBuild;
    let b = |threaded, relaxed_simd| WorkerBuild {
        threaded,
        relaxed_simd,
    };
    assert_eq!(
        WorkerBuild::candidates(true, 4, true),
        [
            b(true, true),
            b(true, false),
            b(false, true),
            b(false, false)
        ]
    );
    assert_eq!(
        WorkerBuild::candidates(true, 2, false),
        [b(true, false), b(false, false)]
    );
    // Not isolated, or one core: no threads.
    assert_eq!(
        WorkerBuild::candidates(false, 4, true),
        [b(false, true), b(false, false)]
    );
    assert_eq!(
        WorkerBuild::candidates(true, 1, false),
        [WorkerBuild::PLAIN]
    );
    let paths: std::collections::HashSet<_> = WorkerBuild::candidates(true, 4, true)
        .into_iter()
        .map(WorkerBuild::path)
        .collect();
    assert_eq!(paths.len(), 4, "each build has its own folder");
}

#[wasm_bindgen_test]
fn the_relaxed_simd_probe_is_a_valid_module_in_chromium() {
    // Chromium has shipped relaxed SIMD since version 114: a probe that does not validate here
    // is malformed, and every browser would get the plain build.
    assert!(resnet_lab::web::worker_build::has_relaxed_simd());
}
