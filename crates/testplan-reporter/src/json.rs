//! Builds the versioned run report ([`testplan_schema::RunReport`]) from events, and writes
//! it atomically (temp file + rename) so a reader never sees half a report.
//!
//! The report is also the model every other output renders from: phase summaries,
//! Markdown, JUnit and `cargo testplan report` all read a [`RunReport`], live or saved.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use testplan_markers::{Classification, MarkerRegistry};
use testplan_runner::events::{Event, Reschedule, RunStats, StopReason, TestResult, TestStatus};
use testplan_runner::model::{TestIdx, TestList};
use testplan_runner::output::CapturedOutput;
use testplan_runner::plan::TestPlan;
use testplan_runner::signals::signal_name;
use testplan_schema::{
    AttemptReport, DeselectedCounts, MarkerSourceReport, PhaseReport, PhaseStatus, ReportCounts,
    ReportStatus, ResourcesReport, RunReport, TestRef, TestReport,
};

use crate::format::stop_reason;

/// What the plan knows about a test that the event does not carry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TestAnnotation {
    /// The phase it ran (or was skipped) in.
    pub phase: Option<String>,
    /// Its markers.
    pub markers: Vec<String>,
    /// Where each marker came from.
    pub marker_sources: Vec<MarkerSourceReport>,
    /// The time budget its markers give it.
    pub time_budget: Option<Duration>,
}

/// Facts about the run that the events do not carry.
#[derive(Clone, Debug, Default)]
pub struct RunMeta {
    /// Profile name (`run`, `fast`, ...) or `phase:NAME`.
    pub profile: Option<String>,
    /// Why `jobs` has its value.
    pub jobs_reason: Option<String>,
    /// The machine.
    pub resources: Option<ResourcesReport>,
    /// `--partition`, as applied.
    pub partition: Option<String>,
    /// Tests discovered but not planned.
    pub deselected: DeselectedCounts,
    /// Tests no phase selects.
    pub not_in_plan: Vec<TestRef>,
    /// Warnings printed before the run.
    pub warnings: Vec<String>,
    /// Each phase's position in the configured plan.
    pub phase_positions: BTreeMap<String, usize>,
    /// Each phase's tests left to other shards.
    pub partition_deselected: BTreeMap<String, usize>,
}

/// Collects events into a [`RunReport`].
#[derive(Debug)]
pub struct JsonReportBuilder<'a> {
    list: &'a TestList,
    report: RunReport,
    annotations: Annotations<'a>,
    meta: RunMeta,
    /// Failed attempts of tests that run again (`--retries`), until their result comes.
    failed_attempts: HashMap<TestIdx, Vec<AttemptReport>>,
}

/// Where each test's [`TestAnnotation`] comes from.
#[derive(Debug)]
enum Annotations<'a> {
    /// Given, indexed like the test list.
    Given(Vec<TestAnnotation>),
    /// Made from the plan when the test finishes: thousands of marker strings are then
    /// built while tests run, not before the first one starts.
    FromPlan { plan: &'a TestPlan, registry: &'a MarkerRegistry, phase_of: Vec<Option<usize>> },
}

impl<'a> JsonReportBuilder<'a> {
    /// A builder for a run of `list` started with `command_line`.
    pub fn new(list: &'a TestList, command_line: Vec<String>) -> Self {
        let started = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        let mut report = RunReport::new(env!("CARGO_PKG_VERSION"), command_line, started);
        report.workspace_root = Some(list.workspace_root.to_string());
        JsonReportBuilder {
            list,
            report,
            annotations: Annotations::Given(Vec::new()),
            meta: RunMeta::default(),
            failed_attempts: HashMap::new(),
        }
    }

    /// Adds phase and markers per test (indexed like the test list).
    pub fn with_annotations(mut self, annotations: Vec<TestAnnotation>) -> Self {
        self.annotations = Annotations::Given(annotations);
        self
    }

    /// Annotates each test from `plan` (its phase, markers and their sources) and the
    /// markers' time budgets in `registry`, when it finishes.
    pub fn with_plan(mut self, plan: &'a TestPlan, registry: &'a MarkerRegistry) -> Self {
        let phase_of = phase_positions(self.list, plan);
        self.annotations = Annotations::FromPlan { plan, registry, phase_of };
        self
    }

    /// Adds the facts about the run that events do not carry.
    pub fn with_meta(mut self, meta: RunMeta) -> Self {
        self.report.profile = meta.profile.clone();
        self.report.jobs_reason = meta.jobs_reason.clone();
        self.report.resources = meta.resources.clone();
        self.report.partition = meta.partition.clone();
        self.report.deselected = meta.deselected.clone();
        self.report.not_in_plan = meta.not_in_plan.clone();
        self.report.warnings = meta.warnings.clone();
        self.meta = meta;
        self
    }

