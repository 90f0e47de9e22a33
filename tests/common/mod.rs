//! Shared helpers of the native golden tests: the deterministic input and fixture access.
#![allow(dead_code)]

use candle_core::{Device, Tensor};
use resnet_lab::config::ResNetConfig;
use resnet_lab::weights::statistics::TrainedStatistics;
use resnet_lab::weights::{Init, InitKind, Weights};
use serde_json::Value;

/// x[i] = ((i · 2654435761) mod 65536) / 32768 − 1, exact in f32; mirrored in
/// tests/reference/make_fixtures.py (`pattern_input`).
pub fn pattern_input(size: usize) -> Tensor {
    pattern_batch(size, 1)
}

/// `batch` images of [`pattern_input`]'s sequence, continued across the batch (as
/// `pattern_input(size, batch)` in tests/reference/make_fixtures.py).
pub fn pattern_batch(size: usize, batch: usize) -> Tensor {
    let n = batch * 3 * size * size;
    let v: Vec<f32> = (0..n as u64)
        .map(|i| ((i.wrapping_mul(2_654_435_761)) % 65536) as f32 / 32768.0 - 1.0)
        .collect();
    Tensor::from_vec(v, (batch, 3, size, size), &Device::Cpu).unwrap()
}

/// The seeded weights the fixtures were computed on.
pub fn init_weights(kind: InitKind, seed: u64) -> Weights {
    Init::new(kind, seed)
        .weights(&ResNetConfig::resnet50(1000))
        .unwrap()
}

/// The weights a fixture case was computed on (its `weights` entry: init, seed and the seed of
/// the batch-norm statistics, `export-init --bn-stats`, or null for the identity).
pub fn case_weights(case: &Value) -> Weights {
    let spec = &case["weights"];
    let kind: InitKind = spec["init"].as_str().unwrap().parse().unwrap();
    let weights = init_weights(kind, spec["seed"].as_u64().unwrap());
    match spec["bn_stats"].as_u64() {
        Some(seed) => TrainedStatistics { seed }
            .apply(&weights, &ResNetConfig::resnet50(1000))
            .unwrap(),
        None => weights,
    }
}

/// A fixture file from tests/fixtures/ as JSON.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The case named `case` of a fixture file.
pub fn case(file: &str, case: &str) -> Value {
    fixture(file)["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case"] == case)
        .unwrap_or_else(|| panic!("no case {case} in {file}"))
        .clone()
}

/// A JSON array of numbers as f64.
pub fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Largest |a − b| / max|b| over two logit vectors; panics above `tol`. Returns the error.
pub fn assert_logits_close(got: &[f32], expected: &[f64], tol: f64, what: &str) -> f64 {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    let scale = expected.iter().fold(0f64, |m, v| m.max(v.abs()));
    let err = got
        .iter()
        .zip(expected)
        .map(|(g, e)| (*g as f64 - e).abs())
        .fold(0f64, f64::max)
        / scale;
    eprintln!("{what}: max |Δlogit| / max|logit| = {err:.2e}");
    assert!(
        err <= tol,
        "{what}: logits differ by {err:.2e} of max|logit| (> {tol:e})"
    );
    err
}

/// Writes `bytes` as `name` into the fuzzers' regression corpus for `target`
/// (`target/fuzz-corpus/<target>/`, which `make fuzz` starts from beside `tests/fuzz-seeds/`).
pub fn add_to_fuzz_corpus(target: &str, name: &str, bytes: &[u8]) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/fuzz-corpus")
        .join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}
