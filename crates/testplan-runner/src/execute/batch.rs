//! Parser of libtest's stable, human ("pretty") text output, for processes that run many
//! tests: libtest batches (`BIN --exact A B C --test-threads 1`) and `cargo test --doc`
//! batches.
//!
//! It is pure — lines in, events out — and streaming: the output reader feeds it line by
//! line so a result is known the moment libtest prints it. What it understands:
//!
//! ```text
//! running 3 tests
//! test src/lib.rs - add (line 3) ... ok
//! test src/lib.rs - foo (line 9) - compile fail ... FAILED
//! test src/lib.rs - bar (line 12) ... ignored, needs network
//!
//! failures:
//!
//! ---- src/lib.rs - foo (line 9) stdout ----
//! ...the failing test's captured output...
//! ---- src/lib.rs - baz (line 20) stdout ----      (no blank line needed before it)
//! ...
//!
//! failures:
//!     src/lib.rs - foo (line 9)
//!
//! test result: FAILED. 1 passed; 1 failed; 1 ignored; ...
//! ```
//!
//! A doctest batch is one `cargo test --doc` over every selected library: cargo prints
//! `Doc-tests CRATE` (on stderr, merged into the same pipe) before each library's run, and
//! the parser of such a batch ([`BatchParser::doctests`]) keys every name it reports by
//! that crate ([`doc_member_key`]), so equal names in two crates stay apart.
//!
//! Test names may contain spaces, ` - ` and even ` ... `, so a result line is split at the
//! ` ... ` that leaves a known test name on the left (falling back to the first split that
//! parses). Result lines append libtest's test mode (` - compile fail`, ` - compile`,
//! ` - should panic`) to the name the listing gives; it is removed again.
//!
//! # Sequential batches
//!
//! With `--test-threads 1` libtest prints `test NAME ... ` (and flushes) *before* it runs
//! the test, and the outcome after it, so the parser of such a batch ([`BatchParser::sequential`])
//! also reports which test is running ([`BatchEvent::Started`], seen on the unfinished
//! line, see [`BatchParser::feed_partial`]). Output that bypasses libtest's capture — a
//! child process writing to the inherited stdout — lands between the two halves:
//!
//! ```text
//! test tests::spawns ... output of the child
//! more output
//! ok
//! ```
//!
//! Such lines are kept as the running test's *stray* output (added to its failure output
//! if it fails), and an outcome alone on a line completes the test. When the outcome word
//! is lost (glued to stray output without a newline), the next test's start or the summary
//! ends the test with [`Outcome::Unknown`]; the `failures:` list at the end decides it.

use std::collections::{HashMap, HashSet};

use std::borrow::Cow;

use crate::events::TestStatus;
use crate::execute::job::doctest::doc_member_key;
use crate::output::{CapturedOutput, OutputBuffer};
use crate::text::strip_ansi;

/// Longest line the splitter keeps; the rest of a longer line is dropped (it still reaches
/// the bounded output capture whole). Long enough for any realistic test name.
pub(crate) const MAX_LINE: usize = 16 * 1024;

/// How libtest reported one test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// `... ok`
    Ok,
    /// `... FAILED`
    Failed,
    /// `... ignored` or `... ignored, REASON`
    Ignored(Option<String>),
    /// The test ended (the next one started, or the summary began) but its outcome word
    /// was lost in output that bypassed libtest's capture: failed if the `failures:` list
    /// names it (sequential batches only).
    Unknown,
}

/// One `test NAME ... OUTCOME` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ResultLine {
    /// The test name as libtest printed it.
    pub name: String,
    /// What happened to it.
    pub outcome: Outcome,
}

/// What the parser learnt from a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BatchEvent {
    /// The test started running (sequential batches only).
    Started(String),
    /// The test ended.
    Result(ResultLine),
    /// A harness run began (`running N tests`; doctest batches only): rustdoc has compiled
    /// what it compiles up front (merged doctests) and cargo has built what it needed.
    RunBegan,
    /// `Doc-tests CRATE` (doctest batches): cargo goes on to the next library, whose
    /// doctests rustdoc compiles before its `running N tests` line.
    CrateBegan,
}

/// Where the parser is in libtest's output.
#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    /// Between `running N tests` and `failures:`: result lines.
    Results,
    /// Inside the first `failures:` block: `---- NAME stdout ----` sections.
    Failures { current: Option<String> },
    /// After the `failures:` name list or `test result:`; until the next `running N tests`.
    Summary,
}

/// The test a sequential batch is running, and what it printed around libtest's capture.
#[derive(Debug)]
struct Running {
    name: String,
    stray: OutputBuffer,
}

