//! Bytes → checked weights → the network: any input is an error or a network, never a panic;
//! and the checkpoint read whole and read one tensor at a time agree on which inputs load.
#![no_main]

use std::rc::Rc;

use libfuzzer_sys::fuzz_target;
use resnet_lab::engine::Engine;

fuzz_target!(|bytes: &[u8]| {
    let whole = Engine::checked_weights(bytes, "fuzz");
    let stored = Engine::checked_stored(Rc::new(bytes.to_vec()), "fuzz");
    assert_eq!(whole.is_ok(), stored.is_ok(), "{:?} vs {:?}", whole.err(), stored.err());
    if let Ok(weights) = stored {
        let _ = Engine::with_weights(weights);
    }
});
