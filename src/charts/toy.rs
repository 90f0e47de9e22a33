//! The Learn page's depth demo: ‖∂L/∂h‖ per layer of a toy stack, plain vs residual, log scale.

use plotters::prelude::*;

use super::chart_error;
use super::gradients::{PLAIN_COLOUR, SKIP_COLOUR};
use crate::analysis::toy::ToyGradients;
use crate::lang::Lang;
use crate::Result;

/// Draws both stacks' gradient norms against layer index (1 = first layer).
pub fn draw_toy<DB: DrawingBackend>(backend: DB, toy: &ToyGradients, lang: Lang) -> Result<()> {
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(chart_error)?;
    let all = toy
        .plain
        .iter()
        .chain(&toy.residual)
        .copied()
        .filter(|v| *v > 0.0);
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let (lo, hi) = if lo.is_finite() {
        (lo / 3.0, hi * 3.0)
    } else {
        (1e-3, 1.0)
    };
    let n = toy.plain.len().max(2);
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(1f64..n as f64, (lo..hi).log_scale())
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .x_desc(lang.pick("lớp (1 = gần đầu vào)", "layer (1 = nearest the input)"))
        .y_desc("‖∂L/∂h‖")
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .draw()
        .map_err(chart_error)?;
    for (values, colour, name) in [
        (
            &toy.residual,
            SKIP_COLOUR,
            lang.pick("có kết nối tắt", "residual"),
        ),
        (&toy.plain, PLAIN_COLOUR, lang.pick("mạng thường", "plain")),
    ] {
        chart
            .draw_series(LineSeries::new(
                values.iter().enumerate().map(|(i, v)| ((i + 1) as f64, *v)),
                colour.stroke_width(2),
            ))
            .map_err(chart_error)?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(chart_error)?;
    root.present().map_err(chart_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_shows_both_stacks() {
        let toy = crate::analysis::toy::toy_gradients(20, 32, 0);
        let mut svg = String::new();
        draw_toy(
            SVGBackend::with_string(&mut svg, (600, 300)),
            &toy,
            Lang::En,
        )
        .unwrap();
        assert!(svg.contains("residual") && svg.contains("plain") && svg.contains("<polyline"));
    }
}
