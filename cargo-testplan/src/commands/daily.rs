//! pytest's daily loop for run commands (docs/daily-loop.md): `--lf`, `--ff` and `--sw`
//! read what earlier runs of the same selection left in
//! `<target-dir>/testplan/loop/<history-key>.json` and become a [`Focus`] of the plan;
//! after the run the file is updated from the run report.
//!
//! The file keeps, like pytest's cache:
//! - `failed`: tests whose last result was a failure (failed, crashed, timed out, memory
//!   exceeded). A test that passes (or is flaky) leaves it; a test that did not run keeps its
//!   entry, so `--lf` narrows run after run until nothing fails.
//! - `stepwise`: the test a `--sw` run stopped at (its first failure in report order);
//!   cleared by a `--sw` run without failures that was not interrupted.
//!
//! A run narrowed by `--lf` or `--sw` is not a run of its selection: it is not compared with
//! the previous run, and it does not replace the saved one (`runs/<key>.json`) that later
//! runs compare with.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use testplan_reporter::baseline::sanitize;
use testplan_runner::files::{self, Durability};
use testplan_runner::plan::{Focus, TestKey};
use testplan_schema::{ReportStatus, RunReport};

use crate::cli::DailyArgs;

/// What earlier runs of one selection left for the next.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopState {
    /// Tests whose last result was a failure, as `[binary id, name]`.
    #[serde(default)]
    pub failed: Vec<TestKey>,
    /// Where the last `--sw` run stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stepwise: Option<TestKey>,
}

/// `<target-dir>/testplan/loop/<key>.json`.
pub fn state_path(target_dir: &Path, key: &str) -> PathBuf {
    target_dir.join("testplan").join("loop").join(format!("{}.json", sanitize(key)))
}

/// The saved state; empty when there is none or it cannot be read (it is a convenience).
pub fn load(path: &Path) -> LoopState {
    std::fs::read(path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default()
}

/// Writes the state atomically.
pub fn save(path: &Path, state: &LoopState) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    files::write_atomically(path, &bytes, Durability::Durable)
}

/// The plan's focus for these options, and a notice for the user when an option finds
/// nothing to act on.
pub fn focus(args: &DailyArgs, state: &LoopState) -> (Option<Focus>, Vec<String>) {
    if !(args.last_failed || args.failed_first || args.stepwise) {
        return (None, Vec::new());
    }
    let failed: HashSet<TestKey> = state.failed.iter().cloned().collect();
    let mut notices = Vec::new();
    let mut focus = Focus::default();
    if args.last_failed {
        if failed.is_empty() {
            notices.push("--lf: no failed tests recorded for this selection; running every test".to_owned());
        } else {
            focus.only = Some(failed.clone());
        }
    }
    if args.failed_first {
        focus.first = failed;
    }
    if args.stepwise {
        focus.resume_at = state.stepwise.clone();
        focus.skip_resume = args.sw_skip;
    }
    (Some(focus), notices)
}

/// Whether the focus leaves tests out (the run is narrower than its selection).
pub fn narrows(focus: Option<&Focus>) -> bool {
    focus.is_some_and(|f| f.only.is_some() || f.resume_at.is_some())
}

/// The state after `report`: failures added, passes removed, the stepwise position moved
/// when `stepwise`.
pub fn update(mut state: LoopState, report: &RunReport, stepwise: bool) -> LoopState {
    let key = |t: &testplan_schema::TestReport| (t.binary_id.clone(), t.name.clone());
    let passed: HashSet<TestKey> =
        report.tests.iter().filter(|t| t.status == ReportStatus::Passed).map(key).collect();
    state.failed.retain(|k| !passed.contains(k));
    let mut known: HashSet<TestKey> = state.failed.iter().cloned().collect();
    for test in report.tests.iter().filter(|t| t.is_failure()) {
        if known.insert(key(test)) {
            state.failed.push(key(test));
        }
    }
    if stepwise {
        let first_failure = report.tests.iter().find(|t| t.is_failure());
        let interrupted = report.stopped.as_deref() == Some("interrupted");
        match first_failure {
            Some(test) => state.stepwise = Some((test.binary_id.clone(), test.name.clone())),
            None if !interrupted => state.stepwise = None,
            None => {}
        }
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(results: &[(&str, ReportStatus)]) -> RunReport {
        let mut report = RunReport::new("0.1.0", Vec::new(), 0.0);
        for &(name, status) in results {
            let test = serde_json::json!({
                "binary_id": "b", "package": "p", "kind": "lib", "name": name, "status": status,
                "duration_secs": 0.1, "markers": [], "marker_sources": [], "attempts": 1,
            });
            report.tests.push(serde_json::from_value(test).expect("test report"));
        }
        report
    }

    fn key(name: &str) -> TestKey {
        ("b".to_owned(), name.to_owned())
    }

    #[test]
    fn failures_accumulate_until_they_pass() {
        let first = report(&[
            ("a", ReportStatus::Failed),
            ("b", ReportStatus::Passed),
            ("c", ReportStatus::TimedOut),
        ]);
        let state = update(LoopState::default(), &first, false);
        assert_eq!(state.failed, [key("a"), key("c")]);
        let narrowed = report(&[("a", ReportStatus::Passed)]);
        let state = update(state, &narrowed, false);
        assert_eq!(state.failed, [key("c")], "c did not run: it stays failed");
        assert_eq!(state.stepwise, None);
    }

    #[test]
    fn stepwise_moves_to_the_first_failure_and_clears_when_all_pass() {
        let run =
            report(&[("a", ReportStatus::Passed), ("b", ReportStatus::Crashed), ("c", ReportStatus::NotRun)]);
        let state = update(LoopState::default(), &run, true);
        assert_eq!(state.stepwise, Some(key("b")));
        let state = update(state, &report(&[("b", ReportStatus::Passed)]), true);
        assert_eq!(state.stepwise, None);
    }

    #[test]
    fn lf_without_failures_runs_everything_and_says_so() {
        let args = DailyArgs { last_failed: true, ..DailyArgs::default() };
        let (focus, notices) = focus(&args, &LoopState::default());
        assert!(!narrows(focus.as_ref()));
        assert_eq!(notices, ["--lf: no failed tests recorded for this selection; running every test"]);
        let state = LoopState { failed: vec![key("a")], stepwise: None };
        let (focus, notices) = super::focus(&args, &state);
        assert!(narrows(focus.as_ref()) && notices.is_empty());
    }
}
