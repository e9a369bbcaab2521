//! The executor: runs planned tests, `jobs` at once, each in its own process group (or in
//! batches: chunks of a binary's tests, a phase's doctests in one process), enforces
//! timeouts, captures bounded output, reacts to cancellation, and reports everything as
//! [`Event`]s. It never prints, and it never builds: how each binary runs is a command
//! discovery decided ([`crate::model::RunCommand`]), to which it adds the test selection.
//!
//! The pieces, from policy down to the platform:
//! - `job`: the planned tests become jobs — one process each, with what it occupies
//!   (`Demand`: slots, a memory estimate, whether it runs alone) and its kind, a module
//!   each (one test, a libtest batch, a doctest batch), which answers every question the
//!   scheduler has about it and reads its results;
//! - `running`: a started job's named states (running, stopping, exited);
//! - `admission`: which jobs may run together — slots, the memory budget, tests that run
//!   alone;
//! - `memory`: the memory guard's policy — live memory thresholds, per-test limits, which
//!   test to stop when memory runs out (see docs/memory.md);
//! - `scheduler`: the coordinator loop that admits jobs in planned order (phases as lanes,
//!   doctest batches of later phases in the background), watches memory, enforces timeouts
//!   and memory limits, retries, fail-fast and Ctrl-C; `scheduler::settle` says what an
//!   ended process comes to (results, re-runs) as a value the scheduler applies;
//! - `emit`: the events, the totals, exactly one `TestFinished` per test, and the events of
//!   phases running ahead held until their turn;
//! - `process`: spawning, the output reader and the `wait4` waiter threads;
//! - `batch`: the parser of libtest's text output for batches;
//! - `resolve`: how an exit (and the runner's own kills) becomes a status;
//! - `error`: why a job could not start, or its process could not be waited for;
//! - [`crate::platform`]: `wait4`, process-group signals, signal names.
//!
//! Batches: tests that may share a process ([`TestLimits::batch`]) run in libtest batches,
//! `BIN --exact A B C --test-threads 1`: one process per chunk of a binary's tests, a slot
//! each; libtest prints each test's start and result, so every test still gets its own
//! result and duration (start line to result), and a crash or timeout is put on the
//! running test by re-running it alone. Peak RSS is per process, so batch members have
//! none (`peak_rss: None`). Doctests run in batches through the test list's doctest command
//! (`cargo test --doc`, from discovery); a doctest's
//! duration is the time since the previous result of its batch. docs/running.md has the
//! whole story.

mod admission;
mod batch;
mod emit;
mod error;
mod job;
mod memory;
mod process;
mod resolve;
mod running;
mod scheduler;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cancel::CancelToken;
use crate::events::{Event, RunStats, StopReason, TestResult, TestStatus};
use crate::filter::{Action, PlannedTest};
use crate::model::{TestIdx, TestList};
use crate::resources::{DEFAULT_PER_TEST_ESTIMATE, MemorySample, MemoryWatch, Resources, SampleMemory};
use emit::Emitter;
use scheduler::Scheduler;

/// Default hard timeout per test.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Time between SIGTERM and SIGKILL when a test is stopped.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(2);

pub(crate) use job::doctest::{doc_crate_name, doc_member_key};
pub use memory::{ADMIT_STOP_FRACTION, FAST_WATCH_FRACTION, STOP_FRACTION, TICK, TICK_FAST};

/// What one test may use and how it runs, decided by the planner (see [`crate::plan`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TestLimits {
    /// Memory the scheduler reserves from the budget while it runs, in bytes.
    pub memory_estimate: u64,
    /// Where that estimate came from.
    pub estimate_from: EstimateSource,
    /// Its process tree is killed past this many bytes ("memory limit exceeded"); `None`:
    /// the run's default limit ([`MemoryOptions::default_limit`]).
    pub memory_limit: Option<u64>,
    /// Hard timeout.
    pub timeout: Duration,
    /// Runs alone (the `serial` marker): nothing else runs while it does.
    pub serial: bool,
    /// May share a libtest process with other tests of its binary (a batch phase, and
    /// nothing that needs a process of its own; see [`crate::plan`]).
    pub batch: bool,
}

impl TestLimits {
    /// The estimate of a test nothing is known about ([`DEFAULT_PER_TEST_ESTIMATE`]).
    pub const DEFAULT_ESTIMATE: u64 = DEFAULT_PER_TEST_ESTIMATE;

