//! Convolution as one matrix product per image, `Y = W · cols(X) + b`, on plain slices: the
//! bias is the product's starting value; a 1×1 / stride 1 convolution multiplies the input
//! itself, any other builds the patch matrix (im2col) once.

use super::conv_io::check_buffers;
use super::gemm::{Start, WeightMatrix};
use super::im2col::{col2im_add, im2col};
use super::scratch::with_scratch;
use super::thread_pool::for_each_chunk_mut;
use crate::{Error, Result};

/// The most values a patch matrix takes at once (2 MB): a larger one is made a band of output
/// rows at a time.
const MAX_PATCH_VALUES: usize = 1 << 19;

/// A convolution (any square kernel, stride and padding) ready for [`GemmConv::forward`].
#[derive(Clone, Debug)]
pub struct GemmConv {
    /// `[C_out, C_in·k·k]`.
    weight: WeightMatrix,
    /// `[C_out]` (zeros when the convolution has none).
    bias: Vec<f32>,
    shape: ConvShape,
}

/// The geometry of a convolution: `[C_out, C_in, k, k]` filters, stride and padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// Output channels.
    pub cout: usize,
    /// Input channels.
    pub cin: usize,
    /// Kernel side.
    pub k: usize,
    /// Stride.
    pub stride: usize,
    /// Zero padding on every side.
    pub pad: usize,
}

impl ConvShape {
    /// The output side for an `h`×`w` input, or an error when the kernel does not fit.
    pub fn output_size(&self, h: usize, w: usize) -> Result<(usize, usize)> {
        let (k, s, pad) = (self.k, self.stride, self.pad);
        if s == 0 || h + 2 * pad < k || w + 2 * pad < k {
            return Err(Error::InvalidArgument(format!(
                "{h}×{w} input is smaller than the {k}×{k} kernel (stride {s})"
            )));
        }
        Ok(((h + 2 * pad - k) / s + 1, (w + 2 * pad - k) / s + 1))
    }
}

impl GemmConv {
    /// From row-major `filters` (`[C_out, C_in, k, k]`) and an optional `[C_out]` bias.
    pub fn new(filters: &[f32], shape: ConvShape, bias: Option<Vec<f32>>) -> Result<Self> {
        let ConvShape { cout, cin, k, .. } = shape;
        let depth = cin * k * k;
        if filters.len() != cout * depth || bias.as_ref().is_some_and(|b| b.len() != cout) {
            return Err(Error::InvalidArgument(format!(
                "conv: {} filter values and {:?} biases for {cout}×{cin}×{k}×{k}",
                filters.len(),
                bias.as_ref().map(Vec::len)
            )));
        }
        Ok(Self {
            weight: WeightMatrix::new(cout, depth, filters),
            bias: bias.unwrap_or_else(|| vec![0.0; cout]),
            shape,
        })
    }

    /// Its geometry.
    pub fn shape(&self) -> ConvShape {
        self.shape
    }

    /// The convolution of `input` (`[N, C_in, H, W]`) into `out` (`[N, C_out, H_out, W_out]`,
    /// see [`ConvShape::output_size`]), followed by a ReLU when `relu` is set.
    pub fn forward(
        &self,
        input: &[f32],
        [n, c, h, w]: [usize; 4],
        relu: bool,
        out: &mut [f32],
    ) -> Result<()> {
        let (ho, wo) = self.shape().output_size(h, w)?;
        let dims = [n, c, h, w];
        check_buffers(
            "conv",
            dims,
            self.shape.cin,
            (input, out),
            n * self.shape.cout * ho * wo,
        )?;
        let (k, s, pad) = (self.shape.k, self.shape.stride, self.shape.pad);
        let direct = k == 1 && s == 1 && pad == 0;
        // The patch matrix a band of output rows at a time where the whole would be large
        // (the stem's at 224 is 7.4 MB, in a memory that never shrinks).
        let band_rows = match direct {
            true => ho,
            false => (MAX_PATCH_VALUES / (c * k * k * wo).max(1)).clamp(1, ho.max(1)),
        };
        let (cols_len, band_len) = match direct {
            true => (0, 0),
            false if band_rows >= ho => (c * k * k * ho * wo, 0),
            false => (c * k * k * band_rows * wo, self.shape.cout * band_rows * wo),
        };
        with_scratch([cols_len, band_len], |cols, band_out| {
            let geometry = (n, c, h, w);
            self.run(
                input,
                geometry,
                (ho, wo),
                direct,
                band_rows,
                relu,
                cols,
                band_out,
                out,
            )
        });
        Ok(())
    }

