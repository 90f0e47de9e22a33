//! Class activation maps against pytorch-grad-cam (tests/fixtures/cam.json, made by
//! tests/reference/make_fixtures.py --cam), shared by the native and the browser test.
#![allow(dead_code)]

use candle_core::Tensor;
use resnet_lab::analysis::cam::{CamMethod, CamOptions, ClassMap};
use resnet_lab::config::Variant;
use resnet_lab::engine::Engine;
use serde_json::Value;

/// The fixture file.
pub const CAM: &str = include_str!("../fixtures/cam.json");

/// Largest difference allowed between our map and pytorch-grad-cam's, both in [0, 1].
pub const CAM_TOL: f64 = 1e-4;

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn worst(got: &[f32], expected: &[f64]) -> f64 {
    assert_eq!(got.len(), expected.len());
    got.iter()
        .zip(expected)
        .map(|(&g, &e)| (f64::from(g) - e).abs())
        .fold(0.0, f64::max)
}

/// Every fixture case, on `engine` (the fixture weights) and `input` (the pattern input at
/// 224): both classes of a stage and method come from one job. Returns the worst difference
/// at stage resolution and after upsampling; panics past [`CAM_TOL`], or when the two classes'
/// maps are too alike for a mix-up of classes to show.
pub fn check_all(engine: &Engine, input: &Tensor) -> (f64, f64) {
    let fixture: Value = serde_json::from_str(CAM).unwrap();
    let classes: Vec<usize> = fixture["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap() as usize)
        .collect();
    let cases = fixture["cases"].as_array().unwrap();
    let (mut at_stage, mut upsampled) = (0f64, 0f64);
    for stage in [4, 5] {
        for method in [CamMethod::GradCam, CamMethod::GradCamPlusPlus] {
            let options = CamOptions {
                stage,
                method,
                classes: classes.clone(),
                top_k: 0,
            };
            let result = engine
                .start_cam(input, Variant::V1_5, options)
                .unwrap()
                .finish()
                .unwrap();
            assert_eq!(result.maps.len(), classes.len());
            // The top-1 is the first class the fixture maps (its own argmax).
            assert_eq!(result.top[0].class, classes[0]);
            let maps: Vec<&ClassMap> = result.maps.iter().collect();
            for map in &maps {
                let case = cases
                    .iter()
                    .find(|c| {
                        c["stage"] == stage && c["method"] == method.id() && c["class"] == map.class
                    })
                    .unwrap_or_else(|| {
                        panic!("no fixture for stage {stage} {method:?} {}", map.class)
                    });
                let name = case["case"].as_str().unwrap();
                let expected = numbers(&case["map"]);
                let e = worst(&map.values, &expected);
                assert!(
                    e <= CAM_TOL,
                    "{name}: {e:e} off pytorch-grad-cam at stage resolution"
                );
                let up: Vec<f32> = map
                    .upsampled(224)
                    .chunks_exact(224)
                    .step_by(8)
                    .flat_map(|row| row.iter().step_by(8).copied())
                    .collect();
                let u = worst(&up, &numbers(&case["upsampled_every8"]));
                assert!(
                    u <= CAM_TOL,
                    "{name}: {u:e} off pytorch-grad-cam at 224×224"
                );
                at_stage = at_stage.max(e);
                upsampled = upsampled.max(u);
            }
            // The classes' maps differ by far more than the tolerance: mapping the wrong
            // class (or one class twice) fails above.
            let apart = worst(
                &maps[0].values,
                &maps[1]
                    .values
                    .iter()
                    .map(|&v| f64::from(v))
                    .collect::<Vec<_>>(),
            );
            assert!(
                apart > 100.0 * CAM_TOL,
                "stage {stage} {method:?}: classes' maps {apart:e} apart"
            );
        }
    }
    (at_stage, upsampled)
}
