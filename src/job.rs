//! What long jobs report as they go: which network, which step, how far. Cancellation is the
//! caller's progress callback returning [`Error::Cancelled`](crate::Error::Cancelled).

use serde::{Deserialize, Serialize};

/// Which of the two networks a gradient step belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Network {
    /// With skip connections (the residual network).
    Skip,
    /// Without skip connections (the plain network).
    Plain,
}

/// What a long job has just finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// Stage 1..=5 of a forward pass.
    Stage(usize),
    /// The forward pass of one network (gradient flow).
    Forward(Network),
    /// The backward pass of one network (gradient flow).
    Backward(Network),
    /// The backward of a class score through Stage 2–5 (class activation maps).
    Gradient(usize),
}

/// A progress report: `done` of `total` steps, the last being `step`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The step just finished.
    pub step: Step,
    /// Steps finished so far.
    pub done: usize,
    /// Steps in the job.
    pub total: usize,
}

impl Progress {
    /// A report for `step`, `done` of `total`.
    pub fn new(step: Step, done: usize, total: usize) -> Self {
        Self { step, done, total }
    }
}
