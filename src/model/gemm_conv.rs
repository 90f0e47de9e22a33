//! Convolution as one matrix product per image, `Y = W · cols(X) + b`, straight on the activation
//! buffers: the bias is the product's starting value; a 1×1 / stride 1 convolution multiplies
//! the input itself, any other builds the patch matrix (im2col) once. Used by the folded
//! inference network only (no autograd).

use candle_core::{Device, Tensor};
use candle_nn::Conv2d;

use super::gemm::{with_scratch, with_values, WeightMatrix};
use crate::Result;

/// A convolution (any kernel, stride and padding) ready for [`GemmConv::forward`].
#[derive(Clone, Debug)]
pub struct GemmConv {
    /// `[C_out, C_in·k·k]`.
    weight: WeightMatrix,
    /// `[C_out]` (zeros when the convolution has none).
    bias: Vec<f32>,
    cout: usize,
    cin: usize,
    k: usize,
    stride: usize,
    pad: usize,
}

impl GemmConv {
    /// The matrix-product form of `conv`, or `None` for grouped, dilated or non-square kernels.
    pub fn of(conv: &Conv2d) -> Result<Option<Self>> {
        let cfg = conv.config();
        let (cout, cin, kh, kw) = conv.weight().dims4()?;
        if kh != kw || cfg.groups != 1 || cfg.dilation != 1 {
            return Ok(None);
        }
        let bias = match conv.bias() {
            Some(b) => b.to_vec1::<f32>()?,
            None => vec![0.0; cout],
        };
        Ok(Some(Self {
            weight: WeightMatrix::new(
                cout,
                cin * kh * kh,
                &conv.weight().flatten_all()?.to_vec1()?,
            ),
            bias,
            cout,
            cin,
            k: kh,
            stride: cfg.stride,
            pad: cfg.padding,
        }))
    }

    /// The convolution of `x` (`[N, C_in, H, W]`), followed by a ReLU when `relu` is set.
    pub fn forward(&self, x: &Tensor, relu: bool) -> Result<Tensor> {
        let (n, c, h, w) = x.dims4()?;
        if c != self.cin {
            return Err(crate::Error::InvalidArgument(format!(
                "conv: {c} input channels, expected {}",
                self.cin
            )));
        }
        let (k, s, pad) = (self.k, self.stride, self.pad);
        if h + 2 * pad < k || w + 2 * pad < k {
            return Err(crate::Error::InvalidArgument(format!(
                "{h}×{w} input is smaller than the {k}×{k} kernel"
            )));
        }
        let (ho, wo) = ((h + 2 * pad - k) / s + 1, (w + 2 * pad - k) / s + 1);
        let pixels = ho * wo;
        let mut out = vec![0f32; n * self.cout * pixels];
        let direct = k == 1 && s == 1 && pad == 0;
        let cols_len = if direct { 0 } else { c * k * k * pixels };
        with_values(x, |input| {
            with_scratch([cols_len, 0], |cols, _| {
                self.run(input, (n, c, h, w), (ho, wo), direct, relu, cols, &mut out)
            });
            Ok(())
        })?;
        Ok(Tensor::from_vec(out, (n, self.cout, ho, wo), &Device::Cpu)?)
    }

    /// The products for every image of `input` into `out` (ReLU'd while still in cache).
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        input: &[f32],
        (n, c, h, w): (usize, usize, usize, usize),
        (ho, wo): (usize, usize),
        direct: bool,
        relu: bool,
        cols: &mut [f32],
        out: &mut [f32],
    ) {
        let (k, s, pad) = (self.k, self.stride, self.pad);
        let pixels = ho * wo;
        for img in 0..n {
            let xs = &input[img * c * h * w..(img + 1) * c * h * w];
            let xs: &[f32] = if direct {
                xs
            } else {
                im2col(xs, c, h, w, k, s, pad, ho, wo, cols);
                &*cols
            };
            let ys = &mut out[img * self.cout * pixels..(img + 1) * self.cout * pixels];
            for (o, row) in ys.chunks_exact_mut(pixels).enumerate() {
                row.fill(self.bias[o]);
            }
            self.weight.mul_acc(pixels, xs, ys, relu);
        }
    }
}

/// The patch matrix `[C·k·k, H_out·W_out]` of one image (zeros where the padding is).
#[allow(clippy::too_many_arguments)]
fn im2col(
    x: &[f32],
    c: usize,
    h: usize,
    w: usize,
    k: usize,
    s: usize,
    pad: usize,
    ho: usize,
    wo: usize,
    cols: &mut [f32],
) {
    cols.fill(0.0);
    let mut rows = cols.chunks_exact_mut(ho * wo);
    for ch in 0..c {
        let plane = &x[ch * h * w..(ch + 1) * h * w];
        for ky in 0..k {
            for kx in 0..k {
                let Some(row) = rows.next() else { return };
                for oy in 0..ho {
                    let iy = (oy * s + ky) as isize - pad as isize;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    let src = &plane[iy as usize * w..(iy as usize + 1) * w];
                    let dst = &mut row[oy * wo..(oy + 1) * wo];
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_nn::Conv2dConfig;

    // Property tests against candle's convolution: tests/kernel_checks (native and browser).

    #[test]
    fn grouped_convolutions_do_not_qualify() {
        let wt = Tensor::zeros((4, 2, 3, 3), candle_core::DType::F32, &Device::Cpu).unwrap();
        let cfg = Conv2dConfig {
            groups: 2,
            ..Default::default()
        };
        assert!(GemmConv::of(&Conv2d::new(wt, None, cfg)).unwrap().is_none());
    }
}
