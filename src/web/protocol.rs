//! Messages between the page and the engine worker. Only compact summaries cross this boundary.

use serde::{Deserialize, Serialize};

/// What the page asks of the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Is the engine alive? Answered with [`Event::Ready`].
    Ping,
}

/// What the worker tells the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// The engine is loaded; carries the crate version.
    Ready {
        /// `CARGO_PKG_VERSION` of the worker's build.
        version: String,
    },
}
