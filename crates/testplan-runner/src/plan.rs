//! The test plan: every discovered test classified (markers with their sources), assigned
//! to its phase, and decided for this run's selection (run, skip, other phase, deselected,
//! not in plan); the selected phases become [`PhaseRun`]s for the executor.
//!
//! Every planned test also gets its [`TestLimits`]: memory estimate and limit, timeout, and
//! whether it runs alone. Precedence, first found wins:
//!
//! | setting | order |
//! |---|---|
//! | jobs | `-j`; the phase's `jobs`; min(CPUs, usable memory / median estimate) ([`apply_memory`]); a `serial` phase always runs one test at a time |
//! | timeout | `--timeout`; the phase's `timeout`; the largest `timeout` of the test's markers; the built-in marker timeouts ([`BUILTIN_MARKER_TIMEOUTS`]); [`DEFAULT_TIMEOUT`](crate::execute::DEFAULT_TIMEOUT) |
//! | memory limit | `--memory-limit`; the phase's `memory`; the largest `memory` of its markers; none (the run's default: the budget) |
//! | memory estimate | measured history (peak × 1.25 + 64 MiB); the limit above; the built-in marker estimates ([`BUILTIN_MARKER_ESTIMATES`]); 1 GiB — never more than the limit |
//! | isolation | `--isolation process`; the `isolation` of its markers (`process` wins); `--isolation batch`; the phase's `isolation` |
//!
//! A test of a batch phase still gets a process of its own ([`TestLimits::batch`] false)
//! when it needs one: the `serial`, `requires-models` or `requires-gpu` marker, a memory
//! limit of its own (the phase's or its markers' `memory`, `--memory-limit`), or a measured
//! peak RSS above [`BATCH_MAX_PEAK`] (a big test would make its whole batch big). The
//! executor also keeps tests of custom-harness binaries in processes of their own.
//!
//! The phase comes before the markers because it is the narrower choice: a `slow` phase's
//! long timeout must hold for the `unit` tests in it, whatever `unit` says. Built-in marker
//! estimates are estimates only, never limits: a requires-models test is expected to need
//! several GiB, but is not failed for needing more. A test with the `serial` marker runs
//! alone.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use testplan_markers::marker::builtin;
use testplan_markers::plan::{Isolation, OnFailure, Requirement, RunIgnored};
use testplan_markers::{
    Classification, Config, Decision, MarkerSet, Phase, PhaseIdx, Selection, TestFacts, TestKind,
};

use camino::{Utf8Path, Utf8PathBuf};
use testplan_schema::{ReportStatus, RunReport};

use crate::cargo::{BuildJobsCap, build_jobs_cap};
use crate::discover::cache::Stamp;
use crate::execute::{EstimateSource, MemoryOptions, PhaseRun, TestLimits};
use crate::filter::{Action, PlannedTest, TestFilter};
use crate::history::{History, Measurement, TestHistory, estimate_from_peak};
use crate::model::{ListMethod, TargetKind, TestIdx, TestList};
use crate::resources::{
    DEFAULT_PER_TEST_ESTIMATE, GIB, GpuChoice, GpuOverride, Probe, Resources, default_jobs,
};

/// Built-in per-test timeouts of markers that say a test is long (used when neither the
/// command line, the phase nor the configured markers set one).
pub const BUILTIN_MARKER_TIMEOUTS: [(&str, Duration); 4] = [
    (builtin::SLOW, Duration::from_secs(15 * 60)),
    (builtin::E2E, Duration::from_secs(15 * 60)),
    (builtin::REQUIRES_MODELS, Duration::from_secs(30 * 60)),
    (builtin::REQUIRES_GPU, Duration::from_secs(30 * 60)),
];

/// Tests whose measured peak RSS is above this run in a process of their own, even in a
/// batch phase.
pub const BATCH_MAX_PEAK: u64 = 256 * 1024 * 1024;

