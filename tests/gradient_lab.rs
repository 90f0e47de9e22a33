//! The Gradient lab's pieces natively: the chart (SVG), the plain-words reading for both
//! presets, and CSV export — all from a real 64×64 gradient-flow run.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{init_weights, pattern_input};
use plotters::prelude::SVGBackend;
use resnet_lab::analysis::gradients::{GradientFlow, Precision};
use resnet_lab::analysis::reading::{reading, to_csv, Smaller};
use resnet_lab::charts::gradients::{
    draw_gradient_chart, nearest_point, GradientChartKind, GradientSeries,
};
use resnet_lab::config::{NormMode, Variant};
use resnet_lab::engine::{Engine, GradientOptions};
use resnet_lab::lang::Lang;
use resnet_lab::weights::InitKind;

fn flow(kind: InitKind, norm: NormMode) -> GradientFlow {
    let engine = Engine::with_weights(init_weights(kind, 0)).unwrap();
    let options = GradientOptions {
        variant: Variant::V1_5,
        norm,
        target: Some(281),
        precision: Precision::F32,
    };
    engine
        .gradient_flow(&pattern_input(64), &options, &mut |_| Ok(()))
        .unwrap()
}

#[test]
fn chart_svg_has_both_series_and_the_stage_labels() {
    let f = flow(InitKind::Xavier, NormMode::Off);
    for kind in [
        GradientChartKind::Weight,
        GradientChartKind::RelativeWeight,
        GradientChartKind::Activation,
    ] {
        let series = GradientSeries::of(&f, kind);
        let mut svg = String::new();
        let points = draw_gradient_chart(
            SVGBackend::with_string(&mut svg, (800, 360)),
            &series,
            "‖∂L/∂W‖",
            Lang::En,
        )
        .unwrap();
        assert!(
            svg.contains("with skip connections (ResNet)")
                && svg.contains("without skip connections (plain)")
        );
        for stage in ["Stage 1", "Stage 2", "Stage 3", "Stage 4", "Stage 5"] {
            assert!(svg.contains(stage), "{kind:?}: {stage} missing");
        }
        let skip_points = points.iter().filter(|p| p.skip).count();
        assert_eq!(skip_points, series.names.len());
        let p = &points[3];
        assert_eq!(
            nearest_point(&points, p.x + 1, p.y, 5).map(|q| q.index),
            Some(p.index)
        );
    }
    assert_eq!(
        GradientSeries::of(&f, GradientChartKind::Weight)
            .names
            .len(),
        54
    );
    assert_eq!(
        GradientSeries::of(&f, GradientChartKind::Activation)
            .names
            .len(),
        17
    );
}

#[test]
fn classic_preset_reads_as_vanishing_in_both_languages() {
    let f = flow(InitKind::Xavier, NormMode::Off);
    let en = reading(&f, Lang::En);
    assert_eq!(en.smaller, Smaller::Plain);
    assert!(en.sentences[0].contains("smaller"), "{}", en.sentences[0]);
    assert!(
        en.sentences
            .iter()
            .any(|s| s.contains("vanishing gradient")),
        "{:?}",
        en.sentences
    );
    let vi = reading(&f, Lang::Vi);
    assert!(
        vi.sentences
            .iter()
            .any(|s| s.contains("triệt tiêu gradient")),
        "{:?}",
        vi.sentences
    );
    // The numbers in the sentence are the numbers of the run.
    let conv1 = &f.layers[0];
    assert!(en.sentences[0].contains(&format!("{:.2e}", conv1.plain.unwrap())));
}

#[test]
fn as_trained_preset_reads_as_growth_not_vanishing() {
    let f = flow(InitKind::He, NormMode::Train);
    let en = reading(&f, Lang::En);
    assert_eq!(en.smaller, Smaller::Skip, "{:?}", en.sentences);
    assert!(
        !en.sentences
            .iter()
            .any(|s| s.contains("vanishing gradient")),
        "{:?}",
        en.sentences
    );
    assert!(
        en.sentences.iter().any(|s| s.contains("Nothing vanishes")),
        "{:?}",
        en.sentences
    );
}

#[test]
fn csv_has_every_layer_and_activation() {
    let f = flow(InitKind::Xavier, NormMode::Off);
    let csv = to_csv(&f);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "kind,name,with_skips,without_skips,weight_norm");
    assert_eq!(lines.len(), 1 + 54 + 17);
    assert!(lines
        .iter()
        .any(|l| l.starts_with("weight_grad,layer1.0.downsample.0.weight,") && l.contains(",,")));
    let conv1: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(conv1[1], "conv1.weight");
    assert_eq!(conv1[2].parse::<f64>().unwrap(), f.layers[0].skip);
}

/// The run goes block by block: the stem, every bottleneck and the head of each network, forward
/// and back, is a step the caller sees, and a cancel at any of them stops the run there (the
/// worker cancels between blocks, not only between stages or networks).
#[test]
fn a_run_reports_each_block_and_stops_at_a_cancel_inside_a_stage() {
    use resnet_lab::analysis::gradients::GRADIENT_STEPS;
    use resnet_lab::job::{Network, Step};
    use resnet_lab::Error;
    let engine = Engine::with_weights(init_weights(InitKind::He, 0)).unwrap();
    let options = GradientOptions {
        variant: Variant::V1_5,
        norm: NormMode::Train,
        target: None,
        precision: Precision::F32,
    };
    let input = pattern_input(64);
    let mut seen = Vec::new();
    engine
        .gradient_flow(&input, &options, &mut |p| {
            seen.push(p);
            Ok(())
        })
        .unwrap();
    assert_eq!(seen.len(), GRADIENT_STEPS);
    assert!(seen.iter().enumerate().all(|(i, p)| p.done == i + 1));
    let forward = |n| seen.iter().filter(|p| p.step == Step::Forward(n)).count();
    // One step per block (stem, 16 blocks, head), so that a cancel waits for one block at most.
    let per_pass = resnet_lab::config::NUM_BLOCKS + 2;
    assert_eq!(
        (forward(Network::Skip), forward(Network::Plain)),
        (per_pass, per_pass)
    );
    // A cancel at the third step (the stem and Stage 2's first two blocks): not even Stage 2
    // is finished.
    let mut calls = 0;
    let cancelled = engine.gradient_flow(&input, &options, &mut |p| {
        calls += 1;
        assert_eq!(p.step, Step::Forward(Network::Skip));
        if p.done == 3 {
            return Err(Error::Cancelled);
        }
        Ok(())
    });
    assert!(matches!(cancelled, Err(Error::Cancelled)), "{cancelled:?}");
    assert_eq!(calls, 3);
}
