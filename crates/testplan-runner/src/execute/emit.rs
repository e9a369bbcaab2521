//! The executor's side of the event stream: forwards events to the caller's sink, keeps
//! the run's totals, and guarantees that every test gets exactly one `TestFinished`.

use std::collections::HashSet;

use crate::events::{Event, RunStats, StopReason, TestResult, TestStatus};
use crate::model::TestIdx;

/// Sends events to the sink and counts results.
pub(crate) struct Emitter<'s> {
    sink: &'s mut dyn FnMut(&Event),
    stats: RunStats,
    finished: HashSet<TestIdx>,
}

impl std::fmt::Debug for Emitter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter").field("stats", &self.stats).finish_non_exhaustive()
    }
}

impl<'s> Emitter<'s> {
    /// An emitter for a run of `total` planned tests.
    pub fn new(sink: &'s mut dyn FnMut(&Event), total: usize) -> Self {
        Emitter { sink, stats: RunStats { total, ..RunStats::default() }, finished: HashSet::new() }
    }

    /// Sends any event.
    pub fn event(&mut self, event: &Event) {
        (self.sink)(event);
    }

    /// `TestStarted`.
    pub fn started(&mut self, test: TestIdx) {
        self.event(&Event::TestStarted { test });
    }

    /// `TestFinished`, counted once; a second result for the same test is a bug and is
    /// dropped so reporters never see a test twice.
    pub fn finished(&mut self, test: TestIdx, result: TestResult) {
        if !self.finished.insert(test) {
            debug_assert!(false, "test {test:?} finished twice");
            return;
        }
        self.stats.record(&result.status);
        self.event(&Event::TestFinished { test, result: Box::new(result) });
    }

    /// `TestFinished` for a test that never started.
    pub fn not_run(&mut self, test: TestIdx, reason: StopReason) {
        self.finished(test, TestResult::not_started(TestStatus::NotRun { reason }));
    }

    /// Whether the test already has its result.
    pub fn has_finished(&self, test: TestIdx) -> bool {
        self.finished.contains(&test)
    }

    /// The totals so far.
    pub fn stats(&self) -> &RunStats {
        &self.stats
    }
}