/// Markers whose tests never share a process: heavy tests, and tests that must run alone.
pub const PROCESS_MARKERS: [&str; 3] = [builtin::SERIAL, builtin::REQUIRES_MODELS, builtin::REQUIRES_GPU];

/// Built-in memory estimates of heavy markers (estimates, not limits).
pub const BUILTIN_MARKER_ESTIMATES: [(&str, u64); 2] =
    [(builtin::REQUIRES_MODELS, 4 * GIB), (builtin::REQUIRES_GPU, 2 * GIB)];

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
    /// `--isolation`: `process` runs every test in a process of its own; `batch` batches
    /// every phase (tests that need a process of their own still get one).
    pub isolation_override: Option<Isolation>,
    /// What earlier runs add to the selection and the order (`--lf`, `--ff`, `--sw`).
    pub focus: Option<&'a Focus>,
}

/// A test as earlier runs name it: `(binary id, name)`.
pub type TestKey = (String, String);

/// Selection and order decided from earlier runs, applied while the plan is built:
///
/// | option | effect |
/// |---|---|
/// | `only` (`--lf`) | tests not in it are deselected |
/// | `first` (`--ff`) | within each phase, these start before the rest (order kept otherwise) |
/// | `resume_at` (`--sw`) | tests before it in plan order are deselected; with `skip_resume` (`--sw-skip`) it is too |
///
/// A `resume_at` test that is not in the plan any more resumes nothing: every test runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Focus {
    /// Run only these.
    pub only: Option<std::collections::HashSet<TestKey>>,
    /// Start these first.
    pub first: std::collections::HashSet<TestKey>,
    /// Start at this test.
    pub resume_at: Option<TestKey>,
    /// Leave out `resume_at` itself as well.
    pub skip_resume: bool,
}

impl Focus {
    fn key(list: &TestList, test: TestIdx) -> TestKey {
        (list.binary_of(test).id.clone(), list.test(test).name.clone())
    }

    /// Applies the focus to the built phases; returns how many tests it deselected.
    fn apply(&self, list: &TestList, phases: &mut [PhaseRun]) -> usize {
        let mut deselected = 0;
        if let Some(only) = &self.only {
            for phase in phases.iter_mut() {
                let before = phase.planned.len();
                phase.planned.retain(|p| only.contains(&Self::key(list, p.test)));
                deselected += before - phase.planned.len();
            }
        }
        deselected += self.resume(list, phases);
        if !self.first.is_empty() {
            for phase in phases.iter_mut() {
                // A stable sort: failed tests first, each group in its planned order.
                phase.planned.sort_by_key(|p| !self.first.contains(&Self::key(list, p.test)));
            }
        }
        deselected
    }

    /// `--sw`: deselects the tests planned before `resume_at` (and it, with `skip_resume`).
    fn resume(&self, list: &TestList, phases: &mut [PhaseRun]) -> usize {
        let Some(at) = &self.resume_at else { return 0 };
        let position = phases.iter().flat_map(|p| &p.planned).position(|p| Self::key(list, p.test) == *at);
        let Some(position) = position else { return 0 };
        let mut drop = position + usize::from(self.skip_resume);
        let dropped = drop;
        for phase in phases.iter_mut() {
            let here = drop.min(phase.planned.len());
            phase.planned.drain(..here);
            drop -= here;
        }
        dropped
    }
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
    /// How each phase's `jobs` was chosen, parallel to `phases`.
    pub jobs_from: Vec<JobsFrom>,
}

