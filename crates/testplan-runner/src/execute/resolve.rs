//! Pure decisions: how a finished process (its exit, whether the runner stopped it, what it
//! printed) becomes a test status. Kept apart from the scheduler so the rules read as a
//! table and are tested as one.

use std::time::Duration;

use crate::events::TestStatus;
use crate::execute::batch::{Outcome, parse_result_line};
use crate::execute::error::WaitError;
use crate::execute::running::Exit;
use crate::output::CapturedOutput;
use crate::platform::ExitInfo;

/// Why the runner stopped a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KillReason {
    /// It ran (or, for a batch, went without a result) past its timeout.
    Timeout,
    /// The run was interrupted (Ctrl-C).
    Interrupted,
    /// Its process tree passed its memory limit.
    MemoryLimit {
        /// Tree RSS seen, in bytes.
        peak: u64,
        /// The limit, in bytes.
        limit: u64,
    },
    /// Memory neared its limit while other tests ran: the scheduler re-runs it alone. Not a
    /// status: the scheduler re-queues such a job instead of resolving it.
    MemoryPressure {
        /// Memory in use, in bytes.
        used: u64,
        /// The limit memory neared, in bytes.
        limit: u64,
    },
}

/// How a job's process ended, from the scheduler's point of view.
#[derive(Clone, Debug)]
pub(crate) struct Ending {
    /// What `wait4` said, or why it failed.
    pub exit: Result<ExitInfo, WaitError>,
    /// Set when the runner signalled the process group before it ended.
    pub kill: Option<KillReason>,
    /// The job's timeout (reported by timed-out tests).
    pub timeout: Duration,
}

impl Ending {
    /// How `exit` ended, while `timeout` ran.
    pub fn of(exit: &Exit, timeout: Duration) -> Self {
        Ending { exit: exit.exit.clone(), kill: exit.stopped, timeout }
    }

    /// The status the runner's own intervention decides, if it intervened.
    fn stopped_status(&self) -> Option<TestStatus> {
        match self.kill? {
            KillReason::Timeout => Some(TestStatus::TimedOut { after: self.timeout }),
            KillReason::Interrupted => Some(TestStatus::Interrupted),
            KillReason::MemoryLimit { peak, limit } => {
                let measured = self.exit.as_ref().map_or(0, |e| e.max_rss);
                Some(TestStatus::MemoryExceeded { peak: peak.max(measured), limit })
            }
            KillReason::MemoryPressure { .. } => None,
        }
    }

    fn exit_code(&self) -> Option<i32> {
        self.exit.as_ref().ok().and_then(|e| e.code)
    }
}

/// The status of a one-test process, and a note to append to its output when the status
/// needs explaining. `filtered`: the process was told `--exact NAME`.
pub(crate) fn single_status(
    end: &Ending,
    filtered: bool,
    output: &CapturedOutput,
) -> (TestStatus, Option<String>) {
    if let Some(status) = end.stopped_status() {
        return (status, None);
    }
    let exit = match &end.exit {
        Ok(exit) => exit,
        Err(e) => {
            return (
                TestStatus::Failed { exit_code: None },
                Some(format!("could not wait for the test process: {e}")),
            );
        }
    };
    match (exit.code, exit.signal) {
        (Some(0), _) if filtered && ran_zero_tests(output) => (
            TestStatus::Failed { exit_code: Some(0) },
            Some(
                "the test binary ran 0 tests: this test no longer exists under this name \
                 (was the binary rebuilt after listing?)"
                    .to_owned(),
            ),
        ),
        (Some(0), _) => match filtered.then(|| ignored_at_run_time(output)).flatten() {
            Some(reason) => (TestStatus::Skipped { reason }, None),
            None => (TestStatus::Passed, None),
        },
        (Some(code), _) => (TestStatus::Failed { exit_code: Some(code) }, None),
        (None, Some(signal)) => (TestStatus::Crashed { signal }, None),
        (None, None) => (TestStatus::Failed { exit_code: None }, None),
    }
}

/// The skip reason (`ignored`, `ignored: REASON`) when a one-test process says its test
/// was ignored. That is how a harness that decides ignores at run time (libtest2-mimic's
/// `cx.ignore()`, which `--list --ignored` cannot show) reports one; `cargo test` shows it
/// as ignored too. The harness's summary decides (`test result: ok. 0 passed; 0 failed; 1
/// ignored`): a test's own output may contain `... ignored` (trycmd prints `Testing
/// tests/cmd/x.toml ... ignored` per case, right after `test cli_tests ... `). The reason
/// comes from the last result line that says ignored; without a summary line, that line
/// alone decides.
fn ignored_at_run_time(output: &CapturedOutput) -> Option<String> {
    let lines: Vec<&str> = [&output.head, &output.tail]
        .into_iter()
        .flat_map(|bytes| bytes.split(|&b| b == b'\n'))
        .filter_map(|line| Some(std::str::from_utf8(line).ok()?.trim_end_matches('\r')))
        .collect();
    let summary = lines.iter().rev().find_map(|line| summary_counts(line));
    let last = lines.iter().filter_map(|line| parse_result_line(line, |_| false)).next_back();
    let reason = match last.map(|l| l.outcome) {
        Some(Outcome::Ignored(Some(reason))) => format!("ignored: {reason}"),
        Some(Outcome::Ignored(None)) => "ignored".to_owned(),
        _ if summary.is_some() => "ignored".to_owned(),
        _ => return None,
    };
    match summary {
        Some((passed, ignored)) => (passed == 0 && ignored > 0).then_some(reason),
        None => Some(reason),
    }
}

