//! The live progress bar: one indicatif bar per phase on stderr (tests done / total, tests
//! running, failures so far, elapsed time), drawn only when stdout and stderr are a
//! terminal. Everything else the
//! run prints goes through [`ProgressBars::suspend`] so the bar is cleared and redrawn
//! around it instead of being torn.
//!
//! Where no bar is drawn (a pipe, a file, `CI` set, `TERM=dumb`, `--no-progress`) nothing
//! of this module reaches the output: no control sequences, only the plain lines of the
//! human reporter.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use testplan_runner::events::{Event, TestStatus};

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressMode {
    /// A live bar on stderr (a terminal).
    Bar,
    /// Plain progress lines now and then (logs, CI).
    Plain,
    /// Nothing (`--no-progress`).
    Off,
}

impl ProgressMode {
    /// The mode for this process: `Off` with `--no-progress`; `Bar` when stdout and stderr
    /// are terminals, `CI` is unset and `TERM` is not `dumb`; `Plain` otherwise.
    pub fn detect(no_progress: bool) -> ProgressMode {
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        let terminal = std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
        ProgressMode::choose(no_progress, terminal, ci, dumb)
    }

    /// The decision of [`ProgressMode::detect`], from its inputs.
    pub fn choose(no_progress: bool, terminal: bool, ci: bool, dumb_terminal: bool) -> ProgressMode {
        if no_progress {
            ProgressMode::Off
        } else if terminal && !ci && !dumb_terminal {
            ProgressMode::Bar
        } else {
            ProgressMode::Plain
        }
    }
}

/// The bar of the running phase, if bars are drawn.
#[derive(Debug)]
pub struct ProgressBars {
    enabled: bool,
    bar: Option<ProgressBar>,
    running: usize,
    failed: usize,
    /// The phase's jobs: the most tests that run at once (a doctest batch's doctests all
    /// start with it, rustdoc runs `jobs` of them at a time).
    jobs: usize,
}

impl ProgressBars {
    /// Bars drawn on stderr when `enabled`; otherwise every method is a no-op.
    pub fn new(enabled: bool) -> Self {
        ProgressBars { enabled, bar: None, running: 0, failed: 0, jobs: usize::MAX }
    }

    /// Updates the bar for one event.
    pub fn handle(&mut self, event: &Event) {
        if !self.enabled {
            return;
        }
        match event {
            Event::PhaseStarted { name, tests, jobs, .. } => {
                self.jobs = (*jobs).max(1);
                self.start(name, *tests);
            }
            Event::TestStarted { .. } => {
                self.running += 1;
                self.update(0);
            }
            Event::TestFinished { result, .. } => {
                let started =
                    !matches!(result.status, TestStatus::Skipped { .. } | TestStatus::NotRun { .. });
                if started {
                    self.running = self.running.saturating_sub(1);
                }
                self.failed += usize::from(result.status.is_failure());
                self.update(1);
            }
            Event::TestRescheduled { .. } => {
                self.running = self.running.saturating_sub(1);
                self.update(0);
            }
            Event::PhaseFinished { .. } | Event::RunFinished { .. } => self.clear(),
            _ => {}
        }
    }

    fn start(&mut self, phase: &str, tests: usize) {
        self.clear();
        let style = ProgressStyle::with_template(
            "{prefix:>11.bold} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(tests as u64), ProgressDrawTarget::stderr())
            .with_style(style)
            .with_prefix(phase.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        self.bar = Some(bar);
        self.running = 0;
        self.failed = 0;
        self.update(0);
    }

    fn update(&self, done: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(done);
            let failed = if self.failed > 0 { format!(", {} failed", self.failed) } else { String::new() };
            bar.set_message(format!("{} running{failed}", self.running.min(self.jobs)));
        }
    }

    fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    /// Runs `f` (which prints) with the bar cleared, then redraws it.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }
}

impl Drop for ProgressBars {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_only_on_a_terminal_outside_ci() {
        let cases = [
            ((false, true, false, false), ProgressMode::Bar),
            ((false, false, false, false), ProgressMode::Plain),
            ((false, true, true, false), ProgressMode::Plain),
            ((false, true, false, true), ProgressMode::Plain),
            ((true, true, false, false), ProgressMode::Off),
        ];
        for ((off, tty, ci, dumb), expected) in cases {
            assert_eq!(ProgressMode::choose(off, tty, ci, dumb), expected, "{off} {tty} {ci} {dumb}");
        }
    }
}
