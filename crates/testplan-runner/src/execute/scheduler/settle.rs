//! Settling a job whose process has ended: what happened, as a value ([`Settled`]) the
//! scheduler applies — results to report, tests rescheduled, jobs to queue again.
//!
//! A job ends in one of these ways:
//! - its results are reported (each kind reads them its own way: [`super::super::job`]);
//! - stopped for memory pressure (by the memory guard, or by the kernel in an enclosing
//!   cgroup), it is re-queued at the back to run alone (`TestRescheduled`, reason memory
//!   pressure) — a libtest batch only its running test ([`Settled::run_alone`]);
//! - having failed with `--retries` left, it (a batch: the failed test alone) is re-queued
//!   at the front for another attempt (`TestRescheduled`, reason retry: [`Settled::retry`]);
//! - a libtest batch that ended without some results: its unfinished tests are re-queued
//!   at the front (see [`super::super::job::libtest`]).
//!
//! When its phase is stopping (fail-fast, Ctrl-C) nothing runs again: tests that would
//! are reported not run (or get the batch's ending).

use std::time::{Duration, Instant};

use crate::events::{Reschedule, StopReason, TestResult, TestStatus};
use crate::execute::batch::{BatchEvent, Outcome, doctest_failure_status};
use crate::execute::job::Job;
use crate::execute::resolve::KillReason;
use crate::execute::running::{BatchProgress, JobState, Running};
use crate::model::TestIdx;
use crate::output::CapturedOutput;
use crate::platform::SIGKILL;

/// What settling needs to know of the run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SettleContext {
    /// Why the job's phase starts nothing more, if it does not.
    pub stop: Option<StopReason>,
    /// `--retries`.
    pub retries: u32,
}

impl SettleContext {
    /// The attempts allowed in all, when a test at `attempt` may run again after `status`
    /// (not after a memory-limit kill: it would only be killed again).
    fn retry_allowed(&self, attempt: u32, status: &TestStatus) -> Option<u32> {
        let max_attempts = self.retries.saturating_add(1);
        let retryable = status.is_failure() && !matches!(status, TestStatus::MemoryExceeded { .. });
        (retryable && attempt < max_attempts && self.stop.is_none()).then_some(max_attempts)
    }
}

/// One thing to report, in order.
#[derive(Debug)]
pub(crate) enum Step {
    /// `TestStarted`.
    Started(TestIdx),
    /// `TestFinished`.
    Finished(TestIdx, TestResult),
    /// `TestRescheduled`.
    Rescheduled(TestIdx, Reschedule),
    /// The test will not run.
    NotRun(TestIdx, StopReason),
}

/// A job to queue again.
#[derive(Debug)]
pub(crate) enum Requeue {
    /// At the front of its lane, in this order (re-runs and retries).
    Front(Vec<Job>),
    /// At the back, after the jobs already queued (runs alone after a memory stop: they
    /// drain once, not once per stopped job).
    Back(Job),
}

/// What happened when a job ended (or reported progress).
#[derive(Debug, Default)]
pub(crate) struct Settled {
    /// Events, in order.
    pub steps: Vec<Step>,
    /// Jobs to queue, in order.
    pub queue: Vec<Requeue>,
    /// A final failure was reported (for fail-fast).
    pub failed: bool,
}

impl Settled {
    /// Reports a result.
    pub fn finished(&mut self, test: TestIdx, result: TestResult) {
        self.failed |= result.status.is_failure();
        self.steps.push(Step::Finished(test, result));
    }

    /// Reports a test rescheduled.
    pub fn rescheduled(&mut self, test: TestIdx, reason: Reschedule) {
        self.steps.push(Step::Rescheduled(test, reason));
    }

