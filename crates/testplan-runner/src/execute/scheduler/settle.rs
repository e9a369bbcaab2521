//! Settling a job whose process has ended: its tests' results, or what runs again.
//!
//! - A single test: its exit decides ([`resolve::single_status`]); a failure with
//!   `--retries` left runs again.
//! - A doctest batch: results were streamed; failures get their section of the `failures:`
//!   block; tests without a result get the batch's ending ([`resolve::missing_result_status`]).
//! - A libtest batch (`--test-threads 1`): results were streamed too, but a batch can end
//!   before all of them — a crash, a timeout, the memory guard, a test calling `exit`. Then
//!   the fault is put on the right test by running again:
//!   - the test that was running (its start was seen, its result not) runs again alone, in
//!     a process of its own, so its status (signal, exit code) is exact
//!     (`TestRescheduled`, reason isolated; after a stop for memory pressure it runs alone
//!     with the whole budget, as single tests do) — except after a timeout: the start line
//!     pins the test that ran past its own timeout, and a second full timeout would add
//!     nothing, so it is reported timed out at once;
//!   - a test whose failure output was lost (libtest prints it at the end) runs again alone;
//!   - tests that never started run again: together in a new batch when the fault was
//!     attributed to a running test (so the new batch is smaller and cannot loop), else one
//!     per process (a name libtest did not run then reports `running 0 tests` on its own).
//!
//!   Re-runs go to the front of the queue. When the phase is stopping (fail-fast, Ctrl-C)
//!   nothing runs again: the running test gets the batch's ending, the rest are not run.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::{BatchProgress, Kill, Running, Scheduler};
use crate::events::{Event, Reschedule, TestResult, TestStatus};
use crate::execute::batch::{BatchEvent, BatchParser, Outcome, doctest_failure_status};
use crate::execute::emit::Emitter;
use crate::execute::job::{Job, JobKind};
use crate::execute::process;
use crate::execute::resolve::{self, Ending, KillReason, SharedOutput};
use crate::output::CapturedOutput;
use crate::platform::SIGKILL;

impl Scheduler<'_, '_> {
    /// Reports a completed job's results (or re-queues it); returns whether any result is a
    /// failure.
    pub(super) fn settle(&mut self, mut running: Running) -> bool {
        let Some((exit, exit_at)) = running.exit.take() else { return false };
        if let Some(Kill { reason: KillReason::MemoryPressure { used, limit }, .. }) = running.kill {
            let killed = exit.as_ref().is_ok_and(|e| e.signal == Some(SIGKILL));
            if killed && !running.job.kind.is_sequential_batch() {
                self.requeue_alone(running.job, used, limit);
                return false;
            }
            if !killed {
                // It ended on its own before the kill landed: its result stands.
                running.kill = None;
            }
        }
        let ending =
            Ending { exit, kill: running.kill.map(|k| k.reason), timeout: running.current_timeout() };
        match running.job.kind {
            JobKind::Single { filtered } => self.settle_single(&running, &ending, exit_at, filtered),
            JobKind::Batch { doctest: true, .. } => self.settle_doc_batch(&mut running, &ending, exit_at),
            JobKind::Batch { doctest: false, .. } => self.settle_libtest_batch(&mut running, &ending),
        }
    }

    /// A job stopped for memory pressure runs again alone, after the jobs already queued
    /// (they drain once, not once per stopped job). When its phase is stopping it is not run.
    fn requeue_alone(&mut self, mut job: Job, used: u64, limit: u64) {
        let lane = job.lane;
        if let Some(reason) = self.lane_stop_reason(lane) {
            for &test in &job.tests {
                self.emit.not_run_in(lane, test, reason);
            }
            return;
        }
        for &test in &job.tests {
            let reason = Reschedule::MemoryPressure { used, limit };
            self.emit.event_in(lane, Event::TestRescheduled { test, reason });
        }
        job.alone = true;
        job.demand.exclusive = true;
        job.id = self.fresh_id();
        self.lanes[lane].queue.push_back(job);
    }

