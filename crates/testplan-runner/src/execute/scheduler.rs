//! The coordinator: one loop on the calling thread that admits jobs in planned order while
//! their demand fits ([`Admission`]), starts them, and turns what the helper threads report
//! (output, batch results, exits) into events. Between messages it wakes at the nearest
//! deadline, at the memory guard's next tick, and at least every [`POLL`], to enforce
//! timeouts and memory limits, react to memory pressure and notice Ctrl-C.
//!
//! A started job ends in one of three ways: its results are reported; it is re-queued at
//! the back to run alone (the memory guard stopped it: `TestRescheduled`, reason memory
//! pressure); or, having failed with `--retries` left, it is re-queued at the front for
//! another attempt (`TestRescheduled`, reason retry).
//!
//! Policy lives here and in [`super::memory`]; processes and signals are behind
//! [`super::process`] and [`crate::platform`], status rules in [`super::resolve`].

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use super::ExecuteOptions;
use super::admission::{Admission, Grant};
use super::batch::{BatchParser, Outcome, ResultLine, doctest_failure_status};
use super::emit::Emitter;
use super::job::{Job, JobId, JobKind};
use super::memory::{self, Candidate, Guard, Level, RssTrack};
use super::process::{self, Capture, Msg, SharedCapture};
use super::resolve::{self, Ending, KillReason, SharedOutput};
use crate::cancel::CancelToken;
use crate::events::{Event, Reschedule, StopReason, TestResult, TestStatus};
use crate::output::CapturedOutput;
use crate::platform::{self, ExitInfo, SIGKILL, SIGTERM};

/// Longest wait for a message, so cancellation is noticed promptly.
const POLL: Duration = Duration::from_millis(50);
/// How long after a process exits its output may still drain. Only processes that left
/// the group (and so escaped the kill) can hold the pipe longer; then the capture so far
/// is used.
const READER_GRACE: Duration = Duration::from_secs(1);
/// On Ctrl-C the user is waiting: SIGKILL follows SIGTERM after at most this long.
const CANCEL_GRACE: Duration = Duration::from_secs(1);
/// How often killed groups are checked for being gone during the run.
const PRUNE_EVERY: Duration = Duration::from_millis(100);
/// How long `run` waits at the end for killed groups to disappear.
const FINAL_REAP: Duration = Duration::from_secs(1);

/// A signal sent to a job's group, and when SIGKILL follows.
#[derive(Clone, Copy, Debug)]
struct Kill {
    reason: KillReason,
    escalate_at: Instant,
    escalated: bool,
}

/// Progress of a batch job: which tests have reported, and when the last one did.
#[derive(Debug)]
struct BatchProgress {
    position: HashMap<String, usize>,
    reported: Vec<bool>,
    /// Failed tests wait for their section of the `failures:` block, printed at the end.
    deferred: HashMap<usize, Duration>,
    last_result: Instant,
}

/// A started job.
#[derive(Debug)]
struct Running {
    job: Job,
    grant: Grant,
    /// Its process tree is killed past this many bytes.
    limit: Option<u64>,
    rss: RssTrack,
    /// See [`process::own_peak_rss`].
    rss_floor: Option<u64>,
    pgid: i32,
    started: Instant,
    capture: SharedCapture,
    /// Start, or the latest batch result: the timeout counts from here.
    last_activity: Instant,
    kill: Option<Kill>,
    exit: Option<(Result<ExitInfo, String>, Instant)>,
    output_closed: bool,
    leaked: bool,
    batch: Option<BatchProgress>,
}

