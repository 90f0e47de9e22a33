//! ResNet-50 as typed structs on candle: stem, bottleneck blocks, stages, head, and the taps that
//! hand over x, F(x) and x + F(x). Differentiable; `crate::infer` prepares the fast inference
//! form of the same network.

pub mod batch_norm;
pub mod bottleneck;
pub mod build;
pub mod conv;
mod differentiable_conv;
pub mod forward_pass;
pub mod max_pool;
mod parameters;
pub mod resnet;
pub mod stem;
pub mod values;

pub use bottleneck::{BlockId, BlockOutput, Bottleneck, Downsample};
pub use build::{NetworkBuild, Part, PreparePart};
pub use forward_pass::{ForwardPass, FORWARD_STEPS};
pub use resnet::{LayerId, ResNet, Tap};
pub use stem::Stem;