    /// The one place a failed test runs again: `again` (its next attempt, in a process of
    /// its own) goes to the front when `--retries` allows another attempt after `result`.
    /// Returns whether it does (then `result` is not reported).
    pub fn retry(
        &mut self,
        ctx: &SettleContext,
        attempt: u32,
        test: TestIdx,
        again: impl FnOnce() -> Option<Job>,
        result: &TestResult,
    ) -> bool {
        let Some(max_attempts) = ctx.retry_allowed(attempt, &result.status) else { return false };
        let Some(again) = again() else { return false };
        let (status, duration, output) = (result.status.clone(), result.duration, result.output.clone());
        let reason = Reschedule::Retry { attempt, max_attempts, status, duration, output };
        self.rescheduled(test, reason);
        self.queue.push(Requeue::Front(vec![again.next_attempt()]));
        true
    }

    /// The one place a job runs alone after a stop for memory pressure: its tests are
    /// rescheduled for `reason`, and it goes to the back of the queue, exclusive.
    pub fn run_alone(&mut self, job: Job, reason: &Reschedule) {
        for &test in &job.tests {
            self.rescheduled(test, reason.clone());
        }
        self.queue.push(Requeue::Back(job.run_alone()));
    }
}

/// Settles an ended job: a stop for memory pressure that landed re-runs the job alone when
/// its kind says so; otherwise its kind reads the results.
pub(crate) fn settle(mut running: Running, ctx: &SettleContext) -> Settled {
    let JobState::Exited(exit) = &mut running.state else { return Settled::default() };
    if let Some(KillReason::MemoryPressure { used, limit }) = exit.stopped {
        let killed = exit.exit.as_ref().is_ok_and(|e| e.signal == Some(SIGKILL));
        if killed && !running.job.rules().sequential() {
            return rerun_alone(running.job, Reschedule::MemoryPressure { used, limit }, ctx);
        }
        if !killed {
            // It ended on its own before the kill landed: its result stands.
            exit.stopped = None;
        }
    }
    let kind = running.job.kind.clone();
    kind.rules().settle(&mut running, ctx)
}

/// A whole job runs again alone, unless its phase is stopping: then it is not run.
fn rerun_alone(job: Job, reason: Reschedule, ctx: &SettleContext) -> Settled {
    let mut settled = Settled::default();
    match ctx.stop {
        Some(stop) => settled.steps.extend(job.tests.iter().map(|&test| Step::NotRun(test, stop))),
        None => settled.run_alone(job, &reason),
    }
    settled
}

/// Applies streamed batch events: starts are reported at once (sequential batches), so
/// are passes and skips; failures (and lost outcomes) wait for their failure section.
/// A failure is final (sets `settled.failed`) unless a libtest batch may still retry it
/// (`retries`): then it counts when settled.
pub(crate) fn apply_batch_events(
    running: &mut Running,
    events: Vec<(BatchEvent, Instant)>,
    retries: u32,
    settled: &mut Settled,
) {
    let attempts = running.job.attempt;
    let sequential = running.job.rules().sequential();
    let final_failures = !sequential || retries == 0;
    let Some(batch) = running.batch.as_mut() else { return };
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
                    settled.steps.push(Step::Started(running.job.tests[pos]));
                }
            }
            BatchEvent::Result(line) => {
                let Some(&pos) = batch.position.get(&line.name) else { continue };
                if std::mem::replace(&mut batch.reported[pos], true) {
                    continue;
                }
                let duration = member_duration(batch, pos, at, sequential);
                let status = match line.outcome {
                    Outcome::Ok => TestStatus::Passed,
                    Outcome::Ignored(reason) => TestStatus::Skipped { reason: ignored_reason(reason) },
                    outcome @ (Outcome::Failed | Outcome::Unknown) => {
                        settled.failed |= outcome == Outcome::Failed && final_failures;
                        batch.deferred.insert(pos, (duration, outcome));
                        continue;
                    }
                };
                let result = member_result(status, duration, CapturedOutput::default(), attempts);
                settled.steps.push(Step::Finished(running.job.tests[pos], result));
            }
        }
    }
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
pub(crate) fn member_result(
    status: TestStatus,
    duration: Duration,
    output: CapturedOutput,
    attempts: u32,
) -> TestResult {
    TestResult { status, duration, peak_rss: None, output, leaked_processes: false, attempts, cached: false }
}

