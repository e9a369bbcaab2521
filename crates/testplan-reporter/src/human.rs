//! The terminal reporter: a header, a line per failure with its captured output (a line per
//! test with `-v`), a summary block after each phase, a table of all phases at the end,
//! and as the very last line `N passed, N failed, N skipped`.
//!
//! It writes into a buffer that the caller drains after each event
//! ([`HumanReporter::take_output`]), so a progress bar can be suspended around the write.
//! The summary blocks render a [`RunReport`], which is why `cargo testplan report FILE`
//! prints the same blocks as the live run ([`render_report`]).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use testplan_runner::events::{Event, Reschedule, RunStats, StopReason, TestResult, TestStatus};
use testplan_runner::model::{TestIdx, TestList};
use testplan_schema::{PhaseStatus, ReportCounts, ReportStatus, RunReport};

use crate::format::{bytes, secs, secs_f64, status_detail, stop_reason};
use crate::sanitize;
use crate::summary::{self, Summary, counts_text, status_breakdown};

/// How much to print.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `-q`: failures and the final line.
    Quiet,
    /// Header, failures, summaries.
    #[default]
    Normal,
    /// `-v`: also a line per test with its duration and peak RSS.
    Verbose,
}

/// Facts the command knows that the event stream does not carry.
#[derive(Clone, Debug, Default)]
pub struct HeaderInfo {
    /// Tests left out by `-m`, `-k`, name filters, the profile or `--run-ignored`.
    pub filtered_out: usize,
    /// Tests that belong to phases this run does not include.
    pub other_phases: usize,
    /// Display names of tests that no phase selects.
    pub not_in_plan: Vec<String>,
    /// Why `jobs` has its value (`2 CPUs`, `-j 4`).
    pub jobs_reason: String,
    /// `--partition`, when given (`hash:1/2`).
    pub partition: Option<String>,
    /// Tests left to other shards.
    pub partition_deselected: usize,
}

/// Colors, or none.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// Use ANSI colors.
    pub color: bool,
}

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

impl Style {
    fn paint(self, color: &str, text: &str) -> String {
        if self.color { format!("{color}{text}{RESET}") } else { text.to_owned() }
    }

    /// An 11-column right-aligned heading, bold.
    fn head(self, text: &str) -> String {
        self.paint(BOLD, &format!("{text:>11}"))
    }
}

/// The state of the running phase, for plain progress lines.
#[derive(Clone, Debug)]
struct PhaseProgress {
    name: String,
    total: usize,
    done: usize,
    running: usize,
    failed: usize,
    started: Instant,
    /// The phase's jobs: no more tests than this run at once (a started doctest batch
    /// reports all its doctests started, but rustdoc runs `jobs` at a time).
    jobs: usize,
}

/// Writes human-readable output for a run.
#[derive(Debug)]
pub struct HumanReporter<'a> {
    list: &'a TestList,
    out: String,
    verbosity: Verbosity,
    style: Style,
    header: HeaderInfo,
    /// Failed and interrupted tests, listed again at the end.
    failures: Vec<(TestIdx, TestStatus)>,
    plain_progress: Option<Duration>,
    last_progress: Instant,
    phase: Option<PhaseProgress>,
    durations: Option<(usize, Duration)>,
    /// `--show-skipped`: the skipped tests and why, listed at the end; `None`: not asked.
    skipped: Option<Vec<(TestIdx, String)>>,
    /// Tests finished so far and in the run, for `(n/N)` on result lines.
    counted: (usize, usize),
}

impl<'a> HumanReporter<'a> {
    /// A reporter for a run of `list`.
    pub fn new(list: &'a TestList, verbosity: Verbosity, color: bool, header: HeaderInfo) -> Self {
        HumanReporter {
            list,
            out: String::new(),
            verbosity,
            style: Style { color },
            header,
            failures: Vec::new(),
            plain_progress: None,
            last_progress: Instant::now(),
            phase: None,
            durations: None,
            skipped: None,
            counted: (0, 0),
        }
    }

    /// `--durations N --durations-min MIN`: the `count` slowest tests taking at least `min`
    /// (all of them for 0), before the final line.
    pub fn with_durations(mut self, count: usize, min: Duration) -> Self {
        self.durations = Some((count, min));
        self
    }

