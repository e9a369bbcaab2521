//! A started job and its state: running, being stopped by the runner, or exited (its
//! output perhaps still draining). The scheduler moves a job through these states; the
//! job's kind ([`super::job::Rules`]) says which of its tests is timed and which timeout
//! runs.
//!
//! ```text
//! Running ──(timeout, memory limit, pressure, Ctrl-C)──► Stopping ──► Exited
//!    └───────────────────────(the process ends)──────────────────────► Exited
//! ```

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::admission::Grant;
use super::batch::Outcome;
use super::error::WaitError;
use super::job::Job;
use super::memory::RssTrack;
use super::process::{self, SharedCapture};
use super::resolve::KillReason;
use crate::model::TestIdx;
use crate::platform::containment::JobGroup;
use crate::platform::{self, ExitInfo, SIGKILL, SIGTERM};

/// How long after a process exits its output may still drain. Only processes that left
/// the group (and so escaped the kill) can hold the pipe longer; then the capture so far
/// is used.
pub(crate) const READER_GRACE: Duration = Duration::from_secs(1);

/// The least time a doctest batch may go without output while cargo and rustdoc compile
/// (a `--timeout` of a few seconds is meant for tests, not for compiling a crate's
/// doctests on a loaded machine).
pub(crate) const DOCTEST_COMPILE_ALLOWANCE: Duration = Duration::from_secs(300);

/// A signal sent to a job's group, and when SIGKILL follows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Kill {
    pub reason: KillReason,
    pub escalate_at: Instant,
    pub escalated: bool,
}

/// How a job's process ended.
#[derive(Debug)]
pub(crate) struct Exit {
    /// What `wait4` said.
    pub exit: Result<ExitInfo, WaitError>,
    /// When the waiter saw it.
    pub at: Instant,
    /// Why the runner (or the kernel, in the job's cgroup) stopped it, if it did.
    pub stopped: Option<KillReason>,
}

/// Where a started job is.
#[derive(Debug)]
pub(crate) enum JobState {
    /// Its process runs, and the runner has not signalled it.
    Running,
    /// The runner signalled its group; SIGKILL follows unless already sent.
    Stopping(Kill),
    /// Its process was reaped.
    Exited(Exit),
}

/// Progress of a batch job: which tests have started and reported, and when.
#[derive(Debug)]
pub(crate) struct BatchProgress {
    pub position: HashMap<String, usize>,
    /// A result line was seen (passes and skips are reported at once; failures wait).
    pub reported: Vec<bool>,
    /// Its `TestStarted` was sent.
    pub started: Vec<bool>,
    /// Failed (or unknown-outcome) tests wait for their section of the `failures:` block,
    /// printed at the end: their duration and outcome.
    pub deferred: HashMap<usize, (Duration, Outcome)>,
    /// Sequential batches: the test running now, and since when.
    pub running: Option<(usize, Instant)>,
    pub last_result: Instant,
    /// A doctest batch before its (current library's) `running N tests` line: cargo checks
    /// and rustdoc compiles, so the watchdog allows at least [`DOCTEST_COMPILE_ALLOWANCE`].
    pub compiling: bool,
}

impl BatchProgress {
    /// Nothing reported yet of `names`; `started`: the tests start with the process.
    pub fn new<'n>(names: impl ExactSizeIterator<Item = &'n str>, at: Instant, started: bool) -> Self {
        let count = names.len();
        BatchProgress {
            position: names.enumerate().map(|(i, name)| (name.to_owned(), i)).collect(),
            reported: vec![false; count],
            started: vec![started; count],
            deferred: HashMap::new(),
            running: None,
            last_result: at,
            compiling: false,
        }
    }
}

/// A started job.
#[derive(Debug)]
pub(crate) struct Running {
    pub job: Job,
    pub grant: Grant,
    /// Its process tree is killed past this many bytes.
    pub limit: Option<u64>,
    pub rss: RssTrack,
    /// See [`process::own_peak_rss`].
    pub rss_floor: Option<u64>,
    pub pgid: i32,
    pub started: Instant,
    pub capture: SharedCapture,
    /// Start, or the latest batch event: the timeout counts from here.
    pub last_activity: Instant,
    pub state: JobState,
    /// Its output pipe reached end of file (before or after the exit).
    pub output_closed: bool,
    pub leaked: bool,
    pub batch: Option<BatchProgress>,
    /// The test last reported slow, and how many thresholds it has passed.
    pub slow: Option<(TestIdx, u32)>,
    /// Its cgroup, with containment.
    pub cgroup: Option<JobGroup>,
    /// The cgroup's peak memory, read when the process ended.
    pub cgroup_peak: Option<u64>,
}