/// How a phase's `jobs` was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobsFrom {
    /// `-j`.
    Override,
    /// The phase's `jobs`.
    Phase,
    /// A serial phase: 1.
    Serial,
    /// The default ([`PlanRequest::default_jobs`], or [`apply_memory`]'s).
    Default,
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
    let decisions: Vec<Decision> = (0..list.tests.len())
        .zip(&classifications)
        .map(|(i, class)| decide(req, class, list, TestIdx(i)))
        .collect();
    let (phases, jobs_from) = phase_runs(req).into_iter().unzip();
    let mut plan = TestPlan {
        phases,
        jobs_from,
        not_in_plan: Vec::new(),
        deselected: 0,
        other_phases: 0,
        classifications,
        decisions: Vec::new(),
    };
    for (i, decision) in decisions.iter().enumerate() {
        let reason = list.tests[i].ignore_reason.as_deref();
        let decision = &include_ignored_by_harness(list, req, TestIdx(i), *decision);
        place(&mut plan, req, TestIdx(i), decision, reason);
    }
    plan.decisions = decisions;
    if let Some(focus) = req.focus {
        plan.deselected += focus.apply(list, &mut plan.phases);
    }
    plan
}

/// Under `--run-ignored all`, every test of a listing custom harness runs as ignored
/// (its job passes `--include-ignored`, as `cargo test -- --include-ignored` passes it to
/// the whole binary): such a harness may decide ignores at run time (libtest2-mimic's
/// `cx.ignore()`), which its listing cannot show, and only the flag makes it run them.
fn include_ignored_by_harness(
    list: &TestList,
    req: &PlanRequest<'_>,
    test: TestIdx,
    decision: Decision,
) -> Decision {
    match decision {
        Decision::Run { phase, ignored: false }
            if req.selection.run_ignored == RunIgnored::All
                && list.binary_of(test).list_method == ListMethod::CustomList =>
        {
            Decision::Run { phase, ignored: true }
        }
        other => other,
    }
}

fn decide(req: &PlanRequest<'_>, class: &Classification, list: &TestList, test: TestIdx) -> Decision {
    let name = &list.test(test).name;
    if !req.names.matches_name(name) {
        return Decision::Deselected;
    }
    if req.selection.keywords.is_none() {
        return req.selection.decide(&req.config.plan, class, name);
    }
    req.selection.decide(&req.config.plan, class, &keyword_subject(list, test))
}

/// What `-k` matches, as pytest's keywords do file and module names: the test's name, its
/// binary id, target name and source file (package-relative, when discovery found it), one
/// per line so that a keyword never matches across two of them.
pub fn keyword_subject(list: &TestList, test: TestIdx) -> String {
    let (case, binary) = (list.test(test), list.binary_of(test));
    let mut subject = format!("{}\n{}\n{}", case.name, binary.id, binary.target_name);
    if let Some(source) = &case.source {
        subject.push('\n');
        subject.push_str(source.file.as_str());
    }
    subject
}

/// Puts one test where its decision says.
fn place(
    plan: &mut TestPlan,
    req: &PlanRequest<'_>,
    test: TestIdx,
    decision: &Decision,
    reason: Option<&str>,
) {
    let (phase, action) = match *decision {
        Decision::Run { phase, ignored } => (phase, Action::Run { ignored }),
        Decision::SkipIgnored { phase } => (phase, Action::Skip { reason: skip_reason(reason) }),
        Decision::OtherPhase { .. } => return plan.other_phases += 1,
        Decision::Deselected => return plan.deselected += 1,
        Decision::NotInPlan => return plan.not_in_plan.push(test),
    };
    let position = req.selection.phases.iter().position(|p| *p == phase);
    if let Some(pos) = position {
        let limits = test_limits(req, req.config.plan.phase(phase), &plan.classifications[test.0].markers);
        plan.phases[pos].limits.insert(test, limits);
        plan.phases[pos].planned.push(PlannedTest { test, action });
    }
}