    /// Also names every skipped test and its reason at the end (`--show-skipped`, pytest's
    /// `-rs`).
    pub fn with_skipped_list(mut self) -> Self {
        self.skipped = Some(Vec::new());
        self
    }

    /// Also prints a plain progress line (`unit: 12/40 done, 2 running, 1 failed [30s]`)
    /// at most every `interval`, for logs where no progress bar is drawn.
    pub fn with_plain_progress(mut self, interval: Duration) -> Self {
        self.plain_progress = Some(interval);
        self
    }

    /// The text written since the last call.
    pub fn take_output(&mut self) -> String {
        std::mem::take(&mut self.out)
    }

    /// Handles one event; `report` is the run report with this event already recorded.
    pub fn handle(&mut self, event: &Event, report: &RunReport) {
        match event {
            Event::RunStarted { tests, binaries, jobs } => self.run_started(*tests, *binaries, *jobs),
            Event::TestStarted { .. } => self.test_started(),
            Event::PhaseStarted { name, tests, jobs, .. } => self.phase_started(name, *tests, *jobs),
            Event::PhaseSkipped { name, tests, reason, .. } => self.phase_skipped(name, *tests, reason),
            Event::PhaseFinished { name, stats, duration, .. } => {
                self.phase_finished(name, stats, *duration, report)
            }
            Event::TestFinished { test, result } => self.test_finished(*test, result),
            Event::TestRescheduled { test, reason } => self.test_rescheduled(*test, reason),
            Event::TestOverBudget { test, estimate, budget } => self.over_budget(*test, *estimate, *budget),
            Event::TestSlow { test, elapsed } => self.slow(*test, *elapsed),
            Event::Stopping { reason } => self.stopping(*reason),
            Event::RunFinished { stats, duration, stopped } => {
                self.run_finished(stats, *duration, *stopped, report)
            }
        }
    }

    /// A test's display name, safe for the terminal.
    fn name(&self, test: TestIdx) -> String {
        sanitize::inline(&self.list.display_name(test)).into_owned()
    }

