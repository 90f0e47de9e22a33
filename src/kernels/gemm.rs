//! The matrix products of the inference convolutions, on plain slices: [`WeightMatrix`] runs our
//! packed kernel in wasm (`super::packed_gemm`) and the `gemm` crate natively (the kernels candle
//! itself uses: AVX2/AVX-512 with FMA).

#[cfg(target_arch = "wasm32")]
use super::packed_gemm::PackedMatrix;

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

    /// `c += self · b` for row-major `b` (`depth × n`) and `c` (`rows × n`), then `max(c, 0)`
    /// when `relu` is set; spread over the threads there are.
    pub fn mul_acc(&self, n: usize, b: &[f32], c: &mut [f32], relu: bool) {
        #[cfg(target_arch = "wasm32")]
        self.mul_acc_split(n, b, c, relu);
        #[cfg(not(target_arch = "wasm32"))]
        {
            matmul_acc(self.rows, n, self.depth, &self.plain, b, c);
            relu_if(relu, &mut c[..self.rows * n]);
        }
    }

    /// [`WeightMatrix::mul_acc`] on the calling thread only (for callers that split the work
    /// themselves).
    pub fn mul_acc_serial(&self, n: usize, b: &[f32], c: &mut [f32], relu: bool) {
        #[cfg(target_arch = "wasm32")]
        self.packed.mul_acc(n, b, c, relu);
        #[cfg(not(target_arch = "wasm32"))]
        {
            matmul_acc_serial(self.rows, n, self.depth, &self.plain, b, c);
            relu_if(relu, &mut c[..self.rows * n]);
        }
    }

    /// The threaded wasm build splits the product over its pool (see [`Split`]).
    #[cfg(target_arch = "wasm32")]
    fn mul_acc_split(&self, n: usize, b: &[f32], c: &mut [f32], relu: bool) {
        use super::packed_gemm::Split;
        let (m, k) = (self.rows, self.depth);
        assert!(b.len() >= k * n && c.len() >= m * n, "gemm shapes");
        let threads = super::thread_pool::threads();
        // Four parts per thread, claimed dynamically: a thread that starts late takes fewer.
        let parts = 4 * threads;
        if threads == 1 || m * n * k < 1 << 20 {
            return self.packed.mul_acc(n, b, c, relu);
        }
        let c_ptr = SendPtr(c.as_mut_ptr());
        let split = Split::of(m, n, parts);
        super::thread_pool::for_each_part(parts, &|part| {
            let (strips, cols) = split.part(m, n, part);
            // SAFETY: the parts' blocks of `c` are disjoint (row strips or column ranges), `c`
            // outlives the call, and `b` (k·n) and `c` (m·n) hold the whole product (asserted).
            unsafe {
                self.packed.mul_acc_block(
                    strips,
                    cols.len(),
                    b.as_ptr().add(cols.start),
                    n,
                    c_ptr.get().add(cols.start),
                    n,
                    relu,
                )
            };
        });
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
        WeightMatrix::new(m, k, &a).mul_acc(n, &b, &mut c, false);
        for i in 0..m {
            for j in 0..n {
                let want = 1.0 + (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum::<f32>();
                assert!((c[i * n + j] - want).abs() < 1e-5, "{i},{j}");
            }
        }
    }
}
