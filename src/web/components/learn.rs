//! Learn: the tutorial's sections as a guided page — concept, vanishing gradients with a live
//! depth demo, the residual block on the user's image, identity vs convolutional block with
//! their real shapes, and the stage table linking into Explore.

use plotters_canvas::CanvasBackend;
use web_sys::{HtmlCanvasElement, HtmlInputElement};
use yew::prelude::*;

use super::residual_view::ResidualView;
use super::stage_panel::ViewOptions;
use crate::analysis::architecture::{format_shape as shape, stage_table, Row, RowKind};
use crate::analysis::colormap::Colormap;
use crate::analysis::toy::toy_gradients;
use crate::charts::toy::draw_toy;
use crate::config::ResNetConfig;
use crate::web::section::Section;
use crate::web::state::{Action, Store};

/// The depth slider and its chart.
#[function_component(DepthDemo)]
fn depth_demo() -> Html {
    let depth = use_state(|| 30usize);
    let canvas = use_node_ref();
    let lang = use_context::<Store>()
        .map(|s| s.lang)
        .unwrap_or(crate::lang::Lang::En);
    let toy = use_memo(*depth, |depth| toy_gradients(*depth, 64, 7));
    {
        let (canvas, toy) = (canvas.clone(), toy.clone());
        use_effect_with((*depth, lang), move |(_, lang)| {
            if let Some(backend) = canvas
                .cast::<HtmlCanvasElement>()
                .and_then(CanvasBackend::with_canvas_object)
            {
                let _ = draw_toy(backend, &toy, *lang);
            }
        });
    }
    let plain = toy.plain[0] / toy.plain[*depth - 1];
    let residual = toy.residual[0] / toy.residual[*depth - 1];
    let oninput = {
        let depth = depth.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e.target_dyn_into::<HtmlInputElement>() {
                depth.set(i.value().parse().unwrap_or(30).clamp(5, 50));
            }
        })
    };
    let s = lang.strings();
    html! {
        <div class="depth-demo">
            <label>{ format!("{}: {}", s.depth, *depth) }
                <input type="range" min="5" max="50" value={depth.to_string()} {oninput} data-testid="learn-depth" />
            </label>
            <canvas ref={canvas} width="700" height="260" data-testid="learn-depth-chart"></canvas>
            <p class="meta" data-testid="learn-depth-reading">
                { lang.pick(
                    format!("Lớp 1 / lớp {}: mạng thường {:.1e}, mạng phần dư {:.2}.", *depth, plain, residual),
                    format!("Layer 1 / layer {}: plain {:.1e}, residual {:.2}.", *depth, plain, residual),
                ) }
            </p>
        </div>
    }
}

fn block_diagram(row: &Row, lang: crate::lang::Lang) -> Html {
    let [c_in, side_in] = [row.input[0], row.input[1]];
    let [c_out, side_out] = [row.output[0], row.output[1]];
    let width = c_out / 4;
    let stride = side_in / side_out;
    let conv = row.kind == RowKind::ConvolutionalBlock;
    let step = |label: String, shape: String| html! { <div class="step"><b>{ label }</b><span>{ shape }</span></div> };
    html! {
        <div class={classes!("block-diagram", conv.then_some("conv"))}>
            <h4>{ format!("{} ({})", row.name, if conv { lang.pick("khối tích chập", "convolutional block") } else { lang.pick("khối đồng nhất", "identity block") }) }</h4>
            { step("x".into(), shape(&row.input)) }
            <div class="branches">
                <div class="main">
                    { step(format!("conv 1×1, {width}"), format!("{width}×{side_in}×{side_in}")) }
                    { step("BN + ReLU".into(), String::new()) }
                    { step(format!("conv 3×3/{stride}, {width}"), format!("{width}×{side_out}×{side_out}")) }
                    { step("BN + ReLU".into(), String::new()) }
                    { step(format!("conv 1×1, {c_out}"), format!("{c_out}×{side_out}×{side_out}")) }
                    { step("BN → F(x)".into(), String::new()) }
                </div>
                <div class="shortcut">
                    if conv {
                        { step(format!("conv 1×1/{stride}, {c_out} + BN"), format!("{c_in}×{side_in}² → {c_out}×{side_out}²")) }
                    } else {
                        { step(lang.pick("x (giữ nguyên)", "x (as is)").into(), shape(&row.input)) }
                    }
                </div>
            </div>
            { step("ReLU(x + F(x))".into(), shape(&row.output)) }
            <p class="meta">{ format!("{} params", row.params) }</p>
        </div>
    }
}

