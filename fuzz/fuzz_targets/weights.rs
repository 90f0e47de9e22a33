//! Bytes → checked weights → the network: any input is an error or a network, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use resnet_lab::engine::Engine;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(weights) = Engine::checked_weights(bytes, "fuzz") {
        let _ = Engine::with_weights(weights);
    }
});
