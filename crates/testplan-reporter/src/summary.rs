//! Phase summaries: what each phase (and the whole run) amounts to, computed from a
//! [`RunReport`] so a live run and a saved report (`cargo testplan report`) summarise alike.
//!
//! A summary holds the counts by status, skip reasons, tests left to other shards, counts per
//! binary, the slowest tests, the largest peak RSS, the time-budget audit and the changes
//! against the baseline. Renderers (human, Markdown) only format it.

use std::collections::BTreeMap;

use testplan_schema::{
    BaselineDiff, PhaseReport, PhaseStatus, ReportCounts, ReportStatus, RunReport, TargetKind, TestReport,
};

/// How many tests the "slowest" and "largest peak RSS" lists show.
pub const TOP: usize = 5;

/// A test marked `slow` that passes faster than this is reported as a candidate for
/// unmarking.
pub const SLOW_MARKER_FLOOR_SECS: f64 = 0.5;

/// The marker whose tests are expected to be slow.
const SLOW: &str = "slow";

/// What a phase, or the whole run, amounts to.
#[derive(Clone, Debug)]
pub struct Summary<'r> {
    /// The phase name (`None` for the whole run).
    pub phase: Option<String>,
    /// How the phase ended (`None` for the whole run).
    pub status: Option<PhaseStatus>,
    /// Why the phase was skipped.
    pub reason: Option<String>,
    /// Wall time in seconds.
    pub duration_secs: f64,
    /// Counts by status, recomputed from the tests.
    pub counts: ReportCounts,
    /// Skipped tests by reason, most frequent first.
    pub skip_reasons: Vec<(String, usize)>,
    /// Tests left to other shards by `--partition`.
    pub deselected_by_partition: usize,
    /// Counts per binary, by binary id.
    pub binaries: Vec<BinaryCounts>,
    /// The slowest tests that ran, slowest first.
    pub slowest: Vec<&'r TestReport>,
    /// The tests with the largest peak RSS, largest first.
    pub largest: Vec<&'r TestReport>,
    /// Tests whose duration does not fit their markers.
    pub budget: Vec<BudgetFinding<'r>>,
    /// Tests that passed only on a retry.
    pub flaky: Vec<&'r TestReport>,
    /// Changes against the baseline (restricted to the phase).
    pub changes: Option<BaselineDiff>,
}

/// The results of one binary within a summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinaryCounts {
    /// nextest-style binary id.
    pub binary_id: String,
    /// Its target kind.
    pub kind: TargetKind,
    /// Its counts.
    pub counts: ReportCounts,
}

/// A test whose duration does not fit its markers.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetFinding<'r> {
    /// The test.
    pub test: &'r TestReport,
    /// What is wrong.
    pub kind: BudgetKind,
}

/// What the time-budget audit found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BudgetKind {
    /// Took longer than its markers' `time-budget`: consider marking it `slow`.
    OverBudget {
        /// The budget, in seconds.
        budget_secs: f64,
    },
    /// Marked `slow` but passed in under [`SLOW_MARKER_FLOOR_SECS`]: consider unmarking it.
    SlowButQuick,
}

impl BudgetFinding<'_> {
    /// `tests/api.rs:42: took 7.201s, over its 5s time budget (unit): add #[ignore = "slow"]
    /// or a [markers.slow] rule` — where to make the edit, when the source is known.
    pub fn advice(&self) -> String {
        let took = crate::format::secs_f64(self.test.duration_secs);
        let at = self.location().map(|location| format!("{location}: ")).unwrap_or_default();
        match self.kind {
            BudgetKind::OverBudget { budget_secs } => format!(
                "{at}took {took}, over its {} time budget ({}): add #[ignore = \"slow\"] or a [markers.slow] rule",
                crate::format::short_secs(budget_secs),
                self.test.markers.join(", ")
            ),
            BudgetKind::SlowButQuick => format!(
                "{at}is marked slow but took {took} (under {}): consider unmarking it",
                crate::format::short_secs(SLOW_MARKER_FLOOR_SECS)
            ),
        }
    }

    /// `FILE:LINE` of the test, relative to the workspace root, when discovery found it.
    fn location(&self) -> Option<String> {
        let source = self.test.source.as_ref()?;
        Some(match self.test.package_dir.as_deref().filter(|dir| !dir.is_empty()) {
            Some(dir) => format!("{dir}/{}:{}", source.file, source.line),
            None => format!("{}:{}", source.file, source.line),
        })
    }
}

