//! Gradient flow against PyTorch autograd on the same weights (tests/reference/make_fixtures.py).
//!
//! The reference is PyTorch in float64. Our float64 run must agree within 1e-3 everywhere. Our
//! float32 run must agree within 1e-3 where PyTorch's own float32 run does; where batch norm in
//! training mode makes float32 ill-conditioned (one small image: PyTorch's float32 is off by up to
//! tens of percent there), our float32 must stay within 3× PyTorch's worst float32 error of the
//! case.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{case, case_weights, pattern_input};
use resnet_lab::analysis::gradients::{GradientFlow, Precision};
use resnet_lab::config::{NormMode, Variant};
use resnet_lab::engine::{Engine, GradientOptions};
use resnet_lab::weights::InitKind;
use serde_json::Value;

const GRAD_TOL: f64 = 1e-3;
const LOSS_TOL: f64 = 1e-5;

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// PyTorch's own worst float32 error against its float64 result, over a whole case.
fn torch_f32_error(expected: &Value) -> f64 {
    let mut worst = 0f64;
    for key in ["layers_skip", "layers_plain", "acts_skip", "acts_plain"] {
        for (name, truth) in expected[key].as_object().unwrap() {
            let f32 = expected[format!("{key}_f32")][name].as_f64().unwrap();
            worst = worst.max(rel(f32, truth.as_f64().unwrap()));
        }
    }
    for key in ["loss_skip", "loss_plain"] {
        let f32 = expected[format!("{key}_f32")].as_f64().unwrap();
        worst = worst.max(rel(f32, expected[key].as_f64().unwrap()));
    }
    worst
}

fn check(flow: &GradientFlow, expected: &Value, f32_mode: bool, what: &str) -> f64 {
    let sfx = if f32_mode { "_f32" } else { "" };
    let slack = if f32_mode {
        3.0 * torch_f32_error(expected)
    } else {
        0.0
    };
    if f32_mode {
        eprintln!(
            "{what}: PyTorch's own float32 error reaches {:.2e}",
            slack / 3.0
        );
    }
    let mut worst = 0f64;
    for (net, loss) in [("skip", flow.loss.skip), ("plain", flow.loss.plain)] {
        let truth = expected[format!("loss_{net}")].as_f64().unwrap();
        let tol = LOSS_TOL.max(slack);
        assert!(
            rel(loss, truth) <= tol,
            "{what}{sfx} {net} loss {loss} vs {truth}"
        );
    }
    let skip_layers = expected["layers_skip"].as_object().unwrap();
    assert_eq!(
        flow.layers.len(),
        skip_layers.len(),
        "{what}: one entry per conv weight and fc.weight"
    );
    for layer in &flow.layers {
        for (net, got) in [("skip", Some(layer.skip)), ("plain", layer.plain)] {
            let key = format!("layers_{net}");
            match (got, expected[&key].get(&layer.name)) {
                (Some(g), Some(e)) => {
                    let truth = e.as_f64().unwrap();
                    let err = rel(g, truth);
                    worst = worst.max(err);
                    let tol = GRAD_TOL.max(slack);
                    assert!(
                        err <= tol,
                        "{what}{sfx} {} ({net}): {g} vs {truth} ({err:.2e} > {tol:.2e})",
                        layer.name
                    );
                }
                (None, None) => assert!(layer.name.contains("downsample"), "{}", layer.name),
                (g, e) => panic!("{what} {} ({net}): {g:?} vs {e:?}", layer.name),
            }
        }
    }
    for net in ["skip", "plain"] {
        let key = format!("acts_{net}");
        for a in std::iter::once(&flow.stem).chain(&flow.blocks) {
            let got = if net == "skip" { a.skip } else { a.plain };
            let truth = expected[&key][&a.name].as_f64().unwrap();
            let err = rel(got, truth);
            worst = worst.max(err);
            let tol = GRAD_TOL.max(slack);
            assert!(
                err <= tol,
                "{what}{sfx} ‖∂L/∂x‖ at {} ({net}): {got} vs {truth} ({err:.2e})",
                a.name
            );
        }
    }
    assert_eq!(flow.blocks.len(), 16);
    eprintln!("{what}{sfx}: largest relative error against PyTorch float64: {worst:.2e}");
    worst
}

fn kind_name(kind: InitKind) -> &'static str {
    match kind {
        InitKind::He => "he",
        InitKind::Xavier => "xavier",
    }
}

fn run(kind: InitKind, norm: NormMode, size: usize, fixture: &str) {
    let expected = case("grads.json", fixture);
    assert_eq!(
        expected["init"].as_str(),
        Some(kind_name(kind)),
        "{fixture}"
    );
    let engine = Engine::with_weights(case_weights(&expected)).unwrap();
    for precision in [Precision::F64, Precision::F32] {
        let options = GradientOptions {
            variant: Variant::V1_5,
            norm,
            target: Some(expected["target"].as_u64().unwrap() as usize),
            precision,
        };
        let flow = engine
            .gradient_flow(&pattern_input(size), &options, &mut |_| Ok(()))
            .unwrap();
        check(&flow, &expected, precision == Precision::F32, fixture);
    }
}

#[test]
fn classic_vanishing_preset_at_64_matches_autograd() {
    run(InitKind::Xavier, NormMode::Off, 64, "classic_64");
}

#[test]
fn as_trained_preset_at_64_matches_autograd() {
    run(InitKind::He, NormMode::Train, 64, "trained_64");
}

#[test]
fn classic_vanishing_preset_at_224_matches_autograd() {
    run(InitKind::Xavier, NormMode::Off, 224, "classic_224");
}

#[test]
fn as_trained_preset_at_224_matches_autograd() {
    run(InitKind::He, NormMode::Train, 224, "trained_224");
}
