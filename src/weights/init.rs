//! Seeded initialization, bit-identical natively and in wasm.
//!
//! Each tensor draws from its own SplitMix64 stream keyed by the seed and the tensor's name, and
//! normal samples come from Box–Muller with `libm`'s portable `log`/`cos`, so the same seed gives
//! the same bits on every platform.

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::random::SplitMix64;
use super::spec::{ParamSpec, Role};
use super::{Weights, WeightsInfo};
use crate::config::ResNetConfig;
use crate::{Error, Result};

/// Initialization scheme for convolution (and, for Xavier, classifier) weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InitKind {
    /// He/Kaiming normal, fan-out, ReLU gain (torchvision's ResNet init); fc as `nn.Linear`.
    He,
    /// Xavier/Glorot normal for convolutions and fc; fc bias zero.
    Xavier,
}

impl std::str::FromStr for InitKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "he" | "kaiming" => Ok(InitKind::He),
            "xavier" | "glorot" => Ok(InitKind::Xavier),
            other => Err(Error::InvalidArgument(format!(
                "init `{other}`: expected he or xavier"
            ))),
        }
    }
}

/// A complete, reproducible initialization.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Init {
    /// Scheme.
    pub kind: InitKind,
    /// Extra multiplier on the standard deviation (1.0 = the textbook scheme).
    pub gain: f64,
    /// Random seed.
    pub seed: u64,
}

impl Init {
    /// The textbook scheme with gain 1.
    pub fn new(kind: InitKind, seed: u64) -> Self {
        Self {
            kind,
            gain: 1.0,
            seed,
        }
    }

    /// Generates every tensor `config` needs, all in memory (see [`Weights::seeded`] for
    /// tensors generated when asked for).
    pub fn weights(&self, config: &ResNetConfig) -> Result<Weights> {
        Weights::seeded(*self, config).resident()
    }

    /// What the weights of this initialization will be called, before they are generated.
    pub fn info(&self) -> WeightsInfo {
        WeightsInfo {
            source: format!("{} init, seed {}", self.label(), self.seed),
            naming: None,
            dtype: "f32".into(),
            pretrained: false,
        }
    }

    pub(super) fn tensor(&self, spec: &ParamSpec, fc_inputs: usize) -> Result<Tensor> {
        let n: usize = spec.shape.iter().product();
        let mut rng = SplitMix64::for_tensor(self.seed, &spec.name);
        let values: Vec<f32> = match spec.role {
            Role::ConvWeight => {
                let fan_out = spec.shape[0] * spec.shape[2] * spec.shape[3];
                let fan_in = spec.shape[1] * spec.shape[2] * spec.shape[3];
                rng.normals(n, self.std(fan_in, fan_out))
            }
            Role::FcWeight => match self.kind {
                InitKind::He => rng.uniforms(n, self.gain / (spec.shape[1] as f64).sqrt()),
                InitKind::Xavier => rng.normals(n, self.std(spec.shape[1], spec.shape[0])),
            },
            Role::FcBias => match self.kind {
                InitKind::He => rng.uniforms(n, 1.0 / (fc_inputs as f64).sqrt()),
                InitKind::Xavier => vec![0.0; n],
            },
            Role::BnWeight | Role::BnVar => vec![1.0; n],
            Role::BnBias | Role::BnMean => vec![0.0; n],
        };
        Ok(Tensor::from_vec(values, spec.shape.clone(), &Device::Cpu)?)
    }

    fn std(&self, fan_in: usize, fan_out: usize) -> f64 {
        match self.kind {
            InitKind::He => self.gain * (2.0 / fan_out as f64).sqrt(),
            InitKind::Xavier => self.gain * (2.0 / (fan_in + fan_out) as f64).sqrt(),
        }
    }

    /// Short name: `he` or `xavier`.
    pub fn label(&self) -> &'static str {
        match self.kind {
            InitKind::He => "he",
            InitKind::Xavier => "xavier",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn he_init_has_the_fan_out_standard_deviation() {
        let w = Init::new(InitKind::He, 7)
            .weights(&ResNetConfig::resnet50(1000))
            .unwrap();
        let conv = w
            .get("layer3.0.conv2.weight")
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let var = conv.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / conv.len() as f64;
        let expected = 2.0 / (256.0 * 9.0);
        assert!(
            (var / expected - 1.0).abs() < 0.02,
            "variance {var} vs {expected}"
        );
    }

    #[test]
    fn same_seed_same_bits_other_seed_other_bits() {
        let cfg = ResNetConfig::tutorial(6);
        let a = Init::new(InitKind::Xavier, 3).weights(&cfg).unwrap();
        let b = Init::new(InitKind::Xavier, 3).weights(&cfg).unwrap();
        let c = Init::new(InitKind::Xavier, 4).weights(&cfg).unwrap();
        let bits = |w: &Weights| {
            w.get("conv1.weight")
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        };
        assert_eq!(bits(&a), bits(&b));
        assert_ne!(bits(&a), bits(&c));
    }
}
