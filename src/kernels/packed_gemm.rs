//! Our own matrix product `C += A · B` for the wasm build, where `A` is a weight matrix packed
//! once per weights load and `B` an activation matrix.
//!
//! The `gemm` crate's wasm kernel multiplies and adds separately; this one uses relaxed SIMD's
//! fused multiply-add (`f32x4.relaxed_madd`) when the module is built with `relaxed-simd`
//! (plain `simd128` multiply + add otherwise), keeps `MR × NR` of `C` in registers, and never
//! packs `A` again (every convolution's `A` is a constant). Layout follows the classic
//! Goto/BLIS blocking: `B` is packed `KC` rows × `NC` columns at a time into `NR`-wide strips
//! that stay in L1 while the kernel walks the `MR`-row strips of `A`.
//!
//! Elsewhere (native) the same code runs on 4-lane arrays, for the tests: native builds use the
//! `gemm` crate's AVX kernels instead (see [`super::gemm`]).

use std::cell::RefCell;

use super::thread_pool::shrinking_range;

/// Rows of `C` per kernel call (one splat of `A` each per step of `k`).
pub const MR: usize = 4;
/// Columns of `C` per kernel call (two 4-lane vectors).
pub const NR: usize = 8;
/// Depth of one packed block of `B`.
const KC: usize = 256;
/// Columns of one packed block of `B` (`KC × NC` floats = 512 KiB at most).
const NC: usize = 512;

/// A matrix (`rows × depth`, the weights) stored as `MR`-row strips, each `depth × MR`
/// interleaved, rows past `rows` zero: the form the kernel reads. The kernel reads its
/// transpose from the same values too (element (p, i) of `Aᵀ` for `MR` consecutive rows `i` lies
/// `MR` values apart), so that a layer's backward `Wᵀ · ∂L/∂y` needs no second copy.
#[derive(Clone, Debug)]
pub struct PackedMatrix {
    rows: usize,
    depth: usize,
    strips: Vec<f32>,
}

impl PackedMatrix {
    /// Packs row-major `a` (`rows × depth`).
    ///
    /// Panics if `a` is shorter than that (a bug in the caller).
    pub fn new(rows: usize, depth: usize, a: &[f32]) -> Self {
        assert!(a.len() >= rows * depth, "packed matrix shape");
        let n_strips = rows.div_ceil(MR);
        // MR·MR zeros past the strips: read (and discarded) by the transposed view's last strip
        // when `depth` is not a multiple of MR. Allocated with the rest: extending a full Vec
        // doubles its capacity, which doubled every packed layer's memory.
        let packed_len = n_strips * MR * depth;
        let mut strips = vec![0f32; packed_len + MR * MR];
        for (s, strip) in strips[..packed_len]
            .chunks_exact_mut((MR * depth).max(1))
            .enumerate()
        {
            for r in 0..MR.min(rows - s * MR) {
                let row = &a[(s * MR + r) * depth..(s * MR + r + 1) * depth];
                for (p, v) in row.iter().enumerate() {
                    strip[p * MR + r] = *v;
                }
            }
        }
        Self {
            rows,
            depth,
            strips,
        }
    }

    /// Rows (of the unpacked matrix).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns (of the unpacked matrix): the product's depth.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// `c = start + self · b` ([`Start`]), then `max(c, 0)` when `relu` is set, on the calling
    /// thread.
    ///
    /// Panics if a slice is shorter than its shape says.
    pub fn product(&self, n: usize, b: &[f32], c: &mut [f32], start: Start, relu: bool) {
        assert!(
            b.len() >= self.depth * n && c.len() >= self.rows * n && start.covers(self.rows),
            "packed gemm shapes"
        );
        // SAFETY: `b` holds depth·n and `c` rows·n values (asserted), `c` is borrowed mutably.
        unsafe {
            self.product_block(
                false,
                0..self.rows.div_ceil(MR),
                n,
                b.as_ptr(),
                (n, 1),
                c.as_mut_ptr(),
                n,
                (start, relu),
            )
        };
    }

