//! Checkpoints known by their address (the page's default), and what each must be once
//! downloaded. The check is of the header and the sizes, not a digest: the machines this
//! project is built on cannot reach the Hugging Face hub to read a revision's commit or the
//! file's sha256, and a pinned value nobody could verify would be worse than none. So the
//! address stays at `resolve/main`, and what it returns is checked: the naming, the dtype, a
//! ResNet-50 with 1000 classes (every tensor's name and shape, by the loader), and the bytes of
//! the parameters the network uses.

use super::{Naming, Weights};
use crate::config::ResNetConfig;
use crate::{Error, Result};

/// A checkpoint known by its address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownCheckpoint {
    /// Where it is downloaded from.
    pub url: &'static str,
    /// The naming of its keys.
    pub naming: Naming,
    /// The dtype of every tensor the network uses.
    pub dtype: &'static str,
    /// Classes of its classifier.
    pub classes: usize,
}

/// timm's ResNet-50 "A1" (ResNet strikes back), the page's default pretrained weights.
pub const TIMM_RESNET50_A1: KnownCheckpoint = KnownCheckpoint {
    url: "https://huggingface.co/timm/resnet50.a1_in1k/resolve/main/model.safetensors",
    naming: Naming::Torchvision,
    dtype: "f32",
    classes: 1000,
};

impl KnownCheckpoint {
    /// Every checkpoint known by its address.
    pub const ALL: [KnownCheckpoint; 1] = [TIMM_RESNET50_A1];

    /// The known checkpoint at `url`, if any.
    pub fn at(url: &str) -> Option<KnownCheckpoint> {
        Self::ALL.into_iter().find(|k| k.url == url)
    }

    /// Bytes of the parameters the network uses (the file also holds a header and, in timm's
    /// case, `num_batches_tracked` counters).
    pub fn parameter_bytes(&self) -> u64 {
        let per_value = match self.dtype {
            "f16" | "bf16" => 2,
            _ => 4,
        };
        super::spec::parameter_specs(&ResNetConfig::resnet50(self.classes))
            .iter()
            .map(|s| s.shape.iter().product::<usize>() as u64 * per_value)
            .sum()
    }

    /// An error unless `weights` (already checked against ResNet-50 by the loader) are what this
    /// address should give.
    pub fn check(&self, weights: &Weights) -> Result<()> {
        let problem = |problem: String| Error::UnexpectedCheckpoint {
            url: self.url.to_string(),
            problem,
        };
        if weights.info.naming != Some(self.naming) {
            let found = weights.info.naming.map_or("no", |n| n.label());
            return Err(problem(format!(
                "{found} naming where {} was expected",
                self.naming.label()
            )));
        }
        if weights.info.dtype != self.dtype {
            return Err(problem(format!(
                "{} values where {} was expected",
                weights.info.dtype, self.dtype
            )));
        }
        let classes = weights.classes()?;
        if classes != self.classes {
            return Err(problem(format!(
                "{classes} classes where {} were expected",
                self.classes
            )));
        }
        let (found, expected) = (weights.parameter_bytes(), self.parameter_bytes());
        if found != expected {
            return Err(problem(format!(
                "{found} bytes of parameters where {expected} were expected"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::weights::export::{to_safetensors, ExportDtype};
    use crate::weights::{Init, InitKind};

    fn stored(naming: Naming, dtype: ExportDtype) -> Weights {
        let init = Init::new(InitKind::He, 0)
            .weights(&ResNetConfig::resnet50(1000))
            .unwrap();
        let bytes = to_safetensors(&init, naming, dtype).unwrap();
        Weights::stored(Rc::new(bytes), "test").unwrap()
    }

    #[test]
    fn the_default_checkpoint_must_be_a_timm_f32_resnet50() {
        let known = KnownCheckpoint::at(TIMM_RESNET50_A1.url).unwrap();
        // 25 557 032 learned values and 53 120 running statistics, 4 bytes each.
        assert_eq!(known.parameter_bytes(), 102_440_608);
        assert!(known
            .check(&stored(Naming::Torchvision, ExportDtype::F32))
            .is_ok());
        let err = known
            .check(&stored(Naming::Torchvision, ExportDtype::F16))
            .unwrap_err()
            .to_string();
        assert!(err.contains("f16 values where f32 was expected"), "{err}");
        let err = known
            .check(&stored(Naming::Transformers, ExportDtype::F32))
            .unwrap_err()
            .to_string();
        assert!(err.contains("transformers naming"), "{err}");
        assert!(KnownCheckpoint::at("https://example.org/model.safetensors").is_none());
    }
}
