//! Builds the versioned run report ([`testplan_schema::RunReport`]) from events, and writes
//! it atomically (temp file + rename) so a reader never sees half a report.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use testplan_runner::events::{Event, RunStats, StopReason, TestResult, TestStatus};
use testplan_runner::model::{TestIdx, TestList};
use testplan_runner::platform::signal_name;
use testplan_schema::{PhaseReport, PhaseStatus, REPORT_FORMAT_VERSION, ReportCounts, ReportStatus, RunReport, TestReport};

use crate::format::stop_reason;

/// What the plan knows about a test that the event does not carry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TestAnnotation {
    /// The phase it ran (or was skipped) in.
    pub phase: Option<String>,
    /// Its markers.
    pub markers: Vec<String>,
}

/// Collects events into a [`RunReport`].
#[derive(Debug)]
pub struct JsonReportBuilder<'a> {
    list: &'a TestList,
    report: RunReport,
    annotations: Vec<TestAnnotation>,
}

impl<'a> JsonReportBuilder<'a> {
    /// A builder for a run of `list` started with `command_line`.
    pub fn new(list: &'a TestList, command_line: Vec<String>) -> Self {
        let started = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        let report = RunReport {
            format_version: REPORT_FORMAT_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            command_line,
            started_at_unix: started,
            duration_secs: 0.0,
            jobs: 0,
            stopped: None,
            counts: ReportCounts::default(),
            phases: Vec::new(),
            tests: Vec::new(),
        };
        JsonReportBuilder { list, report, annotations: Vec::new() }
    }

    /// Adds phase and markers per test (indexed like the test list).
    pub fn with_annotations(mut self, annotations: Vec<TestAnnotation>) -> Self {
        self.annotations = annotations;
        self
    }

    /// Records one event.
    pub fn handle(&mut self, event: &Event) {
        match event {
            Event::RunStarted { jobs, .. } => self.report.jobs = *jobs,
            Event::TestFinished { test, result } => {
                let entry = self.test_report(*test, result);
                self.report.tests.push(entry);
            }
            Event::RunFinished { stats, duration, stopped } => {
                self.report.duration_secs = duration.as_secs_f64();
                self.report.stopped = stopped.map(|s: StopReason| stop_reason(s).to_owned());
                self.report.counts = counts(stats);
            }
            Event::PhaseFinished { name, stats, duration, .. } => self.report.phases.push(PhaseReport {
                name: name.clone(),
                status: if stats.failures() > 0 { PhaseStatus::Failed } else { PhaseStatus::Passed },
                reason: None,
                duration_secs: duration.as_secs_f64(),
                counts: counts(stats),
            }),
            Event::PhaseSkipped { name, tests, reason, .. } => self.report.phases.push(PhaseReport {
                name: name.clone(),
                status: PhaseStatus::Skipped,
                reason: Some(reason.clone()),
                duration_secs: 0.0,
                counts: ReportCounts { total: *tests, ..ReportCounts::default() },
            }),
            Event::TestStarted { .. } | Event::Stopping { .. } | Event::PhaseStarted { .. } => {}
        }
    }

    fn test_report(&self, test: TestIdx, result: &TestResult) -> TestReport {
        let case = self.list.test(test);
        let binary = self.list.binary_of(test);
        let (status, exit_code, signal, skip_reason) = status_fields(&result.status);
        let keep_output = status != ReportStatus::Passed && !result.output.is_empty();
        let annotation = self.annotations.get(test.0).cloned().unwrap_or_default();
        TestReport {
            binary_id: binary.id.clone(),
            package: binary.package.name.clone(),
            kind: binary.kind,
            name: case.name.clone(),
            status,
            exit_code,
            signal,
            skip_reason,
            duration_secs: result.duration.as_secs_f64(),
            peak_rss_bytes: result.peak_rss,
            leaked_processes: result.leaked_processes,
            source: case.source.clone(),
            output: keep_output.then(|| result.output.to_text()),
            phase: annotation.phase,
            markers: annotation.markers,
        }
    }

    /// The finished report.
    pub fn finish(self) -> RunReport {
        self.report
    }
}

fn counts(stats: &RunStats) -> ReportCounts {
    ReportCounts {
        total: stats.total,
        passed: stats.passed,
        failed: stats.failures(),
        crashed: stats.crashed,
        timed_out: stats.timed_out,
        memory_exceeded: stats.memory_exceeded,
        skipped: stats.skipped,
        not_run: stats.not_run,
    }
}

type StatusFields = (ReportStatus, Option<i32>, Option<String>, Option<String>);

fn status_fields(status: &TestStatus) -> StatusFields {
    match status {
        TestStatus::Passed => (ReportStatus::Passed, None, None, None),
        TestStatus::Failed { exit_code } => (ReportStatus::Failed, *exit_code, None, None),
        TestStatus::Crashed { signal } => (ReportStatus::Crashed, None, Some(signal_name(*signal)), None),
        TestStatus::TimedOut { .. } => (ReportStatus::TimedOut, None, None, None),
        TestStatus::MemoryExceeded { .. } => (ReportStatus::MemoryExceeded, None, None, None),
        TestStatus::Skipped { reason } => (ReportStatus::Skipped, None, None, Some(reason.clone())),
        TestStatus::NotRun { reason } => {
            (ReportStatus::NotRun, None, None, Some(stop_reason(*reason).to_owned()))
        }
    }
}

/// Writes `report` to `path` atomically, creating parent directories.
pub fn write_report(report: &RunReport, path: &Path) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let json = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
    let tmp = path.with_extension(format!("json.tmp.{}", std::process::id()));
    std::fs::write(&tmp, json)?;
    std::fs::rename(&tmp, path)
}
