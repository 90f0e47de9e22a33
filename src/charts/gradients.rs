//! Gradient norms against depth, log scale, two series (with / without skip connections), with
//! the tutorial's stage boundaries marked.

use plotters::prelude::*;

use super::chart_error;
use crate::analysis::gradients::GradientFlow;
use crate::lang::Lang;
use crate::Result;

/// Which quantity to plot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GradientChartKind {
    /// ‖∂L/∂W‖ per weight layer.
    Weight,
    /// ‖∂L/∂W‖ / ‖W‖ per weight layer.
    RelativeWeight,
    /// ‖∂L/∂x‖ at the stem and each block output.
    Activation,
}

/// The points of one chart: names and two series (`None` where a layer is unused).
#[derive(Clone, Debug, PartialEq)]
pub struct GradientSeries {
    /// Point names (torchvision names).
    pub names: Vec<String>,
    /// With skips.
    pub skip: Vec<Option<f64>>,
    /// Without skips.
    pub plain: Vec<Option<f64>>,
}

impl GradientSeries {
    /// Extracts `kind` from a gradient-flow result.
    pub fn of(flow: &GradientFlow, kind: GradientChartKind) -> Self {
        match kind {
            GradientChartKind::Weight | GradientChartKind::RelativeWeight => {
                let scale = |l: &crate::analysis::gradients::LayerGradient| match kind {
                    GradientChartKind::RelativeWeight => 1.0 / l.weight_norm,
                    _ => 1.0,
                };
                Self {
                    names: flow.layers.iter().map(|l| l.name.clone()).collect(),
                    skip: flow
                        .layers
                        .iter()
                        .map(|l| Some(l.skip * scale(l)))
                        .collect(),
                    plain: flow
                        .layers
                        .iter()
                        .map(|l| l.plain.map(|p| p * scale(l)))
                        .collect(),
                }
            }
            GradientChartKind::Activation => {
                let acts: Vec<_> = std::iter::once(&flow.stem).chain(&flow.blocks).collect();
                Self {
                    names: acts.iter().map(|a| a.name.clone()).collect(),
                    skip: acts.iter().map(|a| Some(a.skip)).collect(),
                    plain: acts.iter().map(|a| Some(a.plain)).collect(),
                }
            }
        }
    }

    /// Where each tutorial stage starts: (point index, "Stage N" / "Tầng N").
    pub fn stage_starts(&self, lang: Lang) -> Vec<(usize, String)> {
        let word = lang.pick("Tầng", "Stage");
        let mut out = vec![(0, format!("{word} 1"))];
        for (i, name) in self.names.iter().enumerate() {
            for layer in 1..=4 {
                let prefix = format!("layer{layer}.0");
                if name == &prefix || name.starts_with(&format!("{prefix}.conv1")) {
                    out.push((i, format!("{word} {}", layer + 1)));
                }
            }
            if name == "fc.weight" {
                out.push((i, "FC".to_string()));
            }
        }
        out
    }
}

/// A drawn point, for hover read-outs: pixel position, point index, and `true` for the
/// residual series.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartPoint {
    /// Pixel x.
    pub x: i32,
    /// Pixel y.
    pub y: i32,
    /// Index into the series.
    pub index: usize,
    /// True for "with skips".
    pub skip: bool,
    /// The value.
    pub value: f64,
}

/// Residual series colour.
pub const SKIP_COLOUR: RGBColor = RGBColor(47, 111, 237);
/// Plain series colour.
pub const PLAIN_COLOUR: RGBColor = RGBColor(214, 69, 65);

/// Draws `series` on a log scale; returns where each point landed.
pub fn draw_gradient_chart<DB: DrawingBackend>(
    backend: DB,
    series: &GradientSeries,
    y_label: &str,
    lang: Lang,
) -> Result<Vec<ChartPoint>> {
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(chart_error)?;
    let values = series
        .skip
        .iter()
        .chain(&series.plain)
        .flatten()
        .copied()
        .filter(|v| *v > 0.0);
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo.is_finite() {
        (lo / 3.0, hi * 3.0)
    } else {
        (1e-3, 1.0)
    };
    let n = series.names.len().max(2);
    let (skip_name, plain_name) = (
        lang.pick("có kết nối tắt (ResNet)", "with skip connections (ResNet)"),
        lang.pick(
            "không có kết nối tắt (mạng thường)",
            "without skip connections (plain)",
        ),
    );
    // Legend above the plot, where it never hides a point.
    let legend_font = ("sans-serif", 13).into_font();
    let mut x0 = 80;
    for (name, colour) in [(skip_name, SKIP_COLOUR), (plain_name, PLAIN_COLOUR)] {
        root.draw(&Rectangle::new([(x0, 8), (x0 + 14, 20)], colour.filled()))
            .map_err(chart_error)?;
        root.draw(&Text::new(name, (x0 + 20, 8), legend_font.clone()))
            .map_err(chart_error)?;
        x0 += 30 + 8 * name.chars().count() as i32;
    }
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .margin_top(30)
        .x_label_area_size(34)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..(n - 1) as f64, (lo..hi).log_scale())
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(y_label)
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .draw()
        .map_err(chart_error)?;
    let font = ("sans-serif", 12).into_font();
    for (k, (i, label)) in series.stage_starts(lang).into_iter().enumerate() {
        let x = i as f64;
        // Alternate heights so that neighbouring labels (Stage 1 is one point) never overlap.
        let y = if k % 2 == 0 { lo * 1.4 } else { lo * 4.0 };
        chart
            .draw_series(DashedLineSeries::new(
                [(x, lo), (x, hi)],
                4,
                4,
                BLACK.mix(0.3).stroke_width(1),
            ))
            .map_err(chart_error)?;
        chart
            .draw_series(std::iter::once(Text::new(
                label,
                (x + 0.2, y),
                font.clone(),
            )))
            .map_err(chart_error)?;
    }
    let mut points = Vec::new();
    for (values, colour, is_skip) in [
        (&series.skip, SKIP_COLOUR, true),
        (&series.plain, PLAIN_COLOUR, false),
    ] {
        let pts: Vec<(f64, f64)> = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.filter(|v| *v > 0.0).map(|v| (i as f64, v)))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))
            .map_err(chart_error)?;
        chart
            .draw_series(
                pts.iter()
                    .map(|&(x, y)| Circle::new((x, y), 3, colour.filled())),
            )
            .map_err(chart_error)?;
        for &(x, y) in &pts {
            let (px, py) = chart.backend_coord(&(x, y));
            points.push(ChartPoint {
                x: px,
                y: py,
                index: x as usize,
                skip: is_skip,
                value: y,
            });
        }
    }
    root.present().map_err(chart_error)?;
    Ok(points)
}

/// The nearest drawn point to a pixel, within `radius` pixels.
pub fn nearest_point(points: &[ChartPoint], x: i32, y: i32, radius: i32) -> Option<&ChartPoint> {
    points
        .iter()
        .map(|p| (p, (p.x - x).pow(2) + (p.y - y).pow(2)))
        .filter(|(_, d)| *d <= radius * radius)
        .min_by_key(|(_, d)| *d)
        .map(|(p, _)| p)
}