/// A test's limits from the configuration alone (see the module docs).
fn test_limits(req: &PlanRequest<'_>, phase: &Phase, markers: &MarkerSet) -> TestLimits {
    let configured = req.config.registry.limits_for(markers);
    let has = |name: &str| markers.iter().any(|m| m.as_str() == name);
    let builtin_timeout = BUILTIN_MARKER_TIMEOUTS.iter().filter(|(m, _)| has(m)).map(|&(_, t)| t).max();
    let builtin_estimate = BUILTIN_MARKER_ESTIMATES.iter().filter(|(m, _)| has(m)).map(|&(_, b)| b).max();
    let timeout = req
        .timeout_override
        .or(phase.timeout)
        .or(configured.timeout)
        .or(builtin_timeout)
        .unwrap_or(req.default_timeout);
    let (memory_limit, limit_from) = match (phase.memory, configured.memory) {
        (Some(phase), _) => (Some(phase.bytes()), EstimateSource::Phase),
        (None, Some(marker)) => (Some(marker.bytes()), EstimateSource::Marker),
        (None, None) => (None, EstimateSource::Default),
    };
    let (memory_estimate, estimate_from) = match (memory_limit, builtin_estimate) {
        (Some(limit), _) => (limit, limit_from),
        (None, Some(estimate)) => (estimate, EstimateSource::Marker),
        (None, None) => (DEFAULT_PER_TEST_ESTIMATE, EstimateSource::Default),
    };
    let isolation = match (req.isolation_override, configured.isolation) {
        (Some(Isolation::Process), _) => Isolation::Process,
        (_, Some(marker)) => marker,
        (Some(Isolation::Batch), None) => Isolation::Batch,
        (None, None) => phase.isolation,
    };
    let needs_process = PROCESS_MARKERS.iter().any(|m| has(m)) || memory_limit.is_some();
    TestLimits {
        memory_estimate,
        estimate_from,
        memory_limit,
        timeout,
        serial: has(builtin::SERIAL),
        batch: isolation == Isolation::Batch && !needs_process,
    }
}

/// Slowest first: in every phase run by more than one job, tests start in descending order
/// of their recorded duration (`history`), so a long test does not start last and hold the
/// phase up alone. Tests that may share a process sort by the slowest of their binary's in
/// the phase (their batch starts where its first member is planned, members in their planned
/// order); tests without a recorded duration keep their order after the others. With one
/// job the order cannot change the wall time, and is kept.
pub fn order_slowest_first(plan: &mut TestPlan, list: &TestList, history: &History) {
    let recorded = |test: TestIdx| {
        history.get(&list.binary_of(test).id, &list.test(test).name).map_or(0.0, |h| h.duration_secs)
    };
    for phase in plan.phases.iter_mut().filter(|p| p.jobs > 1) {
        let batched = |test: &TestIdx| phase.limits.get(test).is_some_and(|l| l.batch);
        let mut slowest_of_binary: HashMap<crate::model::BinaryIdx, f64> = HashMap::new();
        for test in phase.planned.iter().map(|p| p.test).filter(batched) {
            let slowest = slowest_of_binary.entry(list.test(test).binary).or_default();
            *slowest = slowest.max(recorded(test));
        }
        let key = |test: TestIdx| match batched(&test) {
            true => slowest_of_binary.get(&list.test(test).binary).copied().unwrap_or(0.0),
            false => recorded(test),
        };
        let keys: HashMap<TestIdx, f64> = phase.planned.iter().map(|p| (p.test, key(p.test))).collect();
        // A stable sort: equal keys (and every test without history) keep the plan's order.
        phase.planned.sort_by(|a, b| keys[&b.test].total_cmp(&keys[&a.test]));
    }
}

/// What refines a plan's memory settings for a run: measured history, `--memory-limit`, and
/// the machine (for the default jobs).
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryRequest<'a> {
    /// Measured peaks of earlier runs.
    pub history: Option<&'a History>,
    /// `--memory-limit`, in bytes: every test's limit.
    pub memory_limit: Option<u64>,
    /// The machine (with `--memory-budget` applied); `None` leaves the phases' jobs as built.
    pub resources: Option<&'a Resources>,
}

