//! The seeded init's first bits, pinned in tests/fixtures/init_bits.txt (the browser test
//! tests/browser_model.rs checks the wasm build against the same file).

#![cfg(not(target_arch = "wasm32"))]

use resnet_lab::config::ResNetConfig;
use resnet_lab::weights::{Init, InitKind};

#[test]
fn he_seed_0_first_bits_match_the_pinned_file() {
    let w = Init::new(InitKind::He, 0)
        .weights(&ResNetConfig::resnet50(1000))
        .unwrap();
    let v = w
        .get("conv1.weight")
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let bits: Vec<u32> = v[..4].iter().map(|x| x.to_bits()).collect();
    let pinned: [u32; 4] = include!("fixtures/init_bits.txt");
    assert_eq!(bits, pinned.to_vec());
}
