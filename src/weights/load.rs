//! Reading safetensors checkpoints from bytes (the browser has no files).

use std::collections::BTreeMap;

use candle_core::{Device, Tensor};
use safetensors::{Dtype, SafeTensorError, SafeTensors};

use super::{Naming, Weights, WeightsInfo};
use crate::{Error, Result};

fn describe(err: SafeTensorError) -> String {
    match err {
        SafeTensorError::HeaderTooSmall => {
            "the file is shorter than a safetensors header (truncated?)".into()
        }
        SafeTensorError::InvalidHeaderLength => {
            "the header claims to be longer than the file (truncated, or not a safetensors file)"
                .into()
        }
        SafeTensorError::MetadataIncompleteBuffer => {
            "the tensor data does not match the header's offsets (truncated or padded file)".into()
        }
        SafeTensorError::InvalidOffset(name) => format!("tensor `{name}` has invalid offsets"),
        SafeTensorError::TensorInvalidInfo => {
            "a tensor's shape and dtype do not match its byte range".into()
        }
        SafeTensorError::HeaderTooLarge => "the header is larger than 100 MB".into(),
        other => other.to_string(),
    }
}

fn to_f32(name: &str, dtype: Dtype, data: &[u8]) -> Result<Vec<f32>> {
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
    let bad = values.iter().filter(|v| !v.is_finite()).count();
    if bad > 0 {
        return Err(Error::NonFinite {
            name: name.to_string(),
            count: bad,
        });
    }
    Ok(values)
}

/// Parses a safetensors checkpoint in torchvision/timm or transformers naming.
///
/// Tensors are converted to f32; `num_batches_tracked` is ignored. The shapes are checked
/// later against the configuration the model is built with ([`Weights::check_against`]).
pub fn load_safetensors(bytes: &[u8], source: &str) -> Result<Weights> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| Error::WeightsFormat(describe(e)))?;
    let names = st.names();
    let naming = Naming::detect(names.iter().map(|s| &s[..]))?;
    let mut dtypes = Vec::new();
    let mut tensors = BTreeMap::new();
    for (key, view) in st.iter() {
        let Some(name) = naming.canonical(key) else {
            continue;
        };
        let values = to_f32(key, view.dtype(), view.data())?;
        let dtype = format!("{:?}", view.dtype()).to_lowercase();
        if !dtypes.contains(&dtype) {
            dtypes.push(dtype);
        }
        let tensor = Tensor::from_vec(values, view.shape(), &Device::Cpu)?;
        if tensors.insert(name.clone(), tensor).is_some() {
            return Err(Error::UnexpectedTensor {
                name: format!("{key} (a second tensor for {name})"),
                shape: view.shape().to_vec(),
            });
        }
    }
    dtypes.sort();
    Ok(Weights::from_map(
        tensors,
        WeightsInfo {
            source: source.to_string(),
            naming: Some(naming),
            dtype: dtypes.join("+"),
            pretrained: true,
        },
    ))
}
