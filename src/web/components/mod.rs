//! One component per file.

pub mod engine_status;
pub mod header;
pub mod shell;