/// `(passed, ignored)` of a libtest-style `test result: ok. 1 passed; 0 failed; 0 ignored; ...`.
fn summary_counts(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix("test result: ")?;
    let count = |word: &str| {
        rest.split(';').find_map(|part| {
            part.trim()
                .trim_start_matches(|c: char| !c.is_ascii_digit())
                .strip_suffix(word)?
                .trim()
                .parse()
                .ok()
        })
    };
    Some((count("passed")?, count("ignored")?))
}

/// The status of a doctest batch member that got no result line, and the note explaining
/// it. `any_result`: whether the batch reported any test at all. A batch that exited 0
/// without the result gives no exit code to blame: rustdoc did not run the doctest (it was
/// listed, but not compiled in this run).
pub(crate) fn missing_result_status(end: &Ending, any_result: bool) -> (TestStatus, Option<String>) {
    if let Some(status) = end.stopped_status() {
        return (status, None);
    }
    let exit_code = end.exit_code().filter(|&code| code != 0);
    let note = match (any_result, exit_code) {
        (_, None) if end.exit_code() == Some(0) => {
            "`cargo test --doc` succeeded without a result for this doctest: rustdoc did not run it, \
             although the doctest listing found it"
        }
        (true, _) => "the doctest batch ended without a result for this doctest",
        (false, _) => "the doctest batch ended before reporting any result (see its output)",
    };
    (TestStatus::Failed { exit_code }, Some(note.to_owned()))
}

/// The status of the test a batch process was running when it ended without its result,
/// when it cannot be re-run alone (the run is stopping): the runner's kill decides, else
/// the signal (crashed) or the exit code. The note says the status is the batch's.
pub(crate) fn batch_culprit_status(end: &Ending) -> (TestStatus, Option<String>) {
    if let Some(status) = end.stopped_status() {
        return (status, None);
    }
    let status = match end.exit.as_ref().ok() {
        Some(ExitInfo { signal: Some(signal), .. }) => TestStatus::Crashed { signal: *signal },
        exit => TestStatus::Failed { exit_code: exit.and_then(|e| e.code) },
    };
    let note = "the batch process running this test ended without its result; the run is stopping, so \
                it was not re-run alone";
    (status, Some(note.to_owned()))
}

/// Why a batch member runs again in a process of its own, for `TestRescheduled`: what
/// happened to its batch process while it ran.
pub(crate) fn isolation_cause(end: &Ending) -> String {
    match (end.kill, end.exit.as_ref().ok()) {
        (Some(KillReason::Timeout), _) => format!("it ran past its timeout ({:?}) in a batch", end.timeout),
        (Some(KillReason::MemoryLimit { .. }), _) => "its batch process passed the memory limit".to_owned(),
        (Some(KillReason::MemoryPressure { .. }), _) => "its batch process was stopped for memory".to_owned(),
        (Some(KillReason::Interrupted), _) => "its batch process was interrupted".to_owned(),
        (None, Some(ExitInfo { signal: Some(signal), .. })) => {
            format!("its batch process crashed ({})", crate::platform::signal_name(*signal))
        }
        (None, Some(ExitInfo { code: Some(code), .. })) => {
            format!("its batch process exited (code {code}) without its result")
        }
        (None, _) => "its batch process ended without its result".to_owned(),
    }
}

/// Whether libtest said `running 0 tests`: the `--exact` filter matched nothing. libtest
/// prints it first, so the kept head of the output is enough.
pub(crate) fn ran_zero_tests(output: &CapturedOutput) -> bool {
    output
        .head
        .split(|&b| b == b'\n')
        .any(|line| line.strip_suffix(b"\r").unwrap_or(line) == b"running 0 tests")
}

/// Appends a runner note to captured output, visibly set apart from the test's own text.
pub(crate) fn append_note(output: &mut CapturedOutput, note: &str) {
    let target =
        if output.elided == 0 && output.tail.is_empty() { &mut output.head } else { &mut output.tail };
    if target.last().is_some_and(|&b| b != b'\n') {
        target.push(b'\n');
    }
    target.extend_from_slice(format!("[cargo-testplan] {note}\n").as_bytes());
}

