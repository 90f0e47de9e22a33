//! 3×3 / stride 1 / padding 1 convolution by Winograd's F(4×4, 3×3): a 4×4 output tile costs
//! 36 multiplies per input channel, against 64 for F(2×2, 3×3) on its four 2×2 tiles and 144
//! directly, so the matrix products shrink 1.78× from F(2,3) (Lavin & Gray, "Fast Algorithms
//! for Convolutional Neural Networks", 2016; transform points 0, ±1, ±2, ∞). The larger
//! transforms round more (their entries reach 8 and 1/24), and the filters take 36 matrices
//! where F(2,3) takes 16. Forward only: the F(2,3) layer's ∂L/∂x reuses its filters at the
//! mirrored point, which needs points closed under a ↦ 1/a, and ±2 are not.

use super::conv_io::check_buffers;
use super::gemm::{SendPtr, Start, WeightMatrix};
use super::scratch::with_scratch;
use super::thread_pool::{for_each_chunk_mut, for_each_range};
use super::winograd::{for_each_point, transformed_filters};
use crate::Result;

/// Points of the 6×6 transform.
const POINTS: usize = 36;

/// A 3×3 convolution (stride 1, padding 1) with its filters in the F(4×4, 3×3) domain.
#[derive(Clone, Debug)]
pub struct Winograd4x4 {
    /// `U = G g Gᵀ` for every filter: 36 matrices `[C_out, C_in]`, one per point.
    u: Vec<WeightMatrix>,
    /// `[C_out]`, when the convolution has a bias (folded batch norm).
    bias: Option<Vec<f32>>,
    cout: usize,
    cin: usize,
}

impl Winograd4x4 {
    /// Transforms `filters` (`[C_out, C_in, 3, 3]`, row-major) with an optional `[C_out]` bias,
    /// staging one transform point at a time in `u` (at least `C_out·C_in` values, contents
    /// unspecified), so that only the packed matrices stay behind in memory.
    pub fn new_in(
        filters: &[f32],
        cout: usize,
        cin: usize,
        bias: Option<Vec<f32>>,
        u: &mut [f32],
    ) -> Result<Self> {
        // U = G g Gᵀ with G's rows [¼ 0 0], −⅙[1 1 1], −⅙[1 −1 1], [1 2 4]/24, [1 −2 4]/24,
        // [0 0 1]; in f64, once per layer, so that only the final value is rounded.
        let g_row = |r: usize, [a, b, d]: [f64; 3]| match r {
            0 => a / 4.0,
            1 => -(a + b + d) / 6.0,
            2 => -(a - b + d) / 6.0,
            3 => (a + 2.0 * b + 4.0 * d) / 24.0,
            4 => (a - 2.0 * b + 4.0 * d) / 24.0,
            _ => d,
        };
        let form = "winograd F(4,3) conv";
        let matrices =
            transformed_filters(form, filters, (cout, cin), &bias, u, POINTS, |e, f| {
                let (r, c) = (e / 6, e % 6);
                let f = |i: usize| f64::from(f[i]);
                let col = |j: usize| g_row(r, [f(j), f(3 + j), f(6 + j)]);
                g_row(c, [col(0), col(1), col(2)]) as f32
            })?;
        Ok(Self {
            u: matrices,
            bias,
            cout,
            cin,
        })
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.cout
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.cin
    }

    /// The convolution of `input` (`[N, C_in, H, W]`) into `out` (`[N, C_out, H, W]`),
    /// followed by a ReLU when `relu` is set.
    pub fn forward(
        &self,
        input: &[f32],
        [n, c, h, w]: [usize; 4],
        relu: bool,
        out: &mut [f32],
    ) -> Result<()> {
        let dims = [n, c, h, w];
        let len = n * self.cout * h * w;
        check_buffers("winograd F(4,3) conv", dims, self.cin, (input, out), len)?;
        let (th, tw) = (h.div_ceil(4), w.div_ceil(4));
        let tiles = th * tw;
        let lens = [POINTS * c * tiles, POINTS * self.cout * tiles];
        with_scratch(lens, |v, m| {
            for img in 0..n {
                let xs = &input[img * c * h * w..(img + 1) * c * h * w];
                transform_input(xs, c, (h, w, tw, tiles), v);
                self.products(tiles, v, m);
                let ys = &mut out[img * self.cout * h * w..(img + 1) * self.cout * h * w];
                let bias = self.bias.as_deref();
                transform_output(m, (self.cout, bias), (h, w, tw, tiles), relu, ys);
            }
        });
        Ok(())
    }

