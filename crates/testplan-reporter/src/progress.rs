//! The live progress bar: one indicatif bar per phase on stderr (tests done / total, tests
//! running, passed / failed / skipped so far, elapsed time, an ETA from recorded durations),
//! and under it the running tests with their elapsed time (at most [`RUNNING_LINES`]),
//! drawn only when stdout and stderr are a terminal. Everything else the
//! run prints goes through [`ProgressBars::suspend`] so the bar is cleared and redrawn
//! around it instead of being torn.
//!
//! Where no bar is drawn (a pipe, a file, `CI` set, `TERM=dumb`, `--no-progress`) nothing
//! of this module reaches the output: no control sequences, only the plain lines of the
//! human reporter.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use testplan_runner::events::{Event, TestStatus};
use testplan_runner::model::TestIdx;

/// Running tests named under the bar, at most; the rest are counted (`... and 3 more`).
pub const RUNNING_LINES: usize = 8;

/// What the bar's live part shows, shared with its draw thread (redrawn every tick, so the
/// elapsed times and the ETA move while no event comes).
#[derive(Debug, Default)]
struct Live {
    /// Display names by test index (filled only when bars are drawn).
    names: Vec<String>,
    /// Recorded durations by test index, where the history has one.
    expected: Vec<Option<f64>>,
    /// The tests of each phase of the run, by phase index.
    phases: Vec<Vec<TestIdx>>,
    /// Tests of the phase not started yet, with their expected seconds.
    waiting: HashMap<TestIdx, Option<f64>>,
    running: Vec<(TestIdx, Instant)>,
    passed: usize,
    failed: usize,
    skipped: usize,
    jobs: usize,
}

impl Live {
    /// `1 passed, 1 failed, ETA 12s` (the ETA when some test of the phase has a recorded
    /// duration; tests without one count as the mean of those with).
    fn status(&self, now: Instant) -> String {
        let mut parts = vec![format!("{} passed", self.passed)];
        if self.failed > 0 {
            parts.push(format!("{} failed", self.failed));
        }
        if self.skipped > 0 {
            parts.push(format!("{} skipped", self.skipped));
        }
        if let Some(eta) = self.eta(now) {
            parts.push(format!("ETA {}", crate::format::short_secs(eta.ceil())));
        }
        parts.join(", ")
    }

    fn eta(&self, now: Instant) -> Option<f64> {
        let known: Vec<f64> = self
            .waiting
            .values()
            .copied()
            .chain(self.running.iter().map(|(t, _)| self.expected_of(*t)))
            .flatten()
            .collect();
        if known.is_empty() {
            return None;
        }
        let mean = known.iter().sum::<f64>() / known.len() as f64;
        let waiting: f64 = self.waiting.values().map(|e| e.unwrap_or(mean)).sum();
        let running: f64 = self
            .running
            .iter()
            .map(|(t, at)| {
                (self.expected_of(*t).unwrap_or(mean) - now.duration_since(*at).as_secs_f64()).max(0.0)
            })
            .sum();
        Some((waiting + running) / self.jobs.max(1) as f64)
    }

    fn expected_of(&self, test: TestIdx) -> Option<f64> {
        self.expected.get(test.0).copied().flatten()
    }

    /// The lines under the bar: `NAME [  1.2s]` per running test, longest running first.
    fn running_lines(&self, now: Instant) -> String {
        let mut running: Vec<&(TestIdx, Instant)> = self.running.iter().collect();
        running.sort_by_key(|(_, at)| *at);
        let mut out = String::new();
        for (test, at) in running.iter().take(RUNNING_LINES) {
            let name = self.names.get(test.0).map_or("", String::as_str);
            let elapsed = crate::format::secs(now.duration_since(*at));
            out.push_str(&format!("\n{:>11} [{elapsed:>8}] {name}", ""));
        }
        if running.len() > RUNNING_LINES {
            out.push_str(&format!("\n{:>11} ... and {} more", "", running.len() - RUNNING_LINES));
        }
        out
    }
}

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
    /// The phase's jobs: the most tests that run at once (a doctest batch's doctests all
    /// start with it, rustdoc runs `jobs` of them at a time).
    jobs: usize,
    live: Arc<Mutex<Live>>,
}

impl ProgressBars {
    /// Bars drawn on stderr when `enabled`; otherwise every method is a no-op.
    pub fn new(enabled: bool) -> Self {
        ProgressBars { enabled, bar: None, running: 0, jobs: usize::MAX, live: Arc::default() }
    }

