//! `resnet-lab`: the same engine as the page, from a terminal. See the README for the commands.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(resnet_lab::cli::main(std::env::args().skip(1).collect()));
}

#[cfg(target_arch = "wasm32")]
fn main() {}