/// The summary of one phase of `report`.
pub fn phase_summary<'r>(report: &'r RunReport, phase: &'r PhaseReport) -> Summary<'r> {
    let tests: Vec<&TestReport> = report.tests_of(&phase.name).collect();
    let changes = report.baseline.as_ref().map(|diff| crate::baseline::restrict(diff, &phase.name));
    Summary {
        phase: Some(phase.name.clone()),
        status: Some(phase.status),
        reason: phase.reason.clone(),
        duration_secs: phase.duration_secs,
        deselected_by_partition: phase.deselected_by_partition,
        changes,
        ..summarize(&tests)
    }
}

/// The summary of the whole run.
pub fn run_summary(report: &RunReport) -> Summary<'_> {
    let tests: Vec<&TestReport> = report.tests.iter().collect();
    Summary {
        duration_secs: report.duration_secs,
        deselected_by_partition: report.deselected.partition,
        changes: report.baseline.clone(),
        ..summarize(&tests)
    }
}

/// Counts, binaries, top lists and audit of `tests`.
pub fn summarize<'r>(tests: &[&'r TestReport]) -> Summary<'r> {
    Summary {
        phase: None,
        status: None,
        reason: None,
        duration_secs: 0.0,
        counts: ReportCounts::of_tests(tests.iter().copied()),
        skip_reasons: skip_reasons(tests),
        deselected_by_partition: 0,
        binaries: binaries(tests),
        slowest: slowest(tests),
        largest: largest(tests),
        budget: audit(tests),
        flaky: tests.iter().copied().filter(|t| t.flaky).collect(),
        changes: None,
    }
}

fn skip_reasons(tests: &[&TestReport]) -> Vec<(String, usize)> {
    let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
    for test in tests.iter().filter(|t| t.status == ReportStatus::Skipped) {
        *by_reason.entry(test.skip_reason.clone().unwrap_or_else(|| "skipped".to_owned())).or_default() += 1;
    }
    let mut reasons: Vec<(String, usize)> = by_reason.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    reasons
}

fn binaries(tests: &[&TestReport]) -> Vec<BinaryCounts> {
    let mut by_id: BTreeMap<&str, BinaryCounts> = BTreeMap::new();
    for test in tests {
        let entry = by_id.entry(&test.binary_id).or_insert_with(|| BinaryCounts {
            binary_id: test.binary_id.clone(),
            kind: test.kind,
            counts: ReportCounts::default(),
        });
        entry.counts.record(test.status);
        entry.counts.cached += usize::from(test.cached);
    }
    by_id.into_values().collect()
}

fn slowest<'r>(tests: &[&'r TestReport]) -> Vec<&'r TestReport> {
    // A cached result did not run this time: it has no duration to show.
    let mut ran: Vec<&TestReport> = tests.iter().copied().filter(|t| t.status.ran() && !t.cached).collect();
    ran.sort_by(|a, b| b.duration_secs.total_cmp(&a.duration_secs).then_with(|| a.key().cmp(&b.key())));
    ran.truncate(TOP);
    ran
}

fn largest<'r>(tests: &[&'r TestReport]) -> Vec<&'r TestReport> {
    let mut measured: Vec<&TestReport> =
        tests.iter().copied().filter(|t| t.peak_rss_bytes.is_some()).collect();
    measured.sort_by(|a, b| b.peak_rss_bytes.cmp(&a.peak_rss_bytes).then_with(|| a.key().cmp(&b.key())));
    measured.truncate(TOP);
    measured
}

