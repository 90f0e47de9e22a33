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
                        for (r, oy) in out_rows.clone().enumerate() {
                            let iy = (oy * s + ky) as isize - pad as isize;
                            if iy < 0 || iy >= h as isize {
                                continue;
                            }
                            let src = &plane[iy as usize * w..(iy as usize + 1) * w];
                            let dst = &mut row[r * wo..(r + 1) * wo];
                            for (ox, d) in dst.iter_mut().enumerate() {
                                let ix = (ox * s + kx) as isize - pad as isize;
                                if ix >= 0 && ix < w as isize {
                                    *d = src[ix as usize];
                                }
                            }
                        }
                    }
                }
            }
        },
    );
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