    /// `C = start + A · B` ([`Start`]) for the rows of strips `strips` (`MR` rows each) of `A`:
    /// `self`, or its transpose when `transposed` (read from the same packed values: its rows
    /// are `depth`, its depth `rows`), where `B`'s element (p, j) lies at `b[p·rs + j·cs]` —
    /// `(ldb, 1)` for a row-major block, `(1, ld)` for the transpose of a row-major matrix (the
    /// filter gradient's `cols(x)ᵀ`); then `max(C, 0)` when `relu`. With [`Start::Zero`] or
    /// [`Start::Bias`] the block of `C` is written, never read, so a caller need not clear or
    /// fill it first.
    ///
    /// # Safety
    /// `b` must address `A`'s depth × `n` readable values with those strides, `c` point at
    /// `A`'s rows, `n` values each, `ldc` apart, of which the rows in `strips` are writable and
    /// accessed by nothing else meanwhile; a [`Start::Bias`] holds a value for every row of the
    /// product.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn product_block(
        &self,
        transposed: bool,
        strips: std::ops::Range<usize>,
        n: usize,
        b: *const f32,
        (rs, cs): (usize, usize),
        c: *mut f32,
        ldc: usize,
        (start, relu): (Start, bool),
    ) {
        if n == 0 || strips.is_empty() {
            return;
        }
        // The product's rows and depth.
        let (m, k) = match transposed {
            false => (self.rows, self.depth),
            true => (self.depth, self.rows),
        };
        if k == 0 {
            // Nothing to add: the start, then the ReLU.
            for s in strips {
                for r in s * MR..((s + 1) * MR).min(m) {
                    for j in 0..n {
                        // SAFETY: row r of the caller's strips, column j < n.
                        let v = unsafe { &mut *c.add(r * ldc + j) };
                        *v = start.value(r).unwrap_or(*v);
                        if relu {
                            *v = v.max(0.0);
                        }
                    }
                }
            }
            return;
        }
        PACKED_B.with(|cell| {
            let mut fresh = Vec::new();
            let mut guard = cell.try_borrow_mut();
            let buf: &mut Vec<f32> = match guard.as_deref_mut() {
                Ok(buf) => buf,
                Err(_) => &mut fresh,
            };
            let mut gathered = [0f32; KC * MR];
            let need = KC * NC.min(n).next_multiple_of(NR);
            if buf.len() < need {
                buf.resize(need, 0.0);
            }
            for j0 in (0..n).step_by(NC) {
                let nc = NC.min(n - j0);
                for p0 in (0..k).step_by(KC) {
                    let kc = KC.min(k - p0);
                    let last = p0 + kc == k;
                    // SAFETY: rows p0..p0+kc, columns j0..j0+nc of `b` are readable.
                    unsafe { pack_b(kc, nc, b.add(p0 * rs + j0 * cs), (rs, cs), buf) };
                    for s in strips.clone() {
                        let rows = MR.min(m - s * MR);
                        let packed_b = &buf[..kc * nc.next_multiple_of(NR)];
                        // The first block of depth starts from `start` (unless it accumulates).
                        let init = match p0 {
                            0 => start.strip_values(s * MR, rows),
                            _ => None,
                        };
                        let tile = (j0, n, relu && last, init);
                        // SAFETY: row s·MR of the caller's block.
                        let c_strip = unsafe { c.add(s * MR * ldc) };
                        let a = if transposed {
                            // Rows s·MR.. of the transpose, steps p0..p0+kc (p0 a multiple of
                            // MR): gathered into the kernel's contiguous form once per block.
                            // Read in place, their groups lie MR·depth values apart, which for
                            // wide layers maps them to one cache set: every tile missed L1.
                            let group = MR * self.depth;
                            let start = s * MR * MR + p0 * self.depth;
                            for (q, dst) in gathered[..kc * MR].chunks_exact_mut(MR).enumerate() {
                                // The last strip reads into the padding (see `new`).
                                let at = start + (q / MR) * group + q % MR;
                                for (r, v) in dst.iter_mut().enumerate() {
                                    *v = self.strips[at + r * MR];
                                }
                            }
                            &gathered[..kc * MR]
                        } else {
                            let start = s * MR * k + p0 * MR;
                            &self.strips[start..start + kc * MR]
                        };
                        // SAFETY: the strip's tiles lie inside the caller's block.
                        unsafe { strip_tiles(a, packed_b, kc, tile, c_strip, ldc, rows) };
                    }
                }
            }
        });
    }
}

