//! ‖∂L/∂W‖ of a convolution without forming ∂L/∂W, for a batch with few output positions: all
//! the Gradient lab shows of a filter gradient is its norm.
//!
//! ∂L/∂W = D·Xᵀ, with D = [∂L/∂y₀ … ∂L/∂y_{N−1}] (`C_out × N·P`, the images side by side) and
//! X = [cols(x₀) … cols(x_{N−1})] (`C_in·k·k × N·P`). So
//! ‖∂L/∂W‖²_F = tr(X·DᵀD·Xᵀ) = ⟨DᵀD, XᵀX⟩_F: two Gram matrices of side N·P, accumulated in f64.
//! That costs (C_out + C_in·k²)·(N·P)²/2 multiply-adds and writes nothing of the filters' size,
//! where the product costs C_out·C_in·k²·N·P and writes every filter value: at 64×64 the
//! deepest stages have 4 to 16 positions per image.

use std::borrow::Cow;

use super::conv_grad::{ConvGeometry, Real};
use crate::Result;

/// The largest Gram side taken: its triangle (32 KB) stays in the L1 cache while the rows stream.
const MAX_SIDE: usize = 64;

/// True when the Gram form costs less than forming ∂L/∂W (its f64 multiply-adds counted twice:
/// half as many fit in a SIMD register).
pub fn gram_pays(g: &ConvGeometry) -> bool {
    let np = g.n * g.positions();
    np <= MAX_SIDE && np * (g.cout + g.depth()) < g.cout * g.depth()
}

/// ‖∂L/∂W‖₂ of the convolution `g` from its input `x` (`[N, C_in, H, W]`) and `dy` = ∂L/∂y
/// (`[N, C_out, H_out, W_out]`), through the Gram matrices of ∂L/∂y and of the patch matrices.
pub fn filter_grad_norm<T: Real + Into<f64>>(g: &ConvGeometry, x: &[T], dy: &[T]) -> Result<f64> {
    g.check(
        "filter gradient norm",
        [
            (x.len(), g.n * g.input_len()),
            (dy.len(), g.n * g.output_len()),
        ],
    )?;
    let (p, depth) = (g.positions(), g.depth());
    // D's row r: row r of each image's ∂L/∂y (`[C_out, P]` per image), side by side.
    let dy_gram = gram(g.cout, g.n, p, |r, n| {
        let start = n * g.output_len() + r * p;
        &dy[start..start + p]
    });
    // X's row r likewise, from the patch matrices: the input itself for a 1×1 / stride 1,
    // else made for every image.
    let cols: Cow<[T]> = if g.is_pointwise() {
        Cow::Borrowed(x)
    } else {
        let mut cols = Vec::with_capacity(g.n * depth * p);
        g.for_each_patch_matrix(x, |_, image_cols| cols.extend_from_slice(image_cols));
        Cow::Owned(cols)
    };
    let cols_gram = gram(depth, g.n, p, |r, n| {
        let start = (n * depth + r) * p;
        &cols[start..start + p]
    });
    let np = g.n * p;
    let mut sum = 0.0;
    for i in 0..np {
        let row = i * np;
        sum += dy_gram[row + i] * cols_gram[row + i];
        // The upper triangle stands for both halves of the symmetric matrices.
        let off: f64 = (i + 1..np)
            .map(|j| dy_gram[row + j] * cols_gram[row + j])
            .sum();
        sum += 2.0 * off;
    }
    Ok(sum.max(0.0).sqrt())
}

/// The upper triangle of MᵀM (`N·P × N·P`, row-major, f64) for the `rows × N·P` matrix M whose
/// row `r` is `part(r, 0) … part(r, N−1)`, each `P` values.
fn gram<'a, T: Real + Into<f64>>(
    rows: usize,
    n: usize,
    p: usize,
    part: impl Fn(usize, usize) -> &'a [T],
) -> Vec<f64> {
    let np = n * p;
    let mut g = vec![0f64; np * np];
    // Four rows of M at a time: each value of the triangle is loaded and stored once per four
    // multiply-adds.
    let mut block = vec![0f64; 4 * np];
    for first in (0..rows).step_by(4) {
        block.iter_mut().for_each(|v| *v = 0.0);
        for (k, row) in block.chunks_exact_mut(np).enumerate() {
            let r = first + k;
            if r == rows {
                break;
            }
            for (i, chunk) in row.chunks_exact_mut(p).enumerate() {
                for (v, &x) in chunk.iter_mut().zip(part(r, i)) {
                    *v = x.into();
                }
            }
        }
        let (r0, rest) = block.split_at(np);
        let (r1, rest) = rest.split_at(np);
        let (r2, r3) = rest.split_at(np);
        for i in 0..np {
            let a = [r0[i], r1[i], r2[i], r3[i]];
            // After a ReLU about half the values are zero: such a column adds nothing.
            if a == [0.0; 4] {
                continue;
            }
            let out = &mut g[i * np + i..(i + 1) * np];
            for ((((acc, &b0), &b1), &b2), &b3) in out
                .iter_mut()
                .zip(&r0[i..])
                .zip(&r1[i..])
                .zip(&r2[i..])
                .zip(&r3[i..])
            {
                *acc += a[0] * b0 + a[1] * b1 + a[2] * b2 + a[3] * b3;
            }
        }
    }
    g
}
