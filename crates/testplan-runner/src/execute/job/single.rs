//! A single test in a process of its own: `BIN --exact NAME --nocapture --test-threads 1`
//! (a custom harness gets only `--exact NAME`), or `BIN` alone for a binary that does not
//! list its tests (run once, like `cargo test` does).
//!
//! Its exit status is its result ([`resolve::single_status`]); a failure with `--retries`
//! left runs again. It is the only kind whose output may go to the terminal
//! (`--no-capture`), and the only one judged by its own memory limit.

use std::time::Instant;

use super::{Demand, Job, JobKind, Rules};
use crate::events::TestResult;
use crate::execute::error::StartError;
use crate::execute::resolve::{self, Ending};
use crate::execute::running::{BatchProgress, Running};
use crate::execute::scheduler::settle::{SettleContext, Settled};
use crate::execute::{MemoryOptions, TestLimits, memory, process};
use crate::model::{ListMethod, RunCommand, TestBinary, TestIdx, TestList};

/// One test per process; the exit status is the result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Single {
    /// The process is a libtest-style harness run with `--exact NAME`, so `running 0
    /// tests` means the test was not found.
    pub filtered: bool,
}

/// The job of a planned test that needs a process of its own.
pub(crate) fn single_job(list: &TestList, test: TestIdx, ignored: bool, limits: TestLimits) -> Job {
    let binary = list.binary_of(test);
    let opaque = binary.list_method == ListMethod::Opaque;
    let args =
        if opaque { Vec::new() } else { exact_args(&list.test(test).name, ignored, !binary.custom_harness) };
    let command = binary_command(binary).map(|spec| RunCommand { args, ..spec });
    let demand = Demand { exclusive: limits.serial, ..Demand::single(limits.memory_estimate) };
    let kind = JobKind::Single(Single { filtered: !opaque });
    Job {
        timeout: limits.timeout,
        memory_limit: limits.memory_limit,
        ..Job::new(vec![test], demand, kind, command)
    }
}

/// A test of a batch run again in a process of its own (`--exact NAME`), with the batch's
/// program, directory and environment.
pub(crate) fn member_job(batch: &Job, test: TestIdx, member: &super::BatchMember) -> Job {
    let command = batch
        .command
        .clone()
        .map(|spec| RunCommand { args: exact_args(&member.name, member.ignored, member.libtest), ..spec });
    let kind = JobKind::Single(Single { filtered: true });
    Job {
        timeout: member.timeout,
        attempt: batch.attempt,
        lane: batch.lane,
        ..Job::new(vec![test], Demand::single(member.memory), kind, command)
    }
}

/// The program, directory and environment of a test binary, as discovery decided.
pub(crate) fn binary_command(binary: &TestBinary) -> Result<RunCommand, StartError> {
    binary.run_command().ok_or_else(|| StartError::NoExecutable { binary: binary.id.clone() })
}

/// `--exact NAME [--nocapture --test-threads 1] [--ignored]`. `libtest`: the binary is
/// libtest's (not a custom harness), so `--test-threads 1` is understood; with one test it
/// changes nothing but spares libtest's probe of the CPU count (cgroup files read in every
/// process: ~0.3 ms of wall and 0.5 ms of CPU per test here). A custom harness gets only
/// what `cargo test` would pass it (libtest2-mimic rejects `--nocapture`) and, for ignored
/// tests, `cargo test -- --include-ignored`'s flag.
pub(crate) fn exact_args(name: &str, ignored: bool, libtest: bool) -> Vec<String> {
    let mut args = vec!["--exact".to_owned(), name.to_owned()];
    if libtest {
        args.extend(["--nocapture", "--test-threads", "1"].map(str::to_owned));
    }
    if ignored {
        args.push(if libtest { "--ignored" } else { "--include-ignored" }.to_owned());
    }
    args
}

impl Rules for Single {
    fn may_inherit_output(&self) -> bool {
        true
    }

    fn memory_limit(&self, own: Option<u64>, memory: &MemoryOptions) -> Option<u64> {
        memory::effective_limit(own, memory.budget, memory.default_limit)
    }

    fn timed_member(&self, _progress: Option<&BatchProgress>) -> Option<(usize, Option<Instant>)> {
        Some((0, None))
    }

    fn settle(&self, running: &mut Running, ctx: &SettleContext) -> Settled {
        let mut settled = Settled::default();
        let Some(exit) = running.exit() else { return settled };
        let ending = Ending::of(exit, running.current_timeout());
        let output = process::lock(&running.capture).take_output();
        let (status, note) = resolve::single_status(&ending, self.filtered, &output);
        let mut result = TestResult {
            status,
            duration: exit.at.saturating_duration_since(running.started),
            peak_rss: running.peak_rss(&exit.exit),
            output,
            leaked_processes: running.leaked,
            attempts: running.job.attempt,
            cached: false,
        };
        let job = &running.job;
        if settled.retry(ctx, job.attempt, job.tests[0], || Some(job.clone()), &result) {
            return settled;
        }
        if let Some(note) = note {
            resolve::append_note(&mut result.output, &note);
        }
        settled.finished(job.tests[0], result);
        settled
    }
}
