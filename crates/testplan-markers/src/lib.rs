//! Markers, selection expressions, configuration and phased test plans for cargo-testplan.
//!
//! ```text
//! testplan.toml ─► config (validated once) ─► classify (markers per test, with sources)
//!                                          ─► plan (phase per test, profile selection)
//! ```
//!
//! Everything here is pure: it reads strings and values handed in and returns typed values
//! and errors; it does no I/O, so the runner and the CLI decide where text comes from.
//!
//! ```
//! use testplan_markers::{Config, ConfigOrigin, Decision, PhaseIdx, Selection, TestFacts, TestKind};
//!
//! let text = r#"
//! [[markers.slow.rules]]
//! name = "::big_"
//! "#;
//! let loaded = Config::from_toml_str(text, &ConfigOrigin::testplan_toml("testplan.toml"))?;
//! let config = loaded.config;
//! let run = Selection::from_profile(&config.plan, config.profile("run")?)
//!     .and_markers(config.marker_expr("not e2e")?);
//!
//! let test = TestFacts {
//!     package: "core",
//!     binary: "core",
//!     kind: TestKind::Lib,
//!     name: "parser::big_input",
//!     ignored: false,
//!     ignore_reason: None,
//!     source_file: Some("src/parser.rs"),
//!     source_line: Some(120),
//! };
//! let classification = config.classify(&test);
//! assert_eq!(classification.markers.to_string(), "slow, unit");
//! let slow = config.plan.find("slow")?;
//! assert_eq!(run.decide(&config.plan, &classification, test.name), Decision::Run { phase: slow, ignored: false });
//! assert_eq!(slow, PhaseIdx(3));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod classify;
pub mod config;
pub mod expr;
pub mod isolation;
pub mod marker;
pub mod plan;
mod suggest;
pub mod units;

pub use classify::{Classification, IgnoreStatus, MarkerSource, Rule, TestFacts, TestKind, classify};
pub use config::{Config, ConfigError, ConfigOrigin, ConfigWarning, LoadedConfig};
pub use expr::{Expr, ExprError, ExprErrorKind, Keyword, KeywordExpr, MarkerExpr};
pub use isolation::Isolation;
pub use marker::{Marker, MarkerName, MarkerRegistry, MarkerSet, UnknownMarker};
pub use plan::{Decision, Phase, PhaseIdx, Plan, Profile, RunIgnored, Selection};
pub use suggest::did_you_mean;
pub use units::ByteSize;
