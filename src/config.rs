//! What network to build: variant, head, input size, skips and batch-norm mode.

use serde::{Deserialize, Serialize};

/// Bottleneck blocks per stage (Stages 2–5) in ResNet-50.
pub const BLOCKS_PER_STAGE: [usize; 4] = [3, 4, 6, 3];
/// Width of the 1×1/3×3 convolutions in each stage; the block output is 4× wider.
pub const STAGE_WIDTHS: [usize; 4] = [64, 128, 256, 512];
/// Bottleneck expansion: a block's output has `4 × width` channels.
pub const EXPANSION: usize = 4;
/// Total number of bottleneck blocks (3 + 4 + 6 + 3).
pub const NUM_BLOCKS: usize = 16;
/// Channels after the stem.
pub const STEM_CHANNELS: usize = 64;

/// Where the stride-2 downsampling sits inside a convolutional block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Variant {
    /// torchvision, timm and Hugging Face: stride 2 in the 3×3 convolution.
    V1_5,
    /// The 2015 paper, Keras and the tutorial: stride 2 in the first 1×1 convolution.
    V1,
}

/// How the last feature map becomes the classifier input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Head {
    /// Global average pooling + fully connected (the standard 224×224 network).
    GlobalAvgPool,
    /// The tutorial's 64×64 head: AvgPool 2×2 + Flatten + Dense.
    AvgPool2x2Flatten,
}

/// Which blocks keep their shortcut.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Skips {
    /// Every block adds its shortcut (a residual network).
    All,
    /// No block adds its shortcut: block output is ReLU(F(x)) (a plain network).
    None,
    /// One flag per block in network order (16 entries).
    PerBlock(Vec<bool>),
}

impl Skips {
    /// Whether block `index` (0..16, network order) adds its shortcut.
    pub fn enabled(&self, index: usize) -> bool {
        match self {
            Skips::All => true,
            Skips::None => false,
            Skips::PerBlock(flags) => flags.get(index).copied().unwrap_or(true),
        }
    }
}

/// How batch normalization behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NormMode {
    /// Normalize with the batch statistics (biased variance, as PyTorch in training).
    Train,
    /// Normalize with the stored running statistics (inference).
    Eval,
    /// No batch normalization at all.
    Off,
}

impl std::str::FromStr for NormMode {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "train" => Ok(NormMode::Train),
            "eval" => Ok(NormMode::Eval),
            "off" => Ok(NormMode::Off),
            other => Err(crate::Error::InvalidArgument(format!(
                "batch norm mode `{other}`: expected train, eval or off"
            ))),
        }
    }
}

impl std::str::FromStr for Variant {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "v1.5" | "v1_5" => Ok(Variant::V1_5),
            "v1" => Ok(Variant::V1),
            other => Err(crate::Error::InvalidArgument(format!(
                "variant `{other}`: expected v1.5 or v1"
            ))),
        }
    }
}

/// A complete description of the network to build.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResNetConfig {
    /// Stride placement.
    pub variant: Variant,
    /// Side of the square input image in pixels.
    pub input_size: usize,
    /// Number of output classes.
    pub classes: usize,
    /// Pooling head.
    pub head: Head,
    /// Shortcut connections.
    pub skips: Skips,
    /// Batch-norm behaviour.
    pub norm: NormMode,
}

impl ResNetConfig {
    /// torchvision's ResNet-50: v1.5, 224×224, global average pooling, all skips, eval batch norm.
    pub fn resnet50(classes: usize) -> Self {
        Self {
            variant: Variant::V1_5,
            input_size: 224,
            classes,
            head: Head::GlobalAvgPool,
            skips: Skips::All,
            norm: NormMode::Eval,
        }
    }

    /// The tutorial's configuration: v1 strides, 64×64×3 input, AvgPool 2×2 + Flatten + Dense.
    pub fn tutorial(classes: usize) -> Self {
        Self {
            variant: Variant::V1,
            input_size: 64,
            head: Head::AvgPool2x2Flatten,
            ..Self::resnet50(classes)
        }
    }

    /// Spatial side after each of the five stages for this input size.
    pub fn stage_sides(&self) -> [usize; 5] {
        let conv = |s: usize, k: usize, stride: usize, pad: usize| (s + 2 * pad - k) / stride + 1;
        let stem = conv(self.input_size, 7, 2, 3);
        let pooled = conv(stem, 3, 2, 1);
        let s3 = conv(pooled, 3, 2, 1);
        let s4 = conv(s3, 3, 2, 1);
        let s5 = conv(s4, 3, 2, 1);
        [stem, pooled, s3, s4, s5]
    }

    /// Number of features entering the fully connected layer.
    pub fn fc_inputs(&self) -> usize {
        let channels = STAGE_WIDTHS[3] * EXPANSION;
        match self.head {
            Head::GlobalAvgPool => channels,
            Head::AvgPool2x2Flatten => {
                let side = self.stage_sides()[4] / 2;
                channels * side * side
            }
        }
    }

    /// Checks the input size against the head.
    pub fn validate(&self) -> crate::Result<()> {
        if self.input_size < 32 {
            return Err(crate::Error::InvalidArgument(format!(
                "input size {} is below the minimum of 32",
                self.input_size
            )));
        }
        if self.head == Head::AvgPool2x2Flatten && self.stage_sides()[4] < 2 {
            return Err(crate::Error::InvalidArgument(
                "the AvgPool 2×2 head needs at least a 2×2 Stage 5 output (input ≥ 64)".into(),
            ));
        }
        if let Skips::PerBlock(flags) = &self.skips {
            if flags.len() != NUM_BLOCKS {
                return Err(crate::Error::InvalidArgument(format!(
                    "per-block skips need {NUM_BLOCKS} flags, got {}",
                    flags.len()
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_sides_follow_the_tutorial_table() {
        assert_eq!(
            ResNetConfig::resnet50(1000).stage_sides(),
            [112, 56, 28, 14, 7]
        );
        assert_eq!(ResNetConfig::tutorial(6).stage_sides(), [32, 16, 8, 4, 2]);
    }

    #[test]
    fn tutorial_head_flattens_the_pooled_map() {
        assert_eq!(ResNetConfig::tutorial(6).fc_inputs(), 2048);
        let mut big = ResNetConfig::tutorial(6);
        big.input_size = 224;
        assert_eq!(big.fc_inputs(), 2048 * 9);
    }
}
