//! The full ResNet-50 in wasm gives the same numbers as natively (and as PyTorch).
#![cfg(target_arch = "wasm32")]

use candle_core::{Device, Tensor};
use resnet_lab::config::ResNetConfig;
use resnet_lab::engine::{Engine, PredictOptions};
use resnet_lab::weights::statistics::TrainedStatistics;
use resnet_lab::weights::{Init, InitKind};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const PREDICT: &str = include_str!("fixtures/predict.json");

/// Same formula as tests/common/mod.rs.
fn pattern_input(size: usize) -> Tensor {
    let v: Vec<f32> = (0..(3 * size * size) as u64)
        .map(|i| ((i.wrapping_mul(2_654_435_761)) % 65536) as f32 / 32768.0 - 1.0)
        .collect();
    Tensor::from_vec(v, (1, 3, size, size), &Device::Cpu).unwrap()
}

/// An engine on the weights a fixture case names (init, seed, batch-norm statistics).
fn engine_for(case: &serde_json::Value) -> Engine {
    let spec = &case["weights"];
    let kind: InitKind = spec["init"].as_str().unwrap().parse().unwrap();
    let config = ResNetConfig::resnet50(1000);
    let mut weights = Init::new(kind, spec["seed"].as_u64().unwrap())
        .weights(&config)
        .unwrap();
    if let Some(seed) = spec["bn_stats"].as_u64() {
        weights = TrainedStatistics { seed }.apply(&weights, &config).unwrap();
    }
    Engine::with_weights(weights).unwrap()
}

fn predict_case(case: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(PREDICT).unwrap();
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case"] == case)
        .unwrap()
        .clone()
}

fn expected_logits(case: &str) -> Vec<f64> {
    let v: serde_json::Value = serde_json::from_str(PREDICT).unwrap();
    let c = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case"] == case)
        .unwrap();
    c["logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Runs fixture case `case` (the pattern input at `size`) and asserts the logits are within
/// 1e-4 of max|logit| of PyTorch's.
fn check_against_pytorch(case: &str, size: usize) {
    let engine = engine_for(&predict_case(case));
    let p = engine
        .predict(
            &pattern_input(size),
            &PredictOptions::default(),
            &mut |_| Ok(()),
        )
        .unwrap();
    let expected = expected_logits(case);
    let scale = expected.iter().fold(0f64, |m, v| m.max(v.abs()));
    let err = p.logits[0]
        .iter()
        .zip(&expected)
        .map(|(a, b)| (*a as f64 - b).abs())
        .fold(0f64, f64::max)
        / scale;
    assert!(
        err < 1e-4,
        "{case}: wasm logits differ by {err:e} of max|logit|"
    );
    assert_eq!(p.stages.len(), 6);
}

#[wasm_bindgen_test]
fn resnet50_at_64_matches_native_and_pytorch() {
    check_against_pytorch("v1_5_eval_64", 64);
}

#[wasm_bindgen_test]
fn resnet50_at_224_matches_pytorch() {
    check_against_pytorch("v1_5_eval", 224);
}

#[wasm_bindgen_test]
fn seeded_init_is_bit_identical_to_native() {
    // First values of conv1.weight for `he` seed 0, as the native build produces them
    // (checked natively by tests/init_bits.rs).
    let w = Init::new(InitKind::He, 0)
        .weights(&resnet_lab::config::ResNetConfig::resnet50(1000))
        .unwrap();
    let v = w
        .get("conv1.weight")
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let bits: Vec<u32> = v[..4].iter().map(|x| x.to_bits()).collect();
    assert_eq!(bits, include!("fixtures/init_bits.txt").to_vec());
}

const GRADS: &str = include_str!("fixtures/grads.json");

#[wasm_bindgen_test]
fn gradient_flow_at_64_matches_pytorch_in_wasm() {
    use resnet_lab::analysis::gradients::Precision;
    use resnet_lab::config::{NormMode, Variant};
    use resnet_lab::engine::GradientOptions;
    let v: serde_json::Value = serde_json::from_str(GRADS).unwrap();
    let expected = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case"] == "classic_64")
        .unwrap();
    let engine = engine_for(expected);
    let options = GradientOptions {
        variant: Variant::V1_5,
        norm: NormMode::Off,
        target: Some(281),
        precision: Precision::F64,
    };
    let flow = engine
        .gradient_flow(&pattern_input(64), &options, &mut |_| Ok(()))
        .unwrap();
    let mut worst = 0f64;
    for layer in &flow.layers {
        let truth = expected["layers_skip"][&layer.name].as_f64().unwrap();
        worst = worst.max((layer.skip - truth).abs() / truth);
        if let Some(p) = layer.plain {
            let truth = expected["layers_plain"][&layer.name].as_f64().unwrap();
            worst = worst.max((p - truth).abs() / truth);
        }
    }
    assert!(
        worst < 1e-3,
        "wasm gradient norms differ from PyTorch by {worst:e}"
    );
    let loss = expected["loss_skip"].as_f64().unwrap();
    assert!((flow.loss.skip - loss).abs() / loss < 1e-5);
}
