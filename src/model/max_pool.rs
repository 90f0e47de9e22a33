//! The stem's max-pool, 3×3 / stride 2 / padding 1, built to be differentiable.

use candle_core::Tensor;

use crate::Result;

/// Max-pool 3×3, stride 2, padding 1 (the stem's), as two separable 1-D maxima.
///
/// Built from `maximum` so that it is differentiable (candle's own max-pool has no backward for
/// overlapping windows). Padding is with zeros, which is exact because the input follows a ReLU.
pub fn max_pool_3x3_s2(x: &Tensor) -> Result<Tensor> {
    let rows = max_pool_1d(x, 2)?;
    max_pool_1d(&rows, 3)
}

fn max_pool_1d(x: &Tensor, dim: usize) -> Result<Tensor> {
    let len = x.dim(dim)?;
    let out = (len - 1) / 2 + 1;
    // After padding 1 on the left, output i covers padded positions 2i, 2i+1, 2i+2.
    let extra = (2 * out + 2).saturating_sub(len + 2);
    let padded = x.pad_with_zeros(dim, 1, 1 + extra)?;
    let mut split = padded.dims().to_vec();
    split[dim] = out;
    split.insert(dim + 1, 2);
    let pairs = padded.narrow(dim, 0, 2 * out)?.reshape(split.as_slice())?;
    let next = padded.narrow(dim, 2, 2 * out)?.reshape(split.as_slice())?;
    let a = pairs.narrow(dim + 1, 0, 1)?;
    let b = pairs.narrow(dim + 1, 1, 1)?;
    let c = next.narrow(dim + 1, 0, 1)?;
    Ok(a.maximum(&b)?.maximum(&c)?.squeeze(dim + 1)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// Plain 3×3/2 max-pool with −∞ padding, the definition PyTorch uses.
    fn reference_pool(x: &[f32], h: usize, w: usize) -> Vec<f32> {
        let (oh, ow) = ((h - 1) / 2 + 1, (w - 1) / 2 + 1);
        let mut out = vec![f32::NEG_INFINITY; oh * ow];
        for i in 0..oh {
            for j in 0..ow {
                for di in 0..3 {
                    for dj in 0..3 {
                        let (y, x_) = ((2 * i + di) as isize - 1, (2 * j + dj) as isize - 1);
                        if y >= 0 && x_ >= 0 && (y as usize) < h && (x_ as usize) < w {
                            let v = x[y as usize * w + x_ as usize];
                            out[i * ow + j] = out[i * ow + j].max(v);
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn max_pool_matches_the_padded_definition_for_odd_and_even_sides() {
        for (h, w) in [(8, 8), (7, 9), (5, 4), (112, 112), (3, 3)] {
            let data: Vec<f32> = (0..h * w).map(|i| ((i * 37 % 101) as f32) / 7.0).collect();
            let x = Tensor::from_vec(data.clone(), (1, 1, h, w), &Device::Cpu).unwrap();
            let got = max_pool_3x3_s2(&x)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            assert_eq!(got, reference_pool(&data, h, w), "{h}×{w}");
        }
    }
}