    fn line(&mut self, text: &str) {
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn run_started(&mut self, tests: usize, binaries: usize, jobs: usize) {
        self.counted = (0, tests);
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let mut extra = Vec::new();
        if self.header.filtered_out > 0 {
            extra.push(format!("{} deselected", self.header.filtered_out));
        }
        if self.header.other_phases > 0 {
            extra.push(format!("{} in other phases", self.header.other_phases));
        }
        if let Some(partition) = &self.header.partition {
            extra.push(format!(
                "{} in other shards (partition {partition})",
                self.header.partition_deselected
            ));
        }
        if !self.header.not_in_plan.is_empty() {
            extra.push(format!("{} not in plan", self.header.not_in_plan.len()));
        }
        let filtered = extra.iter().map(|e| format!(", {e}")).collect::<String>();
        let reason = match self.header.jobs_reason.as_str() {
            "" => String::new(),
            r => format!(" ({r})"),
        };
        let head = self.style.head("Starting");
        let (tests, binaries) = (tests_count(tests), count_of(binaries, "binary", "binaries"));
        self.line(&format!("{head} {tests} in {binaries}{filtered}; jobs {jobs}{reason}"));
    }

    fn phase_started(&mut self, name: &str, tests: usize, jobs: usize) {
        self.phase = Some(PhaseProgress {
            name: name.to_owned(),
            total: tests,
            done: 0,
            running: 0,
            failed: 0,
            started: Instant::now(),
            jobs,
        });
        self.last_progress = Instant::now();
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let head = self.style.head("Phase");
        self.line(&format!("{head} {name}: {}, jobs {jobs}", tests_count(tests)));
    }

    fn phase_skipped(&mut self, name: &str, tests: usize, reason: &str) {
        // An empty phase is named once, at the end (`not in this run`), outside -v.
        if self.verbosity == Verbosity::Quiet || (tests == 0 && self.verbosity != Verbosity::Verbose) {
            return;
        }
        let head = self.style.paint(YELLOW, &format!("{:>11}", "Skipped"));
        let reason = sanitize::inline(reason);
        self.line(&format!("{head} phase {name} ({}): {reason}", tests_count(tests)));
    }

    fn phase_finished(&mut self, name: &str, stats: &RunStats, duration: Duration, report: &RunReport) {
        self.phase = None;
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let head = self.style.head("Finished");
        self.line(&format!("{head} {name} [{:>8}]: {}", secs(duration), final_line(stats)));
        if let Some(phase) = report.phases.iter().rev().find(|p| p.name == name) {
            let compact = self.verbosity != Verbosity::Verbose;
            let block = phase_block_of(&summary::phase_summary(report, phase), self.style, compact);
            self.out.push_str(&block);
            self.out.push_str(&crate::coverage::phase_block(report, name));
        }
    }

    fn test_started(&mut self) {
        if let Some(phase) = &mut self.phase {
            phase.running += 1;
        }
        self.plain_progress_line();
    }

    fn test_finished(&mut self, test: TestIdx, result: &TestResult) {
        self.counted.0 += 1;
        let failed = result.status.is_failure();
        if let Some(phase) = &mut self.phase {
            phase.done += 1;
            phase.failed += usize::from(failed);
            // Skipped tests never started.
            if !matches!(result.status, TestStatus::Skipped { .. } | TestStatus::NotRun { .. }) {
                phase.running = phase.running.saturating_sub(1);
            }
        }
        let interrupted = result.status == TestStatus::Interrupted;
        if let (Some(skipped), TestStatus::Skipped { reason }) = (&mut self.skipped, &result.status) {
            skipped.push((test, reason.clone()));
        }
        if failed || interrupted {
            self.failures.push((test, result.status.clone()));
        }
        // Leaks show without -v (nextest's LEAK): processes that outlived a passing test.
        let show_line = failed
            || interrupted
            || result.is_flaky()
            || (result.leaked_processes && self.verbosity != Verbosity::Quiet)
            || self.verbosity == Verbosity::Verbose;
        if show_line && !matches!(result.status, TestStatus::NotRun { .. }) {
            self.status_line(test, result);
        }
        if failed {
            self.failure_output(test, result);
        }
        self.plain_progress_line();
    }

    /// A retry is shown like nextest's `TRY n FAIL`; a stop for memory pressure unless `-q`,
    /// and a re-run out of a batch only with `-v` (the test runs again alone and gets its
    /// real result later).
    fn test_rescheduled(&mut self, test: TestIdx, reason: &Reschedule) {
        if let Some(phase) = &mut self.phase {
            phase.running = phase.running.saturating_sub(1);
        }
        let name = self.name(test);
        match reason {
            Reschedule::Retry { attempt, max_attempts, status, output, .. } => {
                if self.verbosity == Verbosity::Quiet {
                    return;
                }
                let label = self.style.paint(YELLOW, &format!("{:>8}", format!("TRY {attempt}")));
                self.line(&format!(
                    "{label} {name} — {} (attempt {attempt} of {max_attempts})",
                    status_detail(status)
                ));
                self.output_block(&format!("{name} (attempt {attempt})"), output);
            }
            Reschedule::Isolated { cause } => {
                // Only with -v: the test's own result follows.
                if self.verbosity != Verbosity::Verbose {
                    return;
                }
                let label = self.style.paint(YELLOW, &format!("{:>8}", "ISOLATE"));
                self.line(&format!("{label} {name} — {cause}; re-running it in a process of its own"));
            }
            Reschedule::MemoryPressure { used, limit } => {
                if self.verbosity == Verbosity::Quiet {
                    return;
                }
                let label = self.style.paint(YELLOW, &format!("{:>8}", "RESTART"));
                let percent = if *limit == 0 { 100 } else { used.saturating_mul(100) / limit };
                self.line(&format!(
                    "{label} {name} — re-running it alone (memory at {percent}%: {} of {})",
                    bytes(*used),
                    bytes(*limit)
                ));
            }
        }
    }

    fn over_budget(&mut self, test: TestIdx, estimate: u64, budget: u64) {
        if self.verbosity != Verbosity::Verbose {
            return;
        }
        let name = self.name(test);
        let label = self.style.paint(YELLOW, &format!("{:>8}", "ALONE"));
        self.line(&format!(
            "{label} {name} — its memory estimate ({}) exceeds the budget ({}); it runs alone",
            bytes(estimate),
            bytes(budget)
        ));
    }

    /// `SLOW [>  60.000s] NAME`, while the test still runs (nextest's word; cargo test says
    /// "has been running for over 60 seconds").
    fn slow(&mut self, test: TestIdx, elapsed: Duration) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        let label = self.style.paint(YELLOW, &format!("{:>8}", "SLOW"));
        let name = self.name(test);
        self.line(&format!("{label} [>{:>8}] {name}", secs(elapsed)));
    }

