//! Coverage per phase for cargo-testplan, on stable Rust with LLVM's source-based coverage.
//!
//! ```text
//! tools::find (LLVM tools that read this rustc's profiles, checked on a probe)
//!   ─► instrument::build_env (own target dir, workspace crates and doctests instrumented)
//!   ─► tests run, each phase's processes writing into profiles::ProfileLayout's phase dir
//!   ─► session::CoverageRun::finish_phase (merge, export: own + cumulative per phase)
//!   ─► model::CoverageSummary ─► delta (vs the previous run), gate, diff (changed lines)
//!   ─► lcov / cobertura files
//! ```
//!
//! Nothing here prints; the figures' definitions are in [`model`]. docs/coverage.md is the
//! user's guide.

pub mod cobertura;
pub mod collect;
mod command;
pub mod delta;
pub mod diff;
pub mod error;
pub mod export;
pub mod gate;
pub mod html;
pub mod instrument;
pub mod lcov;
pub mod model;
pub mod profiles;
pub mod report;
pub mod session;
pub mod sources;
pub mod tools;

pub use error::CoverageError;
