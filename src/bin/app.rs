//! The web app's entry point (trunk `data-type="main"` target).

#[cfg(target_arch = "wasm32")]
fn main() {
    use resnet_lab::web::app::{App, AppProps};
    wasm_bindgen_futures::spawn_local(async {
        let build = resnet_lab::web::worker_build::WorkerBuild::choose().await;
        let props = AppProps {
            worker_path: build.path().into(),
            threaded: build.threaded,
        };
        yew::Renderer::<App>::with_props(props).render();
    });
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the app runs in the browser: `make serve`");
}