/// What a product's block of `C` starts from.
#[derive(Clone, Copy, Debug)]
pub enum Start<'a> {
    /// `C += A · B`: the values `C` holds.
    Accumulate,
    /// `C = A · B`: `C` is written, never read.
    Zero,
    /// `C = bias·1ᵀ + A · B` (`bias[i]` in every column of row `i`): `C` is written, never read.
    Bias(&'a [f32]),
}

impl Start<'_> {
    /// Whether it has a value for each of `rows` rows.
    pub fn covers(self, rows: usize) -> bool {
        match self {
            Start::Bias(bias) => bias.len() >= rows,
            _ => true,
        }
    }

    /// Row `r`'s starting value, or `None` when the product adds to `C`.
    fn value(self, r: usize) -> Option<f32> {
        match self {
            Start::Accumulate => None,
            Start::Zero => Some(0.0),
            Start::Bias(bias) => Some(bias[r]),
        }
    }

    /// The starting values of the `rows` rows from `first` (zero past them), or `None`.
    fn strip_values(self, first: usize, rows: usize) -> Option<[f32; MR]> {
        self.value(first)?;
        Some(std::array::from_fn(|r| match r < rows {
            true => self.value(first + r).unwrap_or(0.0),
            false => 0.0,
        }))
    }
}

/// How a product with `rows` rows and `n` columns is cut into disjoint blocks for the threads:
/// by columns when there are enough (each part then packs only its own columns of `B`), else by
/// `MR`-row strips (every part packs all of `B`, which is small then). The parts shrink as they
/// go ([`shrinking_range`]), so that the threads finish close together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// Into this many ranges of columns (multiples of `NR`, so no tile straddles two parts).
    Columns(usize),
    /// Into this many ranges of `MR`-row strips.
    Strips(usize),
}

impl Split {
    /// The split of a product with `n` columns into `parts` parts.
    pub fn of(n: usize, parts: usize) -> Split {
        let parts = parts.max(1);
        if n >= 2 * NR * parts {
            Split::Columns(parts)
        } else {
            Split::Strips(parts)
        }
    }

    /// Part `part`'s row strips and columns (either may be empty).
    pub fn part(
        self,
        rows: usize,
        n: usize,
        part: usize,
    ) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let strips = rows.div_ceil(MR);
        match self {
            Split::Columns(parts) => (0..strips, shrinking_range(n, parts, part, NR)),
            Split::Strips(parts) => (shrinking_range(strips, parts, part, 1), 0..n),
        }
    }
}

