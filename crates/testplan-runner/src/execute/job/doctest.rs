//! A doctest batch: a phase's doctests, of every selected library, through the test list's
//! doctest command (`cargo test --doc` with the user's package selection, decided by
//! discovery, so features unify as in the build and nothing is rebuilt) and `-- FILTER...
//! --test-threads T`: T threads, so T slots. Its members are keyed by crate and name
//! ([`doc_member_key`]): cargo prints `Doc-tests CRATE` before each library's results.
//!
//! It starts early, in the background, when its phase is not the first to run (it is
//! compile-bound). Results are streamed; it reports no starts (its tests start with the
//! process), and a doctest's duration is the time since the previous result. Failures get
//! their section of the `failures:` block; tests without a result get the batch's ending
//! ([`resolve::missing_result_status`]). It is never stopped for memory pressure: it
//! reports results as it goes and cannot be cut.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::{BatchMember, Demand, Job, JobKind, Rules};
use crate::events::TestResult;
use crate::execute::batch::BatchParser;
use crate::execute::error::StartError;
use crate::execute::resolve::{self, Ending, SharedOutput};
use crate::execute::running::{BatchProgress, DOCTEST_COMPILE_ALLOWANCE, Running};
use crate::execute::scheduler::settle::{self, SettleContext, Settled, failed_member, member_result};
use crate::execute::{MemoryOptions, process};
use crate::model::{RunCommand, TestBinary, TestIdx, TestList};
use crate::output::CapturedOutput;

/// A phase's doctests in one process, on several threads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DoctestBatch {
    /// The tests, parallel to [`Job::tests`], keyed by [`doc_member_key`].
    pub members: Vec<BatchMember>,
}

/// A doctest batch member's key: rustdoc's name within its crate. One `cargo test --doc`
/// runs every selected library's doctests, and names may repeat across crates; the batch
/// parser qualifies each result with the crate of the `Doc-tests CRATE` line before it.
pub(crate) fn doc_member_key(crate_name: &str, name: &str) -> String {
    format!("{crate_name}: {name}")
}

/// The crate name rustdoc and cargo's `Doc-tests` line use for a doctest binary.
pub(crate) fn doc_crate_name(binary: &TestBinary) -> String {
    binary.target_name.replace('-', "_")
}

/// The doctest batch of `tests` (with whether each runs as ignored) on up to `jobs`
/// threads; `timeout`: its watchdog (no result for this long).
pub(crate) fn doc_batch_job(
    list: &TestList,
    tests: &[(TestIdx, bool)],
    jobs: usize,
    timeout: Duration,
) -> Job {
    let names: Vec<String> = tests.iter().map(|&(t, _)| list.test(t).name.clone()).collect();
    let threads = jobs.min(names.len()).max(1);
    let include_ignored = tests.iter().any(|&(_, ignored)| ignored);
    let filters = doc_filters(&unselected_runnable(list, tests, include_ignored), &names);
    let command = doctest_command(list, tests).map(|spec| RunCommand {
        args: spec.args.into_iter().chain(doc_libtest_args(filters, threads, include_ignored)).collect(),
        ..spec
    });
    let members = tests
        .iter()
        .zip(names)
        .map(|(&(test, ignored), name)| {
            let name = doc_member_key(&doc_crate_name(list.binary_of(test)), &name);
            BatchMember { name, ignored, timeout, memory: 0, libtest: true }
        })
        .collect();
    let demand = Demand { slots: threads, memory: 0, exclusive: false };
    let kind = JobKind::Doctest(DoctestBatch { members });
    Job { timeout, ..Job::new(tests.iter().map(|&(t, _)| t).collect(), demand, kind, command) }
}

/// The list's doctest command (discovery sets it when it lists doctests).
fn doctest_command(list: &TestList, tests: &[(TestIdx, bool)]) -> Result<RunCommand, StartError> {
    list.doctest_command.clone().ok_or_else(|| {
        let binary = tests.first().map(|&(t, _)| list.binary_of(t).id.clone()).unwrap_or_default();
        StartError::NoDoctestCommand { binary }
    })
}

/// The other doctests, of every library the `cargo test --doc` runs, that would run if a
/// filter matched them: ignored ones stay skipped unless the batch includes ignored tests.
fn unselected_runnable<'l>(
    list: &'l TestList,
    tests: &[(TestIdx, bool)],
    include_ignored: bool,
) -> Vec<&'l str> {
    let selected: HashSet<TestIdx> = tests.iter().map(|&(t, _)| t).collect();
    (0..list.tests.len())
        .map(TestIdx)
        .filter(|idx| !selected.contains(idx))
        .map(|idx| list.test(idx))
        .filter(|t| {
            super::plan::is_doctest_binary(&list.binaries[t.binary.0]) && (include_ignored || !t.ignored)
        })
        .map(|t| t.name.as_str())
        .collect()
}

