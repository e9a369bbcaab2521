//! Check 1 (and 2's "no removed") of the daily-loop issue on `fixtures/faults`: `--lf` runs
//! exactly what failed, `--ff` starts it first, `--sw` stops at the first failure and the next
//! `--sw` run starts there, `--max-fail 2` stops after two failures, `--durations 3` prints
//! the three slowest, and a narrower `--test` run reports nothing removed.
//!
//! Each test adds a `--skip` of its own (matching nothing): the history key covers the
//! filters, so runs of one test never read another's failures from the shared target dir.

use std::collections::BTreeSet;

use crate::support::fixture::{Fixture, run_merged};
use crate::support::report::RunReport;

/// One process per test, one at a time: the report lists tests in the order they ran.
const BASE: [&str; 8] = ["run", "--timeout", "5s", "--skip", "hang_", "-j", "1", "--isolation"];

struct Loop {
    fixture: Fixture,
    own_skip: String,
}

impl Loop {
    fn new(case: &str) -> Loop {
        Loop {
            fixture: Fixture::copy("fixtures/faults"),
            // Unique per run of the suite too: the shared target dir outlives it.
            own_skip: format!("zz_daily_{case}_{}_{}", std::process::id(), now_nanos()),
        }
    }

    /// Runs with `extra`; returns the exit code, the output and the report.
    fn run(&self, extra: &[&str]) -> (Option<i32>, String, RunReport) {
        let report = self.fixture.scratch("out").join("report.json");
        let _ = std::fs::remove_file(&report);
        let report_arg = report.to_str().expect("utf-8 path");
        let mut args: Vec<&str> = BASE.to_vec();
        args.extend(["process", "--skip", &self.own_skip, "--report-json", report_arg]);
        args.extend(extra);
        let (code, text) = run_merged(&mut self.fixture.testplan(&args));
        let report = RunReport::load(&report);
        (code, text, report)
    }
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

fn names_with(report: &RunReport, statuses: &[&str]) -> BTreeSet<String> {
    let with = report.tests.iter().filter(|t| statuses.contains(&t.status.as_str()));
    with.map(|t| format!("{} {}", t.binary_id, t.name)).collect()
}

const FAILING: [&str; 3] = ["failed", "crashed", "timed-out"];

#[test]
fn lf_runs_exactly_what_failed_and_ff_starts_it_first() {
    let daily = Loop::new("lf");
    let (code, text, full) = daily.run(&["--no-fail-fast"]);
    assert_eq!(code, Some(100), "{text}");
    let failed = names_with(&full, &FAILING);
    assert!(failed.len() >= 2 && failed.len() < full.tests.len(), "{failed:?}");

    let (code, text, last_failed) = daily.run(&["--lf", "--no-fail-fast"]);
    assert_eq!(code, Some(100), "{text}");
    let ran: BTreeSet<String> =
        last_failed.tests.iter().map(|t| format!("{} {}", t.binary_id, t.name)).collect();
    assert_eq!(ran, failed, "--lf runs exactly the failed tests:\n{text}");
    assert!(!text.contains("Changes"), "a narrowed run is compared with nothing:\n{text}");

    let (code, text, first) = daily.run(&["--ff", "--no-fail-fast"]);
    assert_eq!(code, Some(100), "{text}");
    assert_eq!(first.tests.len(), full.tests.len(), "--ff runs everything:\n{text}");
    // Within each phase, every failed test ran before every other one (doctests run in
    // rustdoc's order: one `cargo test --doc` batch).
    let mut phases: Vec<(String, Vec<bool>)> = Vec::new();
    for test in &first.tests {
        let phase = test.phase.clone().unwrap_or_default();
        let was_failed = failed.contains(&format!("{} {}", test.binary_id, test.name));
        match phases.last_mut() {
            Some((name, order)) if *name == phase => order.push(was_failed),
            _ => phases.push((phase, vec![was_failed])),
        }
    }
    for (phase, order) in phases.into_iter().filter(|(phase, _)| phase != "doc") {
        assert!(order.windows(2).all(|w| w[0] >= w[1]), "phase {phase}: failed tests not first: {order:?}");
    }
}

#[test]
fn sw_stops_at_the_first_failure_and_the_next_run_starts_there() {
    let daily = Loop::new("sw");
    let (code, text, first) = daily.run(&["--sw"]);
    assert_eq!(code, Some(100), "{text}");
    let failed: Vec<&str> = first
        .tests
        .iter()
        .filter(|t| FAILING.contains(&t.status.as_str()))
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(failed.len(), 1, "--sw stops at the first failure:\n{text}");
    assert!(first.tests.iter().any(|t| t.status == "not-run"), "{text}");

    let (code, text, second) = daily.run(&["--sw"]);
    assert_eq!(code, Some(100), "{text}");
    let ran: Vec<&str> =
        second.tests.iter().filter(|t| t.status != "not-run").map(|t| t.name.as_str()).collect();
    assert_eq!(ran.first().copied(), Some(failed[0]), "the next --sw run starts at the failure:\n{text}");

    let (code, text, skipped) = daily.run(&["--sw", "--sw-skip"]);
    assert_eq!(code, Some(100), "{text}");
    assert!(skipped.tests.iter().all(|t| t.name != failed[0]), "--sw-skip leaves it out:\n{text}");
    let next: Vec<&str> = skipped
        .tests
        .iter()
        .filter(|t| FAILING.contains(&t.status.as_str()))
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(next.len(), 1, "{text}");
    assert_ne!(next[0], failed[0], "{text}");
}

#[test]
fn max_fail_stops_after_n_failures_and_durations_prints_the_slowest() {
    let daily = Loop::new("max_fail");
    let (code, text, report) = daily.run(&["--max-fail", "2"]);
    assert_eq!(code, Some(100), "{text}");
    assert_eq!(names_with(&report, &FAILING).len(), 2, "{text}");
    assert!(!names_with(&report, &["not-run"]).is_empty(), "the rest is reported not run:\n{text}");
    let (code, text, _) = daily.run(&["--no-fail-fast", "--durations", "3"]);
    assert_eq!(code, Some(100), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| l.trim() == "Slowest 3 tests:").unwrap_or_else(|| panic!("{text}"));
    let rows = &lines[at + 1..at + 4];
    assert!(rows.iter().all(|r| r.split_whitespace().next().is_some_and(|d| d.ends_with('s'))), "{rows:?}");
    assert!(crate::support::compare::is_summary_line(lines[at + 4]), "the final line stays last:\n{text}");
}

#[test]
fn a_narrower_target_selection_reports_nothing_removed() {
    let daily = Loop::new("narrow");
    let (_, text, _) = daily.run(&["--no-fail-fast"]);
    assert!(!text.contains("Changes"), "{text}");
    let (_, text, report) = daily.run(&["--no-fail-fast", "--test", "abort"]);
    assert!(report.tests.iter().all(|t| t.binary_id == "faults::abort"), "{text}");
    assert!(!text.contains("removed"), "--test abort compares with runs of --test abort only:\n{text}");
}

/// Check 5 of the daily-loop issue: `-k` matches the binary name (`tests/process_exit.rs` is
/// the binary `faults::process_exit`, and none of its test names says so).
#[test]
fn k_matches_the_binary_name() {
    let fixture = Fixture::copy("fixtures/faults");
    let (code, text) = run_merged(&mut fixture.testplan(&["list", "-k", "process_exit"]));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("faults::process_exit (test):"), "{text}");
    assert_eq!(crate::support::compare::last_line(&text), "2 tests in 1 binary", "{text}");
}
