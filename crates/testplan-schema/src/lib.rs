//! Stable, versioned serde types of cargo-testplan's machine-readable output.
//!
//! Everything here is part of the public contract documented in `docs/report-schema.md`:
//! fields may be added in a minor version, never renamed or removed without bumping
//! [`LIST_FORMAT_VERSION`] / [`REPORT_FORMAT_VERSION`]. A reader of version 1 ignores
//! fields it does not know, and every field added after the first release has a default.

use serde::{Deserialize, Serialize};

pub mod coverage;

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

impl ListMethod {
    /// The name used in JSON (`libtest-json`, `custom-list`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ListMethod::LibtestJson => "libtest-json",
            ListMethod::LibtestTerse => "libtest-terse",
            ListMethod::CustomList => "custom-list",
            ListMethod::Opaque => "opaque",
            ListMethod::Rustdoc => "rustdoc",
        }
    }
}

/// A value equals its JSON name (`status == "timed-out"`), for readers of the documents.
macro_rules! eq_json_name {
    ($($ty:ty),*) => {$(
        impl PartialEq<&str> for $ty {
            fn eq(&self, name: &&str) -> bool {
                self.as_str() == *name
            }
        }
    )*};
}

eq_json_name!(TargetKind, ListMethod, ReportStatus);

/// A value displays as its JSON name.
macro_rules! display_json_name {
    ($($ty:ty),*) => {$(
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

display_json_name!(ListMethod, ReportStatus);

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
    /// Never started because the run stopped early (fail-fast, Ctrl-C).
    NotRun,
    /// Running when the run was interrupted (Ctrl-C, SIGTERM): killed by the runner.
    /// Added in 1.x; a reader should take a status it does not know as neither passed nor
    /// failed.
    Interrupted,
}

impl ReportStatus {
    /// The name used in JSON and JUnit (`passed`, `timed-out`, `not-run`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Passed => "passed",
            ReportStatus::Failed => "failed",
            ReportStatus::Crashed => "crashed",
            ReportStatus::TimedOut => "timed-out",
            ReportStatus::MemoryExceeded => "memory-exceeded",
            ReportStatus::Skipped => "skipped",
            ReportStatus::NotRun => "not-run",
            ReportStatus::Interrupted => "interrupted",
        }
    }
}

/// Totals of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportCounts {
    /// Tests planned (run or skipped).
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failed + crashed + timed out + memory exceeded.
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
    /// Killed while running because the run was interrupted.
    #[serde(default)]
    pub interrupted: usize,
    /// Of all the above, results taken from the doctest result cache (not run this time;
    /// docs/running.md#doctest-result-cache). Absent when zero.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cached: usize,
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
    /// The profile (`run`, `fast`, `full`, a configured one) or, for `cargo testplan PHASE`,
    /// `phase:NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Why `jobs` has its value (`2 CPUs; 3.1 GiB usable / 1 GiB per test`, `-j 4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs_reason: Option<String>,
    /// The machine the run saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourcesReport>,
    /// The workspace root directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_root: Option<String>,
    /// `--partition` of this run (`hash:1/2`), as applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// Tests discovered but not planned, by why.
    #[serde(default, skip_serializing_if = "DeselectedCounts::is_empty")]
    pub deselected: DeselectedCounts,
    /// Tests the filters select but no phase does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_in_plan: Vec<TestRef>,
    /// Changes against the previous run of the same profile (or `--baseline FILE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineDiff>,
    /// For a merged report: the reports it was made of, in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<MergedSource>,
    /// Coverage (`--coverage`, docs/coverage.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<coverage::CoverageReport>,
    /// Warnings the run printed (e.g. a `duration` partition without history).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl RunReport {
    /// An empty report of this tool version, to be filled in.
    pub fn new(tool_version: impl Into<String>, command_line: Vec<String>, started_at_unix: f64) -> Self {
        RunReport {
            format_version: REPORT_FORMAT_VERSION,
            tool_version: tool_version.into(),
            command_line,
            started_at_unix,
            duration_secs: 0.0,
            jobs: 0,
            stopped: None,
            counts: ReportCounts::default(),
            phases: Vec::new(),
            tests: Vec::new(),
            profile: None,
            jobs_reason: None,
            resources: None,
            workspace_root: None,
            partition: None,
            deselected: DeselectedCounts::default(),
            not_in_plan: Vec::new(),
            baseline: None,
            merged_from: Vec::new(),
            warnings: Vec::new(),
            coverage: None,
        }
    }

    /// The tests of one phase, in report order.
    pub fn tests_of<'a>(&'a self, phase: &'a str) -> impl Iterator<Item = &'a TestReport> + 'a {
        self.tests.iter().filter(move |t| t.phase.as_deref() == Some(phase))
    }
}

