//! The engine worker's entry point (trunk `data-type="worker"` target).

#[cfg(target_arch = "wasm32")]
fn main() {
    use yew_agent::Registrable;
    resnet_lab::web::worker::EngineWorker::registrar().register();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the engine worker runs in the browser: `make serve`");
}
