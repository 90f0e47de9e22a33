//! The web app's entry point (trunk `data-type="main"` target).

#[cfg(target_arch = "wasm32")]
fn main() {
    use resnet_lab::web::app::{App, AppProps};
    wasm_bindgen_futures::spawn_local(async {
        let props = AppProps {
            worker_path: resnet_lab::web::threads::worker_path().await.into(),
        };
        yew::Renderer::<App>::with_props(props).render();
    });
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the app runs in the browser: `make serve`");
}