    fn plain_progress_line(&mut self) {
        let (Some(interval), Some(phase)) = (self.plain_progress, &self.phase) else {
            return;
        };
        if self.last_progress.elapsed() < interval || self.verbosity == Verbosity::Quiet {
            return;
        }
        let text = format!(
            "{:>11} {}: {}/{} done, {} running, {} failed [{}s]",
            "Progress",
            phase.name,
            phase.done,
            phase.total,
            phase.running.min(phase.jobs),
            phase.failed,
            phase.started.elapsed().as_secs()
        );
        self.last_progress = Instant::now();
        self.line(&text);
    }

    fn status_line(&mut self, test: TestIdx, result: &TestResult) {
        let (label, color) = match &result.status {
            TestStatus::Passed if result.is_flaky() => ("FLAKY", YELLOW),
            TestStatus::Passed => ("PASS", GREEN),
            TestStatus::Failed { .. } => ("FAIL", RED),
            TestStatus::Crashed { .. } => ("CRASH", RED),
            TestStatus::TimedOut { .. } => ("TIMEOUT", RED),
            TestStatus::Skipped { .. } => ("SKIP", YELLOW),
            TestStatus::NotRun { .. } => ("NOTRUN", YELLOW),
            TestStatus::Interrupted => ("INTERRUPT", YELLOW),
            TestStatus::MemoryExceeded { .. } => ("MEMORY", RED),
        };
        let label = self.style.paint(color, &format!("{label:>8}"));
        let rss = result.peak_rss.map(|b| format!(" {:>9}", bytes(b))).unwrap_or_default();
        let name = self.name(test);
        let detail = match &result.status {
            TestStatus::Passed => String::new(),
            other => format!(" — {}", status_detail(other)),
        };
        let leak = if result.leaked_processes { " (leaked processes)" } else { "" };
        let flaky = if result.is_flaky() {
            format!(" (flaky: passed on attempt {})", result.attempts)
        } else {
            String::new()
        };
        let cached = if result.cached { " (cached)" } else { "" };
        let leak = format!("{cached}{flaky}{leak}");
        let (done, total) = self.counted;
        let count = format!("({done:>width$}/{total})", width = total.to_string().len());
        self.line(&format!("{label} [{:>8}]{rss} {count} {name}{detail}{leak}", secs(result.duration)));
    }

    fn failure_output(&mut self, test: TestIdx, result: &TestResult) {
        self.output_block(&self.name(test), &result.output);
    }

    /// `--- output of NAME ---`, the captured output (sanitized), `--- end of output ... ---`.
    fn output_block(&mut self, name: &str, output: &testplan_runner::output::CapturedOutput) {
        if output.is_empty() {
            return;
        }
        self.line(&format!("--- output of {name} ---"));
        let text = output.to_text();
        let text = sanitize::block(&text);
        self.out.push_str(&text);
        if !text.ends_with('\n') {
            self.out.push('\n');
        }
        self.line(&format!("--- end of output of {name} ---"));
    }

    fn stopping(&mut self, reason: StopReason) {
        let why = match reason {
            StopReason::FailFast => {
                "failure limit reached (fail-fast, or --max-fail); starting no more tests (use --no-fail-fast to run all)"
            }
            StopReason::Interrupted => "interrupted; stopping running tests",
        };
        let head = self.style.paint(YELLOW, &format!("{:>11}", "Stopping"));
        self.line(&format!("{head} {why}"));
    }

    fn run_finished(
        &mut self,
        stats: &RunStats,
        duration: Duration,
        stopped: Option<StopReason>,
        report: &RunReport,
    ) {
        if self.verbosity != Verbosity::Quiet {
            self.line("------------");
            let ran = stats.total - stats.skipped - stats.not_run - stats.interrupted;
            let mut parts = vec![format!("{} run", tests_count(ran))];
            if stats.interrupted > 0 {
                parts.push(format!("{} interrupted", stats.interrupted));
            }
            if stats.not_run > 0 {
                let why = stopped.map(stop_reason).unwrap_or("stopped");
                parts.push(format!("{} not run ({why})", stats.not_run));
            }
            let head = self.style.head("Summary");
            self.line(&format!("{head} [{:>8}] {}", secs(duration), parts.join(", ")));
            let rest = end_block_of(report, self.style, self.verbosity != Verbosity::Verbose);
            self.out.push_str(&rest);
            self.not_in_plan();
            self.skipped_list();
            self.failed_list();
        }
        if let Some((count, min)) = self.durations {
            let table = durations_block(report, count, min, self.style);
            self.out.push_str(&table);
        }
        self.line(&painted_final_line(&report.counts, self.style));
    }

