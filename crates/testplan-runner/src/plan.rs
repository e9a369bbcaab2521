//! The test plan: every discovered test classified (markers with their sources), assigned
//! to its phase, and decided for this run's selection (run, skip, other phase, deselected,
//! not in plan); the selected phases become [`PhaseRun`]s for the executor.
//!
//! Precedence of settings, most specific first: `--timeout`/`-j` on the command line, the
//! phase's `timeout`/`jobs`, then the runner's defaults. A `serial` phase always runs one
//! test at a time.

use std::time::Duration;

use testplan_markers::plan::{OnFailure, Requirement};
use testplan_markers::{Classification, Config, Decision, PhaseIdx, Selection, TestFacts, TestKind};

use crate::execute::PhaseRun;
use crate::filter::{Action, PlannedTest, TestFilter};
use crate::model::{TargetKind, TestIdx, TestList};

/// Whether a GPU is there, and how we know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpuStatus {
    /// At least one usable GPU.
    pub available: bool,
    /// How that was decided (`2 from nvidia-smi -L`, `none: CUDA_VISIBLE_DEVICES=-1`).
    pub description: String,
}

/// Everything the planner needs besides the test list.
#[derive(Clone, Copy, Debug)]
pub struct PlanRequest<'a> {
    /// Markers, rules, phases, profiles.
    pub config: &'a Config,
    /// Phases and filters of this run.
    pub selection: &'a Selection,
    /// Positional name filters, `--exact`, `--skip`.
    pub names: &'a TestFilter,
    /// The GPU, for phases that require one.
    pub gpu: &'a GpuStatus,
    /// Jobs when neither `-j` nor the phase says.
    pub default_jobs: usize,
    /// `-j`, which overrides the phases' `jobs`.
    pub jobs_override: Option<usize>,
    /// Timeout when neither `--timeout` nor the phase says.
    pub default_timeout: Duration,
    /// `--timeout`, which overrides the phases' `timeout`.
    pub timeout_override: Option<Duration>,
}

/// The plan of one run.
#[derive(Clone, Debug)]
pub struct TestPlan {
    /// Markers of every listed test, by test index.
    pub classifications: Vec<Classification>,
    /// What happens to every listed test, by test index.
    pub decisions: Vec<Decision>,
    /// The phases this run executes, in order.
    pub phases: Vec<PhaseRun>,
    /// Tests the filters select but no phase does.
    pub not_in_plan: Vec<TestIdx>,
    /// Tests left out by `-m`, `-k`, name filters, the profile or `--run-ignored`.
    pub deselected: usize,
    /// Tests that belong to phases this run does not include.
    pub other_phases: usize,
}

/// The facts about a test that classification reads.
pub fn facts<'l>(list: &'l TestList, test: TestIdx) -> TestFacts<'l> {
    let case = list.test(test);
    let binary = list.binary_of(test);
    TestFacts {
        package: &binary.package.name,
        binary: &binary.target_name,
        kind: test_kind(binary.kind),
        name: &case.name,
        ignored: case.ignored,
        ignore_reason: case.ignore_reason.as_deref(),
        source_file: case.source.as_ref().map(|s| s.file.as_str()),
        source_line: case.source.as_ref().map(|s| s.line),
    }
}

/// The classifier's name for a target kind.
pub fn test_kind(kind: TargetKind) -> TestKind {
    match kind {
        TargetKind::Lib => TestKind::Lib,
        TargetKind::Bin => TestKind::Bin,
        TargetKind::ProcMacro => TestKind::ProcMacro,
        TargetKind::Test => TestKind::Test,
        TargetKind::Bench => TestKind::Bench,
        TargetKind::Example => TestKind::Example,
        TargetKind::Doc => TestKind::Doc,
    }
}

/// Classifies every test of `list`.
pub fn classify_all(list: &TestList, config: &Config) -> Vec<Classification> {
    (0..list.tests.len()).map(|i| config.classify(&facts(list, TestIdx(i)))).collect()
}

/// Builds the plan of a run.
pub fn build(list: &TestList, req: &PlanRequest<'_>) -> TestPlan {
    let classifications = classify_all(list, req.config);
    let decisions: Vec<Decision> = list
        .tests
        .iter()
        .zip(&classifications)
        .map(|(case, class)| decide(req, class, &case.name))
        .collect();
    let mut plan = TestPlan {
        phases: phase_runs(req),
        not_in_plan: Vec::new(),
        deselected: 0,
        other_phases: 0,
        classifications,
        decisions: Vec::new(),
    };
    for (i, decision) in decisions.iter().enumerate() {
        let reason = list.tests[i].ignore_reason.as_deref();
        place(&mut plan, req, TestIdx(i), decision, reason);
    }
    plan.decisions = decisions;
    plan
}

fn decide(req: &PlanRequest<'_>, class: &Classification, name: &str) -> Decision {
    if !req.names.matches_name(name) {
        return Decision::Deselected;
    }
    req.selection.decide(&req.config.plan, class, name)
}

/// Puts one test where its decision says.
fn place(plan: &mut TestPlan, req: &PlanRequest<'_>, test: TestIdx, decision: &Decision, reason: Option<&str>) {
    let (phase, action) = match *decision {
        Decision::Run { phase, ignored } => (phase, Action::Run { ignored }),
        Decision::SkipIgnored { phase } => (phase, Action::Skip { reason: skip_reason(reason) }),
        Decision::OtherPhase { .. } => return plan.other_phases += 1,
        Decision::Deselected => return plan.deselected += 1,
        Decision::NotInPlan => return plan.not_in_plan.push(test),
    };
    let position = req.selection.phases.iter().position(|p| *p == phase);
    if let Some(pos) = position {
        plan.phases[pos].planned.push(PlannedTest { test, action });
    }
}

fn skip_reason(ignore_reason: Option<&str>) -> String {
    match ignore_reason {
        Some(reason) if !reason.is_empty() => format!("ignored: {reason}"),
        _ => "ignored".to_owned(),
    }
}

/// The selected phases, empty, with their settings resolved.
fn phase_runs(req: &PlanRequest<'_>) -> Vec<PhaseRun> {
    req.selection.phases.iter().map(|&idx| phase_run(req, idx)).collect()
}

fn phase_run(req: &PlanRequest<'_>, idx: PhaseIdx) -> PhaseRun {
    let phase = req.config.plan.phase(idx);
    let jobs = req.jobs_override.or(phase.jobs.map(|j| j.get())).unwrap_or(req.default_jobs);
    let needs_gpu = phase.requires.contains(&Requirement::Gpu);
    PhaseRun {
        name: phase.name.clone(),
        planned: Vec::new(),
        jobs: if phase.serial { 1 } else { jobs.max(1) },
        timeout: req.timeout_override.or(phase.timeout).unwrap_or(req.default_timeout),
        continue_on_failure: phase.on_failure == OnFailure::Continue,
        unavailable: (needs_gpu && !req.gpu.available)
            .then(|| format!("requires a GPU; none detected ({})", req.gpu.description)),
    }
}
