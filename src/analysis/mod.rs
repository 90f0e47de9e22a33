//! What the visualizer computes on top of the model: what Explore shows, class activation maps, feature statistics,
//! gradient flow with and without skips, the architecture table and plain-words readings.

pub mod architecture;
pub mod cam;
pub mod colormap;
pub mod explore;
pub mod features;
pub mod gradients;
pub mod lab_convs;
pub mod network_pass;
pub mod reading;
pub mod toy;
