//! The patch matrix of a convolution (im2col), so that the convolution becomes one product.

use super::thread_pool::for_each_chunk_mut;

/// The patch matrix `[C·k·k, R·W_out]` of one image for the output rows `out_rows` (R of them;
/// `0..H_out` for the whole image), zeros where the padding is. Each channel's `k·k` rows are
/// contiguous, so ranges of channels are filled on the threads there are.
#[allow(clippy::too_many_arguments)]
pub fn im2col<T: Copy + Default + Send + Sync>(
    x: &[T],
    c: usize,
    h: usize,
    w: usize,
    k: usize,
    s: usize,
    pad: usize,
    out_rows: std::ops::Range<usize>,
    wo: usize,
    cols: &mut [T],
) {
    let band = out_rows.len() * wo;
    let per_channel = k * k * band;
    for_each_chunk_mut(
        &mut cols[..c * per_channel],
        per_channel,
        &|channels, chunk| {
            chunk.fill(T::default());
            let mut rows = chunk.chunks_exact_mut(band);
            for ch in channels {
                let plane = &x[ch * h * w..(ch + 1) * h * w];
                for ky in 0..k {
                    for kx in 0..k {
                        let Some(row) = rows.next() else { return };
                        // The outputs whose column ox·s + kx − pad lies inside the row (the same
                        // for every row): a copy at stride 1, a strided gather otherwise, with no
                        // test per value (the padding's zeros are already there).
                        let inside = inside_columns(w, wo, kx, s, pad);
                        if inside.is_empty() {
                            continue;
                        }
                        let first = inside.start * s + kx - pad;
                        for (r, oy) in out_rows.clone().enumerate() {
                            let iy = (oy * s + ky) as isize - pad as isize;
                            if iy < 0 || iy >= h as isize {
                                continue;
                            }
                            let src = &plane[iy as usize * w..(iy as usize + 1) * w];
                            let dst = &mut row[r * wo..(r + 1) * wo][inside.clone()];
                            if s == 1 {
                                dst.copy_from_slice(&src[first..first + dst.len()]);
                            } else {
                                for (d, v) in dst.iter_mut().zip(src[first..].iter().step_by(s)) {
                                    *d = *v;
                                }
                            }
                        }
                    }
                }
            }
        },
    );
}

/// The output columns `ox < wo` whose input column `ox·s + kx − pad` lies in `0..w`.
fn inside_columns(w: usize, wo: usize, kx: usize, s: usize, pad: usize) -> std::ops::Range<usize> {
    // ox·s ≥ pad − kx, and ox·s + kx − pad ≤ w − 1.
    let start = pad.saturating_sub(kx).div_ceil(s);
    let end = match (w + pad).checked_sub(kx + 1) {
        Some(last) => (last / s + 1).min(wo),
        None => 0,
    };
    start.min(end)..end
}

/// The adjoint of [`im2col`] for a whole image: adds each patch-matrix entry `cols`
/// (`[C·k·k, H_out·W_out]`) back onto the input position it was copied from, into `dx`
/// (not cleared). The channels `channels` only, whose planes `dx` holds (`[channels.len(), H,
/// W]`), so that callers can split the work.
#[allow(clippy::too_many_arguments)]
pub fn col2im_add<T: Copy + std::ops::AddAssign>(
    cols: &[T],
    (h, w): (usize, usize),
    (k, s, pad): (usize, usize, usize),
    (ho, wo): (usize, usize),
    channels: std::ops::Range<usize>,
    dx: &mut [T],
) {
    let band = ho * wo;
    let first = channels.start;
    for ch in channels {
        let plane = &mut dx[(ch - first) * h * w..(ch - first + 1) * h * w];
        for ky in 0..k {
            for kx in 0..k {
                let row = &cols[((ch * k + ky) * k + kx) * band..][..band];
                for oy in 0..ho {
                    let iy = (oy * s + ky) as isize - pad as isize;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    let dst = &mut plane[iy as usize * w..(iy as usize + 1) * w];
                    for (ox, v) in row[oy * wo..(oy + 1) * wo].iter().enumerate() {
                        let ix = (ox * s + kx) as isize - pad as isize;
                        if ix >= 0 && ix < w as isize {
                            dst[ix as usize] += *v;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_columns_are_those_the_definition_keeps() {
        for w in 1..12 {
            for s in 1..4 {
                for k in [1usize, 3, 7] {
                    for pad in 0..=k / 2 {
                        let Some(span) = (w + 2 * pad).checked_sub(k) else {
                            continue;
                        };
                        let wo = span / s + 1;
                        for kx in 0..k {
                            let want: Vec<usize> = (0..wo)
                                .filter(|ox| {
                                    (0..w as isize)
                                        .contains(&((ox * s + kx) as isize - pad as isize))
                                })
                                .collect();
                            let got: Vec<usize> = inside_columns(w, wo, kx, s, pad).collect();
                            assert_eq!(got, want, "w {w} s {s} k {k} pad {pad} kx {kx}");
                        }
                    }
                }
            }
        }
    }
}
