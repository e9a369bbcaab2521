//! The test plan: every discovered test classified (markers with their sources), assigned
//! to its phase, and decided for this run's selection (run, skip, other phase, deselected,
//! not in plan); the selected phases become [`PhaseRun`]s for the executor.
//!
//! [`build`] makes the plan once, from everything that shapes it ([`PlanRequest`]), in this
//! order: classify and decide every test and give it its limits; apply the focus of earlier
//! runs (`--lf`, `--ff`, `--sw`); keep this shard's part (`--partition`); choose the jobs
//! of phases that do not choose their own from the machine and the planned tests'
//! estimates; start the slowest tests first. The plan is read-only afterwards.
//!
//! Every planned test also gets its [`TestLimits`]: memory estimate and limit, timeout, and
//! whether it runs alone. Precedence, first found wins:
//!
//! | setting | order |
//! |---|---|
//! | jobs | `-j`; the phase's `jobs`; min(CPUs, usable memory / median estimate) of the planned tests (with [`PlanRequest::resources`]); a `serial` phase always runs one test at a time |
//! | timeout | `--timeout`; the phase's `timeout`; the largest `timeout` of the test's markers; the built-in marker timeouts ([`BUILTIN_MARKER_TIMEOUTS`]); [`DEFAULT_TIMEOUT`](crate::execute::DEFAULT_TIMEOUT) |
//! | memory limit | `--memory-limit`; the phase's `memory`; the largest `memory` of its markers; none (the run's default: the budget) |
//! | memory estimate | measured history (peak × 1.25 + 64 MiB); the limit above; the built-in marker estimates ([`BUILTIN_MARKER_ESTIMATES`]); 1 GiB, at most the usable memory — never more than the limit |
//! | isolation | `--isolation process`; the `isolation` of its markers (`process` wins); `--isolation batch`; the phase's `isolation` |
//!
//! A test of a batch phase still gets a process of its own ([`TestLimits::batch`] false)
//! when it needs one ([`needs_process`]): the `serial`, `requires-models` or `requires-gpu`
//! marker, a memory limit of its own (the phase's or its markers' `memory`,
//! `--memory-limit`), or a measured peak RSS above [`BATCH_MAX_PEAK`] (a big test would
//! make its whole batch big). The executor also keeps tests of custom-harness binaries in
//! processes of their own. Each test's limits are decided in one function (`test_limits`).
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

use crate::execute::{EstimateSource, PhaseRun, TestLimits};
use crate::filter::{Action, PlannedTest, TestFilter};
use crate::history::{History, TestHistory, estimate_from_peak};
use crate::model::{ListMethod, TargetKind, TestIdx, TestList};
use crate::partition::{self, Partition, PartitionOutcome, Timings};
use crate::resources::{DEFAULT_PER_TEST_ESTIMATE, GIB, Resources, default_jobs};

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

/// Everything that shapes a plan besides the test list.
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
    /// Jobs and per-test limits of the command line.
    pub limits: PlanLimits,
    /// The machine (with `--memory-budget` applied): phases that do not choose their own
    /// jobs get min(CPUs, usable / median estimate). `None`: they get
    /// [`PlanLimits::default_jobs`].
    pub resources: Option<&'a Resources>,
    /// Measured peaks and durations of earlier runs: memory estimates, tests too big to
    /// share a process, and the slowest-first order.
    pub history: Option<&'a History>,
    /// What earlier runs add to the selection and the order (`--lf`, `--ff`, `--sw`).
    pub focus: Option<&'a Focus>,
    /// `--partition`: keep this shard of every phase, split by these recorded durations.
    pub partition: Option<(Partition, &'a Timings)>,
    /// A profile's `fail-fast = true`: a failed phase stops the run whatever its
    /// `on-failure` says.
    pub stop_every_phase: bool,
    /// Start tests slowest first in phases with more than one job (`order_slowest_first`);
    /// off when the order must hold (`--ff`, `--sw`).
    pub slowest_first: bool,
}

/// Jobs and per-test limits the command line sets, and the defaults below them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanLimits {
    /// Jobs when neither `-j` nor the phase says (and no [`PlanRequest::resources`]).
    pub default_jobs: usize,
    /// `-j`, which overrides the phases' `jobs`.
    pub jobs: Option<usize>,
    /// Timeout when neither `--timeout`, the phase nor the markers say.
    pub default_timeout: Duration,
    /// `--timeout`, which overrides the phases' `timeout`.
    pub timeout: Option<Duration>,
    /// `--isolation`: `process` runs every test in a process of its own; `batch` batches
    /// every phase (tests that need a process of their own still get one).
    pub isolation: Option<Isolation>,
    /// `--memory-limit`, in bytes: every test's limit.
    pub memory_limit: Option<u64>,
}