    /// The default estimate, no limit of its own, not serial, a process of its own.
    pub fn with_timeout(timeout: Duration) -> Self {
        TestLimits {
            memory_estimate: Self::DEFAULT_ESTIMATE,
            estimate_from: EstimateSource::Default,
            memory_limit: None,
            timeout,
            serial: false,
            batch: false,
        }
    }
}

/// Where a test's memory estimate came from, most trusted first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EstimateSource {
    /// Its own measured peak RSS from earlier runs, with headroom.
    History,
    /// `--memory-limit` (an estimate never exceeds the limit).
    LimitOverride,
    /// Its phase's `memory`.
    Phase,
    /// Its markers' `memory` (configured, or a built-in default such as requires-models').
    Marker,
    /// Nothing known: [`DEFAULT_PER_TEST_ESTIMATE`].
    Default,
}

/// Memory-aware scheduling; see docs/memory.md. The default does nothing memory-aware.
#[derive(Clone, Debug, Default)]
pub struct MemoryOptions {
    /// What the estimates of the running tests may add up to (usable memory, or
    /// `--memory-budget`); `None`: no memory admission.
    pub budget: Option<u64>,
    /// The memory limit of tests without one of their own; `None`: none.
    pub default_limit: Option<u64>,
    /// Live memory (the runner's cgroup, or the machine): admission pauses and tests are
    /// stopped and re-run alone when it runs out. `None`: no live watch.
    pub live: Option<LiveMemory>,
}

impl MemoryOptions {
    /// The defaults for a machine: budget and default limit = its usable memory; the live
    /// watch of the runner's cgroup (when it has a limit) and of `/proc/meminfo`.
    pub fn from_resources(resources: &Resources) -> Self {
        let budget = resources.memory.usable;
        let live = MemoryWatch::system(&resources.memory).map(LiveMemory::new);
        MemoryOptions { budget, default_limit: budget, live }
    }
}

/// A shared source of live memory samples ([`crate::resources::MemoryWatch`], or a script
/// in tests).
#[derive(Clone)]
pub struct LiveMemory(Arc<Mutex<dyn SampleMemory + Send>>);

impl LiveMemory {
    /// Wraps a sampler.
    pub fn new(sampler: impl SampleMemory + Send + 'static) -> Self {
        LiveMemory(Arc::new(Mutex::new(sampler)))
    }

    /// The current sample, if any could be read.
    pub fn sample(&self) -> Option<MemorySample> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).sample()
    }
}

impl std::fmt::Debug for LiveMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveMemory")
    }
}

/// How to execute.
#[derive(Clone, Debug)]
pub struct ExecuteOptions {
    /// Stop starting tests after `max_fail` failures.
    pub fail_fast: bool,
    /// With `fail_fast`: the failures (of the whole run) after which no more tests start
    /// (`--max-fail N`; 1 by default). 0 counts as 1.
    pub max_fail: usize,
    /// `--no-capture`: single-test processes write to the runner's stdout and stderr as they
    /// run, uncaptured (batches stay captured: their results are read from their output).
    pub no_capture: bool,
    /// SIGTERM → SIGKILL grace period.
    pub kill_grace: Duration,
    /// Bytes of output kept from the start and the end of each test.
    pub output_head: usize,
    /// See `output_head`.
    pub output_tail: usize,
    /// Memory budget, default limit and live watch.
    pub memory: MemoryOptions,
    /// Times a failed test is run again (`--retries`); one that then passes is flaky.
    pub retries: u32,
    /// A cgroup per job, when the run has one ([`crate::platform::containment`]).
    pub containment: Option<std::sync::Arc<crate::platform::containment::Containment>>,
    /// A running test is reported slow (`Event::TestSlow`) after this long, and at each
    /// multiple; `None`: never.
    pub slow_after: Option<Duration>,
    /// Variables added to the environment of every process of phase `i` (its tests, its
    /// doctest batches): `--coverage`'s `LLVM_PROFILE_FILE`. Phases past the end get none.
    pub phase_env: Vec<Vec<(String, String)>>,
}