/// The default parallelism of a run and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobsChoice {
    /// Jobs of the phases that did not choose their own.
    pub jobs: usize,
    /// For the run header: `2 CPUs; 3.1 GiB usable / 1 GiB per test`.
    pub reason: String,
    /// The per-test estimate the memory bound used: the median of the planned tests'.
    pub per_test_estimate: u64,
}

/// Applies history and `--memory-limit` to every planned test's limits (see the module
/// docs), then sets the jobs of phases that did not choose their own to min(CPUs, usable /
/// median estimate), and lowers default estimates (nothing known) to the usable memory.
/// Returns the jobs choice; `None` without resources.
pub fn apply_memory(plan: &mut TestPlan, list: &TestList, req: &MemoryRequest<'_>) -> Option<JobsChoice> {
    let peaks = req.history.map(|history| history_peaks(list, history));
    for phase in &mut plan.phases {
        for (test, limits) in &mut phase.limits {
            let peak = peaks.as_ref().and_then(|peaks| peaks.get(test.0).copied().flatten());
            refine_limits(limits, peak, req.memory_limit);
        }
    }
    let resources = req.resources?;
    let per_test_estimate = median_estimate(plan).unwrap_or(DEFAULT_PER_TEST_ESTIMATE);
    let decided = default_jobs(resources, per_test_estimate);
    for (phase, from) in plan.phases.iter_mut().zip(&plan.jobs_from) {
        if *from == JobsFrom::Default {
            phase.jobs = decided.jobs;
        }
        // The default estimate is a guess, not knowledge that a test is larger than the
        // machine: such tests are not warned about as over the budget (they still run one
        // at a time, each reserving all of it).
        let usable = resources.memory.usable.unwrap_or(u64::MAX);
        for limits in phase.limits.values_mut().filter(|l| l.estimate_from == EstimateSource::Default) {
            limits.memory_estimate = limits.memory_estimate.min(usable);
        }
    }
    let prefix = format!("jobs {} (", decided.jobs);
    let reason =
        decided.reason.strip_prefix(&prefix).and_then(|r| r.strip_suffix(')')).unwrap_or(&decided.reason);
    Some(JobsChoice { jobs: decided.jobs, reason: reason.to_owned(), per_test_estimate })
}

fn refine_limits(limits: &mut TestLimits, peak: Option<u64>, memory_limit: Option<u64>) {
    if let Some(limit) = memory_limit {
        limits.memory_limit = Some(limit);
        if limits.estimate_from != EstimateSource::History {
            limits.memory_estimate = limit;
            limits.estimate_from = EstimateSource::LimitOverride;
        }
    }
    if let Some(peak) = peak {
        limits.memory_estimate = estimate_from_peak(peak);
        limits.estimate_from = EstimateSource::History;
        limits.batch &= peak <= BATCH_MAX_PEAK;
    }
    // A limit of its own is enforced on its own process.
    limits.batch &= limits.memory_limit.is_none();
    if let Some(limit) = limits.memory_limit {
        limits.memory_estimate = limits.memory_estimate.min(limit);
    }
}

/// Every listed test's largest recent peak RSS, by test index. The list is grouped by
/// binary, so each binary's history is looked up once (per-test lookups in random order
/// showed in profiles of large suites).
fn history_peaks(list: &TestList, history: &History) -> Vec<Option<u64>> {
    let mut current: Option<(usize, Option<&BTreeMap<String, TestHistory>>)> = None;
    let mut peaks = Vec::with_capacity(list.tests.len());
    for case in &list.tests {
        let binary = case.binary.0;
        let tests = match current {
            Some((index, tests)) if index == binary => tests,
            _ => {
                let tests = list.binaries.get(binary).and_then(|b| history.binaries.get(&b.id));
                current = Some((binary, tests));
                tests
            }
        };
        peaks.push(tests.and_then(|t| t.get(&case.name)).and_then(|h| h.peaks.iter().copied().max()));
    }
    peaks
}