    /// `M[e] = U[e] · V[e]` for the 36 points e: one product each, spread over the threads
    /// there are (natively each product uses them itself).
    fn products(&self, tiles: usize, v: &[f32], m: &mut [f32]) {
        let (cc, co) = (self.cin * tiles, self.cout * tiles);
        let product = |e: usize, m_e: &mut [f32], serial: bool| {
            let v_e = &v[e * cc..(e + 1) * cc];
            self.u[e].product(tiles, v_e, m_e, Start::Zero, false, serial);
        };
        for_each_point(POINTS, co, m, &product);
    }
}

/// `Bᵀ d` for one column `d` of six values, with Bᵀ's rows [4 0 −5 0 1 0], [0 −4 −4 1 1 0],
/// [0 4 −4 −1 1 0], [0 −2 −1 2 1 0], [0 2 −1 −2 1 0], [0 4 0 −5 0 1].
#[inline(always)]
fn input_points([d0, d1, d2, d3, d4, d5]: [f32; 6]) -> [f32; 6] {
    [
        4.0 * d0 - 5.0 * d2 + d4,
        d3 + d4 - 4.0 * (d1 + d2),
        d4 - d3 + 4.0 * (d1 - d2),
        d4 - d2 + 2.0 * (d3 - d1),
        d4 - d2 + 2.0 * (d1 - d3),
        4.0 * d1 - 5.0 * d3 + d5,
    ]
}

/// `Aᵀ m` for one column `m` of six points, with Aᵀ's rows [1 1 1 1 1 0], [0 1 −1 2 −2 0],
/// [0 1 1 4 4 0], [0 1 −1 8 −8 1].
#[inline(always)]
fn output_values([m0, m1, m2, m3, m4, m5]: [f32; 6]) -> [f32; 4] {
    let (s12, d12, s34, d34) = (m1 + m2, m1 - m2, m3 + m4, m3 - m4);
    [
        m0 + s12 + s34,
        d12 + 2.0 * d34,
        s12 + 4.0 * s34,
        d12 + 8.0 * d34 + m5,
    ]
}

/// `V = Bᵀ d B` for every 6×6 input tile d (stride 4, starting one pixel up-left: the
/// padding); `v` is `[36, C, tiles]`. Ranges of channels run on the threads there are. A row of
/// tiles at a time: `Bᵀ d` runs along whole (zero-padded) rows, `(Bᵀ d) B` along the row's tiles.
fn transform_input(
    x: &[f32],
    c: usize,
    (h, w, tw, tiles): (usize, usize, usize, usize),
    v: &mut [f32],
) {
    let plane = c * tiles;
    assert!(
        v.len() >= POINTS * plane,
        "winograd F(4,3): input transform buffer too short"
    );
    let th = tiles / tw;
    // Input columns −1 ..= 4·tw of a row (tw = ⌈w/4⌉, so w + 2 fit), zero outside the image.
    let padded = 4 * tw + 2;
    let v_ptr = SendPtr(v.as_mut_ptr());
    for_each_range(c, &|channels| {
        let mut d: [Vec<f32>; 6] = std::array::from_fn(|_| vec![0f32; padded]);
        let mut bd: [Vec<f32>; 6] = std::array::from_fn(|_| vec![0f32; padded]);
        for ch in channels {
            // SAFETY: channel ch owns v[e·plane + ch·tiles ..][..tiles] in each of the 36
            // planes; ranges of channels are disjoint and `v` (asserted long enough) outlives
            // the call.
            let mut planes: [&mut [f32]; POINTS] = std::array::from_fn(|e| unsafe {
                std::slice::from_raw_parts_mut(v_ptr.get().add(e * plane + ch * tiles), tiles)
            });
            let xc = &x[ch * h * w..(ch + 1) * h * w];
            for ty in 0..th {
                // The tile row's input rows 4·ty − 1 ..= 4·ty + 4.
                for (r, row) in d.iter_mut().enumerate() {
                    match (4 * ty + r).checked_sub(1).filter(|&iy| iy < h) {
                        Some(iy) => row[1..=w].copy_from_slice(&xc[iy * w..(iy + 1) * w]),
                        None => row[1..=w].fill(0.0),
                    }
                }
                // Bᵀ d, along the rows.
                let rows = d.each_ref().map(|r| &r[..padded]);
                let mut out = bd.each_mut().map(|r| &mut r[..padded]);
                for s in 0..padded {
                    let col = input_points(rows.map(|r| r[s]));
                    for (o, value) in out.iter_mut().zip(col) {
                        o[s] = value;
                    }
                }
                // (Bᵀ d) B, tile by tile along the row: tile tx reads padded columns 4·tx ..
                // 4·tx + 5.
                let tile_row = ty * tw..(ty + 1) * tw;
                for (row, points) in bd.iter().zip(planes.as_chunks_mut::<6>().0) {
                    let mut points = points.each_mut().map(|p| &mut p[tile_row.clone()]);
                    for (t, q) in row.windows(6).step_by(4).take(tw).enumerate() {
                        let q: [f32; 6] = std::array::from_fn(|i| q[i]);
                        for (p, value) in points.iter_mut().zip(input_points(q)) {
                            p[t] = value;
                        }
                    }
                }
            }
        }
    });
}

