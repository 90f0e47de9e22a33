//! A block's output `ReLU(F(x) + shortcut)` as one candle operation.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};

use crate::kernels::residual_add;
use crate::Result;

/// `ReLU(residual + shortcut)` for two tensors of one shape, f32 or f64, in one pass over the
/// threads there are ([`residual_add::add_relu`]); other shapes or types go through candle's
/// addition and ReLU. Nothing differentiates through it (the Gradient lab runs its own
/// kernels).
pub fn add_relu(residual: &Tensor, shortcut: &Tensor) -> Result<Tensor> {
    if residual.shape() != shortcut.shape() || residual.dtype() != shortcut.dtype() {
        return Ok((residual + shortcut)?.relu()?);
    }
    Ok(residual
        .contiguous()?
        .apply_op2_no_bwd(&shortcut.contiguous()?, &AddRelu)?)
}

struct AddRelu;

impl CustomOp2 for AddRelu {
    fn name(&self) -> &'static str {
        "add-relu"
    }

    fn cpu_fwd(
        &self,
        residual: &CpuStorage,
        residual_layout: &Layout,
        shortcut: &CpuStorage,
        shortcut_layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let strided = || candle_core::Error::Msg("residual add of a strided tensor".into());
        let (r0, r1) = residual_layout.contiguous_offsets().ok_or_else(strided)?;
        let (s0, s1) = shortcut_layout.contiguous_offsets().ok_or_else(strided)?;
        let out = match (residual, shortcut) {
            (CpuStorage::F32(r), CpuStorage::F32(s)) => {
                let mut out = vec![0f32; r1 - r0];
                residual_add::add_relu(&r[r0..r1], &s[s0..s1], &mut out);
                CpuStorage::F32(out)
            }
            (CpuStorage::F64(r), CpuStorage::F64(s)) => {
                let mut out = vec![0f64; r1 - r0];
                residual_add::add_relu(&r[r0..r1], &s[s0..s1], &mut out);
                CpuStorage::F64(out)
            }
            (other, _) => {
                return Err(candle_core::Error::UnsupportedDTypeForOp(
                    other.dtype(),
                    "residual add",
                ))
            }
        };
        Ok((out, residual_layout.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn equals_candles_addition_and_relu() {
        for dtype in [candle_core::DType::F32, candle_core::DType::F64] {
            let r = Tensor::randn(0f32, 1.0, (2, 3, 5, 7), &Device::Cpu)
                .and_then(|t| t.to_dtype(dtype))
                .unwrap();
            let s = Tensor::randn(0f32, 1.0, (2, 3, 5, 7), &Device::Cpu)
                .and_then(|t| t.to_dtype(dtype))
                .unwrap();
            let want = (&r + &s).unwrap().relu().unwrap();
            let got = add_relu(&r, &s).unwrap();
            let diff = (got - want).unwrap().abs().unwrap().max_all().unwrap();
            assert_eq!(
                diff.to_dtype(candle_core::DType::F64)
                    .unwrap()
                    .to_scalar::<f64>()
                    .unwrap(),
                0.0
            );
        }
    }
}
