//! The terminal reporter: a header, a line per failure with its captured output (a line per
//! test with `-v`), a summary, and as the very last line `N passed, N failed, N skipped`.

use std::io::{self, Write};

use testplan_runner::events::{Event, RunStats, StopReason, TestResult, TestStatus};
use testplan_runner::model::{TestIdx, TestList};

use crate::format::{bytes, secs, status_detail, stop_reason};

/// How much to print.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `-q`: failures and the final line.
    Quiet,
    /// Header, failures, summary.
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
}

/// One line of the phase table at the end of a run.
#[derive(Clone, Debug)]
struct PhaseLine {
    name: String,
    outcome: PhaseOutcome,
}

#[derive(Clone, Debug)]
enum PhaseOutcome {
    Ran { stats: RunStats, duration: std::time::Duration },
    Skipped { reason: String, tests: usize },
}

/// Writes human-readable output for a run.
#[derive(Debug)]
pub struct HumanReporter<'a, W: Write> {
    list: &'a TestList,
    out: W,
    verbosity: Verbosity,
    color: bool,
    header: HeaderInfo,
    failures: Vec<(TestIdx, TestStatus)>,
    phases: Vec<PhaseLine>,
}

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

impl<'a, W: Write> HumanReporter<'a, W> {
    /// A reporter writing to `out`.
    pub fn new(list: &'a TestList, out: W, verbosity: Verbosity, color: bool, header: HeaderInfo) -> Self {
        HumanReporter { list, out, verbosity, color, header, failures: Vec::new(), phases: Vec::new() }
    }