/// Bytes of a batch's output repeated for each further test it concerns.
const EXCERPT: usize = 4 * 1024;

/// A batch's output, to attach to the tests it decides without copying it in full for
/// each: the first test gets all of it, the others its last [`EXCERPT`] bytes and a
/// pointer to the first (a build error failing 500 doctests is shown once, not 500 times).
#[derive(Debug)]
pub(crate) struct SharedOutput {
    full: CapturedOutput,
    first: Option<String>,
}

impl SharedOutput {
    /// Wraps a batch's output.
    pub fn new(full: CapturedOutput) -> Self {
        SharedOutput { full, first: None }
    }

    /// The output to attach to test `name`, and to the others only the pointer to the first
    /// (doctests missing from a batch: the batch's tail says nothing about each of them).
    pub fn give_once(&mut self, name: &str) -> CapturedOutput {
        let Some(first) = &self.first else {
            self.first = Some(name.to_owned());
            return self.full.clone();
        };
        let mut out = CapturedOutput::default();
        append_note(&mut out, &format!("the batch's full output is attached to `{first}`"));
        out
    }

    /// The output to attach to test `name`.
    pub fn give(&mut self, name: &str) -> CapturedOutput {
        let Some(first) = &self.first else {
            self.first = Some(name.to_owned());
            return self.full.clone();
        };
        let mut out = tail_excerpt(&self.full, EXCERPT);
        append_note(&mut out, &format!("the batch's full output is attached to `{first}`"));
        out
    }
}

