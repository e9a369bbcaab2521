//! The event stream: the executor's only output. Reporters (progress, summaries, JSON,
//! JUnit, ...) consume it; nothing in the executor prints.

use std::time::Duration;

use crate::model::TestIdx;
use crate::output::CapturedOutput;

/// Why the executor stopped starting tests early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// A test failed and fail-fast is on.
    FailFast,
    /// SIGINT/SIGTERM (Ctrl-C) was received.
    Interrupted,
}

/// Outcome of one test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestStatus {
    /// Exit code 0 (libtest decided, so `#[should_panic]` is handled).
    Passed,
    /// Non-zero exit code (a failed assertion or panic).
    Failed {
        /// The exit code, when the process exited normally.
        exit_code: Option<i32>,
    },
    /// Killed by a signal it did not get from us (SIGSEGV, SIGABRT, ...).
    Crashed {
        /// Signal number.
        signal: i32,
    },
    /// Killed by the runner at its timeout.
    TimedOut {
        /// The timeout that expired.
        after: Duration,
    },
    /// Killed by the runner because its process tree passed its memory limit while running
    /// alone (a test stopped to protect the machine is re-run alone first, not reported).
    MemoryExceeded {
        /// Peak memory observed, in bytes.
        peak: u64,
        /// The limit, in bytes.
        limit: u64,
    },
    /// Not run, with the reason (e.g. `ignored`, `ignored: needs network`).
    Skipped {
        /// Human-readable reason.
        reason: String,
    },
    /// Running when the run was interrupted (Ctrl-C, SIGTERM): the runner killed it before
    /// it could end on its own. Not a failure, and not `NotRun` either: it had started.
    Interrupted,
    /// Never started because the run stopped (fail-fast or Ctrl-C).
    NotRun {
        /// Why.
        reason: StopReason,
    },
}

impl TestStatus {
    /// Whether this status makes the run fail.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            TestStatus::Failed { .. }
                | TestStatus::Crashed { .. }
                | TestStatus::TimedOut { .. }
                | TestStatus::MemoryExceeded { .. }
        )
    }

    /// Short lower-case label (`passed`, `failed`, `crashed`, `timed out`, ...).
    pub fn label(&self) -> &'static str {
        match self {
            TestStatus::Passed => "passed",
            TestStatus::Failed { .. } => "failed",
            TestStatus::Crashed { .. } => "crashed",
            TestStatus::TimedOut { .. } => "timed out",
            TestStatus::MemoryExceeded { .. } => "memory limit exceeded",
            TestStatus::Skipped { .. } => "skipped",
            TestStatus::Interrupted => "interrupted",
            TestStatus::NotRun { .. } => "not run",
        }
    }
}

/// The full result of one test.
#[derive(Clone, Debug)]
pub struct TestResult {
    /// Outcome.
    pub status: TestStatus,
    /// Wall time (zero for tests that did not run). For tests run in a batch (doctests),
    /// the time since the previous result of the batch.
    pub duration: Duration,
    /// Peak resident set size of the test's process (and the children it waited for), in
    /// bytes; `None` when not measured (skipped tests, batch members).
    pub peak_rss: Option<u64>,
    /// Captured stdout and stderr, interleaved, bounded.
    pub output: CapturedOutput,
    /// Processes of the test's process group still alive after it exited (they were killed).
    pub leaked_processes: bool,
    /// Times the test was run (`--retries`): 1 normally, 0 when it never ran. A re-run alone
    /// after a stop for memory pressure is not an attempt of its own.
    pub attempts: u32,
    /// The result came from the doctest result cache: the test did not run this time (the
    /// plan said so, [`crate::filter::Action::Cached`]); its duration is zero.
    pub cached: bool,
}

impl TestResult {
    /// A result for a test that never ran.
    pub fn not_started(status: TestStatus) -> Self {
        TestResult {
            status,
            duration: Duration::ZERO,
            peak_rss: None,
            output: CapturedOutput::default(),
            leaked_processes: false,
            attempts: 0,
            cached: false,
        }
    }

    /// The result of a doctest the plan took from the result cache: passed, or skipped as
    /// `ignored` when it was ignored in the run the result was stored from.
    pub fn from_cache(ignored: bool) -> Self {
        let status = match ignored {
            true => TestStatus::Skipped { reason: "ignored".to_owned() },
            false => TestStatus::Passed,
        };
        TestResult { cached: true, ..TestResult::not_started(status) }
    }

    /// Passed, but only after failing first (nextest's meaning of flaky).
    pub fn is_flaky(&self) -> bool {
        self.status == TestStatus::Passed && self.attempts > 1
    }
}

/// Why a test that started goes back into the queue instead of getting its result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reschedule {
    /// The runner stopped it (SIGKILL) because memory neared its limit while other tests
    /// ran: it runs again alone, with the whole budget, before anything is reported.
    MemoryPressure {
        /// Memory in use when it was stopped, in bytes.
        used: u64,
        /// The limit that memory was nearing (the runner's cgroup, or the machine), in bytes.
        limit: u64,
    },
    /// It ran in a batch (many tests in one process) whose process ended while it ran —
    /// crashed, timed out, stopped at the memory limit — or without its complete result:
    /// it runs again in a process of its own, so the status it gets is its own.
    Isolated {
        /// What happened to the batch process (`its batch process crashed (SIGSEGV)`).
        cause: String,
    },
    /// It failed and `--retries` allows another attempt.
    Retry {
        /// The attempt that failed (1 for the first run).
        attempt: u32,
        /// Attempts allowed in all (retries + 1).
        max_attempts: u32,
        /// How that attempt ended.
        status: TestStatus,
        /// How long that attempt ran.
        duration: Duration,
        /// What that attempt printed: reporters keep it with the test's final result (a
        /// flaky test's failures stay visible).
        output: CapturedOutput,
    },
}

