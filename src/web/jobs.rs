//! Run ids: Explore and Gradient-lab runs share one numbering, so an answer names its run.

use std::sync::atomic::{AtomicU32, Ordering};

static NEXT_JOB: AtomicU32 = AtomicU32::new(1);

/// A fresh run id (Explore and gradient runs share the numbering).
pub fn next_job() -> u32 {
    NEXT_JOB.fetch_add(1, Ordering::Relaxed)
}