/// Streaming parser of libtest's pretty output for a known set of tests.
#[derive(Debug)]
pub(crate) struct BatchParser {
    known: HashSet<String>,
    state: State,
    sections: HashMap<String, OutputBuffer>,
    section_head: usize,
    section_tail: usize,
    /// `--test-threads 1`: starts are tracked.
    sequential: bool,
    running: Option<Running>,
    /// Stray output of tests that failed (or whose outcome is unknown).
    strays: HashMap<String, CapturedOutput>,
    /// Names of the `failures:` list after the sections.
    failed: HashSet<String>,
    /// In the `failures:` name list.
    in_failed_list: bool,
    /// `test result:` was printed: the harness reached its end.
    finished: bool,
    /// A doctest batch: names are keyed by the crate of the latest `Doc-tests` line.
    doctests: bool,
    /// The crate of the latest `Doc-tests CRATE` line.
    doc_crate: String,
}

impl BatchParser {
    /// A parser expecting results for `known` names, from a harness running several tests
    /// at once (no starts); each failure section keeps at most `section_head` +
    /// `section_tail` bytes.
    pub fn new(known: impl IntoIterator<Item = String>, section_head: usize, section_tail: usize) -> Self {
        BatchParser {
            known: known.into_iter().collect(),
            state: State::Results,
            sections: HashMap::new(),
            section_head,
            section_tail,
            sequential: false,
            running: None,
            strays: HashMap::new(),
            failed: HashSet::new(),
            in_failed_list: false,
            finished: false,
            doctests: false,
            doc_crate: String::new(),
        }
    }

    /// A parser for a `cargo test --doc` batch: `known` are [`doc_member_key`]s, and the
    /// names it reports are too.
    pub fn doctests(
        known: impl IntoIterator<Item = String>,
        section_head: usize,
        section_tail: usize,
    ) -> Self {
        BatchParser { doctests: true, ..Self::new(known, section_head, section_tail) }
    }