    fn settle_single(
        &mut self,
        running: &Running,
        ending: &Ending,
        exit_at: Instant,
        filtered: bool,
    ) -> bool {
        let mut output = process::lock(&running.capture).take_output();
        let (status, note) = resolve::single_status(ending, filtered, &output);
        let duration = exit_at.saturating_duration_since(running.started);
        if self.retry(&running.job, &status, duration, &output) {
            return false;
        }
        if let Some(note) = note {
            resolve::append_note(&mut output, &note);
        }
        let failed = status.is_failure();
        let result = TestResult {
            status,
            duration,
            peak_rss: running.peak_rss(&ending.exit),
            output,
            leaked_processes: running.leaked,
            attempts: running.job.attempt,
        };
        self.emit.finished_in(running.job.lane, running.job.tests[0], result);
        failed
    }

    /// Re-queues a failed single test at the front when `--retries` allows another attempt
    /// (not for a memory-limit kill: it would only be killed again).
    fn retry(&mut self, job: &Job, status: &TestStatus, duration: Duration, output: &CapturedOutput) -> bool {
        let Some(max_attempts) = self.retry_allowed(job, status) else { return false };
        let (attempt, status, output) = (job.attempt, status.clone(), output.clone());
        let reason = Reschedule::Retry { attempt, max_attempts, status, duration, output };
        self.emit.event_in(job.lane, Event::TestRescheduled { test: job.tests[0], reason });
        let mut again = job.clone();
        again.attempt += 1;
        self.requeue_front(job.lane, vec![again]);
        true
    }

    /// The attempts allowed in all, when `job` may run again after `status`.
    fn retry_allowed(&self, job: &Job, status: &TestStatus) -> Option<u32> {
        let max_attempts = self.opts.retries.saturating_add(1);
        let retryable = status.is_failure() && !matches!(status, TestStatus::MemoryExceeded { .. });
        let open = self.lane_stop_reason(job.lane).is_none();
        (retryable && job.attempt < max_attempts && open).then_some(max_attempts)
    }

    fn settle_doc_batch(&mut self, running: &mut Running, ending: &Ending, exit_at: Instant) -> bool {
        let (output, mut sections, late) = {
            let mut capture = process::lock(&running.capture);
            let sections = capture.batch.as_mut().map(BatchParser::take_sections).unwrap_or_default();
            (capture.take_output(), sections, capture.take_results())
        };
        let lane = running.job.lane;
        let mut failed = apply_batch_events(running, late, self.emit, self.opts.retries) > 0;
        let Some(batch) = running.batch.as_mut() else { return failed };
        let any_result = batch.reported.iter().any(|&r| r);
        let mut output = SharedOutput::new(output);
        for (pos, &test) in running.job.tests.iter().enumerate() {
            let name = running.job.kind.name(pos).unwrap_or_default();
            let result = if let Some((duration, _)) = batch.deferred.remove(&pos) {
                let section = sections.remove(name).ok_or_else(|| output.give(name));
                failed_member(section, duration, true, None)
            } else if !batch.reported[pos] {
                let since_last = exit_at.saturating_duration_since(batch.last_result);
                // Keys are `CRATE: NAME` (job::doc_member_key): the note names the doctest.
                let shown = name.split_once(": ").map_or(name, |(_, doctest)| doctest);
                missing_member(ending, any_result, output.give_once(shown), since_last)
            } else {
                continue;
            };
            failed |= result.status.is_failure();
            self.emit.finished_in(lane, test, TestResult { leaked_processes: running.leaked, ..result });
        }
        failed
    }

