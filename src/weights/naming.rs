//! Checkpoint naming schemes and their mapping onto torchvision's keys.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The key convention a checkpoint uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Naming {
    /// torchvision and timm: `conv1.weight`, `layer1.0.bn2.bias`, `fc.weight`.
    Torchvision,
    /// Hugging Face transformers (`microsoft/resnet-50`): `resnet.encoder.stages.0.layers.0…`.
    Transformers,
}

impl Naming {
    /// Human-readable name for status lines.
    pub fn label(&self) -> &'static str {
        match self {
            Naming::Torchvision => "torchvision/timm",
            Naming::Transformers => "transformers",
        }
    }

    /// Guesses the naming from the checkpoint's keys.
    pub fn detect<'a>(mut keys: impl Iterator<Item = &'a str> + Clone) -> Result<Self> {
        if keys.clone().any(|k| {
            k.starts_with("resnet.") || k.starts_with("embedder.") || k.starts_with("classifier.")
        }) {
            Ok(Naming::Transformers)
        } else if keys
            .clone()
            .any(|k| k == "conv1.weight" || k.starts_with("layer1."))
        {
            Ok(Naming::Torchvision)
        } else {
            let sample: Vec<&str> = keys.by_ref().take(3).collect();
            Err(Error::UnknownNaming(format!(
                "expected torchvision/timm keys (conv1.weight, layer1.0…) or transformers keys \
                 (resnet.embedder…), found {sample:?}"
            )))
        }
    }

    /// Maps a key to torchvision naming; `None` for bookkeeping tensors to skip
    /// (`num_batches_tracked`). Unknown keys are returned unchanged so that the shape check
    /// reports them as unexpected.
    pub fn canonical(&self, key: &str) -> Option<String> {
        if key.ends_with("num_batches_tracked") {
            return None;
        }
        match self {
            Naming::Torchvision => Some(key.to_string()),
            Naming::Transformers => {
                Some(transformers_to_torchvision(key).unwrap_or_else(|| key.to_string()))
            }
        }
    }
}

fn norm_suffix(rest: &str) -> Option<&str> {
    match rest {
        "weight" | "bias" | "running_mean" | "running_var" => Some(rest),
        _ => None,
    }
}

fn transformers_to_torchvision(key: &str) -> Option<String> {
    let key = key.strip_prefix("resnet.").unwrap_or(key);
    if let Some(rest) = key.strip_prefix("classifier.1.") {
        return Some(format!("fc.{rest}"));
    }
    if let Some(rest) = key.strip_prefix("embedder.embedder.") {
        return match rest.split_once('.')? {
            ("convolution", "weight") => Some("conv1.weight".into()),
            ("normalization", s) => Some(format!("bn1.{}", norm_suffix(s)?)),
            _ => None,
        };
    }
    let rest = key.strip_prefix("encoder.stages.")?;
    let (stage, rest) = rest.split_once('.')?;
    let rest = rest.strip_prefix("layers.")?;
    let (block, rest) = rest.split_once('.')?;
    let stage: usize = stage.parse().ok()?;
    let block: usize = block.parse().ok()?;
    let prefix = format!("layer{}.{block}", stage + 1);
    let (module, rest) = if let Some(r) = rest.strip_prefix("shortcut.") {
        (None, r)
    } else {
        let r = rest.strip_prefix("layer.")?;
        let (k, r) = r.split_once('.')?;
        (Some(k.parse::<usize>().ok()? + 1), r)
    };
    let (kind, suffix) = rest.split_once('.')?;
    Some(match (module, kind) {
        (None, "convolution") if suffix == "weight" => format!("{prefix}.downsample.0.weight"),
        (None, "normalization") => format!("{prefix}.downsample.1.{}", norm_suffix(suffix)?),
        (Some(k), "convolution") if suffix == "weight" => format!("{prefix}.conv{k}.weight"),
        (Some(k), "normalization") => format!("{prefix}.bn{k}.{}", norm_suffix(suffix)?),
        _ => return None,
    })
}

/// The transformers key for a torchvision key (the inverse mapping, used to write test files).
pub fn torchvision_to_transformers(key: &str) -> Option<String> {
    if let Some(rest) = key.strip_prefix("fc.") {
        return Some(format!("classifier.1.{rest}"));
    }
    if key == "conv1.weight" {
        return Some("resnet.embedder.embedder.convolution.weight".into());
    }
    if let Some(rest) = key.strip_prefix("bn1.") {
        return Some(format!("resnet.embedder.embedder.normalization.{rest}"));
    }
    let rest = key.strip_prefix("layer")?;
    let (stage, rest) = rest.split_once('.')?;
    let (block, rest) = rest.split_once('.')?;
    let stage: usize = stage.parse().ok()?;
    let base = format!("resnet.encoder.stages.{}.layers.{block}", stage - 1);
    let (module, suffix) = rest.split_once('.')?;
    Some(match module {
        "downsample" => {
            let (idx, suffix) = suffix.split_once('.')?;
            let kind = if idx == "0" {
                "convolution"
            } else {
                "normalization"
            };
            format!("{base}.shortcut.{kind}.{suffix}")
        }
        m if m.starts_with("conv") => {
            format!(
                "{base}.layer.{}.convolution.{suffix}",
                m[4..].parse::<usize>().ok()? - 1
            )
        }
        m if m.starts_with("bn") => {
            format!(
                "{base}.layer.{}.normalization.{suffix}",
                m[2..].parse::<usize>().ok()? - 1
            )
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ResNetConfig;
    use crate::weights::spec::parameter_specs;

    #[test]
    fn transformers_keys_round_trip_for_every_parameter() {
        for spec in parameter_specs(&ResNetConfig::resnet50(1000)) {
            let hf = torchvision_to_transformers(&spec.name).expect(&spec.name);
            assert_eq!(
                Naming::Transformers.canonical(&hf).as_deref(),
                Some(spec.name.as_str()),
                "{hf}"
            );
        }
    }

    #[test]
    fn detects_both_namings_and_refuses_others() {
        let tv = ["conv1.weight", "bn1.bias"];
        let hf = ["resnet.embedder.embedder.convolution.weight"];
        assert_eq!(
            Naming::detect(tv.iter().copied()).unwrap(),
            Naming::Torchvision
        );
        assert_eq!(
            Naming::detect(hf.iter().copied()).unwrap(),
            Naming::Transformers
        );
        let err = Naming::detect(["model.embed.weight"].iter().copied()).unwrap_err();
        assert!(err.to_string().contains("model.embed.weight"), "{err}");
    }
}
