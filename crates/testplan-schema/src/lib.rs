//! Stable, versioned serde types of cargo-testplan's machine-readable output.
//!
//! Everything here is part of the public contract documented in `docs/report-schema.md`:
//! fields may be added in a minor version, never renamed or removed without bumping
//! [`LIST_FORMAT_VERSION`].

use serde::{Deserialize, Serialize};

/// Version of the `list --message-format json` document.
pub const LIST_FORMAT_VERSION: u32 = 1;

/// Version of the run report (`last-run.json`, `--report-json`).
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// The kind of Cargo target a test binary was built from (doctests are their own kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// Unit tests of a library target.
    Lib,
    /// Unit tests of a binary target.
    Bin,
    /// Unit tests of a proc-macro library target.
    ProcMacro,
    /// An integration test target (`tests/*.rs` or `[[test]]`).
    Test,
    /// A bench target built in test mode.
    Bench,
    /// An example target built in test mode.
    Example,
    /// The doctests of a library target.
    Doc,
}

impl TargetKind {
    /// The name used in human output and in JSON (`lib`, `bin`, `proc-macro`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Lib => "lib",
            TargetKind::Bin => "bin",
            TargetKind::ProcMacro => "proc-macro",
            TargetKind::Test => "test",
            TargetKind::Bench => "bench",
            TargetKind::Example => "example",
            TargetKind::Doc => "doc",
        }
    }
}

impl std::fmt::Display for TargetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the tests of a binary were listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListMethod {
    /// libtest's JSON listing (`-Z unstable-options --list --format json`).
    LibtestJson,
    /// libtest's terse listing (`--list --format terse`, plus `--ignored`).
    LibtestTerse,
    /// A `harness = false` binary that answers `--list` in libtest's `name: test` format.
    CustomList,
    /// A `harness = false` binary that does not list: it is run once, as one test.
    Opaque,
    /// rustdoc's doctest listing.
    Rustdoc,
}

/// Where a test is defined, when the listing says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLocation {
    /// Path as the compiler saw it (relative to the package root for workspace members).
    pub file: String,
    /// 1-based line of the test function (or doctest block).
    pub line: u32,
}

/// `cargo testplan list --message-format json`: the whole document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestListDocument {
    /// Always [`LIST_FORMAT_VERSION`].
    pub format_version: u32,
    /// The workspace root directory.
    pub workspace_root: String,
    /// The target directory the tests were built in.
    pub target_dir: String,
    /// Every test binary, in a stable order.
    pub binaries: Vec<BinaryEntry>,
    /// Number of tests listed (after filters).
    pub test_count: usize,
}

/// One test binary in the list document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BinaryEntry {
    /// nextest-style binary id: `pkg`, `pkg::bin/name`, `pkg::test_name`, `pkg::doc`, ...
    pub binary_id: String,
    /// Package name.
    pub package: String,
    /// Cargo target name.
    pub target_name: String,
    /// Target kind.
    pub kind: TargetKind,
    /// Path of the executable (absent for doctests).
    pub executable: Option<String>,
    /// How its tests were listed.
    pub list_method: ListMethod,
    /// Working directory tests run in (the package root).
    pub cwd: String,
    /// The tests, in listing order.
    pub tests: Vec<TestEntry>,
}

/// One test in the list document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestEntry {
    /// Full libtest name (`module::test`), or the doctest name rustdoc gives.
    pub name: String,
    /// Whether the test is `#[ignore]`d.
    pub ignored: bool,
    /// The ignore reason, if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_reason: Option<String>,
    /// Source location, when the listing gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLocation>,
    /// Whether the current selection (filters, `--run-ignored`) would run it.
    pub selected: bool,
    /// Its markers, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<String>,
    /// The phase it belongs to; absent when no phase selects it ("not in plan").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
}

/// A test's outcome in the run report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportStatus {
    /// Exit code 0.
    Passed,
    /// Non-zero exit code.
    Failed,
    /// Killed by a signal (see `signal`).
    Crashed,
    /// Killed at its timeout.
    TimedOut,
    /// Killed at its memory limit while running alone.
    MemoryExceeded,
    /// Not run: ignored and not asked for (see `skip_reason`).
    Skipped,
    /// Not run, or stopped, because the run stopped early (fail-fast, Ctrl-C).
    NotRun,
}

/// Totals of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportCounts {
    /// Tests planned (run or skipped).
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failed + crashed + timed out.
    pub failed: usize,
    /// Of `failed`, killed by a signal.
    pub crashed: usize,
    /// Of `failed`, timed out.
    pub timed_out: usize,
    /// Of `failed`, killed at their memory limit.
    #[serde(default)]
    pub memory_exceeded: usize,
    /// Skipped.
    pub skipped: usize,
    /// Not run because the run stopped early.
    pub not_run: usize,
}

/// The run report: `<target-dir>/testplan/last-run.json` and `--report-json PATH`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Always [`REPORT_FORMAT_VERSION`].
    pub format_version: u32,
    /// cargo-testplan's version.
    pub tool_version: String,
    /// The command line, as given.
    pub command_line: Vec<String>,
    /// Start time, seconds since the Unix epoch.
    pub started_at_unix: f64,
    /// Wall time of the execution, in seconds.
    pub duration_secs: f64,
    /// Tests at once.
    pub jobs: usize,
    /// Set when the run stopped early: `fail-fast` or `interrupted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Totals.
    pub counts: ReportCounts,
    /// The phases, in the order they ran (empty for a run without phases).
    #[serde(default)]
    pub phases: Vec<PhaseReport>,
    /// Every planned test, in the order they finished.
    pub tests: Vec<TestReport>,
}

/// How a phase ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhaseStatus {
    /// Ran, nothing failed.
    Passed,
    /// Ran, something failed.
    Failed,
    /// Did not run (see `reason`): a missing requirement, an earlier failed phase, Ctrl-C.
    Skipped,
}

/// One phase in the run report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseReport {
    /// Phase name.
    pub name: String,
    /// Outcome.
    pub status: PhaseStatus,
    /// Why it was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Wall time in seconds.
    pub duration_secs: f64,
    /// Its totals.
    pub counts: ReportCounts,
}

/// One test in the run report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestReport {
    /// nextest-style binary id.
    pub binary_id: String,
    /// Package name.
    pub package: String,
    /// Target kind of its binary.
    pub kind: TargetKind,
    /// Full test name.
    pub name: String,
    /// Outcome.
    pub status: ReportStatus,
    /// Exit code, for `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Signal name (`SIGSEGV`), for `crashed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// Why it was skipped or not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// Wall time in seconds.
    pub duration_secs: f64,
    /// Peak RSS in bytes, when measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss_bytes: Option<u64>,
    /// Whether processes it left behind had to be killed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub leaked_processes: bool,
    /// Source location, when discovery found one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLocation>,
    /// Captured output (bounded), kept for tests that did not pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The phase it belonged to, in a phased run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Its markers, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_kind_serializes_kebab_case() {
        let json = serde_json::to_string(&TargetKind::ProcMacro).expect("serialize");
        assert_eq!(json, "\"proc-macro\"");
        assert_eq!(TargetKind::ProcMacro.to_string(), "proc-macro");
    }
}