    fn settle_libtest_batch(&mut self, running: &mut Running, ending: &Ending) -> bool {
        let (output, sections, listed, summary, late) = {
            let mut capture = process::lock(&running.capture);
            let late = capture.take_results();
            let (sections, listed, summary) = match capture.batch.as_mut() {
                Some(parser) => (parser.take_sections(), parser.take_failed_list(), parser.reached_summary()),
                None => Default::default(),
            };
            (capture.take_output(), sections, listed, summary, late)
        };
        let mut failed = apply_batch_events(running, late, self.emit, self.opts.retries) > 0;
        let mut ended = BatchEnd {
            ending,
            sections,
            listed,
            summary,
            output: SharedOutput::new(output),
            stop: self.lane_stop_reason(running.job.lane),
            never_started: Vec::new(),
            isolated: Vec::new(),
            timed_out: false,
        };
        for pos in 0..running.job.tests.len() {
            if let Some(result) = self.settle_member(running, pos, &mut ended) {
                failed |= result.status.is_failure();
                let result = TestResult { leaked_processes: running.leaked, ..result };
                self.emit.finished_in(running.job.lane, running.job.tests[pos], result);
            }
        }
        self.rerun(running, ended);
        failed
    }

    /// The result of the batch member at `pos`, if it is decided now (`None`: reported
    /// already, or it runs again — noted in `ended`).
    fn settle_member(
        &mut self,
        running: &mut Running,
        pos: usize,
        ended: &mut BatchEnd<'_>,
    ) -> Option<TestResult> {
        let batch = running.batch.as_mut()?;
        let name = running.job.kind.name(pos).unwrap_or_default().to_owned();
        let attempts = running.job.attempt;
        if let Some((duration, outcome)) = batch.deferred.remove(&pos) {
            let section = ended.sections.remove(&name);
            let is_failed = outcome == Outcome::Failed || section.is_some() || ended.listed.contains(&name);
            if !is_failed && ended.summary {
                // Its outcome word was lost in stray output, but libtest did not list it failed.
                return Some(member_result(
                    TestStatus::Passed,
                    duration,
                    CapturedOutput::default(),
                    attempts,
                ));
            }
            if let Some(section) = section {
                let exit_code = ended.ending.exit.as_ref().ok().and_then(|e| e.code);
                let result = failed_member(Ok(section), duration, false, exit_code);
                let result = TestResult { attempts, ..result };
                return (!self.retry_member(running, pos, &result)).then_some(result);
            }
            // Failed (or ended unknown) and its output was lost with the process.
            return self.isolate_or_end(running, pos, ended, is_failed);
        }
        if batch.reported[pos] {
            return None;
        }
        if batch.started[pos] {
            if ended.ending.kill == Some(KillReason::Timeout) && batch.running.is_some_and(|(p, _)| p == pos)
            {
                ended.timed_out = true;
                let result = timed_out_member(ended, &name, attempts);
                return (!self.retry_member(running, pos, &result)).then_some(result);
            }
            return self.isolate_or_end(running, pos, ended, false);
        }
        match ended.stop {
            Some(reason) => Some(TestResult::not_started(TestStatus::NotRun { reason })),
            None => {
                ended.never_started.push(pos);
                None
            }
        }
    }

    /// A started member without a complete result runs again alone, unless its phase is
    /// stopping: then it gets the batch's ending (`failed`: libtest said it failed).
    fn isolate_or_end(
        &mut self,
        running: &Running,
        pos: usize,
        ended: &mut BatchEnd<'_>,
        failed: bool,
    ) -> Option<TestResult> {
        let name = running.job.kind.name(pos).unwrap_or_default().to_owned();
        if ended.stop.is_none() {
            ended.isolated.push(pos);
            return None;
        }
        let (status, note) = if failed {
            let note = "its failure output was lost: the batch process ended before printing it";
            (TestStatus::Failed { exit_code: None }, Some(note.to_owned()))
        } else {
            resolve::batch_culprit_status(ended.ending)
        };
        let mut output = ended.output.give(&name);
        if let Some(note) = note {
            resolve::append_note(&mut output, &note);
        }
        Some(member_result(status, Duration::ZERO, output, running.job.attempt))
    }

