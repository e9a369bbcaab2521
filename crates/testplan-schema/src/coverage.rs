//! Coverage in the run report (`--coverage`, docs/coverage.md): each phase's own and
//! cumulative figures, the run's total and per-file figures, the change against the
//! previous run, the changed lines' coverage and the gates that failed.
//!
//! Figures are counts (`covered` of `total`), never rounded percentages, so a reader can
//! recompute any percentage exactly. Lines: instrumented lines (a `DA` record in llvm-cov's
//! lcov export) and those with a count above zero, all instantiations of a generic
//! function together; functions and regions: llvm-cov's own summary. Paths are relative to
//! the workspace root, `/`-separated.

use serde::{Deserialize, Serialize};

use crate::SourceLocation;

/// Covered out of total.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageCounts {
    /// How many were covered.
    pub covered: u64,
    /// How many there are.
    pub total: u64,
}

impl CoverageCounts {
    /// `covered / total × 100`, or `None` when there is nothing to cover.
    pub fn percent(self) -> Option<f64> {
        (self.total > 0).then(|| self.covered as f64 * 100.0 / self.total as f64)
    }
}

/// Lines, functions and regions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageFigures {
    /// Instrumented lines and those that ran.
    pub lines: CoverageCounts,
    /// Functions (llvm-cov's summary).
    pub functions: CoverageCounts,
    /// Code regions (llvm-cov's summary).
    pub regions: CoverageCounts,
}

/// The coverage part of a run report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CoverageReport {
    /// The LLVM tools used (`llvm-profdata-19 and llvm-cov-19`).
    pub tools: String,
    /// Each phase that ran, in plan order.
    pub phases: Vec<PhaseCoverage>,
    /// The whole run (the cumulative figures after the last phase).
    pub total: CoverageFigures,
    /// Each measured file, by path.
    pub files: Vec<FileCoverage>,
    /// Against the previous run of the same selection, when it measured coverage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<CoverageDelta>,
    /// `--coverage-diff BASE`: the lines changed since `BASE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<ChangedLinesCoverage>,
    /// The gates that failed (`--coverage-fail-under`, per-phase minimums, no drop), as
    /// messages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_gates: Vec<String>,
    /// Test processes that died while writing their profile: their coverage is missing.
    #[serde(default)]
    pub lost_profiles: usize,
}

/// One phase's coverage.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseCoverage {
    /// Phase name.
    pub name: String,
    /// What this phase's tests covered on their own.
    pub own: CoverageFigures,
    /// What this phase and every phase before it covered together.
    pub cumulative: CoverageFigures,
    /// Of this phase's test processes, those that died while writing their profile.
    #[serde(default)]
    pub lost_profiles: usize,
}

/// One file's coverage over the whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCoverage {
    /// Workspace-relative path.
    pub path: String,
    /// Its figures.
    #[serde(flatten)]
    pub figures: CoverageFigures,
}

/// Line coverage against the previous run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CoverageDelta {
    /// The previous run's total lines.
    pub before: CoverageCounts,
    /// This run's total lines.
    pub after: CoverageCounts,
    /// Files whose line figures changed (added and removed files too), largest change
    /// first.
    #[serde(default)]
    pub files: Vec<FileDelta>,
}

/// One file's line figures before and after.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDelta {
    /// Workspace-relative path.
    pub path: String,
    /// Lines in the previous run (`None`: not measured then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<CoverageCounts>,
    /// Lines in this run (`None`: not measured now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<CoverageCounts>,
}

/// Coverage of the lines added or changed since a git revision.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedLinesCoverage {
    /// The revision compared with.
    pub base: String,
    /// Changed lines that are instrumented, and those that ran.
    pub lines: CoverageCounts,
    /// The changed lines that never ran.
    #[serde(default)]
    pub uncovered: Vec<SourceLocation>,
}
