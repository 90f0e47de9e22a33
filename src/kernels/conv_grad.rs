//! Convolution with its backward pass, on plain slices, in f32 or f64: what the Gradient lab
//! differentiates. Each of the three passes is one matrix product per image, over the patch
//! matrix `cols(x)` (`[C_in·k·k, H_out·W_out]`, im2col; the input itself for a 1×1 / stride 1
//! convolution):
//! - forward: `y = W · cols(x)`;
//! - ∂L/∂W = Σₙ ∂L/∂y · cols(x)ᵀ (the patch matrix made again, not kept from the forward);
//! - ∂L/∂x = col2im(Wᵀ · ∂L/∂y).
//!
//! The products are the `gemm` crate's (the kernels candle itself uses), which reads a
//! transposed operand through its strides, so no transpose is copied. Natively they spread over
//! rayon's threads; in the threaded wasm build each product is split into blocks over the pool
//! (`super::thread_pool`), as is col2im over channels.

use std::ops::{AddAssign, Range};

use super::gemm::SendPtr;
use super::gemm_conv::ConvShape;
use super::im2col::{col2im_add, im2col};
use crate::{Error, Result};

/// A float the gradient kernels compute in: f32 or f64.
pub trait Real: Copy + Default + Send + Sync + AddAssign + 'static {
    /// 1 in this type.
    const ONE: Self;
}

impl Real for f32 {
    const ONE: Self = 1.0;
}

impl Real for f64 {
    const ONE: Self = 1.0;
}

/// The geometry of one convolution over a batch: `[N, C_in, H, W]` in, `[C_out, C_in, k, k]`
/// filters (no groups, no dilation), stride, zero padding, `[N, C_out, H_out, W_out]` out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Images.
    pub n: usize,
    /// Input channels.
    pub cin: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels.
    pub cout: usize,
    /// Kernel side.
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Zero padding on every side.
    pub pad: usize,
    /// Output height.
    pub ho: usize,
    /// Output width.
    pub wo: usize,
}

impl ConvGeometry {
    /// From the input's and the filters' dimensions, or an error naming what does not fit.
    pub fn new(
        [n, cin, h, w]: [usize; 4],
        [cout, wcin, kh, kw]: [usize; 4],
        stride: usize,
        pad: usize,
    ) -> Result<Self> {
        if wcin != cin || kh != kw {
            return Err(Error::InvalidArgument(format!(
                "conv: [{n}, {cin}, {h}, {w}] input with [{cout}, {wcin}, {kh}, {kw}] filters"
            )));
        }
        let shape = ConvShape {
            cout,
            cin,
            k: kh,
            stride,
            pad,
        };
        let (ho, wo) = shape.output_size(h, w)?;
        Ok(Self {
            n,
            cin,
            h,
            w,
            cout,
            k: kh,
            stride,
            pad,
            ho,
            wo,
        })
    }

    /// The filters' geometry: channels, kernel, stride and padding.
    pub fn shape(&self) -> ConvShape {
        ConvShape {
            cout: self.cout,
            cin: self.cin,
            k: self.k,
            stride: self.stride,
            pad: self.pad,
        }
    }

    /// Rows of the patch matrix (and columns of the filter matrix): `C_in·k·k`.
    pub fn depth(&self) -> usize {
        self.cin * self.k * self.k
    }

    /// Values of one input image.
    pub fn input_len(&self) -> usize {
        self.cin * self.h * self.w
    }

    /// Values of one output image.
    pub fn output_len(&self) -> usize {
        self.cout * self.ho * self.wo
    }

    /// Output positions per image.
    pub fn positions(&self) -> usize {
        self.ho * self.wo
    }

    /// A 1×1 / stride 1 convolution, whose patch matrix is the input itself.
    pub fn is_pointwise(&self) -> bool {
        self.k == 1 && self.stride == 1 && self.pad == 0
    }

    /// An error naming `what` when a buffer's length (first) is not the expected (second).
    pub fn check(&self, what: &str, lens: [(usize, usize); 2]) -> Result<()> {
        for (got, want) in lens {
            if got != want {
                return Err(Error::InvalidArgument(format!(
                    "conv {what}: a buffer of {got} values where {want} are expected for {self:?}"
                )));
            }
        }
        Ok(())
    }

