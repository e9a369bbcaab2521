//! A libtest batch: `BIN --exact A B C ... --test-threads 1 --color never --format pretty
//! [--include-ignored]`, a chunk of one binary's tests run one after another in one
//! process, their output captured by libtest (shown for failures). A custom harness that
//! lists like libtest runs as a batch only as its whole binary (it takes one filter only).
//! Its memory demand is the largest member's estimate: RSS is per process, and one test
//! runs at a time.
//!
//! Results are streamed (starts too: each start line times its test). A batch can end
//! before all of them — a crash, a timeout, the memory guard, a test calling `exit`. Then
//! the fault is put on the right test by running again:
//! - the test that was running (its start was seen, its result not) runs again alone, in
//!   a process of its own, so its status (signal, exit code) is exact (`TestRescheduled`,
//!   reason isolated; after a stop for memory pressure it runs alone with the whole
//!   budget, as single tests do) — except after a timeout: the start line pins the test
//!   that ran past its own timeout, and a second full timeout would add nothing, so it is
//!   reported timed out at once;
//! - a test whose failure output was lost (libtest prints it at the end) runs again alone;
//! - tests that never started run again: together in a new batch when the fault was
//!   attributed to a running test (so the new batch is smaller and cannot loop), else one
//!   per process (a name libtest did not run then reports `running 0 tests` on its own).
//!
//! Re-runs go to the front of the queue. When the phase is stopping (fail-fast, Ctrl-C)
//! nothing runs again: the running test gets the batch's ending, a member libtest reported
//! failed is failed (its output lost), the rest are not run. A member queued to run alone
//! only for its lost output carries that failure ([`Job::if_stopped`]) in case the phase
//! stops before it starts.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::single::member_job;
use super::{BatchMember, Demand, Job, JobKind, Rules};
use crate::events::{Reschedule, StopReason, TestResult, TestStatus};
use crate::execute::batch::{BatchParser, Outcome};
use crate::execute::error::StartError;
use crate::execute::resolve::{self, Ending, KillReason, SharedOutput};
use crate::execute::running::{BatchProgress, Running};
use crate::execute::scheduler::settle::{
    self, Requeue, SettleContext, Settled, failed_member, member_result,
};
use crate::execute::{MemoryOptions, memory, process};
use crate::model::{RunCommand, TestIdx};
use crate::output::CapturedOutput;

/// Many tests of one binary in one process, one after another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LibtestBatch {
    /// The tests, parallel to [`Job::tests`].
    pub members: Vec<BatchMember>,
}

/// How a libtest batch selects its members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Filter {
    /// `--exact A B C ...`.
    Names,
    /// No names: the batch is everything the binary runs without a filter (all its tests,
    /// or all but the ignored ones). libtest checks each test against every name given,
    /// which cost ~2.7 ms per binary of 250 tests here; the ignored tests it then reports
    /// skipped are not members and their lines are dropped.
    WholeBinary,
}

/// The batch job of `members` (with their tests), run by `spec` (the binary's command).
pub(crate) fn batch_job(
    spec: &Result<RunCommand, StartError>,
    members: Vec<(TestIdx, BatchMember)>,
    filter: Filter,
) -> Job {
    let (tests, members): (Vec<TestIdx>, Vec<BatchMember>) = members.into_iter().unzip();
    let args = batch_args(&members, filter);
    let memory = members.iter().map(|m| m.memory).max().unwrap_or(0);
    let timeout = members.iter().map(|m| m.timeout).max().unwrap_or(Duration::ZERO);
    let command = spec.clone().map(|spec| RunCommand { args, ..spec });
    let kind = JobKind::Libtest(LibtestBatch { members });
    Job { timeout, ..Job::new(tests, Demand::single(memory), kind, command) }
}

fn batch_args(members: &[BatchMember], filter: Filter) -> Vec<String> {
    let mut args = Vec::new();
    if filter == Filter::Names {
        args.push("--exact".to_owned());
        args.extend(members.iter().map(|m| m.name.clone()));
    }
    if members.iter().all(|m| m.libtest) {
        args.extend(["--test-threads", "1", "--color", "never", "--format", "pretty"].map(str::to_owned));
    } else {
        // A custom harness: libtest2-mimic rejects `--format` (unstable) and `--color`
        // may be unknown; `--test-threads 1` is understood by libtest's look-alikes and
        // makes them print each start before the test runs.
        args.extend(["--test-threads", "1"].map(str::to_owned));
    }
    if members.iter().any(|m| m.ignored) {
        args.push("--include-ignored".to_owned());
    }
    args
}

impl LibtestBatch {
    /// The member at `pos` of `job` (this batch) as a job of its own.
    pub fn member_alone(&self, job: &Job, pos: usize) -> Option<Job> {
        Some(member_job(job, *job.tests.get(pos)?, self.members.get(pos)?))
    }

