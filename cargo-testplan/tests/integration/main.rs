//! Integration tests of the `cargo-testplan` binary, run against the fixture workspaces in
//! `fixtures/` and `examples/showcase` (each its own Cargo workspace, expected outcomes
//! written down as data in its `expected.toml`).
//!
//! One test binary on purpose: every integration test target is a separate link.
//!
//! - [`support`]: copying fixtures (one shared target dir per fixture), running `cargo test`
//!   and parsing its output, reading `expected.toml` and cargo-testplan's JSON report,
//!   comparing them, scanning `/proc` for leftover processes.
//! - [`parser`]: fast tests of the `cargo test` output parser on captured samples.
//! - [`slow`]: tests that build fixtures and run `cargo test` / `cargo testplan` on them
//!   (seconds to minutes each).

mod ci_docs;
mod docs_sync;
mod parser;
mod slow;
mod support;
