//! Reporters: consumers of the executor's [`testplan_runner::events::Event`] stream, and
//! renderers of the run report.
//!
//! Each reporter is fed the same events; none of them influences execution. [`json`] builds
//! the versioned run report, which is also the model of every summary: [`summary`] computes
//! phase summaries from it, and [`human`], [`markdown`] and [`junit`] render it, live or
//! from a saved file. [`progress`] draws the live bar, [`baseline`] compares with the
//! previous run, [`merge`] joins shard reports, [`github`] speaks to GitHub Actions, and
//! [`session`] wires one run's reporters together.

pub mod baseline;
pub mod coverage;
pub mod format;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod progress;
#[cfg(test)]
mod render_tests;
pub mod sanitize;
pub mod session;
pub mod summary;
#[cfg(test)]
mod testing;
