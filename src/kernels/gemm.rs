//! The matrix products of the inference convolutions, on plain slices: [`WeightMatrix`] runs our
//! packed kernel in wasm (`super::packed_gemm`) and the `gemm` crate natively (the kernels candle
//! itself uses: AVX2/AVX-512 with FMA).

#[cfg(target_arch = "wasm32")]
use super::packed_gemm::PackedMatrix;
pub use super::packed_gemm::Start;

/// `c += a · b` for row-major `a` (`m×k`), `b` (`k×n`) and `c` (`m×n`), with the `gemm` crate
/// spreading its work over rayon's threads.
///
/// Panics if a slice is shorter than its shape says (a bug in the caller, not a user error).
#[cfg(not(target_arch = "wasm32"))]
pub fn matmul_acc(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(
        a.len() >= m * k && b.len() >= n * k && c.len() >= m * n,
        "gemm shapes"
    );
    let threads = candle_core::utils::get_num_threads();
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    gemm_rows(m, n, k, a, b, c, parallelism);
}

/// `c += a · b` on the calling thread only (for callers that split the work themselves).
#[cfg(not(target_arch = "wasm32"))]
pub fn matmul_acc_serial(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(
        a.len() >= m * k && b.len() >= n * k && c.len() >= m * n,
        "gemm shapes"
    );
    gemm_rows(m, n, k, a, b, c, gemm::Parallelism::None);
}

/// A layer's weight matrix (`rows × depth`, fixed per weights load) in the form this target's
/// product reads fastest: packed once for our kernel in wasm ([`PackedMatrix`]), row-major for
/// the `gemm` crate natively.
#[derive(Clone, Debug)]
pub struct WeightMatrix {
    #[cfg(target_arch = "wasm32")]
    packed: PackedMatrix,
    #[cfg(not(target_arch = "wasm32"))]
    plain: Vec<f32>,
    rows: usize,
    depth: usize,
}

impl WeightMatrix {
    /// From row-major `a` (`rows × depth`).
    ///
    /// Panics if `a` is shorter than that (a bug in the caller).
    pub fn new(rows: usize, depth: usize, a: &[f32]) -> Self {
        assert!(a.len() >= rows * depth, "weight matrix shape");
        Self {
            #[cfg(target_arch = "wasm32")]
            packed: PackedMatrix::new(rows, depth, a),
            #[cfg(not(target_arch = "wasm32"))]
            plain: a[..rows * depth].to_vec(),
            rows,
            depth,
        }
    }

    /// `c = start + self · b` ([`Start`]: in wasm a zero or bias start is written as the
    /// products are stored, with no pass over `c` before), then `max(c, 0)` when `relu` is
    /// set; spread over the threads there are unless `serial` (for callers that split the work
    /// themselves).
    ///
    /// Panics if a slice is shorter than its shape says (a bug in the caller).
    pub fn product(
        &self,
        n: usize,
        b: &[f32],
        c: &mut [f32],
        start: Start,
        relu: bool,
        serial: bool,
    ) {
        assert!(
            b.len() >= self.depth * n && c.len() >= self.rows * n && start.covers(self.rows),
            "gemm shapes"
        );
        // SAFETY: `b` holds depth·n values row-major (asserted).
        #[cfg(target_arch = "wasm32")]
        unsafe {
            split_product(
                &self.packed,
                false,
                serial,
                n,
                b.as_ptr(),
                (n, 1),
                c,
                (start, relu),
            )
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let c = &mut c[..self.rows * n];
            match start {
                Start::Accumulate => {}
                Start::Zero => c.fill(0.0),
                Start::Bias(bias) => {
                    for (row, v) in c.chunks_exact_mut(n.max(1)).zip(bias) {
                        row.fill(*v);
                    }
                }
            }
            match serial {
                true => matmul_acc_serial(self.rows, n, self.depth, &self.plain, b, c),
                false => matmul_acc(self.rows, n, self.depth, &self.plain, b, c),
            }
            relu_if(relu, c);
        }
    }

