//! Jobs: the unit the scheduler admits and starts. A job is one process — one test (its
//! exit status is its result) or a batch of tests reporting in libtest's text output —
//! with the resources it occupies while it runs: job slots, the memory estimate the budget
//! reserves for it, and whether it must run alone.
//!
//! A job's kind answers every question the scheduler has about it ([`Rules`]); each kind
//! is a module of its own:
//! - [`single`]: one test per process, `BIN --exact NAME`; its exit status is its result;
//! - [`libtest`]: `BIN --exact A B C ... --test-threads 1`, a chunk of one binary's tests
//!   that may share a process ([`super::TestLimits::batch`]) — or, for a custom harness
//!   that lists like libtest, its whole binary; one slot, the tests run one after another;
//! - [`doctest`]: a phase's doctests, of every selected library, through the test list's
//!   doctest command (one `cargo test --doc`, decided by discovery), on as many threads
//!   (and slots) as the phase's jobs allow.
//!
//! How planned tests become jobs is [`plan`].

pub(crate) mod doctest;
pub(crate) mod libtest;
pub(crate) mod plan;
pub(crate) mod single;
#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use super::MemoryOptions;
use super::batch::BatchParser;
use super::error::StartError;
use super::running::{BatchProgress, Running};
use super::scheduler::settle::{SettleContext, Settled};
use crate::model::{RunCommand, TestIdx};

pub(crate) use plan::plan_jobs;

/// Identifies a job within one run (unique among the scheduler's jobs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct JobId(pub usize);

/// What a job occupies while it runs. Admission checks it against what is free.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Demand {
    /// Job slots (`-j` units): 1 for a test process or a libtest batch, the thread count
    /// for a doctest batch.
    pub slots: usize,
    /// Memory estimate in bytes, reserved from the budget while it runs.
    pub memory: u64,
    /// Runs alone: starts only when nothing else runs, and nothing starts beside it.
    pub exclusive: bool,
}

impl Demand {
    /// One slot, `memory` bytes, not exclusive.
    pub fn single(memory: u64) -> Self {
        Demand { slots: 1, memory, exclusive: false }
    }
}

/// One test of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BatchMember {
    /// Its name as the harness prints it.
    pub name: String,
    /// `#[ignore]`d, selected to run.
    pub ignored: bool,
    /// Its own timeout (libtest batches: the watchdog of the running test).
    pub timeout: Duration,
    /// Its memory estimate.
    pub memory: u64,
    /// Of a libtest binary (`false`: a custom harness, which gets only the arguments
    /// `cargo test` would give it).
    pub libtest: bool,
}

/// The questions the scheduler asks of a job's kind. Each kind answers them in its own
/// module; the scheduler never branches on the kind. The provided answers are those of a
/// plain process whose exit is its result: a kind states only where it differs.
pub(crate) trait Rules {
    /// Its tests run one after another in one process, and its output says which one
    /// runs: their starts come from the output (otherwise all of them start with the
    /// process), and a stop for memory pressure re-runs only the running test, as the
    /// kind's [`Rules::settle`] decides (otherwise the whole job runs again alone).
    fn sequential(&self) -> bool {
        false
    }

    /// It may start before its phase, in the background (see [`super::scheduler`]).
    fn may_run_early(&self) -> bool {
        false
    }

    /// With `--no-capture` its output goes to the terminal (its results are not read
    /// from it).
    fn may_inherit_output(&self) -> bool {
        false
    }

    /// The memory guard may stop it to run it (or its running test) again alone.
    fn stoppable_for_pressure(&self) -> bool {
        true
    }

    /// The parser of its output, when its results are read from it.
    fn parser(&self, _head: usize, _tail: usize) -> Option<BatchParser> {
        None
    }

    /// What is tracked of its tests while it runs, from its start at `at`.
    fn progress(&self, _at: Instant) -> Option<BatchProgress> {
        None
    }

    /// The test whose own running time is known, as a position in the job, and since
    /// when (`None`: the job's start).
    fn timed_member(&self, _progress: Option<&BatchProgress>) -> Option<(usize, Option<Instant>)> {
        None
    }