    fn not_in_plan(&mut self) {
        const SHOWN: usize = 10;
        let names = std::mem::take(&mut self.header.not_in_plan);
        if names.is_empty() {
            return;
        }
        let head = self.style.paint(YELLOW, "Not in plan");
        self.line(&format!(
            "{head} {} tests no phase selects (see `cargo testplan explain NAME`):",
            names.len()
        ));
        for name in names.iter().take(SHOWN) {
            self.line(&format!("      {}", sanitize::inline(name)));
        }
        if names.len() > SHOWN {
            self.line(&format!("      ... and {} more", names.len() - SHOWN));
        }
    }

    /// `  SKIPPED NAME — REASON`, for `--show-skipped`.
    fn skipped_list(&mut self) {
        let skipped = self.skipped.take().unwrap_or_default();
        for (test, reason) in &skipped {
            let name = self.name(*test);
            let label = self.style.paint(YELLOW, "SKIPPED");
            self.line(&format!("  {label} {name} — {}", sanitize::inline(reason)));
        }
    }

    fn failed_list(&mut self) {
        let failures = std::mem::take(&mut self.failures);
        for (test, status) in &failures {
            let name = self.name(*test);
            let label = match status {
                TestStatus::Interrupted => self.style.paint(YELLOW, "INTERRUPTED"),
                _ => self.style.paint(RED, "FAILED"),
            };
            self.line(&format!("  {label} {name} — {}", status_detail(status)));
        }
    }
}

/// The block printed after a phase: results by status, skip reasons, per-binary counts,
/// slowest tests, largest peak RSS, time-budget findings and changes.
pub fn phase_block(summary: &Summary<'_>, style: Style) -> String {
    phase_block_of(summary, style, false)
}

/// [`phase_block`]; `compact` (outside `-v`) leaves out the counts, binaries, slowest and
/// peak RSS of a phase of at most [`SMALL_PHASE`] tests.
pub fn phase_block_of(summary: &Summary<'_>, style: Style, compact: bool) -> String {
    let small = compact && summary.counts.total <= SMALL_PHASE;
    let mut out = String::new();
    let mut section = |label: &str, lines: Vec<String>| {
        for (i, line) in lines.iter().enumerate() {
            let head = if i == 0 { label } else { "" };
            let _ = writeln!(out, "{head:>13}  {line}");
        }
    };
    let mut results = status_breakdown(&summary.counts);
    if summary.deselected_by_partition > 0 {
        results.push_str(&format!("; {} in other shards", summary.deselected_by_partition));
    }
    if !small {
        section("Results:", vec![results]);
    }
    if !summary.skip_reasons.is_empty() {
        let reasons = summary.skip_reasons.iter().map(|(r, n)| format!("{n} × {}", sanitize::inline(r)));
        section("Skipped:", reasons.collect());
    }
    let binaries = summary
        .binaries
        .iter()
        .map(|b| format!("{} ({}): {}", sanitize::inline(&b.binary_id), b.kind, counts_text(&b.counts)))
        .collect();
    if !small {
        section("Binaries:", binaries);
    }
    if !summary.slowest.is_empty() && !small {
        let lines = summary.slowest.iter().map(|t| format!("{:>9}  {}", secs_f64(t.duration_secs), shown(t)));
        section("Slowest:", lines.collect());
    }
    if !summary.largest.is_empty() && !small {
        let lines = summary
            .largest
            .iter()
            .map(|t| format!("{:>9}  {}", bytes(t.peak_rss_bytes.unwrap_or(0)), shown(t)));
        section("Peak RSS:", lines.collect());
    }
    if !summary.flaky.is_empty() {
        let lines = summary.flaky.iter().map(|t| format!("{} (passed on attempt {})", shown(t), t.attempts));
        section("Flaky:", lines.collect());
    }
    if !summary.budget.is_empty() {
        let lines = summary.budget.iter().map(|f| format!("{} {}", shown(f.test), f.advice()));
        section("Time budget:", lines.collect());
    }
    if let Some(changes) = summary.changes.as_ref().filter(|c| !c.is_empty()) {
        section("Changes:", change_lines(changes, style));
    }
    out
}