    /// Re-queues a failed batch member alone when `--retries` allows another attempt.
    fn retry_member(&mut self, running: &Running, pos: usize, result: &TestResult) -> bool {
        let job = &running.job;
        let Some(max_attempts) = self.retry_allowed(job, &result.status) else { return false };
        let Some(mut again) = job.member_alone(pos, self.fresh_id()) else { return false };
        let (status, duration, output) = (result.status.clone(), result.duration, result.output.clone());
        let reason = Reschedule::Retry { attempt: job.attempt, max_attempts, status, duration, output };
        self.emit.event_in(job.lane, Event::TestRescheduled { test: job.tests[pos], reason });
        again.attempt += 1;
        self.requeue_front(job.lane, vec![again]);
        true
    }

    /// Queues what runs again after a batch ended (see the module docs).
    fn rerun(&mut self, running: &Running, ended: BatchEnd<'_>) {
        let job = &running.job;
        let lane = job.lane;
        let mut front: Vec<Job> = Vec::new();
        let pressure = match ended.ending.kill {
            Some(KillReason::MemoryPressure { used, limit }) => {
                Some(Reschedule::MemoryPressure { used, limit })
            }
            _ => None,
        };
        let culprit_pos = running.batch.as_ref().and_then(|b| b.running).map(|(pos, _)| pos);
        let mut isolated = ended.isolated.clone();
        // The test the batch died on runs again first.
        isolated.sort_by_key(|&pos| Some(pos) != culprit_pos);
        for pos in isolated {
            let Some(mut alone) = job.member_alone(pos, self.fresh_id()) else { continue };
            let culprit = culprit_pos == Some(pos);
            let reason = match &pressure {
                Some(reason) if culprit => reason.clone(),
                _ => Reschedule::Isolated { cause: resolve::isolation_cause(ended.ending) },
            };
            self.emit.event_in(lane, Event::TestRescheduled { test: job.tests[pos], reason });
            if pressure.is_some() && culprit {
                // Like a single test stopped for memory: alone, with the whole budget.
                alone.alone = true;
                alone.demand.exclusive = true;
                self.lanes[lane].queue.push_back(alone);
            } else {
                front.push(alone);
            }
        }
        let attributed = running.batch.as_ref().is_some_and(|b| b.started.iter().any(|&s| s));
        let culprit_known = !ended.isolated.is_empty() || ended.timed_out;
        let sub_batch = (ended.never_started.len() > 1 && attributed && culprit_known)
            .then(|| job.sub_batch(&ended.never_started, self.fresh_id()))
            .flatten();
        if let Some(batch) = sub_batch {
            front.push(batch);
        } else {
            front
                .extend(ended.never_started.iter().filter_map(|&pos| job.member_alone(pos, self.fresh_id())));
        }
        self.requeue_front(lane, front);
    }
}

/// How a libtest batch ended, and what runs again.
struct BatchEnd<'e> {
    ending: &'e Ending,
    sections: std::collections::HashMap<String, CapturedOutput>,
    listed: HashSet<String>,
    /// libtest printed `test result:`.
    summary: bool,
    output: SharedOutput,
    /// Why its phase starts nothing more, if it does not.
    stop: Option<crate::events::StopReason>,
    /// Members that run again alone.
    isolated: Vec<usize>,
    /// Members that never started.
    never_started: Vec<usize>,
    /// The running member ran past its timeout and was reported so.
    timed_out: bool,
}

/// The member a batch was running when it passed that member's timeout: timed out, with
/// the batch's output (its own output, captured by libtest, was lost with the process).
fn timed_out_member(ended: &mut BatchEnd<'_>, name: &str, attempts: u32) -> TestResult {
    let mut output = ended.output.give(name);
    let note = format!(
        "timed out after {:?} in a batch (its start line names it); not re-run alone: a second run would \
         only time out again",
        ended.ending.timeout
    );
    resolve::append_note(&mut output, &note);
    let status = TestStatus::TimedOut { after: ended.ending.timeout };
    member_result(status, ended.ending.timeout, output, attempts)
}

