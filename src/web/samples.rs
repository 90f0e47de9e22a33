//! The sample images shipped with the page.

/// The shipped samples (static/samples/).
pub const SAMPLES: [&str; 4] = ["cat", "coffee", "astronaut", "rocket"];
