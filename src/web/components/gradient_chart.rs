//! One log-scale chart of a gradient-flow result, with a hover read-out.

use std::cell::RefCell;
use std::rc::Rc;

use plotters_canvas::CanvasBackend;
use web_sys::{HtmlCanvasElement, MouseEvent};
use yew::prelude::*;

use crate::analysis::gradients::GradientFlow;
use crate::charts::gradients::{
    draw_gradient_chart, nearest_point, ChartPoint, GradientChartKind, GradientSeries,
};
use crate::web::state::Store;

/// Properties of [`GradientChart`]: one series kind of one gradient-flow result.
#[derive(Properties, PartialEq)]
pub struct ChartProps {
    pub flow: Rc<(GradientFlow, f64)>,
    pub kind: GradientChartKind,
    pub title: AttrValue,
    pub testid: AttrValue,
}

/// One chart canvas with a hover read-out.
#[function_component(GradientChart)]
pub fn gradient_chart(p: &ChartProps) -> Html {
    let canvas = use_node_ref();
    let points = use_mut_ref(Vec::<ChartPoint>::new);
    let hover = use_state(String::new);
    let store = use_context::<Store>();
    let lang = store
        .as_ref()
        .map(|s| s.lang)
        .unwrap_or(crate::lang::Lang::En);
    let series = GradientSeries::of(&p.flow.0, p.kind);
    {
        let (canvas, points, series) = (canvas.clone(), points.clone(), series.clone());
        let y_label = match p.kind {
            GradientChartKind::Weight => "‖∂L/∂W‖",
            GradientChartKind::RelativeWeight => "‖∂L/∂W‖ / ‖W‖",
            GradientChartKind::Activation => "‖∂L/∂x‖",
        };
        use_effect_with((p.flow.clone(), p.kind, lang), move |_| {
            if let Some(backend) = canvas
                .cast::<HtmlCanvasElement>()
                .and_then(CanvasBackend::with_canvas_object)
            {
                if let Ok(drawn) = draw_gradient_chart(backend, &series, y_label, lang) {
                    *points.borrow_mut() = drawn;
                }
            }
        });
    }
    let onmousemove = {
        let (points, hover, series): (Rc<RefCell<Vec<ChartPoint>>>, _, _) =
            (points.clone(), hover.clone(), series.clone());
        let s = lang.strings();
        Callback::from(move |e: MouseEvent| {
            let Some(target) = e.target_dyn_into::<HtmlCanvasElement>() else {
                return;
            };
            let rect = target.get_bounding_client_rect();
            let sx = target.width() as f64 / rect.width().max(1.0);
            let sy = target.height() as f64 / rect.height().max(1.0);
            let (x, y) = (
                (e.offset_x() as f64 * sx) as i32,
                (e.offset_y() as f64 * sy) as i32,
            );
            let text = nearest_point(&points.borrow(), x, y, 10)
                .map(|p| {
                    let net = if p.skip {
                        s.with_skips
                    } else {
                        s.without_skips
                    };
                    format!("{} ({net}): {:.3e}", series.names[p.index], p.value)
                })
                .unwrap_or_default();
            hover.set(text);
        })
    };
    html! {
        <figure class="grad-chart">
            <figcaption>{ p.title.clone() }</figcaption>
            <canvas ref={canvas} width="900" height="340" data-testid={p.testid.clone()}
                    data-layers={series.names.len().to_string()} {onmousemove}></canvas>
            <div class="hover" data-testid={format!("{}-hover", p.testid)}>{ (*hover).clone() }</div>
        </figure>
    }
}