    /// The members at `positions` of `job` (this batch) as a batch of their own (used for
    /// the tests that never started when their batch crashed on another test). `None` for
    /// a custom harness, which takes one filter only: its members then run one per
    /// process.
    pub fn sub_batch(&self, job: &Job, positions: &[usize]) -> Option<Job> {
        if self.members.iter().any(|m| !m.libtest) {
            return None;
        }
        let picked =
            positions.iter().filter_map(|&p| Some((*job.tests.get(p)?, self.members.get(p)?.clone())));
        job.command.as_ref().ok()?;
        let batch = batch_job(&job.command, picked.collect(), Filter::Names);
        Some(Job { lane: job.lane, ..batch })
    }

    fn name(&self, pos: usize) -> &str {
        self.members.get(pos).map_or("", |m| m.name.as_str())
    }
}

impl Rules for LibtestBatch {
    fn sequential(&self) -> bool {
        true
    }

    /// A batch past the default limit is stopped and its running test re-run alone, where
    /// its own limit judges it.
    fn memory_limit(&self, _own: Option<u64>, memory: &MemoryOptions) -> Option<u64> {
        memory::effective_limit(None, memory.budget, memory.default_limit)
    }

    fn parser(&self, head: usize, tail: usize) -> Option<BatchParser> {
        Some(BatchParser::sequential(self.members.iter().map(|m| m.name.clone()), head, tail))
    }

    fn progress(&self, at: Instant) -> Option<BatchProgress> {
        Some(BatchProgress::new(self.members.iter().map(|m| m.name.as_str()), at, false))
    }

    fn timed_member(&self, progress: Option<&BatchProgress>) -> Option<(usize, Option<Instant>)> {
        let (pos, since) = progress?.running?;
        Some((pos, Some(since)))
    }

    /// The running test has its own timeout; between tests, the job's counts.
    fn current_timeout(&self, job: &Job, progress: Option<&BatchProgress>) -> (Duration, Option<Instant>) {
        match progress.and_then(|p| p.running) {
            Some((pos, since)) => (self.members.get(pos).map_or(job.timeout, |m| m.timeout), Some(since)),
            None => (job.timeout, None),
        }
    }

    fn settle(&self, running: &mut Running, ctx: &SettleContext) -> Settled {
        let mut settled = Settled::default();
        let Some(exit) = running.exit() else { return settled };
        let ending = Ending::of(exit, running.current_timeout());
        let (output, sections, listed, summary, late) = {
            let mut capture = process::lock(&running.capture);
            let late = capture.take_results();
            let (sections, listed, summary) = match capture.batch.as_mut() {
                Some(parser) => (parser.take_sections(), parser.take_failed_list(), parser.reached_summary()),
                None => Default::default(),
            };
            (capture.take_output(), sections, listed, summary, late)
        };
        settle::apply_batch_events(running, late, ctx.retries, &mut settled);
        let mut ended = BatchEnd {
            ending: &ending,
            sections,
            listed,
            summary,
            output: SharedOutput::new(output),
            stop: ctx.stop,
            never_started: Vec::new(),
            isolated: Vec::new(),
            known_failed: Vec::new(),
            timed_out: false,
        };
        for pos in 0..running.job.tests.len() {
            if let Some(result) = self.settle_member(running, pos, &mut ended, ctx, &mut settled) {
                let result = TestResult { leaked_processes: running.leaked, ..result };
                settled.finished(running.job.tests[pos], result);
            }
        }
        self.rerun(running, ended, &mut settled);
        settled
    }
}

/// How a libtest batch ended, and what runs again.
struct BatchEnd<'e> {
    ending: &'e Ending,
    sections: HashMap<String, CapturedOutput>,
    listed: HashSet<String>,
    /// libtest printed `test result:`.
    summary: bool,
    output: SharedOutput,
    /// Why its phase starts nothing more, if it does not.
    stop: Option<StopReason>,
    /// Members that run again alone.
    isolated: Vec<usize>,
    /// Those of them libtest reported failed (they run again only for their lost output).
    known_failed: Vec<usize>,
    /// Members that never started.
    never_started: Vec<usize>,
    /// The running member ran past its timeout and was reported so.
    timed_out: bool,
}

impl BatchEnd<'_> {
    /// The kernel killed a process of the batch for memory (its cgroup counted an OOM kill).
    fn memory_killed(&self) -> bool {
        matches!(self.ending.kill, Some(KillReason::MemoryLimit { .. } | KillReason::MemoryPressure { .. }))
    }
}