/// The Learn section.
#[function_component(Learn)]
pub fn learn() -> Html {
    let rows = use_memo((), |_| stage_table(&ResNetConfig::resnet50(1000)));
    let Some(store) = use_context::<Store>() else {
        return html! {};
    };
    let s = store.lang.strings();
    let lang = store.lang;
    let identity = rows
        .iter()
        .find(|r| r.name == "layer1.1")
        .map(|r| block_diagram(r, lang));
    let convolutional = rows
        .iter()
        .find(|r| r.name == "layer2.0")
        .map(|r| block_diagram(r, lang));
    let table = rows.iter().map(|row| {
        let stage = row.stage;
        let onclick = {
            let store = store.clone();
            Callback::from(move |_| {
                store.dispatch(Action::Section(Section::Explore));
                if (1..=5).contains(&stage) {
                    gloo::timers::callback::Timeout::new(50, move || {
                        if let Some(el) = web_sys::window()
                            .and_then(|w| w.document())
                            .and_then(|d| d.query_selector(&format!("[data-testid=stage-{stage}]")).ok().flatten())
                        {
                            el.scroll_into_view();
                        }
                    })
                    .forget();
                }
            })
        };
        let stage_name = match stage {
            0 => String::new(),
            6 => s.head.to_string(),
            n => format!("{} {n}", s.stage_word),
        };
        html! {
            <tr {onclick} class="arch-row" title={s.open_in_explore} data-testid={format!("learn-row-{}", row.name.replace(' ', "-"))}>
                <td>{ stage_name }</td><td>{ &row.name }</td>
                <td>{ match row.kind {
                    RowKind::ConvolutionalBlock => s.conv_block,
                    RowKind::IdentityBlock => s.identity_block,
                    _ => "",
                } }</td>
                <td class="shape">{ format!("{} → {}", shape(&row.input), shape(&row.output)) }</td>
            </tr>
        }
    });
    let block_picker = {
        let store = store.clone();
        Callback::from(move |e: Event| {
            if let Some(sel) = e.target_dyn_into::<web_sys::HtmlSelectElement>() {
                store.dispatch(Action::SelectBlock(sel.value().parse().unwrap_or(0)));
            }
        })
    };
    if store.result.is_some() && store.selected_block.is_none() {
        store.dispatch(Action::SelectBlock(0));
    }
    let block_names = rows
        .iter()
        .filter(|r| matches!(r.kind, RowKind::ConvolutionalBlock | RowKind::IdentityBlock))
        .enumerate()
        .map(|(i, r)| html! { <option value={i.to_string()} selected={store.selected_block == Some(i)}>{ &r.name }</option> });
    html! {
        <article class="learn">
            <h2>{ s.learn }</h2>
            <section><h3>{ s.learn_concept_title }</h3><p>{ s.learn_concept }</p></section>
            <section>
                <h3>{ s.learn_vanishing_title }</h3>
                <p>{ s.learn_vanishing }</p>
                <DepthDemo />
                <p class="note" data-testid="learn-bn-caveat">{ s.learn_vanishing_caveat }</p>
            </section>
            <section>
                <h3>{ s.learn_block_title }</h3>
                <p>{ s.learn_block }</p>
                if store.result.is_some() {
                    <select onchange={block_picker}>{ for block_names }</select>
                    <ResidualView options={ViewOptions { colormap: Colormap::Viridis, per_stage: false, by_activation: true, overlay: false }} />
                } else {
                    <button onclick={let st = store.clone(); move |_| st.dispatch(Action::Section(Section::Explore))}>{ s.open_in_explore }</button>
                }
            </section>
            <section>
                <h3>{ s.learn_blocks_title }</h3>
                <p>{ s.learn_blocks }</p>
                <div class="block-pair">{ for identity }{ for convolutional }</div>
            </section>
            <section>
                <h3>{ s.learn_table_title }</h3>
                <p>{ s.learn_table }</p>
                <table class="stage-table"><tbody>{ for table }</tbody></table>
                <p class="note" data-testid="learn-head-caveat">{ s.learn_head_caveat }</p>
            </section>
        </article>
    }
}