thread_local! {
    /// The packed block of `B` (one per thread: every pool thread packs its own columns).
    static PACKED_B: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Copies `kc × nc` of `b` (element (p, j) at `b[p·rs + j·cs]`) into `NR`-column strips
/// (`kc × NR` each, row-major, zero past `nc`).
///
/// # Safety
/// `b` must address `kc × nc` readable values with those strides.
unsafe fn pack_b(kc: usize, nc: usize, b: *const f32, (rs, cs): (usize, usize), out: &mut [f32]) {
    for (t, strip) in out[..kc * nc.next_multiple_of(NR)]
        .chunks_exact_mut(kc * NR)
        .enumerate()
    {
        let j = t * NR;
        let width = NR.min(nc - j);
        for (p, dst) in strip.chunks_exact_mut(NR).enumerate() {
            if cs == 1 {
                // SAFETY: row p, columns j..j+width of the block are readable.
                let src = unsafe { std::slice::from_raw_parts(b.add(p * rs + j), width) };
                dst[..width].copy_from_slice(src);
            } else {
                for (t, v) in dst[..width].iter_mut().enumerate() {
                    // SAFETY: (p, j + t) lies inside the block.
                    *v = unsafe { *b.add(p * rs + (j + t) * cs) };
                }
            }
            dst[width..].fill(0.0);
        }
    }
}

/// One strip of `MR` rows of `C` against the packed block `packed_b` (`kc` deep, its `NR`-wide
/// column strips starting at column `j0` of `n`): the kernel on each tile, `relu` applied as
/// the tiles are stored.
///
/// # Safety
/// `c` must point at the strip's row 0 (column 0), `rows` rows of `n` writable values `ldc`
/// apart; `a` must hold `kc × MR` values.
#[inline(always)]
unsafe fn strip_tiles(
    a: &[f32],
    packed_b: &[f32],
    kc: usize,
    (j0, n, relu, init): Tile,
    c: *mut f32,
    ldc: usize,
    rows: usize,
) {
    for (t, strip) in packed_b.chunks_exact(kc * NR).enumerate() {
        let j = j0 + t * NR;
        // SAFETY: the MR×NR tile at (0, j) of the strip lies inside it (clipped to `rows` ×
        // the columns left).
        unsafe {
            kernel(
                kc,
                a,
                strip,
                c.add(j),
                ldc,
                (rows, NR.min(n - j)),
                relu,
                init,
            )
        };
    }
}

/// Where a strip's tiles lie and how they end: first column, the product's columns, the ReLU,
/// and the rows' starting values when the tiles overwrite `C` (`None`: they add to it).
type Tile = (usize, usize, bool, Option<[f32; MR]>);

/// `C[rows × cols] += A · B` for one `MR × NR` tile: `a` is `kc × MR`, `b` `kc × NR` (packed),
/// then `max(·, 0)` when `relu`. With `init`, `C = init·1ᵀ + A · B` instead (`C` unread).
///
/// # Safety
/// `c` must point at `rows` rows of `cols` writable values `ldc` apart.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn kernel(
    kc: usize,
    a: &[f32],
    b: &[f32],
    c: *mut f32,
    ldc: usize,
    (rows, cols): (usize, usize),
    relu: bool,
    init: Option<[f32; MR]>,
) {
    use lanes::*;
    debug_assert!(a.len() >= kc * MR && b.len() >= kc * NR);
    let mut acc = match init {
        Some(v) => v.map(|x| [splat(x); NR / 4]),
        None => [[zero(); NR / 4]; MR],
    };
    let read = init.is_none();
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)).take(kc) {
        let bv: [Lanes; NR / 4] = std::array::from_fn(|v| load(&bp[4 * v..4 * v + 4]));
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let av = splat(ap[r]);
            for (acc_rv, b) in acc_r.iter_mut().zip(&bv) {
                *acc_rv = mul_add(av, *b, *acc_rv);
            }
        }
    }
    if rows == MR && cols == NR {
        for (r, acc_r) in acc.iter().enumerate() {
            for (v, lane) in acc_r.iter().enumerate() {
                // SAFETY: row r, columns 4v..4v+4 of the tile are writable (full tile).
                unsafe {
                    let p = c.add(r * ldc + 4 * v);
                    let sum = if read { add(load_ptr(p), *lane) } else { *lane };
                    store_ptr(p, if relu { max0(sum) } else { sum });
                }
            }
        }
    } else {
        for (r, acc_r) in acc.iter().enumerate().take(rows) {
            let mut row = [0f32; NR];
            for (v, lane) in acc_r.iter().enumerate() {
                store(&mut row[4 * v..4 * v + 4], *lane);
            }
            for (j, val) in row.iter().enumerate().take(cols) {
                // SAFETY: (r, j) lies inside the clipped tile.
                unsafe {
                    let p = c.add(r * ldc + j);
                    let sum = if read { *p + val } else { *val };
                    *p = if relu { sum.max(0.0) } else { sum };
                }
            }
        }
    }
}

