//! Batch norm as a trained network has it: every γ, β, running mean and running variance, and the
//! classifier's bias, drawn per channel from a seed. A seeded init's batch norm is the identity
//! (γ = 1, β = 0, mean 0, variance 1), under which folding, the γ/σ² and β/μ mapping and the
//! bias path cannot be told apart from their mistakes; the golden fixtures run on these values.

use std::collections::BTreeMap;

use candle_core::{Device, Tensor};

use super::random::SplitMix64;
use super::spec::{parameter_specs, Role};
use super::Weights;
use crate::config::ResNetConfig;
use crate::Result;

/// Reproducible batch-norm statistics (and classifier bias), keyed by a seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrainedStatistics {
    /// Random seed (its streams differ from every initialization's).
    pub seed: u64,
}

/// Keeps these streams apart from the initialization's streams of the same seed.
const STREAM: u64 = 0x5eed_b475_7a75_0001;

impl TrainedStatistics {
    /// The range each role is drawn from, uniformly per channel. γ and σ² have different
    /// ranges, so that swapping them changes the network.
    fn range(role: Role) -> Option<(f64, f64)> {
        match role {
            Role::BnWeight => Some((0.5, 1.5)),
            Role::BnBias | Role::BnMean => Some((-0.25, 0.25)),
            Role::BnVar => Some((0.5, 2.0)),
            Role::FcBias => Some((-0.5, 0.5)),
            Role::ConvWeight | Role::FcWeight => None,
        }
    }

    /// `weights` with every batch-norm tensor and the classifier bias replaced; convolution and
    /// classifier weights are kept.
    pub fn apply(&self, weights: &Weights, config: &ResNetConfig) -> Result<Weights> {
        let mut tensors: BTreeMap<String, Tensor> = weights
            .names()
            .into_iter()
            .map(|k| Ok((k.clone(), weights.get(&k)?)))
            .collect::<Result<_>>()?;
        for spec in parameter_specs(config) {
            let Some((low, high)) = Self::range(spec.role) else {
                continue;
            };
            let n: usize = spec.shape.iter().product();
            let mut rng = SplitMix64::for_tensor(self.seed ^ STREAM, &spec.name);
            let values: Vec<f32> = (0..n)
                .map(|_| (low + (high - low) * rng.unit()) as f32)
                .collect();
            tensors.insert(
                spec.name.clone(),
                Tensor::from_vec(values, spec.shape.clone(), &Device::Cpu)?,
            );
        }
        let mut info = weights.info.clone();
        info.source = format!("{}, batch-norm statistics seed {}", info.source, self.seed);
        Ok(Weights::from_map(tensors, info))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weights::{Init, InitKind};

    #[test]
    fn statistics_are_reproducible_and_in_their_ranges() {
        let config = ResNetConfig::resnet50(1000);
        let init = Init::new(InitKind::He, 0).weights(&config).unwrap();
        let a = TrainedStatistics { seed: 1 }.apply(&init, &config).unwrap();
        let b = TrainedStatistics { seed: 1 }.apply(&init, &config).unwrap();
        let c = TrainedStatistics { seed: 2 }.apply(&init, &config).unwrap();
        let values = |w: &Weights, name: &str| {
            w.get(name)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        };
        let var = values(&a, "layer3.2.bn2.running_var");
        assert_eq!(var, values(&b, "layer3.2.bn2.running_var"));
        assert_ne!(var, values(&c, "layer3.2.bn2.running_var"));
        assert!(var.iter().all(|v| (0.5..2.0).contains(v)));
        let gamma = values(&a, "bn1.weight");
        assert!(gamma.iter().all(|v| (0.5..1.5).contains(v)));
        assert_ne!(gamma, values(&a, "layer1.0.bn1.weight"));
        // Convolution weights are the init's.
        assert_eq!(
            values(&a, "layer2.0.conv2.weight"),
            values(&init, "layer2.0.conv2.weight")
        );
    }
}