    /// `c += selfᵀ · b` for row-major `b` (`rows × n`) and `c` (`depth × n`), from the same
    /// values (no transposed copy): a layer's backward `Wᵀ · ∂L/∂y`. `serial` keeps it on the
    /// calling thread (for callers that split the work themselves).
    ///
    /// Panics if a slice is shorter than its shape says (a bug in the caller).
    pub fn mul_acc_transposed(&self, n: usize, b: &[f32], c: &mut [f32], serial: bool) {
        let (m, k) = (self.depth, self.rows);
        assert!(b.len() >= k * n && c.len() >= m * n, "gemm shapes");
        // SAFETY: `b` holds k·n values row-major (asserted).
        #[cfg(target_arch = "wasm32")]
        unsafe {
            split_product(
                &self.packed,
                true,
                serial,
                n,
                b.as_ptr(),
                (n, 1),
                c,
                (Start::Accumulate, false),
            )
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let parallelism = match serial {
                true => gemm::Parallelism::None,
                false => native_parallelism(m * n * k),
            };
            // SAFETY: `plain` holds rows·depth values, read as its transpose (element (i, p) at
            // plain[p·depth + i]); `b` and `c` hold k·n and m·n values (asserted).
            unsafe {
                gemm_strided(
                    (m, n, k),
                    c,
                    (self.plain.as_ptr(), 1, m),
                    (b.as_ptr(), n, 1),
                    parallelism,
                )
            }
        }
    }
}

/// `c = start + packed · B`, or `start + packedᵀ · B` when `transposed` (`B` has element (p, j)
/// at `b[p·rs + j·cs]`), then `max(c, 0)` when `relu`, split over the pool of the threaded wasm build (see
/// [`packed_gemm::Split`](super::packed_gemm::Split)): four parts per thread, claimed
/// dynamically, so that a thread that starts late takes fewer (one part when `serial`, for
/// callers that split the work themselves).
///
/// # Safety
/// `b` must address `depth × n` readable values with those strides; `c` holds `rows × n`.
#[cfg(target_arch = "wasm32")]
#[allow(clippy::too_many_arguments)]
unsafe fn split_product(
    packed: &PackedMatrix,
    transposed: bool,
    serial: bool,
    n: usize,
    b: *const f32,
    (rs, cs): (usize, usize),
    c: &mut [f32],
    (start, relu): (Start, bool),
) {
    use super::packed_gemm::Split;
    let (m, k) = match transposed {
        false => (packed.rows(), packed.depth()),
        true => (packed.depth(), packed.rows()),
    };
    assert!(c.len() >= m * n, "gemm shapes");
    let threads = super::thread_pool::threads();
    let parts = if serial || threads == 1 || m * n * k < 1 << 20 {
        1
    } else {
        4 * threads
    };
    let (b_ptr, c_ptr) = (SendPtr(b.cast_mut()), SendPtr(c.as_mut_ptr()));
    let split = Split::of(n, parts);
    super::thread_pool::for_each_part(parts, &|part| {
        let (strips, cols) = split.part(m, n, part);
        // SAFETY: the parts' blocks of `c` are disjoint (row strips or column ranges), `c`
        // outlives the call and holds m·n values (asserted), and `b` addresses the whole
        // `B` (the caller's contract; it is only read).
        let (b, c) = unsafe {
            (
                b_ptr.get().cast_const().add(cols.start * cs),
                c_ptr.get().add(cols.start),
            )
        };
        // SAFETY: as above.
        unsafe {
            packed.product_block(
                transposed,
                strips,
                cols.len(),
                b,
                (rs, cs),
                c,
                n,
                (start, relu),
            )
        };
    });
}

