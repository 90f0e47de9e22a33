//! The web app's entry point (trunk `data-type="main"` target).

#[cfg(target_arch = "wasm32")]
fn main() {
    use resnet_lab::web::app::{App, AppProps};
    let props = AppProps {
        worker_path: resnet_lab::web::WORKER_PATH.into(),
    };
    yew::Renderer::<App>::with_props(props).render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the app runs in the browser: `make serve`");
}
