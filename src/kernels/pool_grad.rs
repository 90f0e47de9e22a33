//! ReLU, max-pool and average pools with their backward passes, on plain slices of `planes`
//! planes (`[N·C, H, W]`), for the Gradient lab: each backward is a mask or a scatter from
//! what the forward kept, as PyTorch's autograd computes it.

use super::conv_grad::Real;

/// ReLU in place (NaN becomes 0). A select, not a branch: after batch norm the signs are a coin
/// toss, which a branch mispredicts half the time, and the select vectorizes.
pub fn relu<T: Real + PartialOrd>(x: &mut [T]) {
    let zero = T::default();
    for v in x {
        *v = if *v > zero { *v } else { zero };
    }
}

/// ReLU's backward in place: `dy` is kept where the ReLU's output `y` is positive, zeroed
/// elsewhere (PyTorch's rule, also at 0); a select, as in [`relu`].
pub fn relu_backward<T: Real + PartialOrd>(dy: &mut [T], y: &[T]) {
    let zero = T::default();
    for (d, &v) in dy.iter_mut().zip(y) {
        *d = if v > zero { *d } else { zero };
    }
}

/// The output side of a 3×3 / stride 2 / padding 1 max-pool over `side` values.
pub fn max_pool_side(side: usize) -> usize {
    (side.max(1) - 1) / 2 + 1
}

/// Max-pool 3×3, stride 2, padding 1 (padding never wins, as with PyTorch's −∞): the pooled
/// planes and, for each output, the index in its plane of the value it took (the first of
/// equal maxima in row-major order, as PyTorch picks).
pub fn max_pool_3x3_s2<T: Real + PartialOrd>(
    x: &[T],
    planes: usize,
    (h, w): (usize, usize),
) -> (Vec<T>, Vec<u32>) {
    let (oh, ow) = (max_pool_side(h), max_pool_side(w));
    let mut out = Vec::with_capacity(planes * oh * ow);
    let mut picks = Vec::with_capacity(planes * oh * ow);
    for plane in x.chunks_exact(h * w).take(planes) {
        for i in 0..oh {
            let rows = (2 * i).saturating_sub(1)..(2 * i + 2).min(h);
            for j in 0..ow {
                let cols = (2 * j).saturating_sub(1)..(2 * j + 2).min(w);
                let mut best = (
                    plane[rows.start * w + cols.start],
                    rows.start * w + cols.start,
                );
                for r in rows.clone() {
                    for c in cols.clone() {
                        let at = r * w + c;
                        if plane[at] > best.0 {
                            best = (plane[at], at);
                        }
                    }
                }
                out.push(best.0);
                picks.push(best.1 as u32);
            }
        }
    }
    (out, picks)
}

/// Max-pool 3×3, stride 2, padding 1 into `out` (`planes` planes of the output side), the values
/// alone (the inference network's stem): the maximum of three columns, then of three rows, each
/// input row's column maxima computed once. Equal to [`max_pool_3x3_s2`]'s values.
///
/// Panics if `x` or `out` is shorter than its planes (a bug in the caller).
pub fn max_pool_3x3_s2_values<T: Real + PartialOrd>(
    x: &[T],
    planes: usize,
    (h, w): (usize, usize),
    out: &mut [T],
) {
    let (oh, ow) = (max_pool_side(h), max_pool_side(w));
    assert!(
        x.len() >= planes * h * w && out.len() >= planes * oh * ow,
        "max-pool shapes"
    );
    let max = |a: T, b: T| if b > a { b } else { a };
    // The three-column maxima of the input rows an output row reads.
    let mut cols = vec![T::default(); 3 * ow];
    // Outputs 1.. whose window holds three columns; the last holds two when w is odd.
    let full = w.saturating_sub(2) / 2;
    for (plane, pooled) in x
        .chunks_exact(h * w)
        .zip(out.chunks_exact_mut(oh * ow))
        .take(planes)
    {
        for (i, out_row) in pooled.chunks_exact_mut(ow).enumerate() {
            let rows = (2 * i).saturating_sub(1)..(2 * i + 2).min(h);
            let taken = rows.len();
            for (r, maxima) in rows.zip(cols.chunks_exact_mut(ow)) {
                let row = &plane[r * w..(r + 1) * w];
                // Column 0 reads two values; the others three, but the last one two when w is odd.
                maxima[0] = row[..2.min(w)].iter().fold(row[0], |a, &b| max(a, b));
                for (m, window) in maxima[1..].iter_mut().zip(row[1..].windows(3).step_by(2)) {
                    *m = max(max(window[0], window[1]), window[2]);
                }
                if full < ow - 1 {
                    maxima[ow - 1] = max(row[w - 2], row[w - 1]);
                }
            }
            out_row.copy_from_slice(&cols[..ow]);
            for maxima in cols[ow..taken * ow].chunks_exact(ow) {
                for (o, &m) in out_row.iter_mut().zip(maxima) {
                    *o = max(*o, m);
                }
            }
        }
    }
}