    /// The timeout that runs now, and when it started counting (`None`: at the job's
    /// latest activity).
    fn current_timeout(&self, job: &Job, _progress: Option<&BatchProgress>) -> (Duration, Option<Instant>) {
        (job.timeout, None)
    }

    /// The memory limit it runs under (the memory guard's, and its cgroup's), given its
    /// own.
    fn memory_limit(&self, own: Option<u64>, memory: &MemoryOptions) -> Option<u64>;

    /// Its tests' results, or what runs again, once its process has ended.
    fn settle(&self, running: &mut Running, ctx: &SettleContext) -> Settled;
}

/// How a job's output and exit status map to test results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum JobKind {
    /// One test per process.
    Single(single::Single),
    /// A sequential libtest batch.
    Libtest(libtest::LibtestBatch),
    /// A doctest batch.
    Doctest(doctest::DoctestBatch),
}

impl JobKind {
    /// The kind's answers: the only place the kind is matched on (tests aside).
    pub fn rules(&self) -> &dyn Rules {
        match self {
            JobKind::Single(single) => single,
            JobKind::Libtest(batch) => batch,
            JobKind::Doctest(batch) => batch,
        }
    }
}

/// One process to run and the tests it decides.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    /// Its id.
    pub id: JobId,
    /// The tests whose results it produces, in planned order.
    pub tests: Vec<TestIdx>,
    /// What it occupies.
    pub demand: Demand,
    /// How results are read.
    pub kind: JobKind,
    /// The process, or why none can be started.
    pub command: Result<RunCommand, StartError>,
    /// Kill it when it makes no progress for this long (for a doctest batch: no result;
    /// for a libtest batch: between tests — a running test has its member timeout).
    pub timeout: Duration,
    /// Kill its process group when its tree RSS passes this many bytes; `None`: the run's
    /// default limit (doctest batches: none).
    pub memory_limit: Option<u64>,
    /// Which attempt this is (1 for the first run; `--retries` adds more).
    pub attempt: u32,
    /// Re-queued to run alone after a stop for memory pressure: it is not stopped for
    /// pressure again.
    pub alone: bool,
    /// The phase (the scheduler's lane) it belongs to.
    pub lane: usize,
    /// May start before its phase, at a lower CPU priority (doctest batches of later
    /// phases; see [`super::scheduler`]).
    pub background: bool,
    /// What its one test is reported as if its phase stops before it starts: a batch member
    /// libtest already reported failed, queued alone only for its lost output, is failed,
    /// not `not run`. `None`: not run.
    pub if_stopped: Option<Box<crate::events::TestResult>>,
}

impl Job {
    /// A first attempt of `tests`, in lane 0 (the scheduler assigns ids and lanes).
    pub fn new(
        tests: Vec<TestIdx>,
        demand: Demand,
        kind: JobKind,
        command: Result<RunCommand, StartError>,
    ) -> Self {
        Job {
            id: JobId(0),
            tests,
            demand,
            kind,
            command,
            timeout: Duration::ZERO,
            memory_limit: None,
            attempt: 1,
            alone: false,
            lane: 0,
            background: false,
            if_stopped: None,
        }
    }

    /// The kind's answers.
    pub fn rules(&self) -> &dyn Rules {
        self.kind.rules()
    }

    /// Adds `env` to its process's environment, after its binary's own variables (so these
    /// win): a phase's variables (`ExecuteOptions::phase_env`).
    pub fn add_env(&mut self, env: &[(String, String)]) {
        if let Ok(command) = &mut self.command {
            let mut vars = command.env.as_ref().clone();
            vars.extend(env.iter().cloned());
            command.env = std::sync::Arc::new(vars);
        }
    }

    /// Whether the memory guard may stop it to re-run it alone: its kind allows it, and it
    /// does not run alone already.
    pub fn stoppable_for_pressure(&self) -> bool {
        self.rules().stoppable_for_pressure() && !self.alone && !self.demand.exclusive
    }

    /// The same job to run alone, with the whole budget, after a stop for memory pressure:
    /// it is not stopped for pressure again.
    pub fn run_alone(mut self) -> Job {
        self.alone = true;
        self.demand.exclusive = true;
        self
    }

    /// The next attempt of the same job (`--retries`).
    pub fn next_attempt(mut self) -> Job {
        self.attempt += 1;
        self
    }
}