/// `c += a · bᵀ` for row-major `a` (`m×k`), `b` (`n×k`) and `c` (`m×n`), spread over the
/// threads there are: the filter gradient's `∂L/∂W += ∂L/∂y · cols(x)ᵀ`, whose operands both
/// change with every call (in wasm `a` is packed here, a cost of `1/n` of the product, and `b`
/// is read transposed while its blocks are packed, as any `B` is).
///
/// Panics if a slice is shorter than its shape says (a bug in the caller).
pub fn matmul_transposed_acc(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(
        a.len() >= m * k && b.len() >= n * k && c.len() >= m * n,
        "gemm shapes"
    );
    #[cfg(target_arch = "wasm32")]
    {
        let packed = PackedMatrix::new(m, k, a);
        // SAFETY: `b` holds n·k values (asserted): B = bᵀ has element (p, j) at b[j·k + p].
        unsafe {
            split_product(
                &packed,
                false,
                false,
                n,
                b.as_ptr(),
                (1, k),
                c,
                (Start::Accumulate, false),
            )
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    // SAFETY: the slices hold m·k, n·k and m·n values (asserted); b is read as its transpose.
    unsafe {
        gemm_strided(
            (m, n, k),
            c,
            (a.as_ptr(), k, 1),
            (b.as_ptr(), 1, k),
            native_parallelism(m * n * k),
        )
    }
}

/// A raw pointer that may cross threads (each part writes its own block).
pub struct SendPtr<T = f32>(pub *mut T);
impl<T> Clone for SendPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SendPtr<T> {}
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}

impl<T> SendPtr<T> {
    /// The pointer.
    pub fn get(self) -> *mut T {
        self.0
    }
}

/// `max(v, 0)` over `c` when `relu` is set.
#[cfg(not(target_arch = "wasm32"))]
fn relu_if(relu: bool, c: &mut [f32]) {
    if relu {
        c.iter_mut().for_each(|v| *v = v.max(0.0));
    }
}

/// `c += a · b` through the `gemm` crate.
#[cfg(not(target_arch = "wasm32"))]
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
    // callers) and the strides describe exactly those row-major matrices.
    unsafe {
        gemm_strided(
            (m, n, k),
            c,
            (a.as_ptr(), k, 1),
            (b.as_ptr(), n, 1),
            parallelism,
        )
    }
}

/// The `gemm` crate's parallelism for a product of `work` multiply-adds: rayon's threads where
/// there are several and the product is worth splitting.
#[cfg(not(target_arch = "wasm32"))]
pub fn native_parallelism(work: usize) -> gemm::Parallelism {
    let threads = candle_core::utils::get_num_threads();
    if threads > 1 && work >= 1 << 16 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    }
}

/// `c (m×n, row-major) += A · B` through the `gemm` crate, where `A`'s element (i, p) lies at
/// `a[i·rs + p·cs]` and `B`'s (p, j) at `b[p·rs + j·cs]`.
///
/// # Safety
/// `a` and `b` must address `m×k` and `k×n` readable values with their strides; `c` (borrowed
/// mutably, so aliasing neither) must hold `m·n`.
#[cfg(not(target_arch = "wasm32"))]
unsafe fn gemm_strided(
    (m, n, k): (usize, usize, usize),
    c: &mut [f32],
    (a, a_rs, a_cs): (*const f32, usize, usize),
    (b, b_rs, b_cs): (*const f32, usize, usize),
    parallelism: gemm::Parallelism,
) {
    assert!(c.len() >= m * n, "gemm shapes");
    // SAFETY: the caller's contract.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            true,
            a,
            a_cs as isize,
            a_rs as isize,
            b,
            b_cs as isize,
            b_rs as isize,
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
        WeightMatrix::new(m, k, &a).product(n, &b, &mut c, Start::Accumulate, false, false);
        for i in 0..m {
            for j in 0..n {
                let want = 1.0 + (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum::<f32>();
                assert!((c[i * n + j] - want).abs() < 1e-5, "{i},{j}");
            }
        }
    }
}