impl Running {
    fn new(job: Job, started: process::Started, grant: Grant, limit: Option<u64>) -> Self {
        let batch = match &job.kind {
            JobKind::Batch { names, .. } => Some(BatchProgress {
                position: names.iter().enumerate().map(|(i, n)| (n.clone(), i)).collect(),
                reported: vec![false; names.len()],
                deferred: HashMap::new(),
                last_result: started.at,
            }),
            JobKind::Single { .. } => None,
        };
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
            kill: None,
            exit: None,
            output_closed: false,
            leaked: false,
            batch,
        }
    }

    /// When the scheduler must next act on this job, if ever.
    fn next_deadline(&self) -> Option<Instant> {
        match (&self.exit, &self.kill) {
            (Some((_, at)), _) => (!self.output_closed).then_some(*at + READER_GRACE),
            (None, None) => Some(self.last_activity + self.job.timeout),
            (None, Some(kill)) => (!kill.escalated).then_some(kill.escalate_at),
        }
    }

    /// Exited, and its output drained (or given up on).
    fn is_complete(&self, now: Instant) -> bool {
        self.exit.as_ref().is_some_and(|(_, at)| self.output_closed || now >= *at + READER_GRACE)
    }

    /// SIGTERM to the whole group; SIGKILL follows at `escalate_at`.
    fn start_kill(&mut self, reason: KillReason, escalate_at: Instant) {
        let _ = platform::kill_group(self.pgid, SIGTERM);
        self.kill = Some(Kill { reason, escalate_at, escalated: false });
    }

    /// SIGKILL to the whole group at once: memory grows too fast for a grace period.
    fn kill_now(&mut self, reason: KillReason, now: Instant) {
        let _ = platform::kill_group(self.pgid, SIGKILL);
        self.kill = Some(Kill { reason, escalate_at: now, escalated: true });
    }

    /// Still running and not being stopped.
    fn is_active(&self) -> bool {
        self.exit.is_none() && self.kill.is_none()
    }

    /// Stopped for memory pressure and not yet gone.
    fn is_pressure_stop_in_flight(&self) -> bool {
        self.exit.is_none()
            && matches!(self.kill, Some(Kill { reason: KillReason::MemoryPressure { .. }, .. }))
    }

    /// The peak RSS to report: `wait4`'s exact peak of the process (and the children it
    /// waited for), or the largest tree RSS seen when that is more (children it did not
    /// wait for, or a tree of several processes). When `wait4`'s figure is only the
    /// runner's own peak (the test stayed below it: see [`process::own_peak_rss`]), the
    /// largest tree RSS seen is the better figure, if the test lived long enough to be seen.
    fn peak_rss(&self, exit: &Result<ExitInfo, String>) -> Option<u64> {
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

/// Runs jobs to completion, emitting events.
pub(crate) struct Scheduler<'r, 's> {
    opts: &'r ExecuteOptions,
    cancel: &'r CancelToken,
    emit: &'r mut Emitter<'s>,
    queue: VecDeque<Job>,
    running: BTreeMap<JobId, Running>,
    admission: Admission,
    guard: Guard,
    /// Set when a test was stopped for memory pressure: what runs now does not leave room
    /// for more, whatever the estimates say, so nothing new starts beside it until a
    /// running test ends.
    pressure_pause: bool,
    stopped: Option<StopReason>,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    /// Groups killed after their leader exited, until they are seen gone.
    dying: Vec<i32>,
    next_prune: Instant,
}

impl std::fmt::Debug for Scheduler<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("queue", &self.queue.len())
            .field("running", &self.running.len())
            .finish()
    }
}

impl<'r, 's> Scheduler<'r, 's> {
    /// A scheduler for `jobs`, started in the given order.
    pub fn new(
        opts: &'r ExecuteOptions,
        cancel: &'r CancelToken,
        emit: &'r mut Emitter<'s>,
        jobs: Vec<Job>,
    ) -> Self {
        let (tx, rx) = mpsc::channel();
        Scheduler {
            opts,
            cancel,
            emit,
            queue: jobs.into(),
            running: BTreeMap::new(),
            admission: Admission::new(opts.jobs, opts.memory.budget),
            guard: Guard::new(opts.memory.live.clone()),
            pressure_pause: false,
            stopped: None,
            tx,
            rx,
            dying: Vec::new(),
            next_prune: Instant::now(),
        }
    }

    /// Runs every job (or stops early), and returns why it stopped early, if it did. When
    /// it returns, every process it started has been reaped and every group it had to
    /// kill is gone (or was sent SIGKILL for up to [`FINAL_REAP`]).
    pub fn run(mut self) -> Option<StopReason> {
        loop {
            self.check_cancel(Instant::now());
            self.start_admitted();
            if self.running.is_empty() && self.queue.is_empty() {
                break;
            }
            self.wait_and_handle();
            let now = Instant::now();
            self.supervise(now);
            self.watch_memory(now);
            self.finish_completed(now);
        }
        self.reap_dying(FINAL_REAP);
        self.stopped
    }