fn change_lines(diff: &testplan_schema::BaselineDiff, style: Style) -> Vec<String> {
    let mut lines = Vec::new();
    for (label, names) in crate::baseline::groups(diff) {
        let color = match label {
            "newly failing" => RED,
            "fixed" => GREEN,
            _ => "",
        };
        for name in names {
            let label = if color.is_empty() { label.to_owned() } else { style.paint(color, label) };
            lines.push(format!("{label}: {}", sanitize::inline(&name)));
        }
    }
    lines
}

/// The end of a run: the table of all phases, a total line, and the changes against the
/// baseline.
pub fn end_block(report: &RunReport, style: Style) -> String {
    end_block_of(report, style, false)
}

/// [`end_block`]; `compact` (outside `-v`) folds the phases without tests into one `not in
/// this run` line, and leaves out the row of a phase that ran alone (the total says it).
pub fn end_block_of(report: &RunReport, style: Style, compact: bool) -> String {
    let mut out = String::new();
    let width = report.phases.iter().map(|p| p.name.len()).max().unwrap_or(0).max("total".len());
    let (empty, rows): (Vec<_>, Vec<_>) = report.phases.iter().partition(|p| compact && is_empty_phase(p));
    let rows =
        if compact && rows.len() == 1 && rows[0].status != PhaseStatus::Skipped { Vec::new() } else { rows };
    for phase in rows {
        let counts = ReportCounts::of_tests(report.tests_of(&phase.name));
        let text = match phase.status {
            PhaseStatus::Skipped => {
                format!(
                    "{} skipped: {}",
                    tests_count(counts.total),
                    sanitize::inline(phase.reason.as_deref().unwrap_or(""))
                )
            }
            _ => format!("{} [{}]", counts_text(&counts), secs_f64(phase.duration_secs)),
        };
        let _ = writeln!(out, "      {:<width$}  {text}", phase.name);
    }
    let total = summary::run_summary(report);
    let mut text = format!("{} [{}]", counts_text(&total.counts), secs_f64(report.duration_secs));
    if !report.deselected.is_empty() {
        text.push_str(&format!(", {} deselected", report.deselected.total()));
    }
    let _ = writeln!(out, "      {:<width$}  {text}", "total");
    if !empty.is_empty() {
        let names: Vec<&str> = empty.iter().map(|p| p.name.as_str()).collect();
        let _ = writeln!(out, "      not in this run: {} (no tests)", names.join(", "));
    }
    for line in crate::coverage::end_lines(report) {
        let _ = writeln!(out, "{line}");
    }
    // Nothing changed: nothing to say outside -v (the Markdown and JSON report still record
    // the diff).
    if let Some(diff) = report.baseline.as_ref().filter(|d| !(compact && d.is_empty())) {
        let head = style.head("Changes");
        let source = sanitize::inline(&diff.source);
        let _ = writeln!(out, "{head} since {source}: {}", crate::baseline::headline(diff));
        for line in change_lines(diff, style) {
            let _ = writeln!(out, "      {line}");
        }
    }
    out
}