impl Running {
    pub fn new(job: Job, started: process::Started, grant: Grant, limit: Option<u64>) -> Self {
        let batch = job.rules().progress(started.at);
        Running {
            job,
            grant,
            limit,
            rss: RssTrack::default(),
            rss_floor: started.rss_floor,
            pgid: started.pid,
            started: started.at,
            capture: started.capture,
            last_activity: started.at,
            state: JobState::Running,
            output_closed: false,
            leaked: false,
            batch,
            slow: None,
            cgroup: None,
            cgroup_peak: None,
        }
    }

    /// The test whose own running time is known, and since when: a single test, or the
    /// member a sequential batch is running (a doctest batch's tests have no starts).
    pub fn timed_test(&self) -> Option<(TestIdx, Instant)> {
        let (pos, since) = self.job.rules().timed_member(self.batch.as_ref())?;
        Some((*self.job.tests.get(pos)?, since.unwrap_or(self.started)))
    }

    /// When the running test passes its next slow threshold, and that threshold's number.
    pub fn next_slow(&self, after: Duration) -> Option<(TestIdx, Instant, u32)> {
        let (test, since) = self.timed_test()?;
        let passed = match self.slow {
            Some((slow, passed)) if slow == test => passed,
            _ => 0,
        };
        Some((test, since + after.checked_mul(passed + 1)?, passed + 1))
    }

    /// When the running job times out (see [`super::job::Rules::current_timeout`]).
    pub fn timeout_at(&self) -> Instant {
        let (timeout, since) = self.job.rules().current_timeout(&self.job, self.batch.as_ref());
        since.unwrap_or(self.last_activity) + timeout
    }

    /// The timeout that expires at [`Running::timeout_at`].
    pub fn current_timeout(&self) -> Duration {
        self.job.rules().current_timeout(&self.job, self.batch.as_ref()).0
    }

    /// When the scheduler must next act on this job, if ever.
    pub fn next_deadline(&self) -> Option<Instant> {
        match &self.state {
            JobState::Exited(exit) => (!self.output_closed).then_some(exit.at + READER_GRACE),
            JobState::Running => Some(self.timeout_at()),
            JobState::Stopping(kill) => (!kill.escalated).then_some(kill.escalate_at),
        }
    }

    /// Exited, and its output drained (or given up on).
    pub fn is_complete(&self, now: Instant) -> bool {
        self.exit().is_some_and(|exit| self.output_closed || now >= exit.at + READER_GRACE)
    }

    /// How it ended, once it has.
    pub fn exit(&self) -> Option<&Exit> {
        match &self.state {
            JobState::Exited(exit) => Some(exit),
            _ => None,
        }
    }

    /// Its process has not been reaped yet.
    pub fn is_live(&self) -> bool {
        !matches!(self.state, JobState::Exited(_))
    }

    /// Still running and not being stopped.
    pub fn is_active(&self) -> bool {
        matches!(self.state, JobState::Running)
    }

    /// Why the runner stopped (or is stopping) it, if it did.
    pub fn stop_reason(&self) -> Option<KillReason> {
        match &self.state {
            JobState::Running => None,
            JobState::Stopping(kill) => Some(kill.reason),
            JobState::Exited(exit) => exit.stopped,
        }
    }

    /// Stopped for memory pressure and not yet gone.
    pub fn is_pressure_stop_in_flight(&self) -> bool {
        matches!(&self.state, JobState::Stopping(Kill { reason: KillReason::MemoryPressure { .. }, .. }))
    }

    /// SIGTERM to the whole group; SIGKILL follows at `escalate_at`.
    pub fn start_kill(&mut self, reason: KillReason, escalate_at: Instant) {
        let _ = platform::kill_group(self.pgid, SIGTERM);
        self.state = JobState::Stopping(Kill { reason, escalate_at, escalated: false });
    }

    /// SIGKILL to the whole group at once: memory grows too fast for a grace period.
    pub fn kill_now(&mut self, reason: KillReason, now: Instant) {
        let _ = platform::kill_group(self.pgid, SIGKILL);
        self.state = JobState::Stopping(Kill { reason, escalate_at: now, escalated: true });
    }

