//! The network as the tutorial's stage table: clickable rows with shapes, parameters and
//! multiply-adds; a block opens its residual view, a stage jumps to its feature maps.

use yew::prelude::*;

use crate::analysis::architecture::{format_shape as shape, stage_table, Row, RowKind};
use crate::config::ResNetConfig;
use crate::web::state::{Action, Store};

fn human(n: usize) -> String {
    match n {
        n if n >= 1_000_000_000 => format!("{:.2} G", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{:.2} M", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.1} k", n as f64 / 1e3),
        n => n.to_string(),
    }
}

fn scroll_to(testid: &str) {
    if let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| {
        d.query_selector(&format!("[data-testid=\"{testid}\"]"))
            .ok()
            .flatten()
    }) {
        el.scroll_into_view();
    }
}

/// The architecture diagram.
#[function_component(Architecture)]
pub fn architecture() -> Html {
    let rows = use_memo((), |_| stage_table(&ResNetConfig::resnet50(1000)));
    let Some(store) = use_context::<Store>() else {
        return html! {};
    };
    let s = store.lang.strings();
    let stage_name = |stage: usize| match stage {
        1..=5 => format!("{} {stage}", s.stage_word),
        6 => s.head.to_string(),
        _ => String::new(),
    };
    let mut block_index = 0usize;
    let row_html = |row: &Row, block: Option<usize>| {
        let kind = match row.kind {
            RowKind::ZeroPadding => s.kind_zero_padding.to_string(),
            RowKind::Stem => s.kind_stem.to_string(),
            RowKind::ConvolutionalBlock => s.conv_block.to_string(),
            RowKind::IdentityBlock => s.identity_block.to_string(),
            RowKind::AveragePool => s.kind_avg_pool.to_string(),
            RowKind::Flatten => s.kind_flatten.to_string(),
            RowKind::FullyConnected => s.kind_fc.to_string(),
        };
        let selected = block.is_some() && block == store.selected_block;
        let onclick = {
            let store = store.clone();
            let stage = row.stage;
            Callback::from(move |_| match block {
                Some(b) => {
                    store.dispatch(Action::SelectBlock(b));
                    scroll_to("residual-view");
                }
                None if (1..=5).contains(&stage) => scroll_to(&format!("stage-{stage}")),
                None => {}
            })
        };
        let class = classes!(
            "arch-row",
            matches!(row.kind, RowKind::ConvolutionalBlock).then_some("conv"),
            matches!(row.kind, RowKind::IdentityBlock).then_some("identity"),
            selected.then_some("selected")
        );
        html! {
            <tr {class} {onclick} data-testid={format!("arch-{}", row.name.replace(' ', "-"))}>
                <td>{ stage_name(row.stage) }</td>
                <td class="name">{ &row.name }</td>
                <td>{ kind }</td>
                <td class="shape">{ format!("{} → {}", shape(&row.input), shape(&row.output)) }</td>
                <td class="num">{ human(row.params) }</td>
                <td class="num">{ human(row.macs) }</td>
            </tr>
        }
    };
    let body = rows.iter().map(|row| {
        let block = matches!(
            row.kind,
            RowKind::ConvolutionalBlock | RowKind::IdentityBlock
        )
        .then(|| {
            block_index += 1;
            block_index - 1
        });
        row_html(row, block)
    });
    let total_params: usize = rows.iter().map(|r| r.params).sum();
    let total_macs: usize = rows.iter().map(|r| r.macs).sum();
    html! {
        <section class="architecture" data-testid="architecture">
            <h3>{ s.architecture }</h3>
            <table>
                <thead><tr>
                    <th></th><th></th><th></th><th>{ s.in_out }</th>
                    <th>{ s.params }</th><th>{ s.macs }</th>
                </tr></thead>
                <tbody>{ for body }</tbody>
                <tfoot><tr>
                    <td colspan="4"></td><td class="num">{ human(total_params) }</td><td class="num">{ human(total_macs) }</td>
                </tr></tfoot>
            </table>
        </section>
    }
}