/// What the run knew of the machine.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourcesReport {
    /// CPUs the runner may use.
    pub cpus: usize,
    /// The most memory the tests can hold together (min of cgroup limit and RAM), in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit_bytes: Option<u64>,
    /// Memory that could be handed out at the start, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_usable_bytes: Option<u64>,
    /// Usable GPUs.
    #[serde(default)]
    pub gpus: usize,
    /// How the GPUs were found, or why there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_description: Option<String>,
}

/// Tests discovered but left out of the run, by why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeselectedCounts {
    /// By `-m`, `-k`, name filters, the profile or `--run-ignored`.
    #[serde(default)]
    pub filters: usize,
    /// Belonging to phases this run does not include.
    #[serde(default)]
    pub other_phases: usize,
    /// Selected by the filters but by no phase (named in `not_in_plan`).
    #[serde(default)]
    pub not_in_plan: usize,
    /// In the run's phases but in another shard of `--partition`.
    #[serde(default)]
    pub partition: usize,
}

impl DeselectedCounts {
    /// Every deselected test.
    pub fn total(&self) -> usize {
        self.filters + self.other_phases + self.not_in_plan + self.partition
    }

    /// No test deselected.
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }
}

/// A test named by its binary and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TestRef {
    /// nextest-style binary id.
    pub binary_id: String,
    /// Full test name.
    pub name: String,
    /// Its phase, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
}

impl std::fmt::Display for TestRef {
    /// `binary-id name`, as human output names tests.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.binary_id, self.name)
    }
}

/// Changes of a run against a baseline run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BaselineDiff {
    /// The baseline: the previous report's path.
    pub source: String,
    /// When the baseline run started, seconds since the Unix epoch.
    pub baseline_started_at_unix: f64,
    /// In this run, not in the baseline.
    #[serde(default)]
    pub added: Vec<TestRef>,
    /// In the baseline, not in this run.
    #[serde(default)]
    pub removed: Vec<TestRef>,
    /// Passed (or skipped) in the baseline, failing now.
    #[serde(default)]
    pub newly_failing: Vec<TestRef>,
    /// Failing in the baseline, passing now.
    #[serde(default)]
    pub fixed: Vec<TestRef>,
    /// Notably slower than in the baseline (at least 50% and 0.5 s more).
    #[serde(default)]
    pub slower: Vec<SlowerTest>,
}

impl BaselineDiff {
    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.newly_failing.is_empty()
            && self.fixed.is_empty()
            && self.slower.is_empty()
    }
}

/// A test that got notably slower.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlowerTest {
    /// The test.
    #[serde(flatten)]
    pub test: TestRef,
    /// Its duration in the baseline, in seconds.
    pub before_secs: f64,
    /// Its duration now, in seconds.
    pub after_secs: f64,
}

/// One input of a merged report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MergedSource {
    /// The file as given to `merge`.
    pub file: String,
    /// Its `--partition`, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// Its phases.
    #[serde(default)]
    pub phases: Vec<String>,
    /// Its tests.
    pub tests: usize,
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
    /// Its position in the configured plan (0 = first phase), which orders merged reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<usize>,
    /// Its tests left to other shards by `--partition`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deselected_by_partition: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn one() -> u32 {
    1
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
    /// Source location, when discovery found one (`file` is relative to the package root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLocation>,
    /// The package root relative to the workspace root (`crates/geometry`; empty for the
    /// root package), so `package_dir/source.file` is workspace-relative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_dir: Option<String>,
    /// Captured output (bounded), kept for tests that did not pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The phase it belonged to, in a phased run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Its markers, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<String>,
    /// Where each marker came from (a marker may have several sources).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marker_sources: Vec<MarkerSourceReport>,
    /// Times it was run (more than 1 with retries).
    #[serde(default = "one")]
    pub attempts: u32,
    /// Failed, then passed on a retry.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flaky: bool,
    /// The time budget its markers give it, in seconds (see docs/report-schema.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_budget_secs: Option<f64>,
    /// The attempts that failed before the last one (`--retries`), in order: a flaky test's
    /// failures, or a failing test's earlier tries. The last attempt is the test itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_attempts: Vec<AttemptReport>,
    /// The result came from the doctest result cache: the doctest was not compiled or run
    /// this time (its duration is zero). Absent when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
}

