//! 3×3 / stride 1 / padding 1 convolution by Winograd's F(2×2, 3×3) on plain slices: each 2×2
//! output tile costs 16 multiplies per input channel instead of 36, so the matrix products of
//! ResNet-50's 3×3 convolutions shrink 2.25× (Lavin & Gray, "Fast Algorithms for Convolutional
//! Neural Networks", 2016). The filters are transformed once, when the layer is prepared.

use super::conv_io::check_buffers;
use super::gemm::{SendPtr, Start, WeightMatrix};
use super::scratch::with_scratch;
use super::thread_pool::{for_each_chunk_mut, for_each_range};
use crate::{Error, Result};

/// A 3×3 convolution (stride 1, padding 1) with its filters in the Winograd domain.
#[derive(Clone, Debug)]
pub struct Winograd3x3 {
    /// `U = G g Gᵀ` for every filter: 16 matrices `[C_out, C_in]`, one per point of the
    /// transform.
    u: Vec<WeightMatrix>,
    /// `[C_out]`, when the convolution has a bias (folded batch norm).
    bias: Option<Vec<f32>>,
    cout: usize,
    cin: usize,
}

impl Winograd3x3 {
    /// Transforms `filters` (`[C_out, C_in, 3, 3]`, row-major) with an optional `[C_out]` bias.
    pub fn new(filters: &[f32], cout: usize, cin: usize, bias: Option<Vec<f32>>) -> Result<Self> {
        Self::new_in(filters, cout, cin, bias, &mut vec![0f32; cout * cin])
    }

    /// [`Winograd3x3::new`] with the transformed filters staged in `u`, one of the 16
    /// transform points at a time (at least `C_out·C_in` values, contents unspecified): a
    /// caller preparing many layers passes one reused buffer, so that only the packed matrices
    /// stay behind in memory.
    pub fn new_in(
        filters: &[f32],
        cout: usize,
        cin: usize,
        bias: Option<Vec<f32>>,
        u: &mut [f32],
    ) -> Result<Self> {
        // U = G g Gᵀ with G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]: point (r, c) of the 4×4 result is
        // row r of G applied down the filter's columns, then row c of G across.
        let g_row = |r: usize, [a, b, d]: [f32; 3]| match r {
            0 => a,
            1 => 0.5 * (a + b + d),
            2 => 0.5 * (a - b + d),
            _ => d,
        };
        let matrices = transformed_filters(
            "winograd conv",
            filters,
            (cout, cin),
            &bias,
            u,
            16,
            |e, f| {
                let (r, c) = (e / 4, e % 4);
                let col = |j: usize| g_row(r, [f[j], f[3 + j], f[6 + j]]);
                g_row(c, [col(0), col(1), col(2)])
            },
        )?;
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
        check_buffers(
            "winograd conv",
            dims,
            self.cin,
            (input, out),
            n * self.cout * h * w,
        )?;
        let (th, tw) = (h.div_ceil(2), w.div_ceil(2));
        let tiles = th * tw;
        let lens = [16 * c * tiles, 16 * self.cout * tiles];
        with_scratch(lens, |v, m| {
            for img in 0..n {
                let xs = &input[img * c * h * w..(img + 1) * c * h * w];
                transform_input(xs, c, h, w, tw, tiles, v);
                self.products(false, tiles, v, m);
                let ys = &mut out[img * self.cout * h * w..(img + 1) * self.cout * h * w];
                let bias = self.bias.as_deref();
                transform_output(m, (self.cout, bias), (h, w, tw, tiles), relu, ys);
            }
        });
        Ok(())
    }