/// `Y = Aᵀ M A` per tile for `channels` output channels, plus the bias, cropped to H×W, then
/// the ReLU when asked; ranges of output channels on the threads there are. A row of tiles at a
/// time: `Aᵀ M` runs along the row's tiles, whose values lie side by side in every `M[e]`.
fn transform_output(
    m: &[f32],
    (channels, bias): (usize, Option<&[f32]>),
    (h, w, tw, tiles): (usize, usize, usize, usize),
    relu: bool,
    y: &mut [f32],
) {
    let floor = if relu { 0.0 } else { f32::NEG_INFINITY };
    let plane = channels * tiles;
    let th = tiles / tw;
    let y = &mut y[..channels * h * w];
    for_each_chunk_mut(y, h * w, &|outs, ys| {
        // Aᵀ M for one row of tiles: its four rows, each as six columns of `tw` tiles.
        let mut am: [Vec<f32>; 4] = std::array::from_fn(|_| vec![0f32; 6 * tw]);
        for (o, yo) in outs.zip(ys.chunks_exact_mut(h * w)) {
            let b = bias.map_or(0.0, |b| b[o]);
            for ty in 0..th {
                let base = o * tiles + ty * tw;
                for col in 0..6 {
                    let points: [&[f32]; 6] =
                        std::array::from_fn(|r| &m[(6 * r + col) * plane + base..][..tw]);
                    let mut rows = am.each_mut().map(|a| &mut a[col * tw..][..tw]);
                    for t in 0..tw {
                        let values = output_values(points.map(|p| p[t]));
                        for (a, value) in rows.iter_mut().zip(values) {
                            a[t] = value;
                        }
                    }
                }
                for (r, a) in am.iter().enumerate() {
                    let oy = 4 * ty + r;
                    if oy >= h {
                        break;
                    }
                    let columns: [&[f32]; 6] = std::array::from_fn(|k| &a[k * tw..][..tw]);
                    let tile = |t: usize| output_values(columns.map(|c| c[t]));
                    let row = &mut yo[oy * w..(oy + 1) * w];
                    let mut quads = row.chunks_exact_mut(4);
                    for (t, quad) in (&mut quads).enumerate() {
                        for (y, value) in quad.iter_mut().zip(tile(t)) {
                            *y = (value + b).max(floor);
                        }
                    }
                    // A width that is not a multiple of 4: the last tile's left columns only.
                    for (y, value) in quads.into_remainder().iter_mut().zip(tile(tw - 1)) {
                        *y = (value + b).max(floor);
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    // Property tests against candle's convolution: tests/kernel_checks (native and browser).

    #[test]
    fn filters_and_biases_of_the_wrong_size_are_refused() {
        let mut u = [0f32; 4];
        assert!(Winograd4x4::new_in(&[0.0; 35], 2, 2, None, &mut u).is_err());
        assert!(Winograd4x4::new_in(&[0.0; 36], 2, 2, Some(vec![0.0; 3]), &mut u).is_err());
        assert!(Winograd4x4::new_in(&[0.0; 36], 2, 2, None, &mut u[..3]).is_err());
        let conv = Winograd4x4::new_in(&[0.0; 36], 2, 2, None, &mut u).unwrap();
        let mut out = vec![0.0; 2 * 4];
        assert!(conv
            .forward(&[0.0; 3 * 4], [1, 3, 2, 2], false, &mut out)
            .is_err());
        assert!(conv
            .forward(&[0.0; 2 * 3], [1, 2, 2, 2], false, &mut out)
            .is_err());
    }
}
