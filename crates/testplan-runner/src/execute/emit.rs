//! The executor's side of the event stream: forwards events to the caller's sink, keeps
//! the run's totals, guarantees that every test gets exactly one `TestFinished`, and holds
//! back the events of phases that run ahead of their turn.
//!
//! Phases are *lanes*: the current lane's events go out at once; a later lane's (a doctest
//! batch started in the background) are held and sent, in the order they happened, when
//! that lane becomes current — so reporters see every phase's events between its
//! `PhaseStarted` and `PhaseFinished`, as if the phases had run one after another. A lane
//! can be discarded (the run stopped before it): its held and future events are dropped,
//! and the caller reports its tests.

use std::collections::{HashMap, HashSet};

use crate::events::{Event, RunStats, StopReason, TestResult, TestStatus};
use crate::model::TestIdx;

/// An event held for a later lane.
#[derive(Debug)]
enum Held {
    Event(Event),
    Finished(TestIdx, TestResult),
}

/// Sends events to the sink and counts results.
pub(crate) struct Emitter<'s> {
    sink: &'s mut dyn FnMut(&Event),
    stats: RunStats,
    finished: HashSet<TestIdx>,
    current: usize,
    held: HashMap<usize, Vec<Held>>,
    discarded: HashSet<usize>,
}

impl std::fmt::Debug for Emitter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter").field("stats", &self.stats).finish_non_exhaustive()
    }
}

impl<'s> Emitter<'s> {
    /// An emitter for a run of `total` planned tests; lane 0 is current.
    pub fn new(sink: &'s mut dyn FnMut(&Event), total: usize) -> Self {
        Emitter {
            sink,
            stats: RunStats { total, ..RunStats::default() },
            finished: HashSet::new(),
            current: 0,
            held: HashMap::new(),
            discarded: HashSet::new(),
        }
    }

    /// Sends any event now.
    pub fn event(&mut self, event: &Event) {
        (self.sink)(event);
    }

    /// `TestFinished` now, counted once; a second result for the same test is a bug and is
    /// dropped so reporters never see a test twice.
    pub fn finished(&mut self, test: TestIdx, result: TestResult) {
        if !self.finished.insert(test) {
            debug_assert!(false, "test {test:?} finished twice");
            return;
        }
        self.stats.record(&result.status);
        self.stats.cached += usize::from(result.cached);
        self.event(&Event::TestFinished { test, result: Box::new(result) });
    }

    /// `TestFinished` now for a test that never started.
    pub fn not_run(&mut self, test: TestIdx, reason: StopReason) {
        self.finished(test, TestResult::not_started(TestStatus::NotRun { reason }));
    }

    /// An event of `lane`: sent now if it is current, held if it is later, dropped if it
    /// was discarded.
    pub fn event_in(&mut self, lane: usize, event: Event) {
        if lane == self.current {
            self.event(&event);
        } else if !self.discarded.contains(&lane) {
            self.held.entry(lane).or_default().push(Held::Event(event));
        }
    }

    /// `TestStarted` of a test of `lane`.
    pub fn started_in(&mut self, lane: usize, test: TestIdx) {
        self.event_in(lane, Event::TestStarted { test });
    }

    /// `TestFinished` of a test of `lane` (see [`Emitter::event_in`]).
    pub fn finished_in(&mut self, lane: usize, test: TestIdx, result: TestResult) {
        if lane == self.current {
            self.finished(test, result);
        } else if !self.discarded.contains(&lane) {
            self.held.entry(lane).or_default().push(Held::Finished(test, result));
        }
    }

    /// `TestFinished` (not run) of a test of `lane`.
    pub fn not_run_in(&mut self, lane: usize, test: TestIdx, reason: StopReason) {
        self.finished_in(lane, test, TestResult::not_started(TestStatus::NotRun { reason }));
    }

    /// Makes `lane` current and sends what it held, in order.
    pub fn set_current(&mut self, lane: usize) {
        self.current = lane;
        for held in self.held.remove(&lane).unwrap_or_default() {
            match held {
                Held::Event(event) => self.event(&event),
                Held::Finished(test, result) => self.finished(test, result),
            }
        }
    }

    /// Drops what `lane` holds and will send.
    pub fn discard(&mut self, lane: usize) {
        self.held.remove(&lane);
        self.discarded.insert(lane);
    }

    /// Whether the test already has its result.
    pub fn has_finished(&self, test: TestIdx) -> bool {
        self.finished.contains(&test)
    }

    /// Failures sent and held (of phases running ahead): what `--max-fail` counts.
    pub fn failures_seen(&self) -> usize {
        let failing = |held: &Held| matches!(held, Held::Finished(_, result) if result.status.is_failure());
        self.stats.failures() + self.held.values().flatten().filter(|h| failing(h)).count()
    }

    /// The totals so far.
    pub fn stats(&self) -> &RunStats {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passed() -> TestResult {
        TestResult::not_started(TestStatus::Passed)
    }

    #[test]
    fn later_lanes_are_held_until_current_and_discarded_lanes_dropped() {
        let mut seen: Vec<String> = Vec::new();
        let mut sink = |e: &Event| {
            seen.push(match e {
                Event::TestStarted { test } => format!("start {}", test.0),
                Event::TestFinished { test, .. } => format!("finish {}", test.0),
                other => format!("{other:?}"),
            })
        };
        let mut emit = Emitter::new(&mut sink, 4);
        emit.started_in(1, TestIdx(2));
        emit.finished_in(1, TestIdx(2), passed());
        emit.finished_in(2, TestIdx(3), passed());
        emit.started_in(0, TestIdx(0));
        emit.finished_in(0, TestIdx(0), passed());
        assert_eq!(emit.stats().passed, 1, "held results are not counted yet");
        emit.discard(2);
        emit.finished_in(2, TestIdx(1), passed());
        emit.set_current(1);
        assert!(emit.has_finished(TestIdx(2)) && !emit.has_finished(TestIdx(3)));
        assert_eq!(emit.stats().passed, 2);
        drop(emit);
        assert_eq!(seen, ["start 0", "finish 0", "start 2", "finish 2"]);
    }
}