/// Applies streamed batch events: starts are reported at once (sequential batches), so
/// are passes and skips; failures (and lost outcomes) wait for their failure section.
/// Returns the number of failures that are final (with `retries`, a libtest batch's
/// failure may still be retried: it counts when settled).
pub(super) fn apply_batch_events(
    running: &mut Running,
    events: Vec<(BatchEvent, Instant)>,
    emit: &mut Emitter<'_>,
    retries: u32,
) -> usize {
    let lane = running.job.lane;
    let attempts = running.job.attempt;
    let sequential = running.job.kind.is_sequential_batch();
    let final_failures = !sequential || retries == 0;
    let Some(batch) = running.batch.as_mut() else { return 0 };
    let mut failures = 0;
    for (event, at) in events {
        running.last_activity = running.last_activity.max(at);
        match event {
            // A doctest batch's first duration counts from here, not from the process start:
            // cargo's checks and the compile of merged doctests (and, in the background, the
            // wait for the CPU) are not the first doctest's time.
            BatchEvent::RunBegan if !sequential => {
                batch.last_result = batch.last_result.max(at);
                batch.compiling = false;
            }
            BatchEvent::RunBegan => {}
            BatchEvent::CrateBegan => batch.compiling = true,
            BatchEvent::Started(name) => {
                let Some(&pos) = batch.position.get(&name) else { continue };
                if batch.reported[pos] {
                    continue;
                }
                batch.running = Some((pos, at));
                if !std::mem::replace(&mut batch.started[pos], true) {
                    emit.started_in(lane, running.job.tests[pos]);
                }
            }
            BatchEvent::Result(line) => {
                let Some(&pos) = batch.position.get(&line.name) else { continue };
                if std::mem::replace(&mut batch.reported[pos], true) {
                    continue;
                }
                let duration = member_duration(batch, pos, at, sequential);
                let test = running.job.tests[pos];
                let status = match line.outcome {
                    Outcome::Ok => TestStatus::Passed,
                    Outcome::Ignored(reason) => TestStatus::Skipped { reason: ignored_reason(reason) },
                    outcome @ (Outcome::Failed | Outcome::Unknown) => {
                        failures += usize::from(outcome == Outcome::Failed && final_failures);
                        batch.deferred.insert(pos, (duration, outcome));
                        continue;
                    }
                };
                emit.finished_in(
                    lane,
                    test,
                    member_result(status, duration, CapturedOutput::default(), attempts),
                );
            }
        }
    }
    failures
}

/// A member's duration: from its start line to its result in a sequential batch; in a
/// doctest batch (several threads, no starts), the time since the previous result.
fn member_duration(batch: &mut BatchProgress, pos: usize, at: Instant, sequential: bool) -> Duration {
    let since = match batch.running {
        Some((running, since)) if running == pos => {
            batch.running = None;
            since
        }
        _ if sequential => at,
        _ => batch.last_result,
    };
    batch.last_result = batch.last_result.max(at);
    at.saturating_duration_since(since)
}

fn ignored_reason(reason: Option<String>) -> String {
    match reason {
        Some(reason) if !reason.is_empty() => format!("ignored: {reason}"),
        _ => "ignored".to_owned(),
    }
}

/// A batch member's result: RSS is per process, so not measured per test.
fn member_result(
    status: TestStatus,
    duration: Duration,
    output: CapturedOutput,
    attempts: u32,
) -> TestResult {
    TestResult { status, duration, peak_rss: None, output, leaked_processes: false, attempts }
}

/// A failed batch member: its own failure section when libtest printed one (else the
/// batch's output, e.g. when the batch was stopped before the `failures:` block). A
/// doctest's section says how its executable ended; a libtest member's status carries the
/// batch process's exit code.
fn failed_member(
    section: Result<CapturedOutput, CapturedOutput>,
    duration: Duration,
    doctest: bool,
    exit_code: Option<i32>,
) -> TestResult {
    match section {
        Ok(section) => {
            let status = if doctest {
                doctest_failure_status(&section.to_text())
            } else {
                TestStatus::Failed { exit_code }
            };
            member_result(status, duration, section, 1)
        }
        Err(batch_output) => member_result(TestStatus::Failed { exit_code }, duration, batch_output, 1),
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
    member_result(status, duration, output, 1)
}
