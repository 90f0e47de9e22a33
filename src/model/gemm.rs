//! A safe wrapper over the `gemm` crate (the matrix kernels candle itself uses: AVX2/FMA natively,
//! simd128 in wasm), for the inference convolutions that call it on plain slices without
//! candle's layout copies.

thread_local! {
    /// Temporary buffers shared by the convolutions of a forward pass (im2col patches, the
    /// Winograd domain): grown to the largest layer once, then reused.
    static SCRATCH: std::cell::RefCell<[Vec<f32>; 2]> = const {
        std::cell::RefCell::new([Vec::new(), Vec::new()])
    };
}

/// Calls `f` with two scratch slices of `lens` elements (contents unspecified), reused across
/// calls on this thread instead of allocated per layer.
pub fn with_scratch<R>(lens: [usize; 2], f: impl FnOnce(&mut [f32], &mut [f32]) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut bufs) => {
            let [a, b] = &mut *bufs;
            for (buf, len) in [(&mut *a, lens[0]), (&mut *b, lens[1])] {
                if buf.len() < len {
                    buf.resize(len, 0.0);
                }
            }
            f(&mut a[..lens[0]], &mut b[..lens[1]])
        }
        // Re-entered (not done by this crate): fresh buffers.
        Err(_) => f(&mut vec![0.0; lens[0]], &mut vec![0.0; lens[1]]),
    })
}

/// Calls `f` with the values of `x` as one contiguous slice: borrowed from the tensor's storage
/// when it is a contiguous CPU f32 tensor (every activation of the inference network), copied
/// otherwise.
pub fn with_values<R>(
    x: &candle_core::Tensor,
    f: impl FnOnce(&[f32]) -> crate::Result<R>,
) -> crate::Result<R> {
    {
        let (storage, layout) = x.storage_and_layout();
        if let (candle_core::Storage::Cpu(cpu), Some((start, end))) =
            (&*storage, layout.contiguous_offsets())
        {
            if let Ok(all) = cpu.as_slice::<f32>() {
                if let Some(values) = all.get(start..end) {
                    return f(values);
                }
            }
        }
    }
    let copy = x.flatten_all()?.to_vec1::<f32>()?;
    f(&copy)
}

/// `c += a · b` for row-major `a` (`m×k`), `b` (`k×n`) and `c` (`m×n`).
///
/// Panics if a slice is shorter than its shape says (a bug in the caller, not a user error).
pub fn matmul_acc(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(
        a.len() >= m * k && b.len() >= n * k && c.len() >= m * n,
        "gemm shapes"
    );
    if m == 0 || n == 0 {
        return;
    }
    // The threaded wasm build splits the product over its pool: by columns when `b` is the
    // larger operand (early layers: many pixels), else by rows, so that no thread packs the
    // whole of the larger operand.
    let threads = crate::parallel::threads();
    // Four parts per thread, claimed dynamically: a thread that starts late takes fewer
    // (2 per thread: 174–192 ms, 4: 168–171 ms, 1: 225–245 ms at 2 threads in make bench).
    let parts = 4 * threads;
    // (Natively `threads` is 1: the gemm crate spreads its own work with rayon, below.)
    if threads > 1 && m * n * k >= 1 << 20 {
        let c_ptr = SendPtr(c.as_mut_ptr());
        if n >= m && n >= 8 * parts {
            let cols = n.div_ceil(parts).next_multiple_of(8);
            crate::parallel::for_each_part(parts, &|part| {
                let (j0, j1) = ((part * cols).min(n), ((part + 1) * cols).min(n));
                if j0 < j1 {
                    // SAFETY: parts write disjoint column ranges of `c`, which outlives the call.
                    unsafe {
                        gemm_strided(
                            m,
                            j1 - j0,
                            k,
                            a,
                            b.as_ptr().add(j0),
                            n,
                            c_ptr.get().add(j0),
                            n,
                        )
                    };
                }
            });
        } else {
            let rows = m.div_ceil(parts);
            crate::parallel::for_each_part(parts, &|part| {
                let (r0, r1) = ((part * rows).min(m), ((part + 1) * rows).min(m));
                if r0 < r1 {
                    // SAFETY: parts write disjoint row ranges of `c`, which outlives the call.
                    unsafe {
                        gemm_strided(
                            r1 - r0,
                            n,
                            k,
                            &a[r0 * k..r1 * k],
                            b.as_ptr(),
                            n,
                            c_ptr.get().add(r0 * n),
                            n,
                        )
                    };
                }
            });
        }
        return;
    }
    let rayon_threads = candle_core::utils::get_num_threads();
    let parallelism = if rayon_threads > 1 && !cfg!(target_arch = "wasm32") {
        gemm::Parallelism::Rayon(rayon_threads)
    } else {
        gemm::Parallelism::None
    };
    gemm_rows(m, n, k, a, b, c, parallelism);
}

/// `c += a · b` on the calling thread only (for callers that split the work themselves).
pub fn matmul_acc_serial(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(
        a.len() >= m * k && b.len() >= n * k && c.len() >= m * n,
        "gemm shapes"
    );
    gemm_rows(m, n, k, a, b, c, gemm::Parallelism::None);
}

/// A raw pointer that may cross threads (each part writes its own rows).
#[derive(Clone, Copy)]
pub struct SendPtr(pub *mut f32);
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

impl SendPtr {
    /// The pointer.
    pub fn get(self) -> *mut f32 {
        self.0
    }
}

/// `c += a · b` for an `m×n` block of `c` and `b` whose rows are `ldc` and `ldb` apart, on the
/// calling thread.
///
/// # Safety
/// `b` must point at `k` rows of at least `n` readable values `ldb` apart, `c` at `m` rows of
/// `n` writable values `ldc` apart that nothing else accesses meanwhile, and `a` must hold m·k.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_strided(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
) {
    debug_assert!(a.len() >= m * k);
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c,
            1,
            ldc as isize,
            true,
            a.as_ptr(),
            1,
            k as isize,
            b,
            1,
            ldb as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// `c += a · b` through the `gemm` crate.
fn gemm_rows(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    parallelism: gemm::Parallelism,
) {
    debug_assert!(a.len() >= m * k && b.len() >= n * k && c.len() >= m * n);
    // SAFETY: the three slices hold at least m·k, k·n and m·n elements (asserted by the
    // callers), the strides describe exactly those row-major matrices, and `c` does not alias
    // `a` or `b` (it is borrowed mutably).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            true,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            n as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_textbook_product_and_accumulates() {
        let (m, n, k) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| i as f32 * 0.5 - 3.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| 1.0 - i as f32 * 0.25).collect();
        let mut c = vec![1.0f32; m * n];
        matmul_acc(m, n, k, &a, &b, &mut c);
        for i in 0..m {
            for j in 0..n {
                let want = 1.0 + (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum::<f32>();
                assert!((c[i * n + j] - want).abs() < 1e-5, "{i},{j}");
            }
        }
    }
}