    /// The key of `name` as printed: in a doctest batch, qualified by its crate.
    fn key<'n>(&self, name: &'n str) -> Cow<'n, str> {
        match self.doctests {
            true => Cow::Owned(doc_member_key(&self.doc_crate, name)),
            false => Cow::Borrowed(name),
        }
    }

    fn is_known(&self, name: &str) -> bool {
        self.known.contains(self.key(name).as_ref())
    }

    /// A parser for a `--test-threads 1` batch: it also reports starts and keeps stray
    /// output (see the module docs).
    pub fn sequential(
        known: impl IntoIterator<Item = String>,
        section_head: usize,
        section_tail: usize,
    ) -> Self {
        BatchParser { sequential: true, ..Self::new(known, section_head, section_tail) }
    }

    /// Feeds one line (without its newline); what it reports goes to `out`.
    pub fn feed_line(&mut self, raw: &str, out: &mut Vec<BatchEvent>) {
        let line = strip_ansi(raw);
        let line = line.trim_end_matches('\r');
        if self.doctests
            && let Some(crate_name) = line.trim().strip_prefix("Doc-tests ")
        {
            // The next library's doctests: cargo prints this before running rustdoc.
            self.doc_crate = crate_name.trim().to_owned();
            self.state = State::Summary;
            self.in_failed_list = false;
            out.push(BatchEvent::CrateBegan);
            return;
        }
        if is_running_line(line) {
            // A new harness run (another binary of the same batch) starts over.
            self.end_running(out);
            self.state = State::Results;
            self.in_failed_list = false;
            if !self.sequential {
                out.push(BatchEvent::RunBegan);
            }
            return;
        }
        match &mut self.state {
            State::Results => self.feed_result_state(line, out),
            State::Failures { current } => {
                let current = current.clone();
                self.feed_failure_state(line, current);
            }
            State::Summary => self.feed_summary_state(line),
        }
    }

    /// Looks at the unfinished last line: in a sequential batch, `test NAME ... ` without a
    /// newline yet means NAME is running now.
    pub fn feed_partial(&mut self, partial: &[u8], out: &mut Vec<BatchEvent>) {
        if !self.sequential || self.running.is_some() || self.state != State::Results {
            return;
        }
        if !partial.starts_with(b"test ") || partial.len() > MAX_LINE {
            return;
        }
        let text = String::from_utf8_lossy(partial);
        let line = strip_ansi(&text);
        if let Some((name, _)) = parse_start_line(&line, |n| self.known.contains(n)) {
            self.start(name.to_owned(), out);
        }
    }

    fn start(&mut self, name: String, out: &mut Vec<BatchEvent>) {
        self.end_running(out);
        out.push(BatchEvent::Started(name.clone()));
        let stray = OutputBuffer::new(self.section_head, self.section_tail);
        self.running = Some(Running { name, stray });
    }

    /// The running test ended without a readable outcome.
    fn end_running(&mut self, out: &mut Vec<BatchEvent>) {
        if let Some(running) = self.running.take() {
            let name = running.name.clone();
            self.keep_stray(running);
            out.push(BatchEvent::Result(ResultLine { name, outcome: Outcome::Unknown }));
        }
    }

    fn feed_result_state(&mut self, line: &str, out: &mut Vec<BatchEvent>) {
        if line == "failures:" || line.starts_with("test result: ") {
            self.end_running(out);
            self.finished |= line.starts_with("test result: ");
            self.state = if line == "failures:" { State::Failures { current: None } } else { State::Summary };
            return;
        }
        if let Some(mut result) = parse_result_line(line, |name| self.is_known(name)) {
            result.name = self.key(&result.name).into_owned();
            return self.result(result, out);
        }
        if !self.sequential {
            return;
        }
        if let Some((name, rest)) = parse_start_line(line, |name| self.is_known(name)) {
            // `test NAME ... ` followed by stray output on the same line.
            let (name, rest) = (name.to_owned(), rest.to_owned());
            if self.running.as_ref().is_none_or(|r| r.name != name) {
                self.start(name, out);
            }
            self.stray_line(&rest);
        } else if let Some(outcome) = self.running.as_ref().and_then(|_| parse_outcome(line)) {
            let name = self.running.as_ref().map(|r| r.name.clone()).unwrap_or_default();
            self.result(ResultLine { name, outcome }, out);
        } else {
            self.stray_line(line);
        }
    }

    fn result(&mut self, result: ResultLine, out: &mut Vec<BatchEvent>) {
        if self.sequential {
            match self.running.take() {
                Some(running) if running.name == result.name => {
                    if result.outcome == Outcome::Failed {
                        self.keep_stray(running);
                    }
                }
                other => {
                    self.running = other;
                    self.end_running(out);
                    if !matches!(result.outcome, Outcome::Ignored(_)) {
                        out.push(BatchEvent::Started(result.name.clone()));
                    }
                }
            }
        }
        out.push(BatchEvent::Result(result));
    }

    fn stray_line(&mut self, line: &str) {
        if let Some(running) = self.running.as_mut()
            && !line.is_empty()
        {
            running.stray.push(line.as_bytes());
            running.stray.push(b"\n");
        }
    }

    fn keep_stray(&mut self, running: Running) {
        let stray = running.stray.finish();
        if !stray.is_empty() {
            self.strays.insert(running.name, stray);
        }
    }

    fn feed_failure_state(&mut self, line: &str, current: Option<String>) {
        if let Some(name) = section_header(line) {
            let name = self.key(name).into_owned();
            let buffer = OutputBuffer::new(self.section_head, self.section_tail);
            self.sections.entry(name.clone()).or_insert(buffer);
            self.state = State::Failures { current: Some(name) };
        } else if line == "failures:" || line.starts_with("test result: ") {
            // The second `failures:` opens the list of names: the sections are over.
            self.finished |= line.starts_with("test result: ");
            self.in_failed_list = line == "failures:";
            self.state = State::Summary;
        } else if let Some(buffer) = current.as_ref().and_then(|name| self.sections.get_mut(name)) {
            buffer.push(line.as_bytes());
            buffer.push(b"\n");
        }
    }

    fn feed_summary_state(&mut self, line: &str) {
        if line.starts_with("test result: ") {
            self.finished = true;
            self.in_failed_list = false;
        } else if self.in_failed_list
            && let Some(name) = line.strip_prefix("    ")
        {
            self.failed.insert(self.key(name).into_owned());
        }
    }

    /// Takes the collected failure sections (test name → its captured output), each with
    /// the test's stray output in front of it.
    pub fn take_sections(&mut self) -> HashMap<String, CapturedOutput> {
        let mut sections: HashMap<String, CapturedOutput> = std::mem::take(&mut self.sections)
            .into_iter()
            .map(|(name, buf)| (name, trim_section(buf.finish())))
            .collect();
        for (name, stray) in std::mem::take(&mut self.strays) {
            if let Some(section) = sections.get_mut(&name) {
                *section = join_outputs(stray, std::mem::take(section));
            }
        }
        sections
    }

    /// Whether libtest listed `name` among the failures.
    #[cfg(test)]
    pub fn listed_failed(&self, name: &str) -> bool {
        self.failed.contains(name)
    }

    /// Takes the names of libtest's `failures:` list.
    pub fn take_failed_list(&mut self) -> HashSet<String> {
        std::mem::take(&mut self.failed)
    }

    /// Whether the harness printed its `test result:` line.
    pub fn reached_summary(&self) -> bool {
        self.finished
    }
}

/// `first` then `second`, as one bounded output.
fn join_outputs(first: CapturedOutput, second: CapturedOutput) -> CapturedOutput {
    if first.is_empty() {
        return second;
    }
    let limit = first.head.len().max(second.head.len()).max(first.tail.len() + second.tail.len()).max(1);
    let mut buffer = OutputBuffer::new(limit, limit);
    for part in [&first, &second] {
        buffer.push(&part.head);
        if part.elided > 0 {
            buffer.push(format!("\n[... {} bytes of output elided ...]\n", part.elided).as_bytes());
        }
        buffer.push(&part.tail);
    }
    buffer.finish()
}