    /// Calls `f(image, cols)` for each image with its patch matrix (one scratch buffer for all).
    pub fn for_each_patch_matrix<T: Real>(&self, x: &[T], mut f: impl FnMut(usize, &[T])) {
        let mut scratch = Vec::new();
        for (i, image) in x.chunks_exact(self.input_len()).enumerate() {
            if self.is_pointwise() {
                f(i, image);
            } else {
                scratch.resize(self.depth() * self.positions(), T::default());
                im2col(
                    image,
                    self.cin,
                    self.h,
                    self.w,
                    self.k,
                    self.stride,
                    self.pad,
                    0..self.ho,
                    self.wo,
                    &mut scratch,
                );
                f(i, &scratch);
            }
        }
    }
}

/// A matrix operand of a product: element (i, j) at `ptr[i·rs + j·cs]`.
#[derive(Clone, Copy)]
struct Operand<T> {
    ptr: *const T,
    rs: isize,
    cs: isize,
}

// SAFETY: an operand is only read, by the parts of one product, while its slice is borrowed.
unsafe impl<T> Send for Operand<T> {}
unsafe impl<T> Sync for Operand<T> {}

impl<T> Operand<T> {
    /// Row-major `rows × cols` over `values`.
    fn rows(values: &[T], cols: usize) -> Self {
        Self {
            ptr: values.as_ptr(),
            rs: cols as isize,
            cs: 1,
        }
    }

    /// The transpose of row-major `_ × cols` over `values`.
    fn transposed(values: &[T], cols: usize) -> Self {
        Self {
            ptr: values.as_ptr(),
            rs: 1,
            cs: cols as isize,
        }
    }

    /// The operand starting `rows` rows and `cols` columns further on.
    fn offset(self, rows: usize, cols: usize) -> Self {
        Self {
            // Only address arithmetic: the result is dereferenced by gemm inside the bounds
            // the caller's slices have (see `product`).
            ptr: self
                .ptr
                .wrapping_offset(rows as isize * self.rs + cols as isize * self.cs),
            ..self
        }
    }
}

/// `dst (m×n, row-major) = lhs (m×k) · rhs (k×n)`, added to what `dst` holds when `accumulate`.
///
/// Panics when `dst` is shorter than `m·n` (a bug in the caller).
///
/// # Safety
/// `lhs` and `rhs` must address `m×k` and `k×n` matrices inside live slices.
unsafe fn product<T: Real>(
    (m, n, k): (usize, usize, usize),
    dst: &mut [T],
    accumulate: bool,
    lhs: Operand<T>,
    rhs: Operand<T>,
) {
    assert!(dst.len() >= m * n, "conv product: destination too short");
    if m == 0 || n == 0 {
        return;
    }
    let dst = SendPtr(dst.as_mut_ptr());
    let block = move |rows: Range<usize>, cols: Range<usize>, parallelism| {
        // SAFETY: the block lies inside the m×n destination and the operands' matrices (the
        // caller's contract), and blocks of one product are disjoint.
        unsafe {
            gemm::gemm(
                rows.len(),
                cols.len(),
                k,
                dst.get().add(rows.start * n + cols.start),
                1,
                n as isize,
                accumulate,
                lhs.offset(rows.start, 0).ptr,
                lhs.cs,
                lhs.rs,
                rhs.offset(0, cols.start).ptr,
                rhs.cs,
                rhs.rs,
                T::ONE,
                T::ONE,
                false,
                false,
                false,
                parallelism,
            )
        }
    };
    #[cfg(not(target_arch = "wasm32"))]
    {
        block(0..m, 0..n, super::gemm::native_parallelism(m * n * k));
    }
    #[cfg(target_arch = "wasm32")]
    {
        let threads = super::thread_pool::threads();
        if threads == 1 || m * n * k < 1 << 18 {
            return block(0..m, 0..n, gemm::Parallelism::None);
        }
        // Blocks along the longer side, four per thread, claimed as threads come free.
        let parts = 4 * threads;
        let split_rows = m >= n;
        let len = if split_rows { m } else { n };
        let step = len.div_ceil(parts);
        super::thread_pool::for_each_part(len.div_ceil(step), &|part| {
            let range = part * step..((part + 1) * step).min(len);
            if split_rows {
                block(range, 0..n, gemm::Parallelism::None);
            } else {
                block(0..m, range, gemm::Parallelism::None);
            }
        });
    }
}