    /// Handles one event.
    pub fn handle(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::RunStarted { tests, binaries, jobs } => self.run_started(*tests, *binaries, *jobs),
            Event::TestStarted { .. } => Ok(()),
            Event::PhaseStarted { name, tests, jobs, .. } => self.phase_started(name, *tests, *jobs),
            Event::PhaseSkipped { name, tests, reason, .. } => self.phase_skipped(name, *tests, reason),
            Event::PhaseFinished { name, stats, duration, .. } => self.phase_finished(name, stats, *duration),
            Event::TestFinished { test, result } => self.test_finished(*test, result),
            Event::Stopping { reason } => self.stopping(*reason),
            Event::RunFinished { stats, duration, stopped } => self.run_finished(stats, *duration, *stopped),
        }
    }

    fn paint(&self, color: &str, text: &str) -> String {
        if self.color { format!("{color}{text}{RESET}") } else { text.to_owned() }
    }

    fn run_started(&mut self, tests: usize, binaries: usize, jobs: usize) -> io::Result<()> {
        if self.verbosity == Verbosity::Quiet {
            return Ok(());
        }
        let mut extra = Vec::new();
        if self.header.filtered_out > 0 {
            extra.push(format!("{} deselected", self.header.filtered_out));
        }
        if self.header.other_phases > 0 {
            extra.push(format!("{} in other phases", self.header.other_phases));
        }
        if !self.header.not_in_plan.is_empty() {
            extra.push(format!("{} not in plan", self.header.not_in_plan.len()));
        }
        let filtered = extra.iter().map(|e| format!(", {e}")).collect::<String>();
        let reason = match self.header.jobs_reason.as_str() {
            "" => String::new(),
            r => format!(" ({r})"),
        };
        let head = self.paint(BOLD, "   Starting");
        writeln!(self.out, "{head} {tests} tests in {binaries} binaries{filtered}; jobs {jobs}{reason}")
    }

    fn phase_started(&mut self, name: &str, tests: usize, jobs: usize) -> io::Result<()> {
        if self.verbosity == Verbosity::Quiet {
            return Ok(());
        }
        let head = self.paint(BOLD, "      Phase");
        writeln!(self.out, "{head} {name}: {tests} tests, jobs {jobs}")
    }

    fn phase_skipped(&mut self, name: &str, tests: usize, reason: &str) -> io::Result<()> {
        self.phases.push(PhaseLine {
            name: name.to_owned(),
            outcome: PhaseOutcome::Skipped { reason: reason.to_owned(), tests },
        });
        if self.verbosity == Verbosity::Quiet {
            return Ok(());
        }
        let head = self.paint(YELLOW, "    Skipped");
        writeln!(self.out, "{head} phase {name} ({tests} tests): {reason}")
    }

    fn phase_finished(&mut self, name: &str, stats: &RunStats, duration: std::time::Duration) -> io::Result<()> {
        self.phases.push(PhaseLine {
            name: name.to_owned(),
            outcome: PhaseOutcome::Ran { stats: stats.clone(), duration },
        });
        if self.verbosity == Verbosity::Quiet {
            return Ok(());
        }
        let head = self.paint(BOLD, "   Finished");
        writeln!(self.out, "{head} {name} [{:>8}]: {}", secs(duration), final_line(stats))
    }

    fn test_finished(&mut self, test: TestIdx, result: &TestResult) -> io::Result<()> {
        let failed = result.status.is_failure();
        if failed {
            self.failures.push((test, result.status.clone()));
        }
        let show_line = failed || self.verbosity == Verbosity::Verbose;
        if show_line && !matches!(result.status, TestStatus::NotRun { .. }) {
            self.status_line(test, result)?;
        }
        if failed {
            self.failure_output(test, result)?;
        }
        Ok(())
    }

    fn status_line(&mut self, test: TestIdx, result: &TestResult) -> io::Result<()> {
        let (label, color) = match &result.status {
            TestStatus::Passed => ("PASS", GREEN),
            TestStatus::Failed { .. } => ("FAIL", RED),
            TestStatus::Crashed { .. } => ("CRASH", RED),
            TestStatus::TimedOut { .. } => ("TIMEOUT", RED),
            TestStatus::Skipped { .. } => ("SKIP", YELLOW),
            TestStatus::NotRun { .. } => ("NOTRUN", YELLOW),
            TestStatus::MemoryExceeded { .. } => ("MEMORY", RED),
        };
        let label = self.paint(color, &format!("{label:>8}"));
        let rss = result.peak_rss.map(|b| format!(" {:>9}", bytes(b))).unwrap_or_default();
        let name = self.list.display_name(test);
        let detail = match &result.status {
            TestStatus::Passed => String::new(),
            other => format!(" — {}", status_detail(other)),
        };
        let leak = if result.leaked_processes { " (leaked processes were killed)" } else { "" };
        writeln!(self.out, "{label} [{:>8}]{rss} {name}{detail}{leak}", secs(result.duration))
    }

    fn failure_output(&mut self, test: TestIdx, result: &TestResult) -> io::Result<()> {
        if result.output.is_empty() {
            return Ok(());
        }
        let name = self.list.display_name(test);
        writeln!(self.out, "--- output of {name} ---")?;
        let text = result.output.to_text();
        self.out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            writeln!(self.out)?;
        }
        writeln!(self.out, "--- end of output of {name} ---")
    }

    fn stopping(&mut self, reason: StopReason) -> io::Result<()> {
        let why = match reason {
            StopReason::FailFast => "a test failed; starting no more tests (use --no-fail-fast to run all)",
            StopReason::Interrupted => "interrupted; stopping running tests",
        };
        let head = self.paint(YELLOW, "   Stopping");
        writeln!(self.out, "{head} {why}")
    }

    fn run_finished(
        &mut self,
        stats: &RunStats,
        duration: std::time::Duration,
        stopped: Option<StopReason>,
    ) -> io::Result<()> {
        if self.verbosity != Verbosity::Quiet {
            self.summary_block(stats, duration, stopped)?;
        }
        let line = final_line(stats);
        let painted = if stats.failures() > 0 { self.paint(RED, &line) } else { self.paint(GREEN, &line) };
        writeln!(self.out, "{painted}")?;
        self.out.flush()
    }

    fn summary_block(
        &mut self,
        stats: &RunStats,
        duration: std::time::Duration,
        stopped: Option<StopReason>,
    ) -> io::Result<()> {
        writeln!(self.out, "------------")?;
        let mut parts = vec![format!("{} tests run", stats.total - stats.skipped - stats.not_run)];
        if stats.crashed > 0 {
            parts.push(format!("{} crashed", stats.crashed));
        }
        if stats.timed_out > 0 {
            parts.push(format!("{} timed out", stats.timed_out));
        }
        if stats.memory_exceeded > 0 {
            parts.push(format!("{} over their memory limit", stats.memory_exceeded));
        }
        if stats.not_run > 0 {
            let why = stopped.map(stop_reason).unwrap_or("stopped");
            parts.push(format!("{} not run ({why})", stats.not_run));
        }
        let head = self.paint(BOLD, "    Summary");
        writeln!(self.out, "{head} [{:>8}] {}", secs(duration), parts.join(", "))?;
        self.phase_table()?;
        self.not_in_plan()?;
        let failures = std::mem::take(&mut self.failures);
        for (test, status) in &failures {
            let name = self.list.display_name(*test);
            writeln!(self.out, "  {} {name} — {}", self.paint(RED, "FAILED"), status_detail(status))?;
        }
        self.failures = failures;
        Ok(())
    }
}