/// Sections end with the blank line before the next header; drop it.
fn trim_section(mut out: CapturedOutput) -> CapturedOutput {
    let bytes = if out.tail.is_empty() { &mut out.head } else { &mut out.tail };
    while bytes.last().is_some_and(|b| b.is_ascii_whitespace()) {
        bytes.pop();
    }
    if !bytes.is_empty() {
        bytes.push(b'\n');
    }
    out
}

fn is_running_line(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("running ") else { return false };
    let Some((count, word)) = rest.split_once(' ') else { return false };
    count.parse::<u64>().is_ok() && (word == "tests" || word == "test")
}

/// `---- NAME stdout ----` → `NAME`.
fn section_header(line: &str) -> Option<&str> {
    line.strip_prefix("---- ")?.strip_suffix(" stdout ----")
}

/// What libtest appends to a test's name on its result line (`TestDesc::test_mode`); the
/// listing and the `---- NAME stdout ----` headers use the bare name.
const MODE_SUFFIXES: [&str; 3] = [" - should panic", " - compile fail", " - compile"];

/// Parses `test NAME ... OUTCOME`. Among the ` ... ` separators, the first that leaves a
/// name `is_known` accepts (with or without libtest's mode suffix such as ` - compile
/// fail`) wins; otherwise the first whose right side is an outcome, suffix removed.
pub(crate) fn parse_result_line(line: &str, is_known: impl Fn(&str) -> bool) -> Option<ResultLine> {
    let body = line.strip_prefix("test ")?;
    let candidates = body
        .match_indices(" ... ")
        .filter_map(|(at, sep)| Some((&body[..at], parse_outcome(&body[at + sep.len()..])?)));
    let mut fallback = None;
    for (printed, outcome) in candidates {
        // libtest-mimic and libtest2-mimic pad names to a column: `test adds      ... ok`.
        let bare = strip_mode(printed.trim_end());
        if let Some(name) = [printed, bare].into_iter().find(|name| is_known(name)) {
            return Some(ResultLine { name: name.to_owned(), outcome });
        }
        fallback.get_or_insert(ResultLine { name: bare.to_owned(), outcome });
    }
    fallback
}

/// `test NAME ... REST` where NAME is known and REST is not an outcome: the start of a
/// test in a sequential batch (REST is stray output, often empty).
pub(crate) fn parse_start_line(line: &str, is_known: impl Fn(&str) -> bool) -> Option<(&str, &str)> {
    let body = line.strip_prefix("test ")?;
    body.match_indices(" ...").find_map(|(at, sep)| {
        let name = &body[..at];
        let rest = body[at + sep.len()..].strip_prefix(' ').unwrap_or(&body[at + sep.len()..]);
        let rest_ok = at + sep.len() == body.len() || body[at + sep.len()..].starts_with(' ');
        let name = [name, strip_mode(name.trim_end())].into_iter().find(|n| is_known(n))?;
        rest_ok.then_some((name, rest))
    })
}

fn strip_mode(printed: &str) -> &str {
    MODE_SUFFIXES.iter().find_map(|suffix| printed.strip_suffix(suffix)).unwrap_or(printed)
}

/// `ok`, `FAILED`, `ignored`, `ignored, REASON`; a trailing time (`ok <0.01s>`, from
/// `--report-time`) or note (`FAILED (time limit exceeded)`) is tolerated.
fn parse_outcome(text: &str) -> Option<Outcome> {
    let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
    match word {
        "ok" => Some(Outcome::Ok),
        "FAILED" => Some(Outcome::Failed),
        "ignored" if rest.is_empty() => Some(Outcome::Ignored(None)),
        "ignored," => Some(Outcome::Ignored(Some(rest.to_owned()))),
        _ => None,
    }
}

/// The status of a failed doctest from its failure section: rustdoc writes
/// `Test executable failed (exit status: 101).` or `(signal: 11 (SIGSEGV))`; anything else
/// (a compile error, a `should_panic` that did not panic) is a failure without exit code.
pub(crate) fn doctest_failure_status(section: &str) -> TestStatus {
    let number_after = |marker: &str| -> Option<i32> {
        let start = section.find(marker)? + marker.len();
        let digits: String =
            section[start..].chars().take_while(|c| c.is_ascii_digit() || *c == '-').collect();
        digits.parse().ok()
    };
    if let Some(signal) = number_after("Test executable failed (signal: ") {
        return TestStatus::Crashed { signal };
    }
    TestStatus::Failed { exit_code: number_after("Test executable failed (exit status: ") }
}