/// libtest filters that select `selected` without the doctests `others`, as far as
/// possible; none when there are no others to avoid.
///
/// rustdoc splits every `--test-args` value at whitespace, so a doctest name such as
/// `src/lib.rs - add (line 3)` cannot be passed whole, and `--exact` cannot match. Each
/// selected name contributes instead its whitespace-free piece that the fewest others
/// contain (the longest on a tie), as a substring filter. The filters may select more than
/// asked; results for tests not in the batch are ignored.
pub(crate) fn doc_filters(others: &[&str], selected: &[String]) -> Vec<String> {
    if others.is_empty() {
        return Vec::new();
    }
    let mut filters: Vec<String> = Vec::new();
    for name in selected {
        let cost = |piece: &&str| others.iter().filter(|other| other.contains(*piece)).count();
        let best = name
            .split_whitespace()
            // A piece starting with `-` would be read as an option.
            .filter(|piece| !piece.starts_with('-'))
            .min_by_key(|piece| (cost(piece), std::cmp::Reverse(piece.len())));
        if let Some(piece) = best.filter(|p| !filters.iter().any(|f| f == p)) {
            filters.push(piece.to_owned());
        }
    }
    filters
}

/// The libtest arguments after `--`. `--color never` because the output is parsed, whatever
/// colour setting cargo passes on.
fn doc_libtest_args(filters: Vec<String>, threads: usize, include_ignored: bool) -> Vec<String> {
    let mut args = vec!["--".to_owned()];
    args.extend(filters);
    args.extend(["--test-threads".to_owned(), threads.to_string(), "--color".to_owned(), "never".to_owned()]);
    if include_ignored {
        args.push("--include-ignored".to_owned());
    }
    args
}

impl Rules for DoctestBatch {
    fn may_run_early(&self) -> bool {
        true
    }

    fn stoppable_for_pressure(&self) -> bool {
        false
    }

    fn memory_limit(&self, _own: Option<u64>, _memory: &MemoryOptions) -> Option<u64> {
        None
    }

    fn parser(&self, head: usize, tail: usize) -> Option<BatchParser> {
        Some(BatchParser::doctests(self.members.iter().map(|m| m.name.clone()), head, tail))
    }

    fn progress(&self, at: Instant) -> Option<BatchProgress> {
        let progress = BatchProgress::new(self.members.iter().map(|m| m.name.as_str()), at, true);
        Some(BatchProgress { compiling: true, ..progress })
    }

    /// No result for the job's timeout; while cargo and rustdoc compile, at least
    /// [`DOCTEST_COMPILE_ALLOWANCE`].
    fn current_timeout(&self, job: &Job, progress: Option<&BatchProgress>) -> (Duration, Option<Instant>) {
        match progress.is_some_and(|p| p.compiling) {
            true => (job.timeout.max(DOCTEST_COMPILE_ALLOWANCE), None),
            false => (job.timeout, None),
        }
    }

    fn settle(&self, running: &mut Running, ctx: &SettleContext) -> Settled {
        let mut settled = Settled::default();
        let Some(exit) = running.exit() else { return settled };
        let (ending, exit_at) = (Ending::of(exit, running.current_timeout()), exit.at);
        let (output, mut sections, late) = {
            let mut capture = process::lock(&running.capture);
            let sections = capture.batch.as_mut().map(BatchParser::take_sections).unwrap_or_default();
            (capture.take_output(), sections, capture.take_results())
        };
        settle::apply_batch_events(running, late, ctx.retries, &mut settled);
        let Some(batch) = running.batch.as_mut() else { return settled };
        let any_result = batch.reported.iter().any(|&r| r);
        let mut output = SharedOutput::new(output);
        for (pos, member) in self.members.iter().enumerate() {
            let name = member.name.as_str();
            let result = if let Some((duration, _)) = batch.deferred.remove(&pos) {
                let section = sections.remove(name).ok_or_else(|| output.give(name));
                failed_member(section, duration, true, None)
            } else if !batch.reported[pos] {
                let since_last = exit_at.saturating_duration_since(batch.last_result);
                // Keys are `CRATE: NAME` (doc_member_key): the note names the doctest.
                let shown = name.split_once(": ").map_or(name, |(_, doctest)| doctest);
                missing_member(&ending, any_result, output.give_once(shown), since_last)
            } else {
                continue;
            };
            let result = TestResult { leaked_processes: running.leaked, ..result };
            settled.finished(running.job.tests[pos], result);
        }
        settled
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
