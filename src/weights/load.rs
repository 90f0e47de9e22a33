//! Reading safetensors checkpoints from bytes (the browser has no files).

use std::rc::Rc;

use safetensors::Dtype;

use super::Weights;
use crate::{Error, Result};

/// A tensor's little-endian bytes as f32 values; an error for a dtype we do not read or for
/// NaN or infinite values.
pub(super) fn to_f32(name: &str, dtype: Dtype, data: &[u8]) -> Result<Vec<f32>> {
    let values: Vec<f32> = match dtype {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        other => {
            return Err(Error::UnsupportedDtype {
                name: name.to_string(),
                dtype: format!("{other:?}"),
            })
        }
    };
    check_finite(name, &values)?;
    Ok(values)
}

/// An error naming `name` when `values` hold NaN or infinite values.
pub(super) fn check_finite(name: &str, values: &[f32]) -> Result<()> {
    let bad = values.iter().filter(|v| !v.is_finite()).count();
    if bad > 0 {
        return Err(Error::NonFinite {
            name: name.to_string(),
            count: bad,
        });
    }
    Ok(())
}

/// Parses a safetensors checkpoint in torchvision/timm or transformers naming, every tensor in
/// memory (see [`Weights::stored`] for one read a tensor at a time).
///
/// Tensors are converted to f32; `num_batches_tracked` is ignored. The shapes are checked
/// later against the configuration the model is built with ([`Weights::check_against`]).
pub fn load_safetensors(bytes: &[u8], source: &str) -> Result<Weights> {
    Weights::stored(Rc::new(bytes.to_vec()), source)?.resident()
}