/// The time-budget audit: tests over their markers' `time-budget`, and `slow` tests that
/// passed quickly. Only tests that ran to a pass or a failure are judged (a timed-out test
/// is already reported as such; a cached result did not run).
pub fn audit<'r>(tests: &[&'r TestReport]) -> Vec<BudgetFinding<'r>> {
    let mut findings = Vec::new();
    for test in tests.iter().copied() {
        if !matches!(test.status, ReportStatus::Passed | ReportStatus::Failed) || test.cached {
            continue;
        }
        let marked_slow = test.markers.iter().any(|m| m == SLOW);
        if let Some(budget_secs) = test.time_budget_secs.filter(|b| test.duration_secs > *b && !marked_slow) {
            findings.push(BudgetFinding { test, kind: BudgetKind::OverBudget { budget_secs } });
        } else if marked_slow
            && test.status == ReportStatus::Passed
            && test.duration_secs < SLOW_MARKER_FLOOR_SECS
        {
            findings.push(BudgetFinding { test, kind: BudgetKind::SlowButQuick });
        }
    }
    findings.sort_by(|a, b| b.test.duration_secs.total_cmp(&a.test.duration_secs));
    findings
}

/// `16/16 passed`, `5/9 passed, 4 failed, 1 skipped`: tests that ran, then the rest;
/// `97/97 passed (97 cached)` when results came from the doctest result cache.
pub fn counts_text(counts: &ReportCounts) -> String {
    let ran = counts.passed + counts.failed;
    let mut text = format!("{}/{ran} passed", counts.passed);
    if counts.failed > 0 {
        text.push_str(&format!(", {} failed", counts.failed));
    }
    if counts.skipped > 0 {
        text.push_str(&format!(", {} skipped", counts.skipped));
    }
    if counts.interrupted > 0 {
        text.push_str(&format!(", {} interrupted", counts.interrupted));
    }
    if counts.not_run > 0 {
        text.push_str(&format!(", {} not run", counts.not_run));
    }
    text.push_str(&cached_note(counts));
    text
}

/// `; 97 cached`: how many of the results came from the doctest result cache (nothing when
/// none did). It ends the line: a cached result may be passed or skipped (an `ignore`
/// doctest).
fn cached_note(counts: &ReportCounts) -> String {
    if counts.cached == 0 { String::new() } else { format!("; {} cached", counts.cached) }
}

