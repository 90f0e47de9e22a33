//! The top-k predictions as horizontal bars with their probabilities.

use plotters::prelude::*;

use super::chart_error;
use crate::imagenet::Ranked;
use crate::Result;

/// Draws `top` as labelled horizontal bars (probability 0–100 %) filling the backend.
pub fn draw_top_k<DB: DrawingBackend>(backend: DB, top: &[Ranked], untrained: bool) -> Result<()> {
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(chart_error)?;
    let (w, h) = root.dim_in_pixel();
    let rows = top.len().max(1) as i32;
    let row_h = (h as i32 / rows).max(1);
    let label_w = (w as i32 * 45) / 100;
    let bar_max = w as i32 - label_w - 60;
    let colour = if untrained {
        RGBColor(150, 150, 160)
    } else {
        RGBColor(47, 111, 237)
    };
    let font = ("sans-serif", (row_h * 2 / 5).clamp(10, 16)).into_font();
    for (i, r) in top.iter().enumerate() {
        let y = i as i32 * row_h;
        let text = TextStyle::from(font.clone()).color(&BLACK);
        root.draw(&Text::new(
            r.label.clone(),
            (4, y + row_h / 3),
            text.clone(),
        ))
        .map_err(chart_error)?;
        let len = ((r.prob.clamp(0.0, 1.0)) * bar_max as f32).round() as i32;
        root.draw(&Rectangle::new(
            [
                (label_w, y + row_h / 5),
                (label_w + len.max(1), y + row_h * 4 / 5),
            ],
            colour.filled(),
        ))
        .map_err(chart_error)?;
        root.draw(&Text::new(
            format!("{:.1}%", r.prob * 100.0),
            (label_w + len + 6, y + row_h / 3),
            text,
        ))
        .map_err(chart_error)?;
    }
    root.present().map_err(chart_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_has_one_bar_and_label_per_class() {
        let top = crate::imagenet::top_k(&[0.0, 5.0, 1.0, 3.0, -2.0, 0.5], 5);
        let mut svg = String::new();
        draw_top_k(SVGBackend::with_string(&mut svg, (400, 200)), &top, false).unwrap();
        assert_eq!(
            svg.matches("<rect").count(),
            1 + 5,
            "background + five bars"
        );
        assert!(
            svg.contains("goldfish") && svg.contains("tiger shark"),
            "{svg}"
        );
        assert!(
            svg.contains("84.") || svg.contains("85."),
            "probability of the top class"
        );
    }
}