/// The max-pool's backward: each output's gradient added to the input it took.
pub fn max_pool_backward<T: Real>(dy: &[T], picks: &[u32], planes: usize, plane: usize) -> Vec<T> {
    let mut dx = vec![T::default(); planes * plane];
    let per_plane = dy.len() / planes.max(1);
    for (p, (dy, picks)) in dy
        .chunks_exact(per_plane.max(1))
        .zip(picks.chunks_exact(per_plane.max(1)))
        .enumerate()
    {
        let dx = &mut dx[p * plane..(p + 1) * plane];
        for (&d, &at) in dy.iter().zip(picks) {
            dx[at as usize] += d;
        }
    }
    dx
}

/// 2×2 / stride 2 average pool (odd last rows and columns dropped, as PyTorch does), summed
/// in f64: `[planes, H/2, W/2]`.
pub fn avg_pool_2x2<T: Real + Into<f64>>(
    x: &[T],
    planes: usize,
    (h, w): (usize, usize),
    from_f64: fn(f64) -> T,
) -> Vec<T> {
    let (oh, ow) = (h / 2, w / 2);
    let mut out = Vec::with_capacity(planes * oh * ow);
    for plane in x.chunks_exact(h * w).take(planes) {
        for i in 0..oh {
            for j in 0..ow {
                let at = 2 * i * w + 2 * j;
                let sum: f64 = [at, at + 1, at + w, at + w + 1]
                    .iter()
                    .map(|&k| plane[k].into())
                    .sum();
                out.push(from_f64(sum / 4.0));
            }
        }
    }
    out
}

/// The 2×2 average pool's backward: a quarter of each output's gradient to each of its inputs.
pub fn avg_pool_2x2_backward<T: Real + Into<f64>>(
    dy: &[T],
    planes: usize,
    (h, w): (usize, usize),
    from_f64: fn(f64) -> T,
) -> Vec<T> {
    let (oh, ow) = (h / 2, w / 2);
    let mut dx = vec![T::default(); planes * h * w];
    for (p, dy) in dy.chunks_exact((oh * ow).max(1)).take(planes).enumerate() {
        let plane = &mut dx[p * h * w..(p + 1) * h * w];
        for i in 0..oh {
            for j in 0..ow {
                let share = from_f64(dy[i * ow + j].into() / 4.0);
                let at = 2 * i * w + 2 * j;
                for k in [at, at + 1, at + w, at + w + 1] {
                    plane[k] = share;
                }
            }
        }
    }
    dx
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Max-pool by the definition: every real position of each 3×3 window, first maximum kept.
    fn reference(x: &[f64], h: usize, w: usize) -> (Vec<f64>, Vec<u32>) {
        let (oh, ow) = (max_pool_side(h), max_pool_side(w));
        let (mut out, mut picks) = (Vec::new(), Vec::new());
        for i in 0..oh {
            for j in 0..ow {
                let mut best: Option<(f64, usize)> = None;
                for di in 0..3 {
                    for dj in 0..3 {
                        let (r, c) = ((2 * i + di) as isize - 1, (2 * j + dj) as isize - 1);
                        if r < 0 || c < 0 || r as usize >= h || c as usize >= w {
                            continue;
                        }
                        let at = r as usize * w + c as usize;
                        if best.is_none_or(|(v, _)| x[at] > v) {
                            best = Some((x[at], at));
                        }
                    }
                }
                let (v, at) = best.unwrap();
                out.push(v);
                picks.push(at as u32);
            }
        }
        (out, picks)
    }

    #[test]
    fn max_pool_and_its_backward_follow_the_definition() {
        for (h, w) in [(1, 1), (2, 3), (5, 4), (7, 9), (8, 8)] {
            // Values with ties, negatives included (the padding must never win).
            let x: Vec<f64> = (0..h * w).map(|i| ((i * 7 % 5) as f64) - 4.0).collect();
            let (out, picks) = max_pool_3x3_s2(&x, 1, (h, w));
            let mut values = vec![0.0; out.len()];
            max_pool_3x3_s2_values(&x, 1, (h, w), &mut values);
            assert_eq!(values, out, "values alone, {h}×{w}");
            assert_eq!((out.clone(), picks.clone()), reference(&x, h, w), "{h}×{w}");
            let dy: Vec<f64> = (0..out.len()).map(|i| i as f64 + 1.0).collect();
            let dx = max_pool_backward(&dy, &picks, 1, h * w);
            let mut want = vec![0.0; h * w];
            for (d, &at) in dy.iter().zip(&picks) {
                want[at as usize] += d;
            }
            assert_eq!(dx, want);
        }
    }

    #[test]
    fn relu_backward_keeps_only_positive_outputs() {
        let mut x = vec![-1.0f32, 0.0, 2.0, f32::NAN];
        relu(&mut x);
        assert_eq!(&x[..3], &[0.0, 0.0, 2.0]);
        let mut dy = vec![5.0f32; 4];
        relu_backward(&mut dy, &x);
        assert_eq!(dy, [0.0, 0.0, 5.0, 0.0]);
    }

    #[test]
    fn average_pool_spreads_a_quarter_back() {
        let x: Vec<f64> = (0..15).map(f64::from).collect(); // one 3×5 plane
        let out = avg_pool_2x2(&x, 1, (3, 5), |v| v);
        assert_eq!(out, [3.0, 5.0]);
        let dx = avg_pool_2x2_backward(&[4.0, 8.0], 1, (3, 5), |v| v);
        assert_eq!(dx[..5], [1.0, 1.0, 2.0, 2.0, 0.0]);
        assert_eq!(dx[10..], [0.0; 5]);
    }
}