    /// Names the running tests under the bar (`names` by test index) and gives an ETA from
    /// `expected` (recorded durations by test index) over the tests of each phase (`phases`,
    /// by phase index).
    pub fn with_tests(
        self,
        names: Vec<String>,
        expected: Vec<Option<f64>>,
        phases: Vec<Vec<TestIdx>>,
    ) -> Self {
        {
            let mut live = self.live();
            (live.names, live.expected, live.phases) = (names, expected, phases);
        }
        self
    }

    /// Whether bars are drawn (callers skip preparing [`ProgressBars::with_tests`] otherwise).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    fn live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Updates the bar for one event.
    pub fn handle(&mut self, event: &Event) {
        if !self.enabled {
            return;
        }
        match event {
            Event::PhaseStarted { index, name, tests, jobs } => {
                self.jobs = (*jobs).max(1);
                self.phase_tests(*index);
                self.start(name, *tests);
            }
            Event::TestStarted { test } => {
                self.running += 1;
                let mut live = self.live();
                live.waiting.remove(test);
                live.running.push((*test, Instant::now()));
                drop(live);
                self.update(0);
            }
            Event::TestFinished { test, result } => {
                let started =
                    !matches!(result.status, TestStatus::Skipped { .. } | TestStatus::NotRun { .. });
                if started {
                    self.running = self.running.saturating_sub(1);
                }
                self.finished(*test, &result.status);
                self.update(1);
            }
            Event::TestRescheduled { test, .. } => {
                self.running = self.running.saturating_sub(1);
                self.live().running.retain(|(t, _)| t != test);
                self.update(0);
            }
            Event::PhaseFinished { .. } | Event::RunFinished { .. } => self.clear(),
            _ => {}
        }
    }

    fn finished(&self, test: TestIdx, status: &TestStatus) {
        let mut live = self.live();
        live.waiting.remove(&test);
        live.running.retain(|(t, _)| *t != test);
        match status {
            TestStatus::Passed => live.passed += 1,
            TestStatus::Skipped { .. } | TestStatus::NotRun { .. } => live.skipped += 1,
            other if other.is_failure() => live.failed += 1,
            _ => {}
        }
    }

    fn start(&mut self, phase: &str, tests: usize) {
        self.clear();
        let (status, running) = (Arc::clone(&self.live), Arc::clone(&self.live));
        let style = ProgressStyle::with_template(
            "{prefix:>11.bold} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} {msg}, {status}{running}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("status", move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let live = status.lock().unwrap_or_else(|p| p.into_inner());
            let _ = w.write_str(&live.status(Instant::now()));
        })
        .with_key("running", move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let live = running.lock().unwrap_or_else(|p| p.into_inner());
            let _ = w.write_str(&live.running_lines(Instant::now()));
        })
        .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(tests as u64), ProgressDrawTarget::stderr())
            .with_style(style)
            .with_prefix(phase.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        self.bar = Some(bar);
        self.running = 0;
        self.update(0);
    }

    /// The phase's tests, before its first starts (their expected durations make the ETA).
    fn phase_tests(&self, index: usize) {
        let mut live = self.live();
        let tests = live.phases.get(index).cloned().unwrap_or_default();
        live.waiting = tests.into_iter().map(|t| (t, live.expected_of(t))).collect();
        live.running.clear();
        (live.passed, live.failed, live.skipped) = (0, 0, 0);
        live.jobs = self.jobs;
    }

    fn update(&self, done: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(done);
            bar.set_message(format!("{} running", self.running.min(self.jobs)));
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
    fn the_live_part_names_running_tests_and_counts_down_from_recorded_durations() {
        let now = Instant::now();
        let started = now - Duration::from_secs(2);
        let live = Live {
            names: vec!["app tests::a".into(), "app tests::b".into(), "app tests::c".into()],
            expected: vec![Some(5.0), None, Some(3.0)],
            phases: Vec::new(),
            waiting: [(TestIdx(1), None), (TestIdx(2), Some(3.0))].into_iter().collect(),
            running: vec![(TestIdx(0), started)],
            passed: 1,
            failed: 1,
            skipped: 0,
            jobs: 2,
        };
        // Running: 5 - 2 = 3 s left; waiting: 3 s and b at the mean of 5 and 3 (4 s): 10 s on 2 jobs.
        assert_eq!(live.status(now), "1 passed, 1 failed, ETA 5s");
        assert_eq!(live.running_lines(now), "\n            [  2.000s] app tests::a");
        let unknown = Live { expected: vec![None; 3], waiting: HashMap::new(), ..live };
        assert_eq!(unknown.status(now), "1 passed, 1 failed", "no ETA without recorded durations");
    }

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