/// Splits a byte stream into lines for the parser, keeping at most [`MAX_LINE`] bytes of
/// each so a process printing endless bytes without a newline cannot grow it.
#[derive(Debug, Default)]
pub(crate) struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    /// Feeds bytes; calls `on_line` for every completed line (lossily decoded).
    pub fn push(&mut self, mut bytes: &[u8], on_line: &mut dyn FnMut(&str)) {
        while let Some(newline) = bytes.iter().position(|&b| b == b'\n') {
            self.keep(&bytes[..newline]);
            on_line(&String::from_utf8_lossy(&self.partial));
            self.partial.clear();
            bytes = &bytes[newline + 1..];
        }
        self.keep(bytes);
    }

    /// Ends the stream: a last line without a newline is still a line.
    pub fn finish(&mut self, on_line: &mut dyn FnMut(&str)) {
        if !self.partial.is_empty() {
            on_line(&String::from_utf8_lossy(&self.partial));
            self.partial.clear();
        }
    }

    /// The unfinished last line so far.
    pub fn partial(&self) -> &[u8] {
        &self.partial
    }

    fn keep(&mut self, bytes: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.partial.len());
        self.partial.extend_from_slice(&bytes[..room.min(bytes.len())]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_names_of_libtest_look_alikes_are_read() {
        let known = |n: &str| n == "adds";
        let line = "test adds                 ... ok";
        assert_eq!(parse_result_line(line, known), result("adds", Outcome::Ok));
        assert_eq!(parse_start_line("test adds                 ... ", known), Some(("adds", "")));
    }

    #[test]
    fn doctest_batches_key_results_by_the_crate_of_the_doc_tests_line() {
        let key = |c: &str, n: &str| doc_member_key(c, n);
        let known = [
            key("a", "src/lib.rs - f (line 1)"),
            key("b", "src/lib.rs - f (line 1)"),
            key("b", "x (line 2)"),
        ];
        let mut parser = BatchParser::doctests(known.iter().cloned(), 1024, 1024);
        let output = "\
   Doc-tests a
running 1 test
test src/lib.rs - f (line 1) ... ok
test result: ok. 1 passed
   Doc-tests b
running 2 tests
test src/lib.rs - f (line 1) ... FAILED
test x (line 2) - compile fail ... ok

failures:

---- src/lib.rs - f (line 1) stdout ----
boom

failures:
    src/lib.rs - f (line 1)

test result: FAILED. 1 passed; 1 failed
   Doc-tests c
running 1 test
test src/lib.rs - f (line 1) ... ok
";
        let mut events = Vec::new();
        for line in output.lines() {
            parser.feed_line(line, &mut events);
        }
        let results: Vec<(String, Outcome)> = events
            .into_iter()
            .filter_map(|e| match e {
                BatchEvent::Result(r) => Some((r.name, r.outcome)),
                _ => None,
            })
            .collect();
        assert_eq!(
            results,
            [
                (known[0].clone(), Outcome::Ok),
                (known[1].clone(), Outcome::Failed),
                (known[2].clone(), Outcome::Ok),
                // Crate c is not in the batch: its result is reported under its own key.
                (key("c", "src/lib.rs - f (line 1)"), Outcome::Ok),
            ]
        );
        let sections = parser.take_sections();
        assert_eq!(sections.keys().collect::<Vec<_>>(), [&known[1]]);
        assert!(parser.take_failed_list().contains(&known[1]));
    }

    fn result(name: &str, outcome: Outcome) -> Option<ResultLine> {
        Some(ResultLine { name: name.to_owned(), outcome })
    }

    #[test]
    fn result_lines() {
        let known = [
            "src/lib.rs - odd ... name (line 4)",
            "a ... b",
            "src/lib.rs - nr (line 5)",
            "src/lib.rs - x (line 1) - compile",
        ];
        let cases: &[(&str, Option<ResultLine>)] = &[
            ("test tests::it_works ... ok", result("tests::it_works", Outcome::Ok)),
            ("test tests::it_fails ... FAILED", result("tests::it_fails", Outcome::Failed)),
            ("test slow ... ignored", result("slow", Outcome::Ignored(None))),
            (
                "test slow ... ignored, needs network",
                result("slow", Outcome::Ignored(Some("needs network".into()))),
            ),
            ("test src/lib.rs - add (line 3) ... ok", result("src/lib.rs - add (line 3)", Outcome::Ok)),
            (
                "test src/lib.rs - odd ... name (line 4) ... ok",
                result("src/lib.rs - odd ... name (line 4)", Outcome::Ok),
            ),
            (
                "test a ... b ... ignored, x ... ok",
                result("a ... b", Outcome::Ignored(Some("x ... ok".into()))),
            ),
            (
                "test unknown ... ignored, x ... ok",
                result("unknown", Outcome::Ignored(Some("x ... ok".into()))),
            ),
            ("test timed ... ok <0.003s>", result("timed", Outcome::Ok)),
            // libtest's mode suffix is dropped unless the known name has it.
            (
                "test src/lib.rs - nr (line 5) - compile ... ok",
                result("src/lib.rs - nr (line 5)", Outcome::Ok),
            ),
            (
                "test src/lib.rs - x (line 1) - compile ... ok",
                result("src/lib.rs - x (line 1) - compile", Outcome::Ok),
            ),
            ("test tests::panics - should panic ... ok", result("tests::panics", Outcome::Ok)),
            (
                "test src/lib.rs - cf (line 2) - compile fail ... FAILED",
                result("src/lib.rs - cf (line 2)", Outcome::Failed),
            ),
            ("test slowpoke ... FAILED (time limit exceeded)", result("slowpoke", Outcome::Failed)),
            ("test x has been running for over 60 seconds", None),
            ("test x ... ", None),
            ("test x ... okay", None),
            ("running 3 tests", None),
            ("test result: ok. 1 passed; 0 failed", None),
            ("", None),
        ];
        for (line, expected) in cases {
            assert_eq!(&parse_result_line(line, |n| known.contains(&n)), expected, "{line}");
        }
    }

    /// Real `cargo test --doc -- --test-threads 2` output (Rust 1.95, edition 2024): result
    /// lines carry libtest's mode suffix, sections use bare names and need not be separated
    /// by blank lines.
    const DOCTEST_OUTPUT: &str = "\
    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.01s
   Doc-tests dt

running 8 tests
test src/lib.rs - (line 13) - compile ... FAILED
test src/lib.rs - (line 1) ... ok
test src/lib.rs - (line 21) ... FAILED
test src/lib.rs - (line 25) ... ignored
test src/lib.rs - (line 17) ... FAILED
test src/lib.rs - (line 5) - compile fail ... FAILED
test src/lib.rs - (line 29) ... ok
test src/lib.rs - (line 9) ... FAILED

failures:

---- src/lib.rs - (line 13) stdout ----
error[E0308]: mismatched types
  --> src/lib.rs:14:14
   |
14 | let x: u32 = \"nope\";
   |        ---   ^^^^^^ expected `u32`, found `&str`

error: aborting due to 1 previous error

Couldn't compile the test.
---- src/lib.rs - (line 21) stdout ----
Test executable failed (signal: 6 (SIGABRT)).

---- src/lib.rs - (line 17) stdout ----
Test executable failed (exit status: 101).

stderr:

thread 'main' (27822) panicked at src/lib.rs:5:1:
test x ... ok
failures: inside a section is text


---- src/lib.rs - (line 5) stdout ----
Test compiled successfully, but it's marked `compile_fail`.
---- src/lib.rs - (line 9) stdout ----
Test executable succeeded, but it's marked `should_panic`.

failures:
    src/lib.rs - (line 13)
    src/lib.rs - (line 17)
    src/lib.rs - (line 21)
    src/lib.rs - (line 5)
    src/lib.rs - (line 9)

test result: FAILED. 2 passed; 5 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.65s

all doctests ran in 0.69s; merged doctests compilation took 0.04s
error: doctest failed, to rerun pass `--doc`
";

    #[test]
    fn a_doctest_batch_says_when_each_harness_run_begins() {
        let mut parser = BatchParser::new(["a".to_owned(), "b".to_owned()], 1024, 1024);
        let (events, _) = feed_all(
            &mut parser,
            &["Doc-tests x\n\nrunning 1 test\ntest a ... ok\n\nrunning 1 test\ntest b ... ok\n"],
        );
        let ok = |name: &str| BatchEvent::Result(ResultLine { name: name.into(), outcome: Outcome::Ok });
        assert_eq!(events, [BatchEvent::RunBegan, ok("a"), BatchEvent::RunBegan, ok("b")]);
    }

    fn parse_all(text: &str, known: &[&str]) -> (Vec<ResultLine>, HashMap<String, String>) {
        let mut parser = BatchParser::new(known.iter().map(|s| s.to_string()), 1024, 1024);
        let (events, sections) = feed_all(&mut parser, &[text]);
        let results = events
            .into_iter()
            .filter_map(|e| match e {
                BatchEvent::Result(r) => Some(r),
                BatchEvent::Started(_) | BatchEvent::RunBegan | BatchEvent::CrateBegan => None,
            })
            .collect();
        (results, sections)
    }

    /// Feeds `chunks` as the reader would (complete lines, then a look at the unfinished
    /// one after each chunk); the events and the sections.
    fn feed_all(parser: &mut BatchParser, chunks: &[&str]) -> (Vec<BatchEvent>, HashMap<String, String>) {
        let mut events = Vec::new();
        let mut splitter = LineSplitter::default();
        for chunk in chunks {
            splitter.push(chunk.as_bytes(), &mut |line| parser.feed_line(line, &mut events));
            parser.feed_partial(splitter.partial(), &mut events);
        }
        splitter.finish(&mut |line| parser.feed_line(line, &mut events));
        let sections = parser.take_sections().into_iter().map(|(k, v)| (k, v.to_text())).collect();
        (events, sections)
    }

    fn started(name: &str) -> BatchEvent {
        BatchEvent::Started(name.to_owned())
    }

    fn ended(name: &str, outcome: Outcome) -> BatchEvent {
        BatchEvent::Result(ResultLine { name: name.to_owned(), outcome })
    }

    /// Real output of `BIN --exact ... --test-threads 1` (Rust 1.95), read in the pieces a
    /// pipe delivers: the start of a test is seen before its result, a child process's
    /// output lands between the two, and the failure list names the failures.
    #[test]
    fn sequential_batch_reports_starts_results_and_stray_output() {
        let known = ["tests::a", "tests::c", "tests::d", "tests::e", "tests::f", "tests::g"];
        let mut parser = BatchParser::sequential(known.iter().map(|s| s.to_string()), 1024, 1024);
        let chunks = [
            "\nrunning 6 tests\ntest tests::a ... ",
            "ok\ntest tests::c ... ",
            "FAILED\ntest tests::d - should panic ... ok\ntest tests::e ... ignored, slow\n",
            "test tests::f ... ",
            "child writes fd1\n",
            "more\nok\ntest tests::g ... ",
            "glued",
            "ok\n\nfailures:\n\n---- tests::c stdout ----\n\nthread 'tests::c' panicked at src/lib.rs:5:22:\n",
            "boom c\n\n\nfailures:\n    tests::c\n\ntest result: FAILED. 4 passed; 1 failed; 1 ignored\n",
        ];
        let (events, sections) = feed_all(&mut parser, &chunks);
        assert_eq!(
            events,
            [
                started("tests::a"),
                ended("tests::a", Outcome::Ok),
                started("tests::c"),
                ended("tests::c", Outcome::Failed),
                started("tests::d"),
                ended("tests::d", Outcome::Ok),
                ended("tests::e", Outcome::Ignored(Some("slow".into()))),
                started("tests::f"),
                ended("tests::f", Outcome::Ok),
                started("tests::g"),
                ended("tests::g", Outcome::Unknown),
            ]
        );
        assert_eq!(sections["tests::c"], "\nthread 'tests::c' panicked at src/lib.rs:5:22:\nboom c\n");
        assert!(parser.listed_failed("tests::c") && !parser.listed_failed("tests::g"));
        assert!(parser.reached_summary());
    }

    #[test]
    fn a_sequential_batch_that_dies_leaves_its_running_test_open() {
        let mut parser = BatchParser::sequential(["a".to_owned(), "b".to_owned()], 64, 64);
        let (events, _) = feed_all(&mut parser, &["\nrunning 2 tests\ntest a ... ok\ntest b ... "]);
        assert_eq!(events, [started("a"), ended("a", Outcome::Ok), started("b")]);
        assert!(!parser.reached_summary());
    }

    #[test]
    fn stray_output_of_a_failed_test_comes_before_its_section() {
        let mut parser = BatchParser::sequential(["a".to_owned(), "b".to_owned()], 1024, 1024);
        let text = "running 2 tests\ntest a ... child said hi\nFAILED\ntest b ... \nnot mine\nok\n\n\
                    failures:\n\n---- a stdout ----\npanicked\n\nfailures:\n    a\n\ntest result: FAILED.\n";
        let (events, sections) = feed_all(&mut parser, &[text]);
        assert_eq!(events[1], ended("a", Outcome::Failed));
        assert_eq!(sections["a"], "child said hi\npanicked\n");
        assert_eq!(sections.len(), 1, "b passed: its stray output is dropped");
    }

    #[test]
    fn start_lines() {
        let known = |n: &str| ["a", "a ... b", "p"].contains(&n);
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("test a ... ", Some(("a", ""))),
            ("test a ...", Some(("a", ""))),
            ("test a ... child output", Some(("a", "child output"))),
            ("test a ... b ... ", Some(("a", "b ... "))),
            ("test p - should panic ... ", Some(("p", ""))),
            ("test unknown ... ", None),
            ("test a ..", None),
            ("test a ...x", None),
        ];
        for (line, expected) in cases {
            assert_eq!(parse_start_line(line, known), *expected, "{line}");
        }
    }

    #[test]
    fn doctest_batch_output() {
        let line = |n: u32| format!("src/lib.rs - (line {n})");
        let names: Vec<String> = [1, 5, 9, 13, 17, 21, 25, 29].map(line).to_vec();
        let known: Vec<&str> = names.iter().map(String::as_str).collect();
        let (results, sections) = parse_all(DOCTEST_OUTPUT, &known);
        let outcomes: Vec<(String, Outcome)> = results.into_iter().map(|r| (r.name, r.outcome)).collect();
        let expected = [
            (13, Outcome::Failed),
            (1, Outcome::Ok),
            (21, Outcome::Failed),
            (25, Outcome::Ignored(None)),
            (17, Outcome::Failed),
            (5, Outcome::Failed),
            (29, Outcome::Ok),
            (9, Outcome::Failed),
        ]
        .map(|(n, outcome)| (line(n), outcome));
        assert_eq!(outcomes, expected);

        let status = |n: u32| doctest_failure_status(&sections[&line(n)]);
        assert_eq!(sections.len(), 5);
        assert_eq!(status(13), TestStatus::Failed { exit_code: None });
        assert!(sections[&line(13)].ends_with("Couldn't compile the test.\n"));
        assert_eq!(status(21), TestStatus::Crashed { signal: 6 });
        assert_eq!(status(17), TestStatus::Failed { exit_code: Some(101) });
        assert_eq!(
            sections[&line(17)],
            "Test executable failed (exit status: 101).\n\nstderr:\n\nthread 'main' (27822) panicked at \
             src/lib.rs:5:1:\ntest x ... ok\nfailures: inside a section is text\n"
        );
        assert_eq!(sections[&line(5)], "Test compiled successfully, but it's marked `compile_fail`.\n");
        assert_eq!(sections[&line(9)], "Test executable succeeded, but it's marked `should_panic`.\n");
    }

    #[test]
    fn coloured_and_crlf_lines() {
        let text = "running 1 test\r\ntest a ... \x1b[32mok\x1b[0m\r\n";
        let (results, _) = parse_all(text, &["a"]);
        assert_eq!(results, vec![ResultLine { name: "a".into(), outcome: Outcome::Ok }]);
    }

    #[test]
    fn a_second_harness_run_is_parsed_too() {
        let text = "running 1 test\ntest a ... ok\n\ntest result: ok.\n\nrunning 1 test\ntest b ... FAILED\n";
        let (results, _) = parse_all(text, &["a", "b"]);
        assert_eq!(results.len(), 2);
        assert_eq!(results[1].outcome, Outcome::Failed);
    }

    #[test]
    fn running_lines() {
        let cases = [
            ("running 0 tests", true),
            ("running 1 test", true),
            ("running 12 tests", true),
            ("running tests", false),
            ("running 3 testsuites", false),
        ];
        for (line, expected) in cases {
            assert_eq!(is_running_line(line), expected, "{line}");
        }
    }

    #[test]
    fn doctest_failure_statuses() {
        let cases = [
            ("Test executable failed (exit status: 101).\n", TestStatus::Failed { exit_code: Some(101) }),
            ("Test executable failed (signal: 11 (SIGSEGV)).\n", TestStatus::Crashed { signal: 11 }),
            (
                "error[E0425]: cannot find value `x`\nCouldn't compile the test.\n",
                TestStatus::Failed { exit_code: None },
            ),
            (
                "Test executable succeeded, but it's marked `should_panic`.",
                TestStatus::Failed { exit_code: None },
            ),
        ];
        for (section, expected) in cases {
            assert_eq!(doctest_failure_status(section), expected, "{section}");
        }
    }

    #[test]
    fn splitter_bounds_long_lines_and_keeps_last_line() {
        let mut lines = Vec::new();
        let mut splitter = LineSplitter::default();
        let long = vec![b'x'; MAX_LINE * 3];
        splitter.push(b"first\nsec", &mut |l| lines.push(l.to_owned()));
        splitter.push(b"ond\n", &mut |l| lines.push(l.to_owned()));
        splitter.push(&long, &mut |l| lines.push(l.to_owned()));
        splitter.push(b"\nlast", &mut |l| lines.push(l.to_owned()));
        splitter.finish(&mut |l| lines.push(l.to_owned()));
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "first");
        assert_eq!(lines[1], "second");
        assert_eq!(lines[2].len(), MAX_LINE);
        assert_eq!(lines[3], "last");
    }

    #[test]
    fn sections_are_bounded() {
        let mut text = String::from("failures:\n\n---- big stdout ----\n");
        for i in 0..10_000 {
            text.push_str(&format!("line {i}\n"));
        }
        text.push_str("\nfailures:\n    big\n");
        let mut parser = BatchParser::new(["big".to_owned()], 64, 64);
        let mut splitter = LineSplitter::default();
        let mut events = Vec::new();
        splitter.push(text.as_bytes(), &mut |line| parser.feed_line(line, &mut events));
        assert!(events.is_empty());
        let section = &parser.take_sections()["big"];
        assert_eq!(section.head.len(), 64);
        assert!(section.elided > 0);
        assert!(section.to_text().ends_with("line 9999\n"));
    }
}