    /// ∂L/∂x (`[N, C_in, H, W]`, into `dx`) from `dy` = ∂L/∂y (`[N, C_out, H, W]`): the
    /// convolution of `dy` by the filters with input and output swapped and turned 180°, which
    /// is again a 3×3 / stride 1 / padding 1 one. Its transformed filters are those of the
    /// forward, transposed, at the transform point mirrored in both axes (G·rot180(g)·Gᵀ =
    /// P·(G g Gᵀ)·P, P swapping rows 0 and 3): so the same matrices serve, read transposed.
    pub fn input_grad(&self, dy: &[f32], [n, co, h, w]: [usize; 4], dx: &mut [f32]) -> Result<()> {
        if co != self.cout || dy.len() != n * co * h * w || dx.len() != n * self.cin * h * w {
            return Err(Error::InvalidArgument(format!(
                "winograd input gradient: {} and {} values for [{n}, {co}, {h}, {w}] through \
                 {}×{}×3×3",
                dy.len(),
                dx.len(),
                self.cout,
                self.cin
            )));
        }
        let (th, tw) = (h.div_ceil(2), w.div_ceil(2));
        let tiles = th * tw;
        let (cc, ci) = (co * tiles, self.cin * tiles);
        with_scratch([16 * cc, 16 * ci], |v, m| {
            for img in 0..n {
                let dys = &dy[img * co * h * w..(img + 1) * co * h * w];
                transform_input(dys, co, h, w, tw, tiles, v);
                self.products(true, tiles, v, m);
                let dxs = &mut dx[img * self.cin * h * w..(img + 1) * self.cin * h * w];
                transform_output(m, (self.cin, None), (h, w, tw, tiles), false, dxs);
            }
        });
        Ok(())
    }

    /// `M[e] = U[e] · V[e]` for the 16 points e of the transform, or for ∂L/∂x (`backward`)
    /// `M[e] = U[e']ᵀ · V[e]` with e' the point mirrored in both axes (over whatever `m` held):
    /// one product each, spread over the threads there are (natively each product uses them
    /// itself).
    fn products(&self, backward: bool, tiles: usize, v: &[f32], m: &mut [f32]) {
        let (c_in, c_out) = match backward {
            false => (self.cin, self.cout),
            true => (self.cout, self.cin),
        };
        let (cc, co) = (c_in * tiles, c_out * tiles);
        let product = |e: usize, m_e: &mut [f32], serial: bool| {
            let v_e = &v[e * cc..(e + 1) * cc];
            if backward {
                m_e.fill(0.0);
                let mirrored = 4 * MIRROR[e / 4] + MIRROR[e % 4];
                self.u[mirrored].mul_acc_transposed(tiles, v_e, m_e, serial);
            } else {
                self.u[e].product(tiles, v_e, m_e, Start::Zero, false, serial);
            }
        };
        for_each_point(16, co, m, &product);
    }
}

/// The transformed filters `U[e]` (`[C_out, C_in]` each, packed) for the `points` points of a
/// Winograd transform, `point(e, f)` being point e of one 3×3 filter `f` (row-major), after
/// checking `filters` (`[C_out, C_in, 3, 3]`), `bias` (`[C_out]`) and `u`, which stages one
/// point at a time (at least `C_out·C_in` values); `form` names the kernel in the message.
pub(super) fn transformed_filters(
    form: &str,
    filters: &[f32],
    (cout, cin): (usize, usize),
    bias: &Option<Vec<f32>>,
    u: &mut [f32],
    points: usize,
    point: impl Fn(usize, &[f32]) -> f32,
) -> Result<Vec<WeightMatrix>> {
    let plane = cout * cin;
    if filters.len() != plane * 9
        || bias.as_ref().is_some_and(|b| b.len() != cout)
        || u.len() < plane
    {
        return Err(Error::InvalidArgument(format!(
            "{form}: {} filter values and {:?} biases for {cout}×{cin}×3×3",
            filters.len(),
            bias.as_ref().map(Vec::len)
        )));
    }
    let u = &mut u[..plane];
    Ok((0..points)
        .map(|e| {
            for (dst, f) in u.iter_mut().zip(filters.chunks_exact(9)) {
                *dst = point(e, f);
            }
            WeightMatrix::new(cout, cin, u)
        })
        .collect())
}

