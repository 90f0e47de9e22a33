//! Writing weights as safetensors in torchvision naming (what PyTorch's `load_state_dict` takes).

use safetensors::tensor::TensorView;
use safetensors::Dtype;

use super::naming::torchvision_to_transformers;
use super::{Naming, Weights};
use crate::{Error, Result};

/// Storage dtype for [`to_safetensors`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportDtype {
    /// 32-bit float.
    F32,
    /// 16-bit float.
    F16,
}

/// Serializes `weights` with the given key naming and dtype, adding `num_batches_tracked`.
pub fn to_safetensors(weights: &Weights, naming: Naming, dtype: ExportDtype) -> Result<Vec<u8>> {
    let mut buffers: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for name in weights.names() {
        let tensor = weights.get(&name)?;
        let values = tensor.flatten_all()?.to_vec1::<f32>()?;
        let (st_dtype, bytes): (Dtype, Vec<u8>) = match dtype {
            ExportDtype::F32 => (
                Dtype::F32,
                values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
            ExportDtype::F16 => (
                Dtype::F16,
                values
                    .iter()
                    .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                    .collect(),
            ),
        };
        buffers.push((name.clone(), st_dtype, tensor.dims().to_vec(), bytes));
        if let Some(bn) = name.strip_suffix(".running_var") {
            buffers.push((
                format!("{bn}.num_batches_tracked"),
                Dtype::I64,
                Vec::new(),
                0i64.to_le_bytes().to_vec(),
            ));
        }
    }
    let mut views = Vec::with_capacity(buffers.len());
    for (name, st_dtype, shape, bytes) in &buffers {
        let key = match naming {
            Naming::Torchvision => name.clone(),
            Naming::Transformers => torchvision_to_transformers(name).ok_or_else(|| {
                Error::InvalidArgument(format!("no transformers name for `{name}`"))
            })?,
        };
        let view = TensorView::new(*st_dtype, shape.clone(), bytes)
            .map_err(|e| Error::WeightsFormat(e.to_string()))?;
        views.push((key, view));
    }
    safetensors::serialize(views, None).map_err(|e| Error::WeightsFormat(e.to_string()))
}
