//! Reporters: consumers of the executor's [`testplan_runner::events::Event`] stream.
//!
//! Each reporter is fed the same events; none of them influences execution. [`human`]
//! writes the terminal output, [`json`] builds the versioned run report.

pub mod format;
pub mod human;
pub mod json;