    /// Sets the changes against the baseline.
    pub fn set_baseline(&mut self, diff: testplan_schema::BaselineDiff) {
        self.report.baseline = Some(diff);
    }

    /// Records the run's coverage so far (`--coverage`): set before the event whose summary
    /// shows it (a phase's `PhaseFinished`, `RunFinished`) is handled.
    pub fn set_coverage(&mut self, coverage: testplan_schema::coverage::CoverageReport) {
        self.report.coverage = Some(coverage);
    }

    /// The report so far (complete once `RunFinished` was handled).
    pub fn report(&self) -> &RunReport {
        &self.report
    }

    /// Records one event.
    pub fn handle(&mut self, event: &Event) {
        match event {
            Event::RunStarted { jobs, tests, .. } => {
                self.report.jobs = *jobs;
                // Thousands of entries: growing one push at a time copied them repeatedly.
                self.report.tests.reserve(*tests);
            }
            Event::TestFinished { test, result } => {
                let entry = self.test_report(*test, result);
                self.report.tests.push(entry);
            }
            Event::RunFinished { stats, duration, stopped } => {
                self.report.duration_secs = duration.as_secs_f64();
                self.report.stopped = stopped.map(|s: StopReason| stop_reason(s).to_owned());
                self.report.counts = counts(stats);
                self.count_skipped_phases();
            }
            Event::PhaseFinished { name, stats, duration, .. } => {
                let status = if stats.failures() > 0 { PhaseStatus::Failed } else { PhaseStatus::Passed };
                let phase = self.phase_report(name, status, None, duration.as_secs_f64(), counts(stats));
                self.report.phases.push(phase);
            }
            Event::PhaseSkipped { name, tests, reason, .. } => {
                let counts = ReportCounts { total: *tests, ..ReportCounts::default() };
                let phase = self.phase_report(name, PhaseStatus::Skipped, Some(reason.clone()), 0.0, counts);
                self.report.phases.push(phase);
            }
            Event::TestRescheduled {
                test,
                reason: Reschedule::Retry { attempt, status, duration, output, .. },
            } => {
                let entry = attempt_report(*attempt, status, *duration, output);
                self.failed_attempts.entry(*test).or_default().push(entry);
            }
            Event::TestStarted { .. }
            | Event::TestRescheduled { .. }
            | Event::TestOverBudget { .. }
            | Event::TestSlow { .. }
            | Event::Stopping { .. }
            | Event::PhaseStarted { .. } => {}
        }
    }

    /// A skipped phase's tests are reported after its `PhaseSkipped`: count them now.
    fn count_skipped_phases(&mut self) {
        for phase in self.report.phases.iter_mut().filter(|p| p.status == PhaseStatus::Skipped) {
            let statuses =
                self.report.tests.iter().filter(|t| t.phase.as_deref() == Some(phase.name.as_str()));
            let counted = ReportCounts::of_tests(statuses);
            if counted.total == phase.counts.total {
                phase.counts = counted;
            }
        }
    }

    fn phase_report(
        &self,
        name: &str,
        status: PhaseStatus,
        reason: Option<String>,
        duration_secs: f64,
        counts: ReportCounts,
    ) -> PhaseReport {
        PhaseReport {
            name: name.to_owned(),
            status,
            reason,
            duration_secs,
            counts,
            position: self.meta.phase_positions.get(name).copied(),
            deselected_by_partition: self.meta.partition_deselected.get(name).copied().unwrap_or(0),
        }
    }

    fn annotation(&mut self, test: TestIdx) -> TestAnnotation {
        match &mut self.annotations {
            // A test finishes once; its annotation is moved, not cloned.
            Annotations::Given(given) => given.get_mut(test.0).map(std::mem::take).unwrap_or_default(),
            Annotations::FromPlan { plan, registry, phase_of } => {
                let phase = phase_of.get(test.0).copied().flatten().and_then(|i| plan.phases.get(i));
                let phase = phase.map(|p| p.name.clone());
                plan.classifications
                    .get(test.0)
                    .map_or_else(Default::default, |c| annotate(c, phase, registry))
            }
        }
    }

