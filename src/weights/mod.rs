//! Bytes → tensors: safetensors loading, naming detection, seeded initialization, export.

pub mod export;
pub mod init;
pub mod load;
pub mod naming;
mod random;
pub mod spec;
pub mod statistics;

use std::collections::BTreeMap;

use candle_core::{Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::config::ResNetConfig;
use crate::{Error, Result};
pub use init::{Init, InitJob, InitKind};
pub use naming::Naming;

/// Where a set of weights came from and what it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightsInfo {
    /// Human-readable source: a file name, a URL or `he init, seed 0`.
    pub source: String,
    /// Key convention of the checkpoint (`None` for generated weights).
    pub naming: Option<Naming>,
    /// Storage dtype in the checkpoint (`f32`, `f16`, `bf16`).
    pub dtype: String,
    /// True for trained weights; false for a seeded initialization.
    pub pretrained: bool,
}

/// Weights in canonical (torchvision) naming, as f32 tensors.
#[derive(Clone, Debug)]
pub struct Weights {
    tensors: BTreeMap<String, Tensor>,
    /// Provenance.
    pub info: WeightsInfo,
}

impl Weights {
    pub(crate) fn from_map(tensors: BTreeMap<String, Tensor>, info: WeightsInfo) -> Self {
        Self { tensors, info }
    }

    /// The tensor named `name` (torchvision naming).
    pub fn get(&self, name: &str) -> Result<Tensor> {
        self.tensors
            .get(name)
            .cloned()
            .ok_or_else(|| Error::MissingTensor {
                name: name.to_string(),
                expected: Vec::new(),
            })
    }

    /// All tensors by canonical name.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Tensor)> {
        self.tensors.iter()
    }

    /// Number of classes the classifier predicts, read from `fc.weight`.
    pub fn classes(&self) -> Result<usize> {
        Ok(self.get("fc.weight")?.dim(0)?)
    }

    /// Checks that exactly the tensors `config` needs are present with the right shapes.
    pub fn check_against(&self, config: &ResNetConfig) -> Result<()> {
        let specs = spec::parameter_specs(config);
        for spec in &specs {
            match self.tensors.get(&spec.name) {
                None => {
                    return Err(Error::MissingTensor {
                        name: spec.name.clone(),
                        expected: spec.shape.clone(),
                    })
                }
                Some(t) if t.dims() != spec.shape.as_slice() => {
                    return Err(Error::ShapeMismatch {
                        name: spec.name.clone(),
                        expected: spec.shape.clone(),
                        found: t.dims().to_vec(),
                    })
                }
                Some(_) => {}
            }
        }
        if let Some((name, t)) = self
            .tensors
            .iter()
            .find(|(name, _)| !specs.iter().any(|s| &s.name == *name))
        {
            return Err(Error::UnexpectedTensor {
                name: name.clone(),
                shape: t.dims().to_vec(),
            });
        }
        Ok(())
    }

    /// The same weights converted to `dtype`.
    pub fn to_dtype(&self, dtype: candle_core::DType) -> Result<Weights> {
        let tensors = self
            .tensors
            .iter()
            .map(|(k, t)| Ok((k.clone(), t.to_dtype(dtype)?)))
            .collect::<Result<BTreeMap<_, _>>>()?;
        Ok(Weights::from_map(tensors, self.info.clone()))
    }

    /// The same weights as trainable variables (for autograd), with the variables by name.
    pub fn to_vars(&self) -> Result<(Weights, BTreeMap<String, Var>)> {
        let vars = self
            .tensors
            .iter()
            .map(|(k, t)| Ok((k.clone(), Var::from_tensor(t)?)))
            .collect::<Result<BTreeMap<_, _>>>()?;
        let tensors = vars
            .iter()
            .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
            .collect();
        Ok((Weights::from_map(tensors, self.info.clone()), vars))
    }
}