/// The median memory estimate of the tests the plan runs.
fn median_estimate(plan: &TestPlan) -> Option<u64> {
    let mut estimates: Vec<u64> = plan
        .phases
        .iter()
        .flat_map(|phase| {
            phase.planned.iter().filter(|p| p.is_run()).filter_map(|p| phase.limits.get(&p.test))
        })
        .map(|l| l.memory_estimate)
        .collect();
    estimates.sort_unstable();
    estimates.get(estimates.len() / 2).copied()
}

fn skip_reason(ignore_reason: Option<&str>) -> String {
    match ignore_reason {
        Some(reason) if !reason.is_empty() => format!("ignored: {reason}"),
        _ => "ignored".to_owned(),
    }
}

/// The selected phases, empty, with their settings resolved.
fn phase_runs(req: &PlanRequest<'_>) -> Vec<(PhaseRun, JobsFrom)> {
    req.selection.phases.iter().map(|&idx| phase_run(req, idx)).collect()
}

fn phase_run(req: &PlanRequest<'_>, idx: PhaseIdx) -> (PhaseRun, JobsFrom) {
    let phase = req.config.plan.phase(idx);
    let (jobs, from) = match (phase.serial, req.jobs_override, phase.jobs) {
        (true, _, _) => (1, JobsFrom::Serial),
        (false, Some(jobs), _) => (jobs, JobsFrom::Override),
        (false, None, Some(jobs)) => (jobs.get(), JobsFrom::Phase),
        (false, None, None) => (req.default_jobs, JobsFrom::Default),
    };
    let needs_gpu = phase.requires.contains(&Requirement::Gpu);
    let run = PhaseRun {
        name: phase.name.clone(),
        planned: Vec::new(),
        jobs: jobs.max(1),
        timeout: req.timeout_override.or(phase.timeout).unwrap_or(req.default_timeout),
        limits: HashMap::new(),
        continue_on_failure: phase.on_failure == OnFailure::Continue,
        unavailable: (needs_gpu && !req.gpu.available)
            .then(|| format!("requires a GPU; none detected ({})", req.gpu.description)),
    };
    (run, from)
}

/// The memory side of a run, decided once: the machine's resources (with `--memory-budget`
/// applied), the cap on cargo's build jobs, and the measured history.
#[derive(Debug)]
pub struct RunMemory {
    /// CPUs and memory (GPUs are not probed here: the GPU status is decided separately).
    pub resources: Resources,
    /// Cargo's build jobs, capped where memory is small.
    pub build_jobs: Option<BuildJobsCap>,
    /// Measured peaks of earlier runs.
    pub history: History,
    /// Where the history is read from and written to.
    pub history_path: Option<Utf8PathBuf>,
    /// The stamp of the history file as read, if it was read whole and unchanged.
    history_stamp: Option<Stamp>,
}

impl RunMemory {
    /// Probes the machine; `budget` is `--memory-budget`, `env_build_jobs` the value of
    /// `CARGO_BUILD_JOBS`.
    pub fn probe(budget: Option<u64>, env_build_jobs: Option<&str>) -> Self {
        let probe =
            Probe { gpu: GpuChoice { mode: GpuOverride::No, ..GpuChoice::default() }, ..Probe::system() };
        let mut resources = probe.run();
        if let Some(budget) = budget {
            resources = resources.with_memory_budget(budget);
        }
        let build_jobs = build_jobs_cap(resources.cpus.count, resources.memory.usable, env_build_jobs);
        RunMemory {
            resources,
            build_jobs,
            history: History::default(),
            history_path: None,
            history_stamp: None,
        }
    }

    /// Reads the history under `target_dir`; an unreadable file is a warning (returned), not
    /// an error: the run goes on without history.
    pub fn load_history(&mut self, target_dir: &Utf8Path) -> Option<String> {
        let loading = Self::start_loading_history(target_dir);
        self.finish_loading_history(loading)
    }