    /// The process was reaped: `stopped` is why the kernel stopped it, when the runner did
    /// not (an out-of-memory kill in its cgroup).
    pub fn exited(&mut self, exit: Result<ExitInfo, WaitError>, at: Instant, stopped: Option<KillReason>) {
        let stopped = self.stop_reason().or(stopped);
        self.state = JobState::Exited(Exit { exit, at, stopped });
    }

    /// The peak RSS to report: `wait4`'s exact peak of the process (and the children it
    /// waited for), or the largest tree RSS seen when that is more (children it did not
    /// wait for, or a tree of several processes). When `wait4`'s figure is only the
    /// runner's own peak (the test stayed below it: see [`process::own_peak_rss`]), the
    /// largest tree RSS seen is the better figure, if the test lived long enough to be seen.
    pub fn peak_rss(&self, exit: &Result<ExitInfo, WaitError>) -> Option<u64> {
        // A cgroup charges exactly what the job's processes used, children included.
        if let Some(peak) = self.cgroup_peak {
            return Some(peak);
        }
        let sampled = (self.rss.peak > 0).then_some(self.rss.peak);
        match exit {
            Ok(exit) if self.rss_floor.is_some_and(|floor| exit.max_rss <= floor) => {
                sampled.or(Some(exit.max_rss))
            }
            Ok(exit) => Some(exit.max_rss.max(self.rss.peak)),
            Err(_) => sampled,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::execute::error::StartError;
    use crate::execute::job::single::Single;
    use crate::execute::job::{Demand, JobKind};
    use crate::execute::process::Capture;

    /// A running single test that was never spawned: nothing here signals a process.
    fn running(timeout: Duration) -> Running {
        let command = Err(StartError::NoExecutable { binary: "b".into() });
        let kind = JobKind::Single(Single { filtered: true });
        let job = Job { timeout, ..Job::new(vec![TestIdx(0)], Demand::single(1), kind, command) };
        let capture = Arc::new(Mutex::new(Capture::new(16, 16, None)));
        let started = process::Started { pid: i32::MAX, capture, at: Instant::now(), rss_floor: None };
        let grant = Grant { slots: 1, memory: 1, exclusive: false, over_budget: false, background: false };
        Running::new(job, started, grant, None)
    }

    fn exit() -> Result<ExitInfo, WaitError> {
        Ok(ExitInfo { code: None, signal: Some(SIGKILL), max_rss: 0 })
    }

    #[test]
    fn a_job_moves_from_running_through_stopping_to_exited() {
        let mut job = running(Duration::from_secs(5));
        assert!(job.is_active() && job.is_live());
        assert_eq!(job.next_deadline(), Some(job.started + Duration::from_secs(5)), "its timeout");
        assert_eq!(job.timed_test(), Some((TestIdx(0), job.started)));

        let escalate_at = job.started + Duration::from_secs(7);
        let kill = Kill { reason: KillReason::Timeout, escalate_at, escalated: false };
        job.state = JobState::Stopping(kill);
        assert!(!job.is_active() && job.is_live());
        assert_eq!(job.next_deadline(), Some(escalate_at), "SIGKILL follows");

        // The runner's reason stands over the kernel's.
        let pressure = KillReason::MemoryPressure { used: 9, limit: 10 };
        let at = job.started + Duration::from_secs(8);
        job.exited(exit(), at, Some(pressure));
        assert_eq!(job.stop_reason(), Some(KillReason::Timeout));
        assert!(!job.is_live());
        assert_eq!(job.next_deadline(), Some(at + READER_GRACE), "its output may still drain");
        assert!(!job.is_complete(at) && job.is_complete(at + READER_GRACE));
        job.output_closed = true;
        assert!(job.is_complete(at) && job.next_deadline().is_none());
    }

    #[test]
    fn a_kernel_kill_is_the_stop_reason_when_the_runner_did_not_stop_it() {
        let mut job = running(Duration::from_secs(5));
        let pressure = KillReason::MemoryPressure { used: 9, limit: 10 };
        job.exited(exit(), Instant::now(), Some(pressure));
        assert_eq!(job.stop_reason(), Some(pressure));
        assert!(!job.is_pressure_stop_in_flight(), "gone already");

        let mut quiet = running(Duration::from_secs(5));
        quiet.exited(exit(), Instant::now(), None);
        assert_eq!(quiet.stop_reason(), None);
    }
}