/// The convolution of the batch `x` by `filters`: `[N, C_out, H_out, W_out]`.
pub fn forward<T: Real>(g: &ConvGeometry, x: &[T], filters: &[T]) -> Result<Vec<T>> {
    g.check(
        "forward",
        [
            (x.len(), g.n * g.input_len()),
            (filters.len(), g.cout * g.depth()),
        ],
    )?;
    let mut y = vec![T::default(); g.n * g.output_len()];
    let (p, depth) = (g.positions(), g.depth());
    g.for_each_patch_matrix(x, |i, cols| {
        let out = &mut y[i * g.output_len()..(i + 1) * g.output_len()];
        // SAFETY: filters is cout×depth and cols depth×p, as checked and built.
        unsafe {
            product(
                (g.cout, p, depth),
                out,
                false,
                Operand::rows(filters, depth),
                Operand::rows(cols, p),
            )
        };
    });
    Ok(y)
}

/// ∂L/∂filters (`[C_out, C_in, k, k]`) from the input `x` and `dy` = ∂L/∂y.
pub fn filter_grad<T: Real>(g: &ConvGeometry, x: &[T], dy: &[T]) -> Result<Vec<T>> {
    g.check(
        "filter gradient",
        [
            (x.len(), g.n * g.input_len()),
            (dy.len(), g.n * g.output_len()),
        ],
    )?;
    let (p, depth) = (g.positions(), g.depth());
    let mut dw = vec![T::default(); g.cout * depth];
    g.for_each_patch_matrix(x, |i, cols| {
        let dy = &dy[i * g.output_len()..(i + 1) * g.output_len()];
        // SAFETY: dy is cout×p and cols depth×p (read transposed: p×depth).
        unsafe {
            product(
                (g.cout, depth, p),
                &mut dw,
                i > 0,
                Operand::rows(dy, p),
                Operand::transposed(cols, p),
            )
        };
    });
    Ok(dw)
}

/// ∂L/∂x (`[N, C_in, H, W]`) from the filters and `dy` = ∂L/∂y.
pub fn input_grad<T: Real>(g: &ConvGeometry, filters: &[T], dy: &[T]) -> Result<Vec<T>> {
    g.check(
        "input gradient",
        [
            (filters.len(), g.cout * g.depth()),
            (dy.len(), g.n * g.output_len()),
        ],
    )?;
    let (p, depth) = (g.positions(), g.depth());
    let mut dx = vec![T::default(); g.n * g.input_len()];
    let mut dcols = if g.is_pointwise() {
        Vec::new()
    } else {
        vec![T::default(); depth * p]
    };
    for (dx, dy) in dx
        .chunks_exact_mut(g.input_len())
        .zip(dy.chunks_exact(g.output_len()))
    {
        let dst = if g.is_pointwise() {
            &mut *dx
        } else {
            &mut dcols
        };
        // SAFETY: filters is cout×depth (read transposed: depth×cout) and dy cout×p.
        unsafe {
            product(
                (depth, p, g.cout),
                dst,
                false,
                Operand::transposed(filters, depth),
                Operand::rows(dy, p),
            )
        };
        if !g.is_pointwise() {
            col2im_split(g, &dcols, dx);
        }
    }
    Ok(dx)
}

/// col2im of one image, split over channels in the threaded wasm build.
fn col2im_split<T: Real>(g: &ConvGeometry, dcols: &[T], dx: &mut [T]) {
    let run = |channels: Range<usize>, dx: &mut [T]| {
        col2im_add(
            dcols,
            (g.h, g.w),
            (g.k, g.stride, g.pad),
            (g.ho, g.wo),
            channels,
            dx,
        )
    };
    let threads = super::thread_pool::threads();
    if threads == 1 || g.cin < 2 * threads {
        return run(0..g.cin, dx);
    }
    let plane = g.h * g.w;
    let step = g.cin.div_ceil(4 * threads);
    let dx_ptr = SendPtr(dx.as_mut_ptr());
    super::thread_pool::for_each_part(g.cin.div_ceil(step), &|part| {
        let channels = part * step..((part + 1) * step).min(g.cin);
        // SAFETY: the parts' channel ranges are disjoint, each slice holds its own planes inside
        // `dx` (cin planes), and `dx` outlives the call.
        let dx = unsafe {
            std::slice::from_raw_parts_mut(
                dx_ptr.get().add(channels.start * plane),
                channels.len() * plane,
            )
        };
        run(channels, dx);
    });
}
