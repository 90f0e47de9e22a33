//! Grad-CAM and Grad-CAM++ in Chromium wasm against pytorch-grad-cam (the native test's
//! fixture and checks).
#![cfg(target_arch = "wasm32")]

mod cam_checks;

use candle_core::{Device, Tensor};
use resnet_lab::config::ResNetConfig;
use resnet_lab::engine::Engine;
use resnet_lab::weights::statistics::TrainedStatistics;
use resnet_lab::weights::{Init, InitKind};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Same formula as tests/common/mod.rs.
fn pattern_input(size: usize) -> Tensor {
    let v: Vec<f32> = (0..(3 * size * size) as u64)
        .map(|i| ((i.wrapping_mul(2_654_435_761)) % 65536) as f32 / 32768.0 - 1.0)
        .collect();
    Tensor::from_vec(v, (1, 3, size, size), &Device::Cpu).unwrap()
}

#[wasm_bindgen_test]
fn maps_match_pytorch_grad_cam_in_wasm() {
    // The fixture's weights: he init, seed 0, batch-norm statistics seed 1.
    let config = ResNetConfig::resnet50(1000);
    let weights = Init::new(InitKind::He, 0).weights(&config).unwrap();
    let weights = TrainedStatistics { seed: 1 }
        .apply(&weights, &config)
        .unwrap();
    let engine = Engine::with_weights(weights).unwrap();
    let (at_stage, upsampled) = cam_checks::check_all(&engine, &pattern_input(224));
    web_sys::console::log_1(
        &format!("CAM vs pytorch-grad-cam in wasm: {at_stage:e} at stage resolution, {upsampled:e} at 224").into(),
    );
}