/// One phase of a plan, ready to execute.
#[derive(Clone, Debug)]
pub struct PhaseRun {
    /// Phase name.
    pub name: String,
    /// Its tests, in the order to start them.
    pub planned: Vec<PlannedTest>,
    /// Tests at once in this phase (1 for a serial phase).
    pub jobs: usize,
    /// Hard timeout per test in this phase, for tests without `limits` (and the watchdog of
    /// doctest batches).
    pub timeout: Duration,
    /// Per-test memory estimates, limits, timeouts and seriality; a test missing here gets
    /// the default estimate and the phase's timeout.
    pub limits: HashMap<TestIdx, TestLimits>,
    /// Later phases run even when this one fails (`on-failure = "continue"`).
    pub continue_on_failure: bool,
    /// Set when the phase cannot run here (a missing requirement such as a GPU): its tests
    /// are reported skipped with this reason.
    pub unavailable: Option<String>,
}

/// Runs a phased plan: phases in order, each with its own jobs and timeout. A failed phase
/// stops the later ones (their tests are reported not run) unless fail-fast is off or the
/// phase says continue. Events: `RunStarted`, then per phase `PhaseStarted` … `PhaseFinished`
/// (or `PhaseSkipped` followed by its tests' results), then `RunFinished`.
///
/// Doctest batches of later phases start at the beginning, in the background (see
/// [`scheduler`]); their events are reported in their phase, as if it had run in turn.
pub fn execute_phases(
    list: &TestList,
    phases: &[PhaseRun],
    opts: &ExecuteOptions,
    cancel: &CancelToken,
    sink: &mut dyn FnMut(&Event),
) -> RunStats {
    let started = Instant::now();
    let total = phases.iter().map(|p| p.planned.len()).sum();
    let all: Vec<PlannedTest> = phases.iter().flat_map(|p| p.planned.iter().cloned()).collect();
    let mut emit = Emitter::new(sink, total);
    let jobs = phases.iter().map(|p| p.jobs).max().unwrap_or(1).max(1);
    emit.event(&Event::RunStarted { tests: total, binaries: count_binaries(list, &all), jobs });
    let mut sched = Scheduler::new(jobs, opts, cancel, &mut emit);
    add_lanes(&mut sched, list, phases, &opts.phase_env);
    let mut halted: Option<(StopReason, String)> = None;
    for (index, phase) in phases.iter().enumerate() {
        if halted.is_none() && cancel.is_cancelled() {
            halted = Some((StopReason::Interrupted, "interrupted".to_owned()));
            sched.abandon_lanes_from(index);
        }
        let emit = sched.emitter();
        if let Some((reason, why)) = &halted {
            skip_phase(index, phase, why, TestStatus::NotRun { reason: *reason }, emit);
            continue;
        }
        if phase.planned.is_empty() {
            let name = phase.name.clone();
            let reason = "no tests selected".to_owned();
            emit.event(&Event::PhaseSkipped { index, name, tests: 0, reason });
            continue;
        }
        if let Some(why) = &phase.unavailable {
            skip_phase(index, phase, why, TestStatus::Skipped { reason: why.clone() }, emit);
            continue;
        }
        let phase_stats = run_phase(index, phase, &mut sched);
        let max_failed = sched.emitter().stats().failures() >= opts.max_fail.max(1);
        if phase_stats.failures() > 0 && max_failed && opts.fail_fast && !phase.continue_on_failure {
            halted = Some((StopReason::FailFast, format!("phase '{}' failed", phase.name)));
            sched.abandon_lanes_from(index + 1);
        }
    }
    sched.finish();
    let stopped =
        halted.map(|(reason, _)| reason).or(cancel.is_cancelled().then_some(StopReason::Interrupted));
    let stats = emit.stats().clone();
    emit.event(&Event::RunFinished { stats: stats.clone(), duration: started.elapsed(), stopped });
    stats
}

/// One lane per phase, in order (empty for phases that will not run). Doctest batches of
/// phases after the first that runs may start in the background.
fn add_lanes(
    sched: &mut Scheduler<'_, '_>,
    list: &TestList,
    phases: &[PhaseRun],
    env: &[Vec<(String, String)>],
) {
    let mut earlier_runs = false;
    for (index, phase) in phases.iter().enumerate() {
        let runs = !phase.planned.is_empty() && phase.unavailable.is_none();
        let mut jobs = Vec::new();
        if runs {
            let limits = |test: TestIdx| {
                phase.limits.get(&test).copied().unwrap_or(TestLimits::with_timeout(phase.timeout))
            };
            jobs = job::plan_jobs(list, &phase.planned, phase.jobs.max(1), phase.timeout, &limits);
            for job in jobs.iter_mut().filter(|j| j.rules().may_run_early()) {
                job.background = earlier_runs;
            }
            if let Some(env) = env.get(index).filter(|env| !env.is_empty()) {
                jobs.iter_mut().for_each(|job| job.add_env(env));
            }
        }
        earlier_runs |= runs;
        sched.add_lane(phase.jobs, jobs);
    }
}

