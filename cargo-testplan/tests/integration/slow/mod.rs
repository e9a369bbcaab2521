//! Slow tests: each builds a fixture workspace (once per run of this binary, thanks to the
//! shared target dir) and runs `cargo test` and/or `cargo testplan` on it.

mod archive;
mod batches;
mod capture;
mod cargo_side;
mod config_errors;
mod configured;
mod containment;
mod coverage;
mod custom_harnesses;
mod daily;
mod doc_cache;
mod env;
mod equality;
mod explain;
mod faults;
mod init;
mod listing;
mod memory;
mod memory_cgroup;
mod nextest_list;
mod plan;
mod plan_support;
mod real_crates;
mod reports;
mod startup;
