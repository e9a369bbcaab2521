//! The engine of cargo-testplan, split along the pipeline:
//!
//! ```text
//! cargo (metadata + build) ─► discover (list each binary, doctests) ─► filter (selection)
//!   ─► execute (scheduler, processes, timeouts) ─► events (consumed by reporters)
//! ```
//!
//! Every stage takes typed values and returns typed values; nothing here prints. Platform
//! code (process groups, `wait4`, signals) lives in [`platform`] so the scheduler reads as
//! policy.

pub mod cancel;
pub mod cargo;
pub mod discover;
pub mod env;
pub mod error;
pub mod events;
pub mod execute;
pub mod files;
pub mod filter;
pub mod history;
pub mod model;
pub mod output;
pub mod partition;
pub mod plan;
pub mod platform;
pub mod resources;
pub mod signals;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod text;

pub use error::RunnerError;
