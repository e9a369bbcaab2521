//! JUnit XML (`--junit PATH`) with quick-junit: one `<testsuite>` per phase and binary
//! (`unit: geometry (lib)`), the phase, binary and markers as properties, failures with
//! their captured output.
//!
//! Text from tests goes through [`crate::sanitize`] (names inline, output as a block), and
//! quick-junit escapes the rest for XML, so the file stays valid XML whatever a test prints.
//!
//! Statuses map as CI systems read them: a plain failure is a `<failure>`; a crash, a
//! timeout or a memory kill is an `<error>` (the test did not get to decide); skipped,
//! not-run and interrupted tests are `<skipped>` (with `type` saying which). The failed
//! attempts of a retried test (`--retries`) keep their output: `<flakyFailure>` /
//! `<flakyError>` in a test that passed in the end, `<rerunFailure>` / `<rerunError>` in
//! one that did not (nextest's elements).

use std::collections::BTreeMap;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};
use testplan_schema::{AttemptReport, ReportStatus, RunReport, TestReport};

use crate::human::{attempt_detail, report_status_detail};
use crate::sanitize;

/// The JUnit document of a run.
pub fn to_junit(report: &RunReport) -> Report {
    let mut junit = Report::new("cargo-testplan");
    junit.set_time(Duration::from_secs_f64(report.duration_secs.max(0.0)));
    for ((_, phase, binary), tests) in suites(report) {
        junit.add_test_suite(suite(&phase, &binary, &tests));
    }
    junit
}

/// The JUnit XML text of a run.
pub fn to_junit_string(report: &RunReport) -> Result<String, quick_junit::SerializeError> {
    to_junit(report).to_string()
}

type SuiteKey = (usize, String, String);

/// Tests grouped by (phase position, phase, binary id), in plan order.
fn suites(report: &RunReport) -> BTreeMap<SuiteKey, Vec<&TestReport>> {
    let position = |phase: &str| report.phases.iter().position(|p| p.name == phase).unwrap_or(usize::MAX);
    let mut suites: BTreeMap<SuiteKey, Vec<&TestReport>> = BTreeMap::new();
    for test in &report.tests {
        let phase = test.phase.clone().unwrap_or_default();
        suites.entry((position(&phase), phase, test.binary_id.clone())).or_default().push(test);
    }
    suites
}

fn suite(phase: &str, binary_id: &str, tests: &[&TestReport]) -> TestSuite {
    let kind = tests.first().map(|t| t.kind.as_str()).unwrap_or("");
    let name = if phase.is_empty() {
        format!("{binary_id} ({kind})")
    } else {
        format!("{phase}: {binary_id} ({kind})")
    };
    let mut suite = TestSuite::new(name);
    suite.add_property(Property::new("phase", phase));
    suite.add_property(Property::new("binary-id", binary_id));
    suite.add_property(Property::new("kind", kind));
    let time: f64 = tests.iter().map(|t| t.duration_secs).sum();
    suite.set_time(Duration::from_secs_f64(time.max(0.0)));
    suite.add_test_cases(tests.iter().map(|t| test_case(t)));
    suite
}

fn test_case(test: &TestReport) -> TestCase {
    let mut case = TestCase::new(sanitize::inline(&test.name), status(test));
    case.set_classname(sanitize::inline(&test.binary_id));
    case.set_time(Duration::from_secs_f64(test.duration_secs.max(0.0)));
    if let Some(phase) = &test.phase {
        case.add_property(Property::new("phase", phase.clone()));
    }
    if !test.markers.is_empty() {
        case.add_property(Property::new("markers", test.markers.join(",")));
    }
    if test.attempts > 1 {
        case.add_property(Property::new("attempts", test.attempts.to_string()));
    }
    if let Some(source) = &test.source {
        let file = match test.package_dir.as_deref() {
            Some(dir) if !dir.is_empty() => format!("{dir}/{}", source.file),
            _ => source.file.clone(),
        };
        case.add_property(Property::new("file", file));
        case.add_property(Property::new("line", source.line.to_string()));
    }
    case
}

fn status(test: &TestReport) -> TestCaseStatus {
    let detail = report_status_detail(test);
    let mut status = match test.status {
        ReportStatus::Passed => {
            // A flaky test: its failures are `<flakyFailure>`/`<flakyError>` (nextest's names).
            let mut status = TestCaseStatus::success();
            status.add_reruns(test.failed_attempts.iter().map(rerun));
            return status;
        }
        ReportStatus::Failed => TestCaseStatus::non_success(NonSuccessKind::Failure),
        ReportStatus::Crashed | ReportStatus::TimedOut | ReportStatus::MemoryExceeded => {
            TestCaseStatus::non_success(NonSuccessKind::Error)
        }
        ReportStatus::Skipped | ReportStatus::NotRun | ReportStatus::Interrupted => TestCaseStatus::skipped(),
    };
    status.set_message(detail);
    status.set_type(status_type(test.status));
    if let Some(output) = &test.output {
        status.set_description(sanitize::block(output));
    }
    // A test that failed every attempt: the earlier ones are `<rerunFailure>`/`<rerunError>`.
    status.add_reruns(test.failed_attempts.iter().map(rerun));
    status
}

/// A failed attempt of a retried test.
fn rerun(attempt: &AttemptReport) -> TestRerun {
    let kind = match attempt.status {
        ReportStatus::Failed => NonSuccessKind::Failure,
        _ => NonSuccessKind::Error,
    };
    let mut rerun = TestRerun::new(kind);
    rerun.set_time(Duration::from_secs_f64(attempt.duration_secs.max(0.0)));
    rerun.set_message(format!("attempt {}: {}", attempt.attempt, attempt_detail(attempt)));
    rerun.set_type(status_type(attempt.status));
    if let Some(output) = &attempt.output {
        rerun.set_description(sanitize::block(output));
    }
    rerun
}

fn status_type(status: ReportStatus) -> &'static str {
    status.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::every_status_report;

    #[test]
    fn junit_round_trips_with_the_runs_counts() {
        let report = every_status_report();
        let xml = to_junit_string(&report).expect("serialize");
        let parsed = Report::deserialize_from_str(&xml).expect("parse back");
        let cases: Vec<&TestCase> = parsed.test_suites.iter().flat_map(|s| &s.test_cases).collect();
        assert_eq!(cases.len(), report.counts.total);
        let failing = cases.iter().filter(|c| matches!(c.status, TestCaseStatus::NonSuccess { .. })).count();
        assert_eq!(failing, report.counts.failed);
        let skipped = cases.iter().filter(|c| matches!(c.status, TestCaseStatus::Skipped { .. })).count();
        assert_eq!(skipped, report.counts.skipped + report.counts.not_run + report.counts.interrupted);
        let names: Vec<&str> = parsed.test_suites.iter().map(|s| s.name.as_str()).collect();
        assert!(names.contains(&"unit: alpha (lib)"), "{names:?}");
    }
}
