//! The stem's max-pool, 3×3 / stride 2 / padding 1.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};

use crate::kernels::pool_grad::{max_pool_3x3_s2_values, max_pool_side};
use crate::Result;

/// Max-pool 3×3, stride 2, padding 1 (the stem's), over `[N, C, H, W]` in f32 or f64, as
/// PyTorch defines it (padding never wins).
///
/// One pass of [`max_pool_3x3_s2_values`] over the planes. Nothing differentiates through it:
/// the Gradient lab runs its own kernels, with the pool's backward (`kernels::pool_grad`).
pub fn max_pool_3x3_s2(x: &Tensor) -> Result<Tensor> {
    Ok(x.contiguous()?.apply_op1_no_bwd(&MaxPool3x3S2)?)
}

struct MaxPool3x3S2;

impl CustomOp1 for MaxPool3x3S2 {
    fn name(&self) -> &'static str {
        "max-pool-3x3-s2"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, c, h, w) = layout.shape().dims4()?;
        let (start, end) = layout
            .contiguous_offsets()
            .ok_or_else(|| candle_core::Error::Msg("max-pool of a strided tensor".into()))?;
        let planes = n * c;
        let shape = Shape::from((n, c, max_pool_side(h), max_pool_side(w)));
        let len = shape.elem_count();
        let pooled = match storage {
            CpuStorage::F32(x) => {
                let mut out = vec![0f32; len];
                max_pool_3x3_s2_values(&x[start..end], planes, (h, w), &mut out);
                CpuStorage::F32(out)
            }
            CpuStorage::F64(x) => {
                let mut out = vec![0f64; len];
                max_pool_3x3_s2_values(&x[start..end], planes, (h, w), &mut out);
                CpuStorage::F64(out)
            }
            other => {
                return Err(candle_core::Error::UnsupportedDTypeForOp(
                    other.dtype(),
                    "max-pool",
                ))
            }
        };
        Ok((pooled, shape))
    }
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
            // Two planes, negatives included: the padding must never win.
            let data: Vec<f32> = (0..2 * h * w)
                .map(|i| ((i * 37 % 101) as f32) / 7.0 - 7.0)
                .collect();
            let x = Tensor::from_vec(data.clone(), (1, 2, h, w), &Device::Cpu).unwrap();
            let got = max_pool_3x3_s2(&x)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            let want: Vec<f32> = data
                .chunks_exact(h * w)
                .flat_map(|plane| reference_pool(plane, h, w))
                .collect();
            assert_eq!(got, want, "{h}×{w}");
        }
    }
}
