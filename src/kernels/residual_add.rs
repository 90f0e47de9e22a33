//! The end of a residual block, `max(F(x) + shortcut, 0)`, in one pass.

use super::conv_grad::Real;
use super::thread_pool::for_each_chunk_mut;

/// `out = max(residual + shortcut, 0)` (NaN becomes 0, as with [`f32::max`]): one pass where
/// an addition and a ReLU took two, split over the threads there are.
///
/// Panics if `residual` or `shortcut` is shorter than `out` (a bug in the caller).
pub fn add_relu<T: Real + PartialOrd>(residual: &[T], shortcut: &[T], out: &mut [T]) {
    assert!(
        residual.len() >= out.len() && shortcut.len() >= out.len(),
        "residual add shapes"
    );
    let zero = T::default();
    for_each_chunk_mut(out, 1, &|range, out| {
        let (r, s) = (&residual[range.clone()], &shortcut[range]);
        for ((o, &r), &s) in out.iter_mut().zip(r).zip(s) {
            let mut v = r;
            v += s;
            // A select, not a branch (see `pool_grad::relu`).
            *o = if v > zero { v } else { zero };
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_then_clamps_at_zero() {
        let residual = [1.0f32, -2.0, 0.5, f32::NAN, -0.25, 3.0];
        let shortcut = [1.0f32, 1.0, -0.5, 1.0, 0.5, -4.0];
        let mut out = [9.0f32; 6];
        add_relu(&residual, &shortcut, &mut out);
        assert_eq!(out, [2.0, 0.0, 0.0, 0.0, 0.25, 0.0]);
    }
}