/// Totals of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Tests the run was asked to execute (skipped ones included).
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failed (exit code).
    pub failed: usize,
    /// Crashed (signal).
    pub crashed: usize,
    /// Timed out.
    pub timed_out: usize,
    /// Killed at their memory limit.
    pub memory_exceeded: usize,
    /// Skipped (ignored and not asked for).
    pub skipped: usize,
    /// Not run because the run stopped early.
    pub not_run: usize,
    /// Killed while running because the run was interrupted.
    pub interrupted: usize,
    /// Of all the above, results taken from the doctest result cache (not run).
    pub cached: usize,
}

impl RunStats {
    /// The results recorded since `before` (a snapshot of the same counters).
    pub fn since(&self, before: &RunStats) -> RunStats {
        RunStats {
            total: self.total.saturating_sub(before.total),
            passed: self.passed - before.passed,
            failed: self.failed - before.failed,
            crashed: self.crashed - before.crashed,
            timed_out: self.timed_out - before.timed_out,
            memory_exceeded: self.memory_exceeded - before.memory_exceeded,
            skipped: self.skipped - before.skipped,
            not_run: self.not_run - before.not_run,
            interrupted: self.interrupted - before.interrupted,
            cached: self.cached - before.cached,
        }
    }

    /// Results recorded so far (every status).
    pub fn recorded(&self) -> usize {
        self.passed + self.failures() + self.skipped + self.not_run + self.interrupted
    }

    /// Adds one result to the totals.
    pub fn record(&mut self, status: &TestStatus) {
        match status {
            TestStatus::Passed => self.passed += 1,
            TestStatus::Failed { .. } => self.failed += 1,
            TestStatus::Crashed { .. } => self.crashed += 1,
            TestStatus::TimedOut { .. } => self.timed_out += 1,
            TestStatus::MemoryExceeded { .. } => self.memory_exceeded += 1,
            TestStatus::Skipped { .. } => self.skipped += 1,
            TestStatus::NotRun { .. } => self.not_run += 1,
            TestStatus::Interrupted => self.interrupted += 1,
        }
    }

    /// Every kind of failure together (failed + crashed + timed out + memory exceeded).
    pub fn failures(&self) -> usize {
        self.failed + self.crashed + self.timed_out + self.memory_exceeded
    }
}

/// One thing that happened during execution.
#[derive(Clone, Debug)]
pub enum Event {
    /// Execution begins.
    RunStarted {
        /// Tests that will be run or reported skipped.
        tests: usize,
        /// Number of distinct binaries among them.
        binaries: usize,
        /// Maximum tests at once.
        jobs: usize,
    },
    /// A phase begins (runs of a plan only; a plain run has no phases).
    PhaseStarted {
        /// Position of the phase in this run.
        index: usize,
        /// Phase name.
        name: String,
        /// Tests it will run or report skipped.
        tests: usize,
        /// Maximum tests at once in this phase.
        jobs: usize,
    },
    /// A phase did not run; its tests are reported (skipped or not run) right after.
    PhaseSkipped {
        /// Position of the phase in this run.
        index: usize,
        /// Phase name.
        name: String,
        /// Its tests.
        tests: usize,
        /// Why (`requires a GPU; none detected (...)`, `phase 'unit' failed`, ...).
        reason: String,
    },
    /// A phase ended; every one of its tests has had its `TestFinished`.
    PhaseFinished {
        /// Position of the phase in this run.
        index: usize,
        /// Phase name.
        name: String,
        /// The phase's own totals.
        stats: RunStats,
        /// Wall time of the phase.
        duration: Duration,
        /// Set when the phase stopped early.
        stopped: Option<StopReason>,
    },
    /// A test's process (or its batch) started. A test may start more than once: every
    /// start but the last is closed by a `TestRescheduled`.
    TestStarted {
        /// The test.
        test: TestIdx,
    },
    /// A test finished, was skipped, or will not run.
    TestFinished {
        /// The test.
        test: TestIdx,
        /// Its result.
        result: Box<TestResult>,
    },
    /// A started test's attempt ended without a result (its process has exited): it goes
    /// back into the queue and starts again later. Its one `TestFinished` is still to come.
    TestRescheduled {
        /// The test.
        test: TestIdx,
        /// Why.
        reason: Reschedule,
    },
    /// A running test passed the slow threshold (`--slow-after`), and again at each multiple
    /// of it: sent while it runs, so a hung test is named long before its timeout. Single
    /// tests and libtest batch members (whose starts are known); not doctests.
    TestSlow {
        /// The test.
        test: TestIdx,
        /// How long it has been running (a multiple of the threshold).
        elapsed: Duration,
    },
    /// A test's memory estimate is larger than the whole memory budget: it runs alone (it
    /// waits for the running tests to finish, and nothing starts beside it). Sent when it is
    /// admitted, before its `TestStarted`.
    TestOverBudget {
        /// The test.
        test: TestIdx,
        /// Its memory estimate, in bytes.
        estimate: u64,
        /// The run's memory budget, in bytes.
        budget: u64,
    },
    /// The executor stopped starting new tests.
    Stopping {
        /// Why.
        reason: StopReason,
    },
    /// Execution ended; every test has had its `TestFinished`.
    RunFinished {
        /// Totals.
        stats: RunStats,
        /// Wall time of the execution.
        duration: Duration,
        /// Set when the run stopped early.
        stopped: Option<StopReason>,
    },
}
