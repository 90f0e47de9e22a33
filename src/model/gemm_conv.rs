//! Convolution as one matrix product per image, `Y = W · cols(X) + b`, straight on the activation
//! buffers: the bias is the product's starting value; a 1×1 / stride 1 convolution multiplies
//! the input itself, any other builds the patch matrix (im2col) once. Used by the folded
//! inference network only (no autograd).

use candle_core::{Device, Tensor};
use candle_nn::Conv2d;

use super::gemm::{matmul_acc, with_values};
use crate::Result;

/// A convolution (any kernel, stride and padding) ready for [`GemmConv::forward`].
#[derive(Clone, Debug)]
pub struct GemmConv {
    /// `[C_out, C_in·k·k]`, row-major.
    weight: Vec<f32>,
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
            weight: conv.weight().flatten_all()?.to_vec1::<f32>()?,
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
        let mut cols = Vec::new();
        with_values(x, |input| {
            self.run(input, (n, c, h, w), (ho, wo), &mut cols, &mut out);
            Ok(())
        })?;
        if relu {
            out.iter_mut().for_each(|v| *v = v.max(0.0));
        }
        Ok(Tensor::from_vec(out, (n, self.cout, ho, wo), &Device::Cpu)?)
    }

    /// The products for every image of `input` into `out`.
    fn run(
        &self,
        input: &[f32],
        (n, c, h, w): (usize, usize, usize, usize),
        (ho, wo): (usize, usize),
        cols: &mut Vec<f32>,
        out: &mut [f32],
    ) {
        let (k, s, pad) = (self.k, self.stride, self.pad);
        let pixels = ho * wo;
        for img in 0..n {
            let xs = &input[img * c * h * w..(img + 1) * c * h * w];
            let xs: &[f32] = if k == 1 && s == 1 && pad == 0 {
                xs
            } else {
                im2col(xs, c, h, w, k, s, pad, ho, wo, cols);
                cols
            };
            let ys = &mut out[img * self.cout * pixels..(img + 1) * self.cout * pixels];
            for (o, row) in ys.chunks_exact_mut(pixels).enumerate() {
                row.fill(self.bias[o]);
            }
            matmul_acc(self.cout, pixels, self.cin * k * k, &self.weight, xs, ys);
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
    cols: &mut Vec<f32>,
) {
    cols.clear();
    cols.resize(c * k * k * ho * wo, 0.0);
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
    use candle_nn::{Conv2dConfig, Module};

    fn values(seed: &mut u64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| {
                *seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn matches_candle_over_random_shapes_and_strides() {
        let mut seed = 7u64;
        for case in 0..40 {
            let r = values(&mut seed, 6);
            let pick =
                |v: f32, lo: usize, hi: usize| lo + ((v + 1.0) / 2.0 * (hi - lo) as f32) as usize;
            let (n, cin, cout) = (pick(r[0], 1, 2), pick(r[1], 1, 40), pick(r[2], 1, 40));
            let k = [1, 3, 7][case % 3];
            let pad = pick(r[5], 0, k / 2 + 1);
            let (h, w, stride) = (
                pick(r[3], k.saturating_sub(2 * pad).max(1), 15),
                pick(r[4], k.saturating_sub(2 * pad).max(1), 15),
                1 + case % 2,
            );
            let x = Tensor::from_vec(
                values(&mut seed, n * cin * h * w),
                (n, cin, h, w),
                &Device::Cpu,
            )
            .unwrap();
            let wt = Tensor::from_vec(
                values(&mut seed, cout * cin * k * k),
                (cout, cin, k, k),
                &Device::Cpu,
            )
            .unwrap();
            let bias = (case % 2 == 0)
                .then(|| Tensor::from_vec(values(&mut seed, cout), cout, &Device::Cpu).unwrap());
            let conv = Conv2d::new(
                wt,
                bias,
                Conv2dConfig {
                    stride,
                    padding: pad,
                    ..Default::default()
                },
            );
            let want = conv.forward(&x).unwrap();
            let relu = case % 4 == 1;
            let want = if relu { want.relu().unwrap() } else { want };
            let got = GemmConv::of(&conv)
                .unwrap()
                .unwrap()
                .forward(&x, relu)
                .unwrap();
            assert_eq!(got.dims(), want.dims(), "case {case}");
            let (got, want) = (
                got.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                want.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            );
            let scale = want.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
            let err = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max)
                / scale;
            assert!(
                err < 1e-5,
                "case {case}: n {n} cin {cin} cout {cout} {h}×{w}/{stride}: {err:e}"
            );
        }
    }

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