impl PlanLimits {
    /// `default_jobs` jobs, the built-in timeout, nothing from the command line.
    pub fn with_default_jobs(default_jobs: usize) -> Self {
        PlanLimits {
            default_jobs,
            jobs: None,
            default_timeout: crate::execute::DEFAULT_TIMEOUT,
            timeout: None,
            isolation: None,
            memory_limit: None,
        }
    }
}

impl<'a> PlanRequest<'a> {
    /// A request with nothing but the configuration, the selection and the limits: no
    /// machine, history, focus or partition; slowest-first off.
    pub fn new(
        config: &'a Config,
        selection: &'a Selection,
        names: &'a TestFilter,
        gpu: &'a GpuStatus,
        limits: PlanLimits,
    ) -> Self {
        PlanRequest {
            config,
            selection,
            names,
            gpu,
            limits,
            resources: None,
            history: None,
            focus: None,
            partition: None,
            stop_every_phase: false,
            slowest_first: false,
        }
    }
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
    /// What `--partition` did.
    pub partition: Option<PartitionOutcome>,
    /// The default jobs chosen from the machine (with [`PlanRequest::resources`]).
    pub jobs: Option<JobsChoice>,
}

/// How a phase's `jobs` was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JobsFrom {
    /// `-j`.
    Override,
    /// The phase's `jobs`.
    Phase,
    /// A serial phase: 1.
    Serial,
    /// The default ([`PlanLimits::default_jobs`], or the machine's).
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