/// Calls `product(e, m_e, serial)` for each of `points` transform points, `m_e` being
/// `m[e·len .. (e+1)·len]`: one point per part over the pool where it has threads (each product
/// then `serial`), else one after another (each product spread over the threads there are, as
/// natively).
pub(super) fn for_each_point(
    points: usize,
    len: usize,
    m: &mut [f32],
    product: &(dyn Fn(usize, &mut [f32], bool) + Sync),
) {
    let m = &mut m[..points * len];
    if super::thread_pool::threads() > 1 {
        let m_ptr = SendPtr(m.as_mut_ptr());
        super::thread_pool::for_each_part(points, &|e| {
            // SAFETY: part e writes only m[e·len .. (e+1)·len], inside `m` (sliced above) and
            // disjoint from every other part's; `m` outlives the call (for_each_part waits for
            // every part).
            let m_e = unsafe { std::slice::from_raw_parts_mut(m_ptr.get().add(e * len), len) };
            product(e, m_e, true);
        });
        return;
    }
    for (e, m_e) in m.chunks_exact_mut(len).enumerate() {
        product(e, m_e, false);
    }
}

/// Index of the transform point mirrored along one axis: G·J = P·G for the 3×3 reversal J,
/// where P swaps rows 0 and 3 of the 4-point transform.
const MIRROR: [usize; 4] = [3, 1, 2, 0];

/// `Y = Aᵀ M A` per tile (A = [1 0; 1 1; 1 −1; 0 −1]) for `channels` output channels, plus
/// the bias, cropped to H×W, then the ReLU when asked; ranges of output channels on the
/// threads there are. A row of tiles at a time: each step runs along the row's tiles, whose
/// values lie side by side in every `M[e]`, so that it vectorizes.
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
        // Aᵀ M for one row of tiles: its two rows, column by column, `tw` tiles each.
        let mut am = [vec![0f32; 4 * tw], vec![0f32; 4 * tw]];
        for (o, yo) in outs.zip(ys.chunks_exact_mut(h * w)) {
            let b = bias.map_or(0.0, |b| b[o]);
            for ty in 0..th {
                let base = o * tiles + ty * tw;
                let m_at = |e: usize| &m[e * plane + base..][..tw];
                let [am0, am1] = &mut am;
                for col in 0..4 {
                    let (m0, m1, m2, m3) =
                        (m_at(col), m_at(4 + col), m_at(8 + col), m_at(12 + col));
                    let (a0, a1) = (&mut am0[col * tw..][..tw], &mut am1[col * tw..][..tw]);
                    for t in 0..tw {
                        a0[t] = m0[t] + m1[t] + m2[t];
                        a1[t] = m1[t] - m2[t] - m3[t];
                    }
                }
                for (r, a) in am.iter().enumerate() {
                    let oy = 2 * ty + r;
                    if oy >= h {
                        continue;
                    }
                    let (a0, a1) = (&a[..tw], &a[tw..2 * tw]);
                    let (a2, a3) = (&a[2 * tw..3 * tw], &a[3 * tw..]);
                    let row = &mut yo[oy * w..(oy + 1) * w];
                    let mut pairs = row.chunks_exact_mut(2);
                    for (t, pair) in (&mut pairs).enumerate() {
                        pair[0] = (a0[t] + a1[t] + a2[t] + b).max(floor);
                        pair[1] = (a1[t] - a2[t] - a3[t] + b).max(floor);
                    }
                    // An odd width: the last tile's left column only.
                    if let [last] = pairs.into_remainder() {
                        let t = tw - 1;
                        *last = (a0[t] + a1[t] + a2[t] + b).max(floor);
                    }
                }
            }
        }
    });
}