    /// Starts reading the history under `target_dir` on a thread of its own (it is needed
    /// only for planning, after the build and the listing; a large suite's history takes
    /// milliseconds to parse). Finish with [`RunMemory::finish_loading_history`].
    pub fn start_loading_history(target_dir: &Utf8Path) -> HistoryLoad {
        let path = History::path_in(target_dir);
        let file = path.clone();
        let handle = std::thread::spawn(move || History::load_stamped(file.as_std_path()));
        HistoryLoad { path, handle }
    }

    /// Takes the history read in the background; an unreadable file is a warning
    /// (returned): the run goes on without history.
    pub fn finish_loading_history(&mut self, loading: HistoryLoad) -> Option<String> {
        let HistoryLoad { path, handle } = loading;
        self.history_path = Some(path.clone());
        match handle.join() {
            Ok(Ok((history, stamp))) => {
                self.history = history;
                self.history_stamp = stamp;
                None
            }
            Ok(Err(e)) => Some(format!("could not read the test history {path}: {e}")),
            Err(_) => Some(format!("could not read the test history {path}")),
        }
    }

    /// Applies history and `--memory-limit` to `plan` and chooses the default jobs
    /// ([`apply_memory`]); returns the run header's reason for the jobs (`-j 4`, or
    /// `2 CPUs; 3.1 GiB usable / 1 GiB per test`), with the build-jobs cap when there is one.
    pub fn plan(
        &self,
        plan: &mut TestPlan,
        list: &TestList,
        memory_limit: Option<u64>,
        jobs: Option<usize>,
    ) -> String {
        let request =
            MemoryRequest { history: Some(&self.history), memory_limit, resources: Some(&self.resources) };
        let choice = apply_memory(plan, list, &request);
        let mut reason = match (jobs, choice) {
            (Some(jobs), _) => format!("-j {jobs}"),
            (None, Some(choice)) => choice.reason,
            (None, None) => String::new(),
        };
        if let Some(cap) = &self.build_jobs {
            reason.push_str(&format!("; {}", cap.reason));
        }
        reason
    }

    /// The executor's memory options for this machine.
    pub fn execute_options(&self) -> MemoryOptions {
        MemoryOptions::from_resources(&self.resources)
    }

    /// Adds a finished run's measurements (from its report) to the history file.
    ///
    /// The history read at the start is merged into and written back when the file is
    /// unchanged since; it is taken out of `self`.
    ///
    /// `notify` hears about waiting for another run's lock on the history
    /// ([`crate::history::LockNotice`]).
    pub fn save_history(
        &mut self,
        report: &RunReport,
        notify: &mut dyn FnMut(&crate::history::LockNotice),
    ) -> std::io::Result<()> {
        let Some(path) = &self.history_path else { return Ok(()) };
        let known = self.history_stamp.take().map(|stamp| (std::mem::take(&mut self.history), stamp));
        History::update_file_from(path.as_std_path(), &measurements_from_report(report), known, notify)
    }
}

/// The history file being read in the background ([`RunMemory::start_loading_history`]).
#[derive(Debug)]
pub struct HistoryLoad {
    path: Utf8PathBuf,
    handle: std::thread::JoinHandle<std::io::Result<(History, Option<Stamp>)>>,
}

/// The measurements of a run report: every test that ran to an end with a measured peak.
pub fn measurements_from_report(report: &RunReport) -> Vec<Measurement> {
    report
        .tests
        .iter()
        .filter(|t| {
            !matches!(t.status, ReportStatus::Skipped | ReportStatus::NotRun | ReportStatus::Interrupted)
        })
        .filter_map(|t| {
            Some(Measurement {
                binary_id: t.binary_id.clone(),
                name: t.name.clone(),
                peak_rss: t.peak_rss_bytes?,
                duration_secs: t.duration_secs,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