/// Builds the plan of a run (see the module docs for the order of its steps).
pub fn build(list: &TestList, req: &PlanRequest<'_>) -> TestPlan {
    let classifications = classify_all(list, req.config);
    let decisions: Vec<Decision> = (0..list.tests.len())
        .zip(&classifications)
        .map(|(i, class)| decide(req, class, list, TestIdx(i)))
        .collect();
    let peaks = req.history.map(|history| history_peaks(list, history));
    let (phases, jobs_from): (Vec<PhaseRun>, Vec<JobsFrom>) = phase_runs(req).into_iter().unzip();
    let mut plan = TestPlan {
        phases,
        not_in_plan: Vec::new(),
        deselected: 0,
        other_phases: 0,
        partition: None,
        jobs: None,
        classifications,
        decisions: Vec::new(),
    };
    for (i, decision) in decisions.iter().enumerate() {
        let test = TestIdx(i);
        let decision = &include_ignored_by_harness(list, req, test, *decision);
        let peak = peaks.as_ref().and_then(|peaks| peaks[i]);
        place(
            &mut plan,
            req,
            Placing { test, decision, peak, reason: list.tests[i].ignore_reason.as_deref() },
        );
    }
    plan.decisions = decisions;
    if let Some(focus) = req.focus {
        plan.deselected += focus.apply(list, &mut plan.phases);
    }
    plan.partition =
        req.partition.map(|(shard, timings)| partition::apply(&mut plan.phases, list, shard, timings));
    plan.jobs = req.resources.map(|resources| choose_jobs(&mut plan.phases, &jobs_from, resources));
    if let (true, Some(history)) = (req.slowest_first, req.history) {
        order_slowest_first(&mut plan.phases, list, history);
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

/// One test to place in the plan.
struct Placing<'p> {
    test: TestIdx,
    decision: &'p Decision,
    /// Its largest recent peak RSS.
    peak: Option<u64>,
    /// Its ignore reason.
    reason: Option<&'p str>,
}

/// Puts one test where its decision says.
fn place(plan: &mut TestPlan, req: &PlanRequest<'_>, placing: Placing<'_>) {
    let Placing { test, decision, peak, reason } = placing;
    let (phase, action) = match *decision {
        Decision::Run { phase, ignored } => (phase, Action::Run { ignored }),
        Decision::SkipIgnored { phase } => (phase, Action::Skip { reason: skip_reason(reason) }),
        Decision::OtherPhase { .. } => return plan.other_phases += 1,
        Decision::Deselected => return plan.deselected += 1,
        Decision::NotInPlan => return plan.not_in_plan.push(test),
    };
    let position = req.selection.phases.iter().position(|p| *p == phase);
    if let Some(pos) = position {
        let markers = &plan.classifications[test.0].markers;
        let limits = test_limits(req, req.config.plan.phase(phase), markers, peak);
        plan.phases[pos].limits.insert(test, limits);
        plan.phases[pos].planned.push(PlannedTest { test, action });
    }
}

/// A test's limits (see the module docs for the precedence): from the command line, its
/// phase, its markers and its measured `peak`.
fn test_limits(req: &PlanRequest<'_>, phase: &Phase, markers: &MarkerSet, peak: Option<u64>) -> TestLimits {
    let configured = req.config.registry.limits_for(markers);
    let has = |name: &str| markers.iter().any(|m| m.as_str() == name);
    let builtin_timeout = BUILTIN_MARKER_TIMEOUTS.iter().filter(|(m, _)| has(m)).map(|&(_, t)| t).max();
    let builtin_estimate = BUILTIN_MARKER_ESTIMATES.iter().filter(|(m, _)| has(m)).map(|&(_, b)| b).max();
    let timeout = req
        .limits
        .timeout
        .or(phase.timeout)
        .or(configured.timeout)
        .or(builtin_timeout)
        .unwrap_or(req.limits.default_timeout);
    let (memory_limit, limit_from) = match (req.limits.memory_limit, phase.memory, configured.memory) {
        (Some(limit), _, _) => (Some(limit), EstimateSource::LimitOverride),
        (None, Some(phase), _) => (Some(phase.bytes()), EstimateSource::Phase),
        (None, None, Some(marker)) => (Some(marker.bytes()), EstimateSource::Marker),
        (None, None, None) => (None, EstimateSource::Default),
    };
    let (estimate, estimate_from) = match (peak, memory_limit, builtin_estimate) {
        (Some(peak), _, _) => (estimate_from_peak(peak), EstimateSource::History),
        (None, Some(limit), _) => (limit, limit_from),
        (None, None, Some(estimate)) => (estimate, EstimateSource::Marker),
        (None, None, None) => (DEFAULT_PER_TEST_ESTIMATE, EstimateSource::Default),
    };
    let isolation = match (req.limits.isolation, configured.isolation) {
        (Some(Isolation::Process), _) => Isolation::Process,
        (_, Some(marker)) => marker,
        (Some(Isolation::Batch), None) => Isolation::Batch,
        (None, None) => phase.isolation,
    };
    TestLimits {
        memory_estimate: memory_limit.map_or(estimate, |limit| estimate.min(limit)),
        estimate_from,
        memory_limit,
        timeout,
        serial: has(builtin::SERIAL),
        batch: isolation == Isolation::Batch && !needs_process(markers, memory_limit, peak),
    }
}

/// Whether a test needs a process of its own, even in a batch phase: a marker that says so
/// ([`PROCESS_MARKERS`]), a memory limit of its own (enforced on its own process), or a
/// measured peak above [`BATCH_MAX_PEAK`].
pub fn needs_process(markers: &MarkerSet, memory_limit: Option<u64>, peak: Option<u64>) -> bool {
    let marked = markers.iter().any(|m| PROCESS_MARKERS.contains(&m.as_str()));
    marked || memory_limit.is_some() || peak.is_some_and(|peak| peak > BATCH_MAX_PEAK)
}

/// Slowest first: in every phase run by more than one job, tests start in descending order
/// of their recorded duration (`history`), so a long test does not start last and hold the
/// phase up alone. Tests that may share a process sort by the slowest of their binary's in
/// the phase (their batch starts where its first member is planned, members in their planned
/// order); tests without a recorded duration keep their order after the others. With one
/// job the order cannot change the wall time, and is kept.
fn order_slowest_first(phases: &mut [PhaseRun], list: &TestList, history: &History) {
    let recorded = |test: TestIdx| {
        history.get(&list.binary_of(test).id, &list.test(test).name).map_or(0.0, |h| h.duration_secs)
    };
    for phase in phases.iter_mut().filter(|p| p.jobs > 1) {
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

/// Sets the jobs of phases that did not choose their own to min(CPUs, usable / median
/// estimate of the planned tests), and lowers default estimates (nothing known) to the
/// usable memory.
fn choose_jobs(phases: &mut [PhaseRun], jobs_from: &[JobsFrom], resources: &Resources) -> JobsChoice {
    let per_test_estimate = median_estimate(phases).unwrap_or(DEFAULT_PER_TEST_ESTIMATE);
    let decided = default_jobs(resources, per_test_estimate);
    for (phase, from) in phases.iter_mut().zip(jobs_from) {
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
    JobsChoice { jobs: decided.jobs, reason: reason.to_owned(), per_test_estimate }
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
fn median_estimate(phases: &[PhaseRun]) -> Option<u64> {
    let mut estimates: Vec<u64> = phases
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
    let (jobs, from) = match (phase.serial, req.limits.jobs, phase.jobs) {
        (true, _, _) => (1, JobsFrom::Serial),
        (false, Some(jobs), _) => (jobs, JobsFrom::Override),
        (false, None, Some(jobs)) => (jobs.get(), JobsFrom::Phase),
        (false, None, None) => (req.limits.default_jobs, JobsFrom::Default),
    };
    let needs_gpu = phase.requires.contains(&Requirement::Gpu);
    let run = PhaseRun {
        name: phase.name.clone(),
        planned: Vec::new(),
        jobs: jobs.max(1),
        timeout: req.limits.timeout.or(phase.timeout).unwrap_or(req.limits.default_timeout),
        limits: HashMap::new(),
        continue_on_failure: phase.on_failure == OnFailure::Continue && !req.stop_every_phase,
        unavailable: (needs_gpu && !req.gpu.available)
            .then(|| format!("requires a GPU; none detected ({})", req.gpu.description)),
    };
    (run, from)
}

#[cfg(test)]
mod tests;