/// `1 test`, `2 tests`; `1 binary`, `2 binaries`.
pub fn count_of(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `N test(s)`.
fn tests_count(n: usize) -> String {
    count_of(n, "test", "tests")
}

/// A phase of at most this many tests gets no Results, Binaries, Slowest and Peak RSS lines
/// outside `-v`: its Finished line says it all.
pub const SMALL_PHASE: usize = 3;

/// Whether a skipped phase had no tests at all: outside `-v` it is folded into one
/// `not in this run` line instead of a line (and a table row) of its own.
fn is_empty_phase(phase: &testplan_schema::PhaseReport) -> bool {
    phase.status == PhaseStatus::Skipped && phase.counts.total == 0
}

/// `--durations`: the `count` slowest tests that ran (0: all) taking at least `min`,
/// slowest first, as pytest's table: `Slowest 3 tests:` then `  1.503s  binary  name`.
pub fn durations_block(report: &RunReport, count: usize, min: Duration, style: Style) -> String {
    let mut ran: Vec<&testplan_schema::TestReport> = report
        .tests
        .iter()
        .filter(|t| t.status == ReportStatus::Passed || t.status.is_failure())
        .filter(|t| t.duration_secs >= min.as_secs_f64())
        .collect();
    ran.sort_by(|a, b| b.duration_secs.total_cmp(&a.duration_secs));
    if count > 0 {
        ran.truncate(count);
    }
    let mut out = String::new();
    let what = if ran.len() == 1 { "test" } else { "tests" };
    let _ = writeln!(out, "{} {} {what}:", style.head("Slowest"), ran.len());
    for test in ran {
        let name = test.display_name();
        let _ = writeln!(out, "  {:>8}  {}", format!("{:.3}s", test.duration_secs), sanitize::inline(&name));
    }
    out
}

/// `N passed, N failed, N skipped`, colored by outcome.
fn painted_final_line(counts: &ReportCounts, style: Style) -> String {
    let line = final_line_of(counts);
    if counts.failed > 0 { style.paint(RED, &line) } else { style.paint(GREEN, &line) }
}

/// A saved report as the live run printed it: each phase's line and summary block, the
/// table of all phases, the failures, and the final line.
pub fn render_report(report: &RunReport, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}{}; jobs {}{}",
        style.head("Report"),
        tests_count(report.tests.len()),
        report.profile.as_ref().map(|p| format!(" (profile {p})")).unwrap_or_default(),
        report.jobs,
        report.jobs_reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default(),
    );
    for phase in &report.phases {
        if is_empty_phase(phase) {
            continue;
        }
        if phase.status == PhaseStatus::Skipped {
            let head = style.paint(YELLOW, &format!("{:>11}", "Skipped"));
            let reason = sanitize::inline(phase.reason.as_deref().unwrap_or(""));
            let tests = tests_count(phase.counts.total);
            let _ = writeln!(out, "{head} phase {} ({tests}): {reason}", phase.name);
            continue;
        }
        let counts = ReportCounts::of_tests(report.tests_of(&phase.name));
        let head = style.head("Finished");
        let _ = writeln!(
            out,
            "{head} {} [{:>8}]: {}",
            phase.name,
            secs_f64(phase.duration_secs),
            final_line_of(&counts)
        );
        out.push_str(&phase_block_of(&summary::phase_summary(report, phase), style, true));
        out.push_str(&crate::coverage::phase_block(report, &phase.name));
    }
    let _ = writeln!(out, "------------");
    let head = style.head("Summary");
    let ran = report.tests.iter().filter(|t| t.status.ran()).count();
    let _ = writeln!(out, "{head} [{:>8}] {} run", secs_f64(report.duration_secs), tests_count(ran));
    out.push_str(&end_block_of(report, style, true));
    for test in report.tests.iter().filter(|t| t.is_failure() || t.status == ReportStatus::Interrupted) {
        let label = match test.status {
            ReportStatus::Interrupted => style.paint(YELLOW, "INTERRUPTED"),
            _ => style.paint(RED, "FAILED"),
        };
        let _ = writeln!(out, "  {} {} — {}", label, shown(test), report_status_detail(test));
    }
    let _ = writeln!(out, "{}", painted_final_line(&report.counts, style));
    out
}

/// A report entry's display name, safe for the terminal.
fn shown(test: &testplan_schema::TestReport) -> String {
    sanitize::inline(&test.display_name()).into_owned()
}

/// `failed (exit code 101)`, `crashed (SIGSEGV)`, ... from a report entry (the skip reason
/// sanitized for one line).
pub fn report_status_detail(test: &testplan_schema::TestReport) -> String {
    match test.status {
        ReportStatus::Failed => match test.exit_code {
            Some(code) => format!("failed (exit code {code})"),
            None => "failed".to_owned(),
        },
        ReportStatus::Crashed => format!("crashed ({})", test.signal.as_deref().unwrap_or("signal")),
        ReportStatus::TimedOut => format!("timed out (after {})", secs_f64(test.duration_secs)),
        ReportStatus::MemoryExceeded => match test.peak_rss_bytes {
            Some(peak) => format!("memory limit exceeded (peak {})", bytes(peak)),
            None => "memory limit exceeded".to_owned(),
        },
        ReportStatus::Skipped => {
            format!("skipped ({})", sanitize::inline(test.skip_reason.as_deref().unwrap_or("skipped")))
        }
        ReportStatus::NotRun => format!("not run ({})", test.skip_reason.as_deref().unwrap_or("stopped")),
        ReportStatus::Interrupted => "interrupted (killed while running)".to_owned(),
        ReportStatus::Passed => "passed".to_owned(),
    }
}