fn skip_phase(index: usize, phase: &PhaseRun, why: &str, status: TestStatus, emit: &mut Emitter<'_>) {
    let name = phase.name.clone();
    emit.event(&Event::PhaseSkipped { index, name, tests: phase.planned.len(), reason: why.to_owned() });
    for p in &phase.planned {
        let status = match &p.action {
            Action::Skip { reason } if matches!(status, TestStatus::Skipped { .. }) => {
                TestStatus::Skipped { reason: reason.clone() }
            }
            _ => status.clone(),
        };
        emit.finished(p.test, TestResult::not_started(status));
    }
}

fn run_phase(index: usize, phase: &PhaseRun, sched: &mut Scheduler<'_, '_>) -> RunStats {
    let started = Instant::now();
    let emit = sched.emitter();
    let before = emit.stats().clone();
    let jobs = phase.jobs.max(1);
    let name = phase.name.clone();
    emit.event(&Event::PhaseStarted { index, name: name.clone(), tests: phase.planned.len(), jobs });
    report_skips(&phase.planned, emit);
    let stopped = sched.run_lane(index);
    // A phase lasts from its first test's start to its last test's end: a phase whose
    // doctests ran in the background began with them, and may have ended long before it is
    // reported (docs/running.md#phase-durations).
    let began = sched.lane_started_at(index).map_or(started, |at| at.min(started));
    let ended = sched.lane_ended_at(index).unwrap_or_else(Instant::now);
    let emit = sched.emitter();
    report_unfinished(&phase.planned, stopped, emit);
    let mut stats = emit.stats().since(&before);
    stats.total = phase.planned.len();
    emit.event(&Event::PhaseFinished {
        index,
        name,
        stats: stats.clone(),
        duration: ended.saturating_duration_since(began),
        stopped,
    });
    stats
}

/// [`execute_phases`] for tests of the executor itself: `planned` as one phase (`all`) of
/// `jobs` slots, every test with `timeout` and default limits.
#[cfg(test)]
fn execute_with(
    list: &TestList,
    (planned, jobs, timeout): (&[PlannedTest], usize, Duration),
    opts: &ExecuteOptions,
    cancel: &CancelToken,
    sink: &mut dyn FnMut(&Event),
) -> RunStats {
    let phase = PhaseRun {
        name: "all".to_owned(),
        planned: planned.to_vec(),
        jobs: jobs.max(1),
        timeout,
        limits: HashMap::new(),
        continue_on_failure: false,
        unavailable: None,
    };
    execute_phases(list, &[phase], opts, cancel, sink)
}

fn count_binaries(list: &TestList, planned: &[PlannedTest]) -> usize {
    planned.iter().map(|p| list.test(p.test).binary).collect::<HashSet<_>>().len()
}

/// Skips and cached results are known before anything runs: report them first. A cached
/// result is a test that starts and finishes at once (the plan took it from the doctest
/// result cache; the executor only reports it).
fn report_skips(planned: &[PlannedTest], emit: &mut Emitter<'_>) {
    for p in planned {
        match &p.action {
            Action::Skip { reason } => {
                emit.finished(p.test, TestResult::not_started(TestStatus::Skipped { reason: reason.clone() }))
            }
            Action::Cached { ignored } => {
                emit.event(&Event::TestStarted { test: p.test });
                emit.finished(p.test, TestResult::from_cache(*ignored));
            }
            Action::Run { .. } => {}
        }
    }
}

/// A safety net for the "exactly one `TestFinished`" promise: the scheduler reports every
/// test, so this only fires on a bug, and then reporters still see every test.
fn report_unfinished(planned: &[PlannedTest], stopped: Option<StopReason>, emit: &mut Emitter<'_>) {
    for p in planned {
        if !emit.has_finished(p.test) {
            debug_assert!(false, "test {:?} got no result", p.test);
            emit.not_run(p.test, stopped.unwrap_or(StopReason::Interrupted));
        }
    }
}