/// An attempt of a test that failed and was run again (`--retries`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptReport {
    /// Which attempt (1 for the first run).
    pub attempt: u32,
    /// How it ended: `failed`, `crashed` or `timed-out`.
    pub status: ReportStatus,
    /// Exit code, for `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Signal name (`SIGSEGV`), for `crashed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// Wall time in seconds.
    pub duration_secs: f64,
    /// Its captured output (bounded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

impl TestReport {
    /// The test as a [`TestRef`].
    pub fn to_ref(&self) -> TestRef {
        TestRef { binary_id: self.binary_id.clone(), name: self.name.clone(), phase: self.phase.clone() }
    }

    /// `(binary_id, name)`: what identifies a test across runs.
    pub fn key(&self) -> (&str, &str) {
        (&self.binary_id, &self.name)
    }

    /// Whether the status counts as a failure (failed, crashed, timed out, memory exceeded).
    pub fn is_failure(&self) -> bool {
        self.status.is_failure()
    }

    /// `binary-id name`, as human output names tests.
    pub fn display_name(&self) -> String {
        format!("{} {}", self.binary_id, self.name)
    }
}

impl ReportStatus {
    /// Whether the status counts as a failure.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            ReportStatus::Failed
                | ReportStatus::Crashed
                | ReportStatus::TimedOut
                | ReportStatus::MemoryExceeded
        )
    }

    /// Whether the test ran to an outcome (passed or a failure).
    pub fn ran(self) -> bool {
        self == ReportStatus::Passed || self.is_failure()
    }
}

impl ReportCounts {
    /// Adds one test's status.
    pub fn record(&mut self, status: ReportStatus) {
        self.total += 1;
        match status {
            ReportStatus::Passed => self.passed += 1,
            ReportStatus::Failed => self.failed += 1,
            ReportStatus::Crashed => {
                self.failed += 1;
                self.crashed += 1;
            }
            ReportStatus::TimedOut => {
                self.failed += 1;
                self.timed_out += 1;
            }
            ReportStatus::MemoryExceeded => {
                self.failed += 1;
                self.memory_exceeded += 1;
            }
            ReportStatus::Skipped => self.skipped += 1,
            ReportStatus::NotRun => self.not_run += 1,
            ReportStatus::Interrupted => self.interrupted += 1,
        }
    }

    /// The counts of these statuses.
    pub fn of<'a>(statuses: impl IntoIterator<Item = &'a ReportStatus>) -> ReportCounts {
        let mut counts = ReportCounts::default();
        statuses.into_iter().for_each(|s| counts.record(*s));
        counts
    }

    /// The counts of these tests: their statuses, and how many results were cached.
    pub fn of_tests<'a>(tests: impl IntoIterator<Item = &'a TestReport>) -> ReportCounts {
        let mut counts = ReportCounts::default();
        for test in tests {
            counts.record(test.status);
            counts.cached += usize::from(test.cached);
        }
        counts
    }
}

/// A marker of a test and one place it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkerSourceReport {
    /// The marker.
    pub marker: String,
    /// Where it came from: `target kind 'lib'`, `ignore reason at src/lib.rs:42`,
    /// `name segment 'slow'`, `rule markers.slow.rules[0] at testplan.toml:12:1`.
    pub source: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_are_their_json_names() {
        use ReportStatus as S;
        let all = [
            S::Passed,
            S::Failed,
            S::Crashed,
            S::TimedOut,
            S::MemoryExceeded,
            S::Skipped,
            S::NotRun,
            S::Interrupted,
        ];
        for status in all {
            assert_eq!(
                serde_json::to_string(&status).expect("serializes"),
                format!("\"{}\"", status.as_str())
            );
        }
    }

    #[test]
    fn list_methods_are_their_json_names() {
        use ListMethod as M;
        for method in [M::LibtestJson, M::LibtestTerse, M::CustomList, M::Opaque, M::Rustdoc] {
            assert_eq!(
                serde_json::to_string(&method).expect("serializes"),
                format!("\"{}\"", method.as_str())
            );
            assert_eq!(method, method.as_str());
        }
        assert!(ReportStatus::TimedOut == "timed-out" && ReportStatus::TimedOut != "failed");
    }

    #[test]
    fn target_kind_serializes_kebab_case() {
        let json = serde_json::to_string(&TargetKind::ProcMacro).expect("serialize");
        assert_eq!(json, "\"proc-macro\"");
        assert_eq!(TargetKind::ProcMacro.to_string(), "proc-macro");
    }
}
