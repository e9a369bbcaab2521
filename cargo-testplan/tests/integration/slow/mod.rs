//! Slow tests: each builds a fixture workspace (once per run of this binary, thanks to the
//! shared target dir) and runs `cargo test` and/or `cargo testplan` on it.

mod cargo_side;
mod env;
mod equality;
mod faults;
mod listing;