/// Four `f32` lanes: wasm SIMD where the module has it, plain arrays elsewhere.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    use core::arch::wasm32::*;

    pub type Lanes = v128;

    #[inline(always)]
    pub fn zero() -> Lanes {
        f32x4_splat(0.0)
    }
    #[inline(always)]
    pub fn splat(x: f32) -> Lanes {
        f32x4_splat(x)
    }
    #[inline(always)]
    pub fn load(s: &[f32]) -> Lanes {
        debug_assert!(s.len() >= 4);
        // SAFETY: four readable values (wasm loads need no alignment).
        unsafe { v128_load(s.as_ptr() as *const v128) }
    }
    #[inline(always)]
    pub fn store(s: &mut [f32], x: Lanes) {
        debug_assert!(s.len() >= 4);
        // SAFETY: four writable values.
        unsafe { v128_store(s.as_mut_ptr() as *mut v128, x) }
    }
    /// # Safety
    /// Four readable values at `p`.
    #[inline(always)]
    pub unsafe fn load_ptr(p: *const f32) -> Lanes {
        unsafe { v128_load(p as *const v128) }
    }
    /// # Safety
    /// Four writable values at `p`.
    #[inline(always)]
    pub unsafe fn store_ptr(p: *mut f32, x: Lanes) {
        unsafe { v128_store(p as *mut v128, x) }
    }
    #[inline(always)]
    pub fn add(a: Lanes, b: Lanes) -> Lanes {
        f32x4_add(a, b)
    }
    /// `a · b + c`: one fused instruction with relaxed SIMD.
    #[inline(always)]
    pub fn mul_add(a: Lanes, b: Lanes, c: Lanes) -> Lanes {
        #[cfg(target_feature = "relaxed-simd")]
        return f32x4_relaxed_madd(a, b, c);
        #[cfg(not(target_feature = "relaxed-simd"))]
        f32x4_add(f32x4_mul(a, b), c)
    }
    /// `max(a, 0)`, with NaN as 0 like `f32::max` (`pmax(x, a)` is `x < a ? a : x`).
    #[inline(always)]
    pub fn max0(a: Lanes) -> Lanes {
        f32x4_pmax(f32x4_splat(0.0), a)
    }
}

/// Four `f32` lanes: wasm SIMD where the module has it, plain arrays elsewhere.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod lanes {
    pub type Lanes = [f32; 4];

    #[inline(always)]
    pub fn zero() -> Lanes {
        [0.0; 4]
    }
    #[inline(always)]
    pub fn splat(x: f32) -> Lanes {
        [x; 4]
    }
    #[inline(always)]
    pub fn load(s: &[f32]) -> Lanes {
        [s[0], s[1], s[2], s[3]]
    }
    #[inline(always)]
    pub fn store(s: &mut [f32], x: Lanes) {
        s[..4].copy_from_slice(&x);
    }
    /// # Safety
    /// Four readable values at `p`.
    #[inline(always)]
    pub unsafe fn load_ptr(p: *const f32) -> Lanes {
        unsafe { std::ptr::read_unaligned(p as *const Lanes) }
    }
    /// # Safety
    /// Four writable values at `p`.
    #[inline(always)]
    pub unsafe fn store_ptr(p: *mut f32, x: Lanes) {
        unsafe { std::ptr::write_unaligned(p as *mut Lanes, x) }
    }
    #[inline(always)]
    pub fn add(a: Lanes, b: Lanes) -> Lanes {
        std::array::from_fn(|i| a[i] + b[i])
    }
    #[inline(always)]
    pub fn mul_add(a: Lanes, b: Lanes, c: Lanes) -> Lanes {
        std::array::from_fn(|i| a[i] * b[i] + c[i])
    }
    #[inline(always)]
    pub fn max0(a: Lanes) -> Lanes {
        a.map(|v| v.max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The products themselves: tests/kernel_checks (native and browser).

    #[test]
    fn a_packed_matrix_holds_its_strips_and_padding_and_no_more() {
        for (rows, depth) in [(64, 576), (5, 3), (1, 0), (2048, 512)] {
            let packed = PackedMatrix::new(rows, depth, &vec![1.0; rows * depth]);
            let len = rows.div_ceil(MR) * MR * depth + MR * MR;
            assert_eq!(packed.strips.len(), len, "{rows}×{depth}");
            // The engine keeps every layer packed: spare capacity is memory held for nothing.
            assert_eq!(packed.strips.capacity(), len, "{rows}×{depth}");
        }
    }
}