/// Every status with a count, in a fixed order: `16 passed, 2 failed, 1 crashed, ...`.
/// `failed` here counts plain failures only; crashed, timed out and memory-killed follow.
/// Results from the doctest result cache are counted at the end: `97 passed; 97 cached`.
pub fn status_breakdown(counts: &ReportCounts) -> String {
    let plain_failed = counts.failed - counts.crashed - counts.timed_out - counts.memory_exceeded;
    let parts = [
        (counts.passed, "passed"),
        (plain_failed, "failed"),
        (counts.crashed, "crashed"),
        (counts.timed_out, "timed out"),
        (counts.memory_exceeded, "memory-killed"),
        (counts.skipped, "skipped"),
        (counts.interrupted, "interrupted"),
        (counts.not_run, "not run"),
    ];
    let shown: Vec<String> =
        parts.iter().filter(|(n, _)| *n > 0).map(|(n, label)| format!("{n} {label}")).collect();
    if shown.is_empty() { "no tests".to_owned() } else { shown.join(", ") + &cached_note(counts) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::test_report;

    #[test]
    fn audit_flags_over_budget_and_quick_slow_tests() {
        let mut over = test_report("alpha", "tests::big", ReportStatus::Passed, 7.0);
        over.markers = vec!["unit".to_owned()];
        over.time_budget_secs = Some(5.0);
        let mut within = test_report("alpha", "tests::ok", ReportStatus::Passed, 4.0);
        within.time_budget_secs = Some(5.0);
        let mut quick = test_report("alpha", "tests::quick", ReportStatus::Passed, 0.1);
        quick.markers = vec!["slow".to_owned(), "unit".to_owned()];
        let mut slow_and_slow = test_report("alpha", "tests::really", ReportStatus::Passed, 9.0);
        slow_and_slow.markers = vec!["slow".to_owned()];
        let timed_out = {
            let mut t = test_report("alpha", "tests::hang", ReportStatus::TimedOut, 60.0);
            t.time_budget_secs = Some(5.0);
            t
        };
        let tests = [&over, &within, &quick, &slow_and_slow, &timed_out];
        let findings = audit(&tests);
        let got: Vec<(&str, BudgetKind)> = findings.iter().map(|f| (f.test.name.as_str(), f.kind)).collect();
        assert_eq!(
            got,
            [
                ("tests::big", BudgetKind::OverBudget { budget_secs: 5.0 }),
                ("tests::quick", BudgetKind::SlowButQuick)
            ]
        );
        assert_eq!(
            findings[0].advice(),
            "took 7.000s, over its 5s time budget (unit): add #[ignore = \"slow\"] or a [markers.slow] rule"
        );
        let mut located = over.clone();
        located.source = Some(testplan_schema::SourceLocation { file: "tests/api.rs".to_owned(), line: 42 });
        located.package_dir = Some("crates/app".to_owned());
        let finding = BudgetFinding { test: &located, kind: BudgetKind::OverBudget { budget_secs: 5.0 } };
        assert!(
            finding.advice().starts_with("crates/app/tests/api.rs:42: took 7.000s"),
            "{}",
            finding.advice()
        );
        assert_eq!(
            findings[1].advice(),
            "is marked slow but took 0.100s (under 0.5s): consider unmarking it"
        );
    }

    #[test]
    fn breakdown_lists_each_status_once() {
        let statuses = [
            ReportStatus::Passed,
            ReportStatus::Failed,
            ReportStatus::Crashed,
            ReportStatus::TimedOut,
            ReportStatus::MemoryExceeded,
            ReportStatus::Skipped,
        ];
        let counts = ReportCounts::of(statuses.iter());
        assert_eq!(
            status_breakdown(&counts),
            "1 passed, 1 failed, 1 crashed, 1 timed out, 1 memory-killed, 1 skipped"
        );
        assert_eq!(counts_text(&counts), "1/5 passed, 4 failed, 1 skipped");
    }

    #[test]
    fn cached_results_are_counted_at_the_end() {
        let mut cached = test_report("alpha::doc", "src/lib.rs - f (line 3)", ReportStatus::Passed, 0.0);
        cached.cached = true;
        let mut ignored = test_report("alpha::doc", "src/lib.rs - g (line 9)", ReportStatus::Skipped, 0.0);
        ignored.cached = true;
        let ran = test_report("alpha", "tests::a", ReportStatus::Passed, 0.1);
        let tests = [&cached, &ignored, &ran];
        let summary = summarize(&tests);
        assert_eq!(status_breakdown(&summary.counts), "2 passed, 1 skipped; 2 cached");
        assert_eq!(
            summary.binaries.iter().map(|b| counts_text(&b.counts)).collect::<Vec<_>>(),
            ["1/1 passed", "1/1 passed, 1 skipped; 2 cached"]
        );
        assert!(summary.slowest.iter().all(|t| !t.cached), "cached results did not run");
        let passed = ReportCounts { passed: 97, total: 97, cached: 97, ..ReportCounts::default() };
        assert_eq!(status_breakdown(&passed), "97 passed; 97 cached");
        assert_eq!(counts_text(&passed), "97/97 passed; 97 cached");
    }
}
