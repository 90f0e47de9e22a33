//! Explore's stepwise run gives the same prediction as a plain forward and everything the page
//! needs (maps of every stage, the 16 residual views).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{init_weights, pattern_input};
use resnet_lab::engine::{Engine, PredictOptions};
use resnet_lab::weights::InitKind;

#[test]
fn stepwise_explore_equals_predict_and_reports_each_stage() {
    let engine = Engine::with_weights(init_weights(InitKind::He, 0)).unwrap();
    let input = pattern_input(64);
    let options = PredictOptions::default();
    let plain = engine.predict(&input, &options, &mut |_| Ok(())).unwrap();
    let mut job = engine.start_explore(&input, &options).unwrap();
    let mut steps = Vec::new();
    while !job.is_done() {
        steps.push(job.step().unwrap().done);
    }
    assert_eq!(steps, vec![1, 2, 3, 4, 5, 6]);
    let result = job.finish().unwrap();
    assert_eq!(result.prediction, plain);
    let channels: Vec<usize> = result.maps.iter().map(|m| m.channels).collect();
    assert_eq!(channels, vec![64, 256, 512, 1024, 2048]);
    assert_eq!(result.blocks.len(), 16);
    assert!(result.blocks[0].convolutional && !result.blocks[1].convolutional);
    assert!(result
        .blocks
        .iter()
        .all(|b| b.residual_norm > 0.0 && b.output_norm > 0.0));
}
