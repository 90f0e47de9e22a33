//! Bytes → tensors: safetensors loading (in memory, or stored and read one tensor at a time),
//! naming detection, seeded initialization, export.

pub mod export;
pub mod init;
pub mod known;
pub mod load;
pub mod naming;
mod random;
pub mod spec;
pub mod statistics;
pub mod stored;

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use crate::config::ResNetConfig;
use crate::{Error, Result};
pub use init::{Init, InitKind};
pub use naming::Naming;
use spec::ParamSpec;
pub use stored::{ByteSource, StoredCheckpoint};

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

/// Where the values of a set of weights are.
#[derive(Clone, Debug)]
enum Store {
    /// Every tensor in memory.
    Resident(Arc<BTreeMap<String, Tensor>>),
    /// Read again from a checkpoint's bytes, one tensor at a time, when asked.
    Stored(Rc<StoredCheckpoint>),
    /// Generated again from a seed, one tensor at a time, when asked.
    Seeded {
        init: Init,
        fc_inputs: usize,
        specs: Arc<BTreeMap<String, ParamSpec>>,
    },
}

/// Weights in canonical (torchvision) naming, as f32 tensors: in memory, or read (or generated)
/// one tensor at a time when asked, so that a network can be built layer by layer without
/// every raw weight in memory at once. Cloning shares the values.
#[derive(Clone, Debug)]
pub struct Weights {
    store: Store,
    /// Provenance.
    pub info: WeightsInfo,
}

impl Weights {
    pub(crate) fn from_map(tensors: BTreeMap<String, Tensor>, info: WeightsInfo) -> Self {
        Self {
            store: Store::Resident(Arc::new(tensors)),
            info,
        }
    }

    /// The weights of the safetensors file in `bytes`, of which only the header is read now:
    /// each tensor is read when asked for. Its values are checked then (finite, a dtype we
    /// read); [`Weights::check_values`] checks them all at once.
    pub fn stored(bytes: Rc<dyn ByteSource>, source: &str) -> Result<Self> {
        let (checkpoint, info) = StoredCheckpoint::open(bytes, source)?;
        Ok(Self {
            store: Store::Stored(Rc::new(checkpoint)),
            info,
        })
    }

    /// The weights of `init` for `config`, each generated when asked for (the same bits as
    /// [`Init::weights`]).
    pub fn seeded(init: Init, config: &ResNetConfig) -> Self {
        let specs = spec::parameter_specs(config)
            .into_iter()
            .map(|s| (s.name.clone(), s))
            .collect();
        Self {
            store: Store::Seeded {
                init,
                fc_inputs: config.fc_inputs(),
                specs: Arc::new(specs),
            },
            info: init.info(),
        }
    }

    /// The tensor named `name` (torchvision naming): shared when in memory, otherwise read or
    /// generated now (and not kept).
    pub fn get(&self, name: &str) -> Result<Tensor> {
        let missing = || Error::MissingTensor {
            name: name.to_string(),
            expected: Vec::new(),
        };
        match &self.store {
            Store::Resident(tensors) => tensors.get(name).cloned().ok_or_else(missing),
            Store::Stored(checkpoint) => checkpoint.tensor(name),
            Store::Seeded {
                init,
                fc_inputs,
                specs,
            } => init.tensor(specs.get(name).ok_or_else(missing)?, *fc_inputs),
        }
    }

    /// Every tensor's name and shape (known without reading any values).
    pub fn shapes(&self) -> Vec<(String, Vec<usize>)> {
        match &self.store {
            Store::Resident(tensors) => tensors
                .iter()
                .map(|(k, t)| (k.clone(), t.dims().to_vec()))
                .collect(),
            Store::Stored(checkpoint) => checkpoint
                .shapes()
                .map(|(k, s)| (k.clone(), s.to_vec()))
                .collect(),
            Store::Seeded { specs, .. } => specs
                .iter()
                .map(|(k, s)| (k.clone(), s.shape.clone()))
                .collect(),
        }
    }

    /// Every tensor with its name, in canonical order (read or generated now when not in
    /// memory).
    pub fn tensors(&self) -> Result<Vec<(String, Tensor)>> {
        self.names()
            .into_iter()
            .map(|name| Ok((name.clone(), self.get(&name)?)))
            .collect()
    }

    /// Every tensor's name, in canonical order.
    pub fn names(&self) -> Vec<String> {
        self.shapes().into_iter().map(|(name, _)| name).collect()
    }

    /// True when every value is in memory (rather than read or generated when asked).
    pub fn is_resident(&self) -> bool {
        matches!(self.store, Store::Resident(_))
    }

    /// The same weights with every tensor in memory.
    pub fn resident(&self) -> Result<Weights> {
        if self.is_resident() {
            return Ok(self.clone());
        }
        let tensors = self.tensors()?.into_iter().collect();
        Ok(Weights::from_map(tensors, self.info.clone()))
    }

