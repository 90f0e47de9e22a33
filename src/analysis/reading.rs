//! The plain-words reading under the gradient charts, computed from the numbers (never a canned
//! sentence), plus CSV export of the same numbers.

use super::gradients::GradientFlow;
use crate::lang::Lang;

/// Which network's gradients are smaller at the first convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Smaller {
    /// The residual network's.
    Skip,
    /// The plain network's.
    Plain,
}

/// The reading: sentences plus the fact the first one states.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    /// Which network's first-convolution gradient is smaller.
    pub smaller: Smaller,
    /// Sentences, in order.
    pub sentences: Vec<String>,
}

/// `10⁻⁸·⁴`-style power of ten for a ratio, or a plain number when it is near 1.
pub fn power_of_ten(ratio: f64) -> String {
    if !ratio.is_finite() || ratio <= 0.0 {
        return "0".into();
    }
    let e = ratio.log10();
    if e.abs() < 1.0 {
        return format!("{ratio:.2}");
    }
    let sup = |s: String| -> String {
        s.chars()
            .map(|c| match c {
                '-' => '⁻',
                '.' => '·',
                d => "⁰¹²³⁴⁵⁶⁷⁸⁹"
                    .chars()
                    .nth(d.to_digit(10).unwrap_or(0) as usize)
                    .unwrap_or(d),
            })
            .collect()
    };
    format!("10{}", sup(format!("{e:.1}")))
}

fn decades(v: f64) -> String {
    format!("{:.1}", v.abs())
}

/// Reads `flow` in `lang`.
pub fn reading(flow: &GradientFlow, lang: Lang) -> Reading {
    let first = flow.layers.first();
    let (skip0, plain0) = first
        .map(|l| (l.skip, l.plain.unwrap_or(0.0)))
        .unwrap_or((0.0, 0.0));
    let ratio = plain0 / skip0;
    let smaller = if plain0 < skip0 {
        Smaller::Plain
    } else {
        Smaller::Skip
    };
    let mut sentences = Vec::new();
    sentences.push(match smaller {
        Smaller::Plain => lang.pick(
            format!(
                "Không có kết nối tắt, gradient tại lớp tích chập đầu tiên (conv1) của mạng thường chỉ bằng {} gradient của mạng phần dư: nhỏ hơn ({plain0:.2e} so với {skip0:.2e}).",
                power_of_ten(ratio)
            ),
            format!(
                "Without skip connections, the plain network's gradient at the first convolution (conv1) is {} of the residual network's: smaller ({plain0:.2e} vs {skip0:.2e}).",
                power_of_ten(ratio)
            ),
        ),
        Smaller::Skip => lang.pick(
            format!(
                "Không có kết nối tắt, gradient tại conv1 của mạng thường lại lớn hơn, gấp {} lần của mạng phần dư ({plain0:.2e} so với {skip0:.2e}): gradient không triệt tiêu mà phình to.",
                power_of_ten(ratio)
            ),
            format!(
                "Without skip connections, the plain network's gradient at conv1 is larger, {} times the residual network's ({plain0:.2e} vs {skip0:.2e}): it does not vanish, it grows.",
                power_of_ten(ratio)
            ),
        ),
    });
    let (a_skip, a_plain) = (
        flow.summary.skip.activation_decades,
        flow.summary.plain.activation_decades,
    );
    let direction = |d: f64| {
        if d < 0.0 {
            lang.pick("giảm", "shrinks by")
        } else {
            lang.pick("tăng", "grows by")
        }
    };
    sentences.push(lang.pick(
        format!(
            "Từ khối cuối về đến stem, ‖∂L/∂x‖ {} {} bậc độ lớn khi có kết nối tắt và {} {} bậc khi không có.",
            direction(a_skip), decades(a_skip), direction(a_plain), decades(a_plain)
        ),
        format!(
            "From the last block back to the stem, ‖∂L/∂x‖ {} {} decades with skip connections and {} {} decades without.",
            direction(a_skip), decades(a_skip), direction(a_plain), decades(a_plain)
        ),
    ));
    sentences.push(lang.pick(
        format!(
            "‖∂L/∂W‖ theo từng lớp trải trên {:.1} bậc độ lớn khi có kết nối tắt, {:.1} bậc khi không có.",
            flow.summary.skip.span_decades, flow.summary.plain.span_decades
        ),
        format!(
            "Per-layer ‖∂L/∂W‖ spans {:.1} decades with skip connections, {:.1} without.",
            flow.summary.skip.span_decades, flow.summary.plain.span_decades
        ),
    ));
    let verdict = if a_plain < -3.0 && a_plain < a_skip - 2.0 {
        lang.pick(
            "Đây là hiện tượng triệt tiêu gradient: tín hiệu lan ngược co lại qua mỗi khối của mạng thường, còn phép cộng x + F(x) giữ cho nó đi qua.",
            "This is the vanishing gradient: the backward signal shrinks through every block of the plain network, while the addition x + F(x) carries it through.",
        )
    } else if a_plain > a_skip + 1.0 {
        lang.pick(
            "Không có gì triệt tiêu ở đây (batch norm giữ tín hiệu), nhưng gradient của mạng thường tăng mạnh hơn về phía đầu vào: các lớp đầu học với bước rất khác các lớp cuối.",
            "Nothing vanishes here (batch norm keeps the signal alive), but the plain network's gradients grow much more towards the input: its early layers would learn at a very different pace from its late ones.",
        )
    } else {
        lang.pick(
            "Với các thiết lập này, hai mạng truyền gradient tương đương nhau.",
            "With these settings, both networks pass gradients back comparably.",
        )
    };
    sentences.push(verdict.to_string());
    Reading { smaller, sentences }
}

/// The numbers as CSV: one row per weight layer, then one per activation.
pub fn to_csv(flow: &GradientFlow) -> String {
    let mut out = String::from("kind,name,with_skips,without_skips,weight_norm\n");
    let opt = |v: Option<f64>| v.map(|v| format!("{v:e}")).unwrap_or_default();
    for l in &flow.layers {
        out.push_str(&format!(
            "weight_grad,{},{:e},{},{:e}\n",
            l.name,
            l.skip,
            opt(l.plain),
            l.weight_norm
        ));
    }
    for a in std::iter::once(&flow.stem).chain(&flow.blocks) {
        out.push_str(&format!(
            "activation_grad,{},{:e},{:e},\n",
            a.name, a.skip, a.plain
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powers_of_ten_read_naturally() {
        assert_eq!(power_of_ten(3.98e-9), "10⁻⁸·⁴");
        assert_eq!(power_of_ten(2.0), "2.00");
        assert_eq!(power_of_ten(9850.0), "10⁴·⁰");
    }
}