    fn start_admitted(&mut self) {
        // A fresh look at live memory before admitting beside running tests: the last tick
        // may predate a test's exit (or its growth).
        let memory_full = !self.running.is_empty()
            && !self.queue.is_empty()
            && self.stopped.is_none()
            && (self.pressure_pause || self.guard.refresh() >= Level::Full);
        while self.stopped.is_none() {
            let Some(front) = self.queue.front() else { break };
            // In planned order: a job that does not fit yet waits, and so do those behind it.
            let Some(grant) = self.admission.try_admit(front.demand, memory_full) else { break };
            let Some(job) = self.queue.pop_front() else { break };
            self.start_job(job, grant);
        }
    }

    fn start_job(&mut self, job: Job, grant: Grant) {
        if grant.over_budget
            && let (Some(&test), Some(budget)) = (job.tests.first(), self.opts.memory.budget)
        {
            self.emit.event(&Event::TestOverBudget { test, estimate: job.demand.memory, budget });
        }
        for &test in &job.tests {
            self.emit.started(test);
        }
        let started = match &job.command {
            Ok(spec) => process::start(job.id, spec, self.capture_for(&job), &self.tx)
                .map_err(|e| format!("could not start `{}`: {e}", spec.program)),
            Err(why) => Err(why.clone()),
        };
        match started {
            Ok(started) => {
                let memory = &self.opts.memory;
                let limit = match job.kind {
                    JobKind::Single { .. } => {
                        memory::effective_limit(job.memory_limit, memory.budget, memory.default_limit)
                    }
                    JobKind::Batch { .. } => None,
                };
                self.running.insert(job.id, Running::new(job, started, grant, limit));
            }
            Err(why) => {
                self.admission.release(grant);
                self.fail_to_start(&job, &why);
            }
        }
    }

    fn capture_for(&self, job: &Job) -> Capture {
        let (head, tail) = (self.opts.output_head, self.opts.output_tail);
        let parser = match &job.kind {
            JobKind::Batch { names, .. } => Some(BatchParser::new(names.iter().cloned(), head, tail)),
            JobKind::Single { .. } => None,
        };
        Capture::new(head, tail, parser)
    }

    fn fail_to_start(&mut self, job: &Job, why: &str) {
        for &test in &job.tests {
            let mut result = TestResult::not_started(TestStatus::Failed { exit_code: None });
            resolve::append_note(&mut result.output, why);
            self.emit.finished(test, result);
        }
        self.on_failure();
    }

