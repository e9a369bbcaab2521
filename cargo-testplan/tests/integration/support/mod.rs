//! Shared helpers of the integration tests.

pub mod cargo_test;
pub mod compare;
pub mod expected;
pub mod fixture;
pub mod procs;
pub mod registry;
pub mod report;