/// A failed batch member: its own failure section when libtest printed one (else the
/// batch's output, e.g. when the batch was stopped before the `failures:` block). A
/// doctest's section says how its executable ended; a libtest member's status carries the
/// batch process's exit code.
pub(crate) fn failed_member(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::error::StartError;
    use crate::execute::job::single::Single;
    use crate::execute::job::{Demand, JobKind};

    fn job(tests: &[usize]) -> Job {
        let command = Err(StartError::NoExecutable { binary: "b".into() });
        let tests = tests.iter().map(|&t| TestIdx(t)).collect();
        Job::new(tests, Demand::single(1), JobKind::Single(Single { filtered: true }), command)
    }

    fn ctx(stop: Option<StopReason>, retries: u32) -> SettleContext {
        SettleContext { stop, retries }
    }

    fn failed() -> TestResult {
        TestResult::not_started(TestStatus::Failed { exit_code: Some(101) })
    }

    #[test]
    fn retries_are_allowed_for_failures_while_attempts_remain_and_the_phase_goes_on() {
        let failed = TestStatus::Failed { exit_code: Some(1) };
        let memory = TestStatus::MemoryExceeded { peak: 2, limit: 1 };
        let cases: &[(SettleContext, u32, &TestStatus, Option<u32>)] = &[
            (ctx(None, 2), 1, &failed, Some(3)),
            (ctx(None, 2), 2, &failed, Some(3)),
            (ctx(None, 2), 3, &failed, None),
            (ctx(None, 0), 1, &failed, None),
            (ctx(None, 2), 1, &TestStatus::Passed, None),
            // A memory-limit kill would only be killed again.
            (ctx(None, 2), 1, &memory, None),
            (ctx(Some(StopReason::FailFast), 2), 1, &failed, None),
        ];
        for (ctx, attempt, status, expected) in cases {
            assert_eq!(ctx.retry_allowed(*attempt, status), *expected, "{ctx:?} {attempt} {status:?}");
        }
    }

    #[test]
    fn a_retry_queues_the_next_attempt_at_the_front() {
        let mut settled = Settled::default();
        let result = failed();
        assert!(settled.retry(&ctx(None, 1), 1, TestIdx(4), || Some(job(&[4])), &result));
        let [Step::Rescheduled(TestIdx(4), Reschedule::Retry { attempt: 1, max_attempts: 2, .. })] =
            settled.steps.as_slice()
        else {
            panic!("{:?}", settled.steps)
        };
        let [Requeue::Front(jobs)] = settled.queue.as_slice() else { panic!("{:?}", settled.queue) };
        assert_eq!(jobs.iter().map(|j| j.attempt).collect::<Vec<_>>(), [2]);
        assert!(!settled.failed, "a retried failure is not final");

        let mut last = Settled::default();
        assert!(!last.retry(&ctx(None, 1), 2, TestIdx(4), || Some(job(&[4])), &result));
        assert!(last.steps.is_empty() && last.queue.is_empty());
    }

    #[test]
    fn a_job_stopped_for_memory_runs_alone_at_the_back_unless_its_phase_stops() {
        let reason = Reschedule::MemoryPressure { used: 9, limit: 10 };
        let settled = rerun_alone(job(&[1, 2]), reason.clone(), &ctx(None, 0));
        let tests: Vec<TestIdx> = settled
            .steps
            .iter()
            .map(|step| match step {
                Step::Rescheduled(test, r) if *r == reason => *test,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(tests, [TestIdx(1), TestIdx(2)]);
        let [Requeue::Back(alone)] = settled.queue.as_slice() else { panic!("{:?}", settled.queue) };
        assert!(alone.alone && alone.demand.exclusive, "alone, with the whole budget");
        assert!(!alone.stoppable_for_pressure(), "not stopped for pressure again");

        let stopping = rerun_alone(job(&[1, 2]), reason, &ctx(Some(StopReason::Interrupted), 0));
        assert!(stopping.queue.is_empty());
        assert!(
            stopping.steps.iter().all(|step| matches!(step, Step::NotRun(_, StopReason::Interrupted))),
            "{:?}",
            stopping.steps
        );
    }
}