    /// ∂L/∂x (`[N, C_in, H, W]`, into `dx`, overwritten) from `dy` = ∂L/∂y
    /// (`[N, C_out, H_out, W_out]`) for `n` images of `h`×`w`: `Wᵀ · ∂L/∂y` per image by the
    /// same packed filters read transposed, straight into `dx` for a 1×1 / stride 1
    /// convolution, else into a patch matrix that col2im adds back onto the input (channels
    /// over the threads there are).
    pub fn input_grad(
        &self,
        dy: &[f32],
        n: usize,
        (h, w): (usize, usize),
        dx: &mut [f32],
    ) -> Result<()> {
        let (ho, wo) = self.shape().output_size(h, w)?;
        let (k, s, pad) = (self.shape.k, self.shape.stride, self.shape.pad);
        let (p, in_len, out_len) = (ho * wo, self.shape.cin * h * w, self.shape.cout * ho * wo);
        if dy.len() != n * out_len || dx.len() != n * in_len {
            return Err(Error::InvalidArgument(format!(
                "conv input gradient: {} and {} values for {n} images of {h}×{w} through {:?}",
                dy.len(),
                dx.len(),
                self.shape()
            )));
        }
        let direct = k == 1 && s == 1 && pad == 0;
        dx.fill(0.0);
        let cols_len = if direct {
            0
        } else {
            self.shape.cin * k * k * p
        };
        with_scratch([cols_len, 0], |dcols, _| {
            for (dx, dy) in dx.chunks_exact_mut(in_len).zip(dy.chunks_exact(out_len)) {
                if direct {
                    self.weight.mul_acc_transposed(p, dy, dx, false);
                    continue;
                }
                dcols.fill(0.0);
                self.weight.mul_acc_transposed(p, dy, dcols, false);
                let dcols = &*dcols;
                for_each_chunk_mut(dx, h * w, &|channels, planes| {
                    col2im_add(dcols, (h, w), (k, s, pad), (ho, wo), channels, planes)
                });
            }
        });
        Ok(())
    }

    /// The products for every image of `input` into `out` (ReLU'd while still in cache),
    /// `band_rows` output rows at a time: a 1×1 stride-1 convolution straight from the input
    /// (one band), any other through im2col; a band short of the whole image is computed in
    /// `band_out`, then copied into place.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        input: &[f32],
        (n, c, h, w): (usize, usize, usize, usize),
        (ho, wo): (usize, usize),
        direct: bool,
        band_rows: usize,
        relu: bool,
        cols: &mut [f32],
        band_out: &mut [f32],
        out: &mut [f32],
    ) {
        let (k, s, pad) = (self.shape.k, self.shape.stride, self.shape.pad);
        let pixels = ho * wo;
        for img in 0..n {
            let xs = &input[img * c * h * w..(img + 1) * c * h * w];
            let ys = &mut out[img * self.shape.cout * pixels..(img + 1) * self.shape.cout * pixels];
            for start in (0..ho).step_by(band_rows.max(1)) {
                let rows = start..(start + band_rows).min(ho);
                let len = rows.len() * wo;
                let patches: &[f32] = if direct {
                    xs
                } else {
                    im2col(xs, c, h, w, k, s, pad, rows.clone(), wo, cols);
                    &cols[..c * k * k * len]
                };
                let whole = len == pixels;
                let part = if whole {
                    &mut *ys
                } else {
                    &mut band_out[..self.shape.cout * len]
                };
                // The bias is each row's starting value: no pass over the output before.
                self.weight
                    .product(len, patches, part, Start::Bias(&self.bias), relu, false);
                if !whole {
                    for (o, row) in band_out[..self.shape.cout * len]
                        .chunks_exact(len)
                        .enumerate()
                    {
                        let at = o * pixels + rows.start * wo;
                        ys[at..at + len].copy_from_slice(row);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Property tests against candle's convolution: tests/kernel_checks (native and browser).

    #[test]
    fn shapes_that_do_not_fit_are_refused() {
        let shape = ConvShape {
            cout: 2,
            cin: 1,
            k: 3,
            stride: 1,
            pad: 0,
        };
        assert!(GemmConv::new(&[0.0; 17], shape, None).is_err());
        assert!(shape.output_size(2, 5).is_err());
        assert_eq!(shape.output_size(3, 5).unwrap(), (1, 3));
        let conv = GemmConv::new(&[0.0; 18], shape, Some(vec![1.0, 2.0])).unwrap();
        let mut out = vec![0.0; 2];
        assert!(conv
            .forward(&[0.0; 9], [1, 1, 3, 3], false, &mut out)
            .is_ok());
        assert_eq!(out, [1.0, 2.0]);
        assert!(conv
            .forward(&[0.0; 9], [1, 2, 3, 3], false, &mut out)
            .is_err());
    }
}