/// `V = Bᵀ d B` for every 4×4 input tile d (stride 2, starting one pixel up-left: the padding),
/// with Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]; `v` is `[16, C, tiles]`. Ranges of
/// channels run on the threads there are. A row of tiles at a time: `Bᵀ d` is the same
/// combination of the four input rows for every tile of the row, so it runs along whole
/// (zero-padded) rows, and `(Bᵀ d) B` along the row's tiles.
fn transform_input(
    x: &[f32],
    c: usize,
    h: usize,
    w: usize,
    tw: usize,
    tiles: usize,
    v: &mut [f32],
) {
    let plane = c * tiles;
    assert!(
        v.len() >= 16 * plane,
        "winograd: input transform buffer too short"
    );
    let th = tiles / tw;
    // Input columns −1 ..= 2·tw of a row (tw = ⌈w/2⌉, so w + 2 fit), zero outside the image.
    let padded = 2 * tw + 2;
    let v_ptr = SendPtr(v.as_mut_ptr());
    for_each_range(c, &|channels| {
        let mut d: [Vec<f32>; 4] = std::array::from_fn(|_| vec![0f32; padded]);
        let mut bd: [Vec<f32>; 4] = std::array::from_fn(|_| vec![0f32; padded]);
        for ch in channels {
            // SAFETY: channel ch owns v[e·plane + ch·tiles ..][..tiles] in each of the 16
            // planes; ranges of channels are disjoint and `v` (asserted long enough) outlives
            // the call.
            let mut planes: [&mut [f32]; 16] = std::array::from_fn(|e| unsafe {
                std::slice::from_raw_parts_mut(v_ptr.get().add(e * plane + ch * tiles), tiles)
            });
            let xc = &x[ch * h * w..(ch + 1) * h * w];
            for ty in 0..th {
                // The tile row's input rows 2·ty − 1 ..= 2·ty + 2.
                for (r, row) in d.iter_mut().enumerate() {
                    match (2 * ty + r).checked_sub(1).filter(|&iy| iy < h) {
                        Some(iy) => row[1..=w].copy_from_slice(&xc[iy * w..(iy + 1) * w]),
                        None => row[1..=w].fill(0.0),
                    }
                }
                // Bᵀ d, along the rows.
                let [d0, d1, d2, d3] = &d;
                let [b0, b1, b2, b3] = &mut bd;
                for s in 0..padded {
                    b0[s] = d0[s] - d2[s];
                    b1[s] = d1[s] + d2[s];
                    b2[s] = d2[s] - d1[s];
                    b3[s] = d1[s] - d3[s];
                }
                // (Bᵀ d) B, tile by tile along the row: tile tx reads padded columns 2·tx ..
                // 2·tx + 3.
                let tile_row = ty * tw..(ty + 1) * tw;
                for (row, [p0, p1, p2, p3]) in bd.iter().zip(planes.as_chunks_mut::<4>().0) {
                    let (p0, p1) = (&mut p0[tile_row.clone()], &mut p1[tile_row.clone()]);
                    let (p2, p3) = (&mut p2[tile_row.clone()], &mut p3[tile_row.clone()]);
                    for (t, q) in row.windows(4).step_by(2).take(tw).enumerate() {
                        p0[t] = q[0] - q[2];
                        p1[t] = q[1] + q[2];
                        p2[t] = q[2] - q[1];
                        p3[t] = q[1] - q[3];
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
        assert!(Winograd3x3::new(&[0.0; 35], 2, 2, None).is_err());
        assert!(Winograd3x3::new(&[0.0; 36], 2, 2, Some(vec![0.0; 3])).is_err());
        let conv = Winograd3x3::new(&[0.0; 36], 2, 2, None).unwrap();
        let mut out = vec![0.0; 2 * 4];
        assert!(conv
            .forward(&[0.0; 3 * 4], [1, 3, 2, 2], false, &mut out)
            .is_err());
        assert!(conv
            .forward(&[0.0; 2 * 3], [1, 2, 2, 2], false, &mut out)
            .is_err());
    }
}