    /// Blocks for the next message (bounded by the nearest deadline and the memory guard's
    /// next tick), then drains the rest.
    fn wait_and_handle(&mut self) {
        let now = Instant::now();
        let tick = (!self.running.is_empty()).then(|| self.guard.next_tick());
        let nearest = self.running.values().filter_map(Running::next_deadline).chain(tick).min();
        let timeout = nearest.map_or(POLL, |at| at.saturating_duration_since(now).min(POLL));
        // A timeout is the normal way to wake for deadlines; disconnection cannot happen
        // while the scheduler holds a sender.
        let Ok(first) = self.rx.recv_timeout(timeout) else { return };
        self.handle(first);
        while let Ok(msg) = self.rx.try_recv() {
            self.handle(msg);
        }
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Exited { job, exit, at } => self.on_exit(job, exit, at),
            Msg::Progress { job } => self.on_progress(job),
            Msg::OutputClosed { job } => {
                if let Some(running) = self.running.get_mut(&job) {
                    running.output_closed = true;
                }
            }
        }
    }

    fn on_exit(&mut self, job: JobId, exit: Result<ExitInfo, String>, at: Instant) {
        let Some(running) = self.running.get_mut(&job) else { return };
        running.exit = Some((exit, at));
        if platform::group_alive(running.pgid) {
            // Processes the test started outlived it. They must not outlive the run, and
            // they may hold the output pipe open. Only a test the runner did not already
            // stop counts as leaking.
            let _ = platform::kill_group(running.pgid, SIGKILL);
            running.leaked = running.kill.is_none();
            self.dying.push(running.pgid);
        }
    }

    fn on_progress(&mut self, job: JobId) {
        let Some(running) = self.running.get_mut(&job) else { return };
        let results = process::lock(&running.capture).take_results();
        if apply_results(running, results, self.emit) > 0 {
            self.on_failure();
        }
    }

    /// Timeouts and SIGKILL escalation; periodic pruning of groups seen gone.
    fn supervise(&mut self, now: Instant) {
        for running in self.running.values_mut().filter(|r| r.exit.is_none()) {
            match &mut running.kill {
                None if now >= running.last_activity + running.job.timeout => {
                    running.start_kill(KillReason::Timeout, now + self.opts.kill_grace);
                }
                Some(kill) if !kill.escalated && now >= kill.escalate_at => {
                    let _ = platform::kill_group(running.pgid, SIGKILL);
                    kill.escalated = true;
                }
                _ => {}
            }
        }
        if now >= self.next_prune {
            // Forget groups as soon as they are gone, so a recycled id is never signalled.
            self.dying.retain(|&pgid| platform::group_alive(pgid));
            self.next_prune = now + PRUNE_EVERY;
        }
    }

    /// The memory guard's tick: tree RSS of every running test (killing those past their
    /// limit), then live memory (stopping a test when it is critical). See [`memory`].
    fn watch_memory(&mut self, now: Instant) {
        if now < self.guard.next_tick() || self.running.is_empty() {
            return;
        }
        let live: Vec<(JobId, i32)> =
            self.running.iter().filter(|(_, r)| r.exit.is_none()).map(|(id, r)| (*id, r.pgid)).collect();
        let pgids: Vec<i32> = live.iter().map(|&(_, pgid)| pgid).collect();
        let scanned = self.guard.scan(&pgids);
        for (&(id, _), &rss) in live.iter().zip(&scanned) {
            let Some(running) = self.running.get_mut(&id) else { continue };
            running.rss.update(rss, now);
            // A test being stopped for another reason than Ctrl-C is still judged by its
            // limit: past it, that is its status.
            let judged = !matches!(
                running.kill,
                Some(Kill { reason: KillReason::MemoryLimit { .. } | KillReason::Interrupted, .. })
            );
            if let Some(limit) = running.limit
                && rss > limit
                && judged
            {
                running.kill_now(KillReason::MemoryLimit { peak: rss, limit }, now);
            }
        }
        if self.guard.tick_sample() == Level::Critical {
            self.stop_for_pressure(now);
        }
        let active = self.running.values().filter(|r| r.exit.is_none()).count();
        self.guard.schedule_next(now, active);
    }

    /// Memory is critical: unless only one test runs (its own limit governs it) or a test
    /// stopped earlier is still going away, stop the newest memory-growing test; it will run
    /// again alone.
    fn stop_for_pressure(&mut self, now: Instant) {
        let active = self.running.values().filter(|r| r.is_active()).count();
        if active < 2 || self.running.values().any(Running::is_pressure_stop_in_flight) {
            return;
        }
        let candidates: Vec<Candidate> = self
            .running
            .iter()
            .filter(|(_, r)| r.is_active() && r.job.stoppable_for_pressure())
            .map(|(id, r)| Candidate { id: *id, started: r.started, growing: r.rss.growing(now) })
            .collect();
        let (Some(victim), Some(sample)) = (memory::choose_victim(&candidates), self.guard.last()) else {
            return;
        };
        if let Some(running) = self.running.get_mut(&victim) {
            running.kill_now(KillReason::MemoryPressure { used: sample.used, limit: sample.limit }, now);
            self.pressure_pause = true;
        }
    }

    fn check_cancel(&mut self, now: Instant) {
        if !self.cancel.is_cancelled() || self.stopped == Some(StopReason::Interrupted) {
            return;
        }
        self.stop(StopReason::Interrupted);
        let escalate_at = now + self.opts.kill_grace.min(CANCEL_GRACE);
        for running in self.running.values_mut().filter(|r| r.exit.is_none()) {
            match &mut running.kill {
                None => running.start_kill(KillReason::Interrupted, escalate_at),
                // Already timing out: keep its status, but do not make the user wait.
                Some(kill) => kill.escalate_at = kill.escalate_at.min(escalate_at),
            }
        }
    }

    /// Starts nothing more; everything not started is reported not run.
    fn stop(&mut self, reason: StopReason) {
        self.stopped = Some(reason);
        self.emit.event(&Event::Stopping { reason });
        for job in std::mem::take(&mut self.queue) {
            for test in job.tests {
                self.emit.not_run(test, reason);
            }
        }
    }

    fn on_failure(&mut self) {
        if self.opts.fail_fast && self.stopped.is_none() {
            self.stop(StopReason::FailFast);
        }
    }

    fn finish_completed(&mut self, now: Instant) {
        let done: Vec<JobId> =
            self.running.iter().filter(|(_, r)| r.is_complete(now)).map(|(id, _)| *id).collect();
        for id in done {
            if let Some(running) = self.running.remove(&id) {
                self.admission.release(running.grant);
                let stopped_for_pressure =
                    matches!(running.kill, Some(Kill { reason: KillReason::MemoryPressure { .. }, .. }));
                self.pressure_pause &= stopped_for_pressure;
                if self.finish(running) {
                    self.on_failure();
                }
            }
        }
    }

    /// Reports a completed job's results (or re-queues it); returns whether any result is a
    /// failure.
    fn finish(&mut self, mut running: Running) -> bool {
        let Some((exit, exit_at)) = running.exit.take() else { return false };
        if let Some(Kill { reason: KillReason::MemoryPressure { used, limit }, .. }) = running.kill {
            if exit.as_ref().is_ok_and(|e| e.signal == Some(SIGKILL)) {
                self.requeue_alone(running.job, used, limit);
                return false;
            }
            // It ended on its own before the kill landed: its result stands.
            running.kill = None;
        }
        let ending = Ending { exit, kill: running.kill.map(|k| k.reason), timeout: running.job.timeout };
        match running.job.kind {
            JobKind::Single { filtered } => self.finish_single(&running, &ending, exit_at, filtered),
            JobKind::Batch { doctest, .. } => self.finish_batch(&mut running, &ending, exit_at, doctest),
        }
    }

    /// A job stopped for memory pressure runs again alone, after the jobs already queued
    /// (they drain once, not once per stopped job). When the run is stopping it is not run.
    fn requeue_alone(&mut self, mut job: Job, used: u64, limit: u64) {
        if let Some(reason) = self.stopped {
            for &test in &job.tests {
                self.emit.not_run(test, reason);
            }
            return;
        }
        for &test in &job.tests {
            let reason = Reschedule::MemoryPressure { used, limit };
            self.emit.event(&Event::TestRescheduled { test, reason });
        }
        job.alone = true;
        job.demand.exclusive = true;
        self.queue.push_back(job);
    }

    fn finish_single(
        &mut self,
        running: &Running,
        ending: &Ending,
        exit_at: Instant,
        filtered: bool,
    ) -> bool {
        let mut output = process::lock(&running.capture).take_output();
        let (status, note) = resolve::single_status(ending, filtered, &output);
        if self.retry(&running.job, &status) {
            return false;
        }
        if let Some(note) = note {
            resolve::append_note(&mut output, &note);
        }
        let failed = status.is_failure();
        let result = TestResult {
            status,
            duration: exit_at.saturating_duration_since(running.started),
            peak_rss: running.peak_rss(&ending.exit),
            output,
            leaked_processes: running.leaked,
            attempts: running.job.attempt,
        };
        self.emit.finished(running.job.tests[0], result);
        failed
    }

    /// Re-queues a failed single test at the front when `--retries` allows another attempt
    /// (not for a memory-limit kill: it would only be killed again).
    fn retry(&mut self, job: &Job, status: &TestStatus) -> bool {
        let max_attempts = self.opts.retries.saturating_add(1);
        let retryable = status.is_failure() && !matches!(status, TestStatus::MemoryExceeded { .. });
        if !retryable || job.attempt >= max_attempts || self.stopped.is_some() {
            return false;
        }
        let reason = Reschedule::Retry { attempt: job.attempt, max_attempts, status: status.clone() };
        self.emit.event(&Event::TestRescheduled { test: job.tests[0], reason });
        let mut again = job.clone();
        again.attempt += 1;
        self.queue.push_front(again);
        true
    }

    fn finish_batch(
        &mut self,
        running: &mut Running,
        ending: &Ending,
        exit_at: Instant,
        doctest: bool,
    ) -> bool {
        let (output, mut sections, late) = {
            let mut capture = process::lock(&running.capture);
            let sections = capture.batch.as_mut().map(BatchParser::take_sections).unwrap_or_default();
            (capture.take_output(), sections, capture.take_results())
        };
        let mut failed = apply_results(running, late, self.emit) > 0;
        let Some(batch) = running.batch.as_mut() else { return failed };
        let any_result = batch.reported.iter().any(|&r| r);
        let mut output = SharedOutput::new(output);
        for (pos, &test) in running.job.tests.iter().enumerate() {
            let name = running.job.kind.name(pos).unwrap_or_default();
            let result = if let Some(duration) = batch.deferred.remove(&pos) {
                let section = sections.remove(name).ok_or_else(|| output.give(name));
                failed_member(section, duration, doctest)
            } else if !batch.reported[pos] {
                let since_last = exit_at.saturating_duration_since(batch.last_result);
                missing_member(ending, any_result, output.give(name), since_last)
            } else {
                continue;
            };
            failed |= result.status.is_failure();
            self.emit.finished(test, TestResult { leaked_processes: running.leaked, ..result });
        }
        failed
    }

    /// Waits (up to `limit`) for killed groups to disappear, re-sending SIGKILL.
    fn reap_dying(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            self.dying.retain(|&pgid| platform::group_alive(pgid));
            if self.dying.is_empty() || Instant::now() >= deadline {
                return;
            }
            for &pgid in &self.dying {
                let _ = platform::kill_group(pgid, SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Applies streamed batch results: passes and ignores are reported at once, failures wait
/// for their failure section. Returns the number of failures.
fn apply_results(
    running: &mut Running,
    results: Vec<(ResultLine, Instant)>,
    emit: &mut Emitter<'_>,
) -> usize {
    let Some(batch) = running.batch.as_mut() else { return 0 };
    let mut failures = 0;
    for (line, at) in results {
        let Some(&pos) = batch.position.get(&line.name) else { continue };
        if std::mem::replace(&mut batch.reported[pos], true) {
            continue;
        }
        // Approximate: libtest reports when a test ends, not when it started.
        let duration = at.saturating_duration_since(batch.last_result);
        batch.last_result = batch.last_result.max(at);
        running.last_activity = running.last_activity.max(at);
        let test = running.job.tests[pos];
        let status = match line.outcome {
            Outcome::Ok => TestStatus::Passed,
            Outcome::Ignored(reason) => TestStatus::Skipped { reason: ignored_reason(reason) },
            Outcome::Failed => {
                batch.deferred.insert(pos, duration);
                failures += 1;
                continue;
            }
        };
        emit.finished(test, batch_member(status, duration, CapturedOutput::default()));
    }
    failures
}

fn ignored_reason(reason: Option<String>) -> String {
    match reason {
        Some(reason) if !reason.is_empty() => format!("ignored: {reason}"),
        _ => "ignored".to_owned(),
    }
}

/// A batch member's result: RSS is per process, so not measured per test.
fn batch_member(status: TestStatus, duration: Duration, output: CapturedOutput) -> TestResult {
    TestResult { status, duration, peak_rss: None, output, leaked_processes: false, attempts: 1 }
}

/// A failed batch member: its own failure section when libtest printed one (else the
/// batch's output, e.g. when the batch was stopped before the `failures:` block).
fn failed_member(
    section: Result<CapturedOutput, CapturedOutput>,
    duration: Duration,
    doctest: bool,
) -> TestResult {
    match section {
        Ok(section) => {
            let status = if doctest {
                doctest_failure_status(&section.to_text())
            } else {
                TestStatus::Failed { exit_code: None }
            };
            batch_member(status, duration, section)
        }
        Err(batch_output) => batch_member(TestStatus::Failed { exit_code: None }, duration, batch_output),
    }
}

fn missing_member(
    ending: &Ending,
    any_result: bool,
    mut output: CapturedOutput,
    duration: Duration,
) -> TestResult {
    let (status, note) = resolve::missing_result_status(ending, any_result);
    if let Some(note) = note {
        resolve::append_note(&mut output, &note);
    }
    batch_member(status, duration, output)
}