    /// Reads every stored tensor once, one at a time, and checks its values (finite, a dtype
    /// we read), keeping none: a caller checks this before it gives up the weights it has.
    pub fn check_values(&self) -> Result<()> {
        match &self.store {
            Store::Stored(checkpoint) => checkpoint.check_values(),
            Store::Resident(_) | Store::Seeded { .. } => Ok(()),
        }
    }

    /// Bytes of the stored parameters (as the checkpoint stores them; 4 per value in memory).
    pub fn parameter_bytes(&self) -> u64 {
        match &self.store {
            Store::Stored(checkpoint) => checkpoint.parameter_bytes(),
            _ => {
                let values: usize = self
                    .shapes()
                    .iter()
                    .map(|(_, s)| s.iter().product::<usize>())
                    .sum();
                values as u64 * 4
            }
        }
    }

    /// The shape of the tensor named `name`, if there is one (no values read).
    fn shape(&self, name: &str) -> Option<Vec<usize>> {
        match &self.store {
            Store::Resident(tensors) => tensors.get(name).map(|t| t.dims().to_vec()),
            Store::Stored(checkpoint) => checkpoint.shape(name).map(<[usize]>::to_vec),
            Store::Seeded { specs, .. } => specs.get(name).map(|s| s.shape.clone()),
        }
    }

    /// Number of classes the classifier predicts, read from `fc.weight`'s shape.
    pub fn classes(&self) -> Result<usize> {
        self.shape("fc.weight")
            .and_then(|shape| shape.first().copied())
            .ok_or_else(|| Error::MissingTensor {
                name: "fc.weight".into(),
                expected: Vec::new(),
            })
    }

    /// Checks that exactly the tensors `config` needs are present with the right shapes.
    pub fn check_against(&self, config: &ResNetConfig) -> Result<()> {
        let specs = spec::parameter_specs(config);
        let shapes: BTreeMap<String, Vec<usize>> = self.shapes().into_iter().collect();
        for spec in &specs {
            match shapes.get(&spec.name) {
                None => {
                    return Err(Error::MissingTensor {
                        name: spec.name.clone(),
                        expected: spec.shape.clone(),
                    })
                }
                Some(shape) if *shape != spec.shape => {
                    return Err(Error::ShapeMismatch {
                        name: spec.name.clone(),
                        expected: spec.shape.clone(),
                        found: shape.clone(),
                    })
                }
                Some(_) => {}
            }
        }
        if let Some((name, shape)) = shapes
            .iter()
            .find(|(name, _)| !specs.iter().any(|s| &s.name == *name))
        {
            return Err(Error::UnexpectedTensor {
                name: name.clone(),
                shape: shape.clone(),
            });
        }
        Ok(())
    }

    /// Every tensor of a seeded store, generated at once over the thread pool (largest first, a
    /// tensor per part: each has its own random stream, so the bits are those of
    /// [`Weights::get`]); empty for other stores or without a pool.
    fn seeded_in_parallel(&self) -> Result<BTreeMap<String, Tensor>> {
        use crate::kernels::thread_pool::{for_each_part, threads};
        let Store::Seeded {
            init,
            fc_inputs,
            specs,
        } = &self.store
        else {
            return Ok(BTreeMap::new());
        };
        if threads() < 2 {
            return Ok(BTreeMap::new());
        }
        let mut order: Vec<&ParamSpec> = specs.values().collect();
        order.sort_by_key(|s| std::cmp::Reverse(s.shape.iter().product::<usize>()));
        let slots: Vec<std::sync::Mutex<Option<Result<Tensor>>>> =
            order.iter().map(|_| std::sync::Mutex::new(None)).collect();
        for_each_part(order.len(), &|i| {
            let tensor = init.tensor(order[i], *fc_inputs);
            if let Ok(mut slot) = slots[i].lock() {
                *slot = Some(tensor);
            }
        });
        order
            .iter()
            .zip(slots)
            .map(|(spec, slot)| {
                let tensor = slot.into_inner().ok().flatten().ok_or_else(|| {
                    Error::InvalidArgument(format!("{} was not generated", spec.name))
                })??;
                Ok((spec.name.clone(), tensor))
            })
            .collect()
    }

    /// The same weights in `dtype`, tensor by tensor (no second copy of every value at once;
    /// none at all for a tensor already in `dtype`, which is shared), with a fresh init's
    /// tensors generated over the thread pool.
    pub fn in_dtype(&self, dtype: candle_core::DType) -> Result<Weights> {
        let mut generated = self.seeded_in_parallel()?;
        let tensors = self
            .names()
            .into_iter()
            .map(|k| {
                let tensor = match generated.remove(&k) {
                    Some(t) => t,
                    None => self.get(&k)?,
                };
                Ok((k, tensor.to_dtype(dtype)?.contiguous()?))
            })
            .collect::<Result<BTreeMap<_, _>>>()?;
        Ok(Weights::from_map(tensors, self.info.clone()))
    }
}