/// The last `max` bytes of `full`, the rest counted as elided.
fn tail_excerpt(full: &CapturedOutput, max: usize) -> CapturedOutput {
    let kept = full.head.len() + full.tail.len();
    let skip = kept.saturating_sub(max);
    let bytes: Vec<u8> = full.head.iter().chain(&full.tail).skip(skip).copied().collect();
    let elided = full.elided + skip as u64;
    if elided == 0 {
        CapturedOutput { head: bytes, ..CapturedOutput::default() }
    } else {
        CapturedOutput { head: Vec::new(), tail: bytes, elided }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exited(code: Option<i32>, signal: Option<i32>) -> Result<ExitInfo, WaitError> {
        Ok(ExitInfo { code, signal, max_rss: 0 })
    }

    fn ending(exit: Result<ExitInfo, WaitError>, kill: Option<KillReason>) -> Ending {
        Ending { exit, kill, timeout: Duration::from_secs(7) }
    }

    fn text(s: &str) -> CapturedOutput {
        CapturedOutput { head: s.as_bytes().to_vec(), ..CapturedOutput::default() }
    }

    #[test]
    fn single_statuses() {
        let timed_out = TestStatus::TimedOut { after: Duration::from_secs(7) };
        let interrupted = TestStatus::Interrupted;
        let zero = "\nrunning 0 tests\n\ntest result: ok. 0 passed";
        let cases: Vec<(Ending, bool, &str, TestStatus, bool)> = vec![
            (ending(exited(Some(0), None), None), true, "running 1 test\n", TestStatus::Passed, false),
            (
                ending(exited(Some(0), None), None),
                true,
                zero,
                TestStatus::Failed { exit_code: Some(0) },
                true,
            ),
            (ending(exited(Some(0), None), None), false, zero, TestStatus::Passed, false),
            (
                ending(exited(Some(101), None), None),
                true,
                "",
                TestStatus::Failed { exit_code: Some(101) },
                false,
            ),
            (ending(exited(None, Some(11)), None), true, "", TestStatus::Crashed { signal: 11 }, false),
            (ending(exited(None, Some(15)), Some(KillReason::Timeout)), true, "", timed_out.clone(), false),
            (ending(exited(Some(0), None), Some(KillReason::Timeout)), true, "", timed_out, false),
            (ending(exited(None, Some(9)), Some(KillReason::Interrupted)), true, "", interrupted, false),
            (
                ending(exited(None, Some(9)), Some(KillReason::MemoryLimit { peak: 5, limit: 4 })),
                true,
                "",
                TestStatus::MemoryExceeded { peak: 5, limit: 4 },
                false,
            ),
            (
                ending(exited(Some(0), None), Some(KillReason::MemoryPressure { used: 9, limit: 10 })),
                true,
                "running 1 test\n",
                TestStatus::Passed,
                false,
            ),
            (
                ending(Err(WaitError(std::sync::Arc::new(std::io::Error::other("ECHILD")))), None),
                true,
                "",
                TestStatus::Failed { exit_code: None },
                true,
            ),
        ];
        for (end, filtered, out, status, has_note) in cases {
            let (got, note) = single_status(&end, filtered, &text(out));
            assert_eq!(got, status, "{end:?} {out:?}");
            assert_eq!(note.is_some(), has_note, "{end:?} {out:?}");
        }
    }

    /// Real output of one-test processes (Rust 1.95).
    #[test]
    fn a_test_ignored_at_run_time_is_skipped() {
        // libtest2-mimic 0.0.4, `BIN --exact mimic2::ignored_then_fails`: `cx.ignore()?`.
        let libtest2 = "\nrunning 1 test\ntest mimic2::ignored_then_fails ... ignored\n\n\
                        test result: ok. 0 passed; 0 failed; 1 ignored; 3 filtered out; finished in 0.000s\n\n";
        // libtest-mimic 0.8.2, `BIN --exact mimic::passes --nocapture`.
        let mimic = "\nrunning 1 test\ntest mimic::passes ... ok\n\n\
                     test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 4 filtered out; finished in 0.00s\n\n";
        let with_reason = "\nrunning 1 test\ntest a ... ignored, needs a GPU\n\ntest result: ok. 0 passed";
        let printed_then_passed = "\nrunning 1 test\ntest a ... test b ... ignored\nok\ntest a ... ok\n";
        // trycmd: the test's own lines end `... ignored`; the summary says it passed.
        let trycmd = "\nrunning 1 test\ntest cli_tests ... Testing tests/cmd/schema.toml ... ignored\n\
                      Testing tests/cmd/basic.toml ... ok 24ms\nok\n\n\
                      test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n";
        let skipped = |reason: &str| TestStatus::Skipped { reason: reason.to_owned() };
        let passed = ending(exited(Some(0), None), None);
        let cases = [
            (&passed, true, libtest2, skipped("ignored")),
            (&passed, true, with_reason, skipped("ignored: needs a GPU")),
            (&passed, true, mimic, TestStatus::Passed),
            (&passed, true, printed_then_passed, TestStatus::Passed),
            (&passed, true, trycmd, TestStatus::Passed),
            // An opaque binary's output is its own business.
            (&passed, false, libtest2, TestStatus::Passed),
        ];
        for (end, filtered, out, status) in cases {
            assert_eq!(single_status(end, filtered, &text(out)), (status, None), "{out:?}");
        }
        // The result line in the kept tail of a long output counts too.
        let long =
            CapturedOutput { head: b"noise\n".to_vec(), tail: b"test x ... ignored\n".to_vec(), elided: 9 };
        assert_eq!(single_status(&passed, true, &long).0, skipped("ignored"));
        // A failure stays a failure whatever the output says.
        let failed = ending(exited(Some(101), None), None);
        assert_eq!(
            single_status(&failed, true, &text(libtest2)).0,
            TestStatus::Failed { exit_code: Some(101) }
        );
    }

    #[test]
    fn missing_results() {
        let cases = [
            (ending(exited(Some(101), None), None), false, TestStatus::Failed { exit_code: Some(101) }),
            (ending(exited(Some(0), None), None), true, TestStatus::Failed { exit_code: None }),
            (ending(exited(None, Some(9)), None), true, TestStatus::Failed { exit_code: None }),
            (
                ending(exited(None, Some(9)), Some(KillReason::Timeout)),
                true,
                TestStatus::TimedOut { after: Duration::from_secs(7) },
            ),
            (ending(exited(None, Some(9)), Some(KillReason::Interrupted)), false, TestStatus::Interrupted),
        ];
        for (end, any, expected) in cases {
            assert_eq!(missing_result_status(&end, any).0, expected, "{end:?}");
        }
    }

    #[test]
    fn notes_are_appended_where_the_output_ends() {
        let mut short = text("boom");
        append_note(&mut short, "why");
        assert_eq!(short.to_text(), "boom\n[cargo-testplan] why\n");

        let mut long = CapturedOutput { head: b"ab".to_vec(), tail: b"yz\n".to_vec(), elided: 5 };
        append_note(&mut long, "why");
        assert!(long.to_text().ends_with("yz\n[cargo-testplan] why\n"));

        let mut empty = CapturedOutput::default();
        append_note(&mut empty, "why");
        assert_eq!(empty.to_text(), "[cargo-testplan] why\n");
    }

    #[test]
    fn batch_output_is_given_whole_once() {
        let mut shared = SharedOutput::new(text(&"x".repeat(EXCERPT + 10)));
        assert_eq!(shared.give("a").head.len(), EXCERPT + 10);
        let second = shared.give("b");
        assert_eq!(second.elided, 10);
        assert!(second.to_text().ends_with("[cargo-testplan] the batch's full output is attached to `a`\n"));

        let mut small = SharedOutput::new(text("error: could not compile\n"));
        small.give("a");
        assert!(small.give("b").to_text().starts_with("error: could not compile\n[cargo-testplan]"));
    }
}