impl<W: Write> HumanReporter<'_, W> {
    fn phase_table(&mut self) -> io::Result<()> {
        let width = self.phases.iter().map(|p| p.name.len()).max().unwrap_or(0);
        for line in std::mem::take(&mut self.phases) {
            let text = match &line.outcome {
                PhaseOutcome::Ran { stats, duration } => phase_summary(stats, *duration),
                PhaseOutcome::Skipped { reason, tests } => format!("{tests} tests skipped: {reason}"),
            };
            writeln!(self.out, "      {:<width$}  {text}", line.name)?;
        }
        Ok(())
    }

    fn not_in_plan(&mut self) -> io::Result<()> {
        const SHOWN: usize = 10;
        let names = std::mem::take(&mut self.header.not_in_plan);
        if names.is_empty() {
            return Ok(());
        }
        let head = self.paint(YELLOW, "Not in plan");
        writeln!(self.out, "{head} {} tests no phase selects (see `cargo testplan explain NAME`):", names.len())?;
        for name in names.iter().take(SHOWN) {
            writeln!(self.out, "      {name}")?;
        }
        if names.len() > SHOWN {
            writeln!(self.out, "      ... and {} more", names.len() - SHOWN)?;
        }
        Ok(())
    }
}

/// `16/16 passed [0.412s]`, with failures and skips when there are any.
fn phase_summary(stats: &RunStats, duration: std::time::Duration) -> String {
    let ran = stats.passed + stats.failures();
    let mut text = format!("{}/{ran} passed", stats.passed);
    if stats.failures() > 0 {
        text.push_str(&format!(", {} failed", stats.failures()));
    }
    if stats.skipped > 0 {
        text.push_str(&format!(", {} skipped", stats.skipped));
    }
    if stats.not_run > 0 {
        text.push_str(&format!(", {} not run", stats.not_run));
    }
    format!("{text} [{}]", secs(duration))
}

/// `N passed, N failed, N skipped` — the last line of every run.
pub fn final_line(stats: &RunStats) -> String {
    format!("{} passed, {} failed, {} skipped", stats.passed, stats.failures(), stats.skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_line_counts_every_failure_kind() {
        let stats =
            RunStats { total: 10, passed: 3, failed: 1, crashed: 1, timed_out: 1, memory_exceeded: 1, skipped: 2, not_run: 1 };
        assert_eq!(final_line(&stats), "3 passed, 4 failed, 2 skipped");
    }
}
