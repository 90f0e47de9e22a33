//! What the visualizer computes on top of the model: feature statistics and gradient flow.

pub mod architecture;
pub mod colormap;
pub mod features;
pub mod gradients;
pub mod reading;
pub mod toy;
