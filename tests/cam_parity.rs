//! Grad-CAM and Grad-CAM++ against pytorch-grad-cam on the fixture weights (real batch-norm
//! statistics), at layer3 and layer4, for two classes.

#![cfg(not(target_arch = "wasm32"))]

mod cam_checks;
mod common;

use resnet_lab::analysis::cam::{CamMethod, CamOptions};
use resnet_lab::config::Variant;
use resnet_lab::engine::Engine;

fn fixture_engine() -> Engine {
    let case = common::case("cam.json", "layer4_gradcam_207");
    Engine::with_weights(common::case_weights(&case)).unwrap()
}

#[test]
fn maps_match_pytorch_grad_cam_at_layer3_and_layer4() {
    let (at_stage, upsampled) =
        cam_checks::check_all(&fixture_engine(), &common::pattern_input(224));
    eprintln!(
        "CAM vs pytorch-grad-cam: worst {at_stage:e} at stage resolution, {upsampled:e} at 224"
    );
}

#[test]
fn every_stage_maps_the_top_five_in_one_job() {
    let engine = fixture_engine();
    let input = common::pattern_input(64);
    for stage in 2..=5 {
        let options = CamOptions {
            stage,
            method: CamMethod::GradCam,
            classes: vec![3],
            top_k: 5,
        };
        let mut job = engine.start_cam(&input, Variant::V1_5, options).unwrap();
        let mut steps = 0;
        while !job.is_done() {
            let p = job.step().unwrap();
            steps += 1;
            assert_eq!(p.done, steps);
        }
        // The forward, then one step per stage after the mapped one.
        assert_eq!(steps, 6 + (5 - stage));
        let result = job.finish().unwrap();
        let side = 64 >> stage;
        assert_eq!(result.maps.len(), 6, "top-5 and class 3");
        assert_eq!(result.maps[5].class, 3);
        for (map, ranked) in result.maps.iter().zip(&result.top) {
            assert_eq!(map.class, ranked.class);
        }
        for map in &result.maps {
            assert_eq!((map.height, map.width), (side, side));
            assert!(map.values.iter().all(|v| (0.0..=1.0).contains(v)));
            assert_eq!(map.upsampled(64).len(), 64 * 64);
        }
    }
}

#[test]
fn bad_requests_are_refused_with_a_message() {
    let engine = fixture_engine();
    let input = common::pattern_input(64);
    let run = |stage, classes: Vec<usize>| {
        engine
            .start_cam(
                &input,
                Variant::V1_5,
                CamOptions {
                    stage,
                    classes,
                    ..CamOptions::default()
                },
            )
            .err()
            .map(|e| e.to_string())
    };
    assert!(run(1, vec![]).unwrap().contains("Stage 2–5"));
    assert!(run(5, vec![1000]).unwrap().contains("no class 1000"));
    assert!(run(5, vec![999]).is_none());
}