    fn test_report(&mut self, test: TestIdx, result: &TestResult) -> TestReport {
        let case = self.list.test(test);
        let binary = self.list.binary_of(test);
        let (status, exit_code, signal, skip_reason) = status_fields(&result.status);
        let keep_output = status != ReportStatus::Passed && !result.output.is_empty();
        let annotation = self.annotation(test);
        let package_dir =
            binary.package.root.strip_prefix(&self.list.workspace_root).ok().map(|p| p.to_string());
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
            package_dir,
            output: keep_output.then(|| result.output.to_text()),
            phase: annotation.phase,
            markers: annotation.markers,
            marker_sources: annotation.marker_sources,
            attempts: result.attempts,
            flaky: result.is_flaky(),
            time_budget_secs: annotation.time_budget.map(|d| d.as_secs_f64()),
            failed_attempts: self.failed_attempts.remove(&test).unwrap_or_default(),
            cached: result.cached,
        }
    }

    /// The finished report.
    pub fn finish(self) -> RunReport {
        self.report
    }
}

/// A failed attempt as the report keeps it.
fn attempt_report(
    attempt: u32,
    status: &TestStatus,
    duration: Duration,
    output: &CapturedOutput,
) -> AttemptReport {
    let (status, exit_code, signal, _) = status_fields(status);
    AttemptReport {
        attempt,
        status,
        exit_code,
        signal,
        duration_secs: duration.as_secs_f64(),
        output: (!output.is_empty()).then(|| output.to_text()),
    }
}

/// Each test's phase, as a position in `test_plan.phases`.
fn phase_positions(list: &TestList, test_plan: &TestPlan) -> Vec<Option<usize>> {
    let mut phase_of = vec![None; list.tests.len()];
    for (i, phase) in test_plan.phases.iter().enumerate() {
        for planned in &phase.planned {
            if let Some(slot) = phase_of.get_mut(planned.test.0) {
                *slot = Some(i);
            }
        }
    }
    phase_of
}

fn annotate(class: &Classification, phase: Option<String>, registry: &MarkerRegistry) -> TestAnnotation {
    TestAnnotation {
        phase,
        markers: class.markers.iter().map(|m| m.as_str().to_owned()).collect(),
        marker_sources: class
            .assignments
            .iter()
            .map(|a| MarkerSourceReport {
                marker: a.marker.as_str().to_owned(),
                source: a.source.to_string(),
            })
            .collect(),
        time_budget: registry.limits_for(&class.markers).time_budget,
    }
}

/// The report's counts of a run's totals.
pub fn counts(stats: &RunStats) -> ReportCounts {
    ReportCounts {
        total: stats.total,
        passed: stats.passed,
        failed: stats.failures(),
        crashed: stats.crashed,
        timed_out: stats.timed_out,
        memory_exceeded: stats.memory_exceeded,
        skipped: stats.skipped,
        not_run: stats.not_run,
        interrupted: stats.interrupted,
        cached: stats.cached,
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
        TestStatus::Interrupted => (ReportStatus::Interrupted, None, None, None),
        TestStatus::NotRun { reason } => {
            (ReportStatus::NotRun, None, None, Some(stop_reason(*reason).to_owned()))
        }
    }
}

/// Writes `report` to `path` atomically, creating parent directories.
pub fn write_report(report: &RunReport, path: &Path) -> std::io::Result<()> {
    let json = serde_json::to_vec(report).map_err(std::io::Error::other)?;
    write_atomically(path, &json)
}

/// Writes `bytes` to `path` durably and atomically, creating parent directories
/// ([`testplan_runner::files::write_atomically`]: a random temporary file, never a
/// symlink followed, removed on failure).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    testplan_runner::files::write_atomically(path, bytes, testplan_runner::files::Durability::Durable)
}

/// Reads a report written by any version-1 cargo-testplan.
pub fn read_report(path: &Path) -> Result<RunReport, ReadReportError> {
    let text = std::fs::read_to_string(path)
        .map_err(|cause| ReadReportError::Io { path: path.display().to_string(), cause })?;
    let report: RunReport = serde_json::from_str(&text)
        .map_err(|cause| ReadReportError::Parse { path: path.display().to_string(), cause })?;
    if report.format_version != testplan_schema::REPORT_FORMAT_VERSION {
        return Err(ReadReportError::Version {
            path: path.display().to_string(),
            found: report.format_version,
        });
    }
    Ok(report)
}

/// A report that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadReportError {
    /// The file could not be read.
    #[error("cannot read {path}: {cause}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        cause: std::io::Error,
    },
    /// The file is not a run report.
    #[error("{path} is not a cargo-testplan run report: {cause}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        cause: serde_json::Error,
    },
    /// A report of another format version.
    #[error(
        "{path} has report format version {found}; this cargo-testplan reads version {}",
        testplan_schema::REPORT_FORMAT_VERSION
    )]
    Version {
        /// The file.
        path: String,
        /// Its `format_version`.
        found: u32,
    },
}
