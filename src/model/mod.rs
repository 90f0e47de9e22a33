//! ResNet-50 as typed structs: configuration, layers, blocks and the network.

pub mod blocks;
pub mod config;
pub mod fast_conv;
pub mod gemm;
pub mod gemm_conv;
pub mod layers;
pub mod packed_gemm;
pub mod profile;
pub mod resnet;
pub mod winograd;

pub use blocks::{BlockId, BlockOutput, Bottleneck, Stem};
pub use config::{Head, NormMode, ResNetConfig, Skips, Variant};
pub use resnet::{ForwardPass, LayerId, ResNet, Tap, FORWARD_STEPS};