/// `failed (exit code 101)`, `crashed (SIGSEGV)`, `timed out (after 5.000s)`: how a failed
/// attempt of a retried test ended.
pub fn attempt_detail(attempt: &testplan_schema::AttemptReport) -> String {
    match attempt.status {
        ReportStatus::Failed => match attempt.exit_code {
            Some(code) => format!("failed (exit code {code})"),
            None => "failed".to_owned(),
        },
        ReportStatus::Crashed => format!("crashed ({})", attempt.signal.as_deref().unwrap_or("signal")),
        ReportStatus::TimedOut => format!("timed out (after {})", secs_f64(attempt.duration_secs)),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// `N passed, N failed, N skipped` — the last line of every run; `, N interrupted` and
/// `, N not run` follow when the run stopped early (CI parsers read the first three).
pub fn final_line(stats: &RunStats) -> String {
    line_of_counts(stats.passed, stats.failures(), stats.skipped, stats.interrupted, stats.not_run)
}

/// [`final_line`] of a report's counts.
pub fn final_line_of(counts: &ReportCounts) -> String {
    line_of_counts(counts.passed, counts.failed, counts.skipped, counts.interrupted, counts.not_run)
}

fn line_of_counts(
    passed: usize,
    failed: usize,
    skipped: usize,
    interrupted: usize,
    not_run: usize,
) -> String {
    let mut line = format!("{passed} passed, {failed} failed, {skipped} skipped");
    if interrupted > 0 {
        line.push_str(&format!(", {interrupted} interrupted"));
    }
    if not_run > 0 {
        line.push_str(&format!(", {not_run} not run"));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unchanged_run_prints_no_changes_line() {
        use crate::testing::{report_of, test_report};
        let mut report = report_of(vec![test_report("b", "t", ReportStatus::Passed, 0.1)]);
        let style = Style { color: false };
        report.baseline = Some(testplan_schema::BaselineDiff::default());
        assert!(!end_block_of(&report, style, true).contains("Changes"), "{}", end_block(&report, style));
        assert!(end_block(&report, style).contains("Changes since : no changes"), "-v says it");
        let mut diff = testplan_schema::BaselineDiff::default();
        diff.added.push(testplan_schema::TestRef { binary_id: "b".into(), name: "t".into(), phase: None });
        report.baseline = Some(diff);
        assert!(
            end_block(&report, style).contains("Changes since : 1 added"),
            "{}",
            end_block(&report, style)
        );
    }

    #[test]
    fn durations_lists_the_slowest_tests_that_ran_above_the_minimum() {
        use crate::testing::{report_of, test_report};
        let report = report_of(vec![
            test_report("b", "quick", ReportStatus::Passed, 0.001),
            test_report("b", "slowest", ReportStatus::Failed, 3.0),
            test_report("b", "skipped", ReportStatus::Skipped, 9.0),
            test_report("b", "middle", ReportStatus::Passed, 1.5),
            test_report("b", "third", ReportStatus::TimedOut, 0.25),
        ]);
        let style = Style { color: false };
        let table = durations_block(&report, 2, Duration::from_millis(5), style);
        assert_eq!(table, "    Slowest 2 tests:\n    3.000s  b slowest\n    1.500s  b middle\n");
        let all = durations_block(&report, 0, Duration::from_millis(5), style);
        assert_eq!(all.lines().count(), 4, "{all}");
        assert!(
            durations_block(&report, 0, Duration::from_secs(2), style).starts_with("    Slowest 1 test:\n")
        );
    }

    #[test]
    fn final_line_counts_every_failure_kind() {
        let stats = RunStats {
            total: 10,
            passed: 3,
            failed: 1,
            crashed: 1,
            timed_out: 1,
            memory_exceeded: 1,
            skipped: 2,
            not_run: 0,
            interrupted: 0,
            cached: 0,
        };
        assert_eq!(final_line(&stats), "3 passed, 4 failed, 2 skipped");
        let stopped = RunStats { not_run: 3, interrupted: 2, ..stats };
        assert_eq!(final_line(&stopped), "3 passed, 4 failed, 2 skipped, 2 interrupted, 3 not run");
    }
}