impl LibtestBatch {
    /// The result of the member at `pos`, if it is decided now (`None`: reported already,
    /// or it runs again — noted in `ended`, or retried in `settled`).
    fn settle_member(
        &self,
        running: &mut Running,
        pos: usize,
        ended: &mut BatchEnd<'_>,
        ctx: &SettleContext,
        settled: &mut Settled,
    ) -> Option<TestResult> {
        let attempts = running.job.attempt;
        let batch = running.batch.as_mut()?;
        let name = self.name(pos);
        if let Some((duration, outcome)) = batch.deferred.remove(&pos) {
            let section = ended.sections.remove(name);
            let is_failed = outcome == Outcome::Failed || section.is_some() || ended.listed.contains(name);
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
                if ended.memory_killed() && ended.stop.is_none() {
                    // The kernel killed a process of the batch for memory (a child the test
                    // started, say): the failure may be that, not the test. It runs again
                    // alone, in a process and cgroup of its own, before anything is called failed.
                    ended.isolated.push(pos);
                    return None;
                }
                let exit_code = ended.ending.exit.as_ref().ok().and_then(|e| e.code);
                let result =
                    TestResult { attempts, ..failed_member(Ok(section), duration, false, exit_code) };
                return (!self.retry_member(running, pos, &result, ctx, settled)).then_some(result);
            }
            // Failed (or ended unknown) and its output was lost with the process.
            return self.isolate_or_end(pos, attempts, ended, is_failed);
        }
        if batch.reported[pos] {
            return None;
        }
        if batch.started[pos] {
            if ended.ending.kill == Some(KillReason::Timeout) && batch.running.is_some_and(|(p, _)| p == pos)
            {
                ended.timed_out = true;
                let result = timed_out_member(ended, name, attempts);
                return (!self.retry_member(running, pos, &result, ctx, settled)).then_some(result);
            }
            return self.isolate_or_end(pos, attempts, ended, false);
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
        &self,
        pos: usize,
        attempts: u32,
        ended: &mut BatchEnd<'_>,
        failed: bool,
    ) -> Option<TestResult> {
        if ended.stop.is_none() {
            ended.isolated.push(pos);
            if failed {
                ended.known_failed.push(pos);
            }
            return None;
        }
        if failed {
            return Some(self.lost_failure(pos, attempts, ended));
        }
        let (status, note) = resolve::batch_culprit_status(ended.ending);
        let mut output = ended.output.give(self.name(pos));
        if let Some(note) = note {
            resolve::append_note(&mut output, &note);
        }
        Some(member_result(status, Duration::ZERO, output, attempts))
    }

    /// A member libtest reported failed whose failure output was lost with the process.
    fn lost_failure(&self, pos: usize, attempts: u32, ended: &mut BatchEnd<'_>) -> TestResult {
        let mut output = ended.output.give(self.name(pos));
        let note = "its failure output was lost: the batch process ended before printing it";
        resolve::append_note(&mut output, note);
        member_result(TestStatus::Failed { exit_code: None }, Duration::ZERO, output, attempts)
    }

    /// Re-queues a failed member alone when `--retries` allows another attempt.
    fn retry_member(
        &self,
        running: &Running,
        pos: usize,
        result: &TestResult,
        ctx: &SettleContext,
        settled: &mut Settled,
    ) -> bool {
        let job = &running.job;
        settled.retry(ctx, job.attempt, job.tests[pos], || self.member_alone(job, pos), result)
    }

    /// Queues what runs again after the batch ended (see the module docs).
    fn rerun(&self, running: &Running, mut ended: BatchEnd<'_>, settled: &mut Settled) {
        let job = &running.job;
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
            let Some(mut alone) = self.member_alone(job, pos) else { continue };
            if ended.known_failed.contains(&pos) {
                alone.if_stopped = Some(Box::new(self.lost_failure(pos, job.attempt, &mut ended)));
            }
            match &pressure {
                // Like a single test stopped for memory: alone, with the whole budget.
                Some(reason) if culprit_pos == Some(pos) => settled.run_alone(alone, reason),
                _ => {
                    let reason = Reschedule::Isolated { cause: resolve::isolation_cause(ended.ending) };
                    settled.rescheduled(job.tests[pos], reason);
                    front.push(alone);
                }
            }
        }
        let attributed = running.batch.as_ref().is_some_and(|b| b.started.iter().any(|&s| s));
        let culprit_known = !ended.isolated.is_empty() || ended.timed_out;
        let sub_batch = (ended.never_started.len() > 1 && attributed && culprit_known)
            .then(|| self.sub_batch(job, &ended.never_started))
            .flatten();
        match sub_batch {
            Some(batch) => front.push(batch),
            None => front.extend(ended.never_started.iter().filter_map(|&pos| self.member_alone(job, pos))),
        }
        settled.queue.push(Requeue::Front(front));
    }
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
