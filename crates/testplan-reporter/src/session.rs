//! One run's reporters together: the report builder, the human reporter, the progress bar,
//! the baseline comparison and, on GitHub Actions, failure annotations. The command feeds
//! every event to [`RunReporter::handle`] and gets the finished [`RunReport`] back.
//!
//! Order matters for the terminal: the report records an event first (summaries render
//! from it), the bar is cleared before a phase's summary and redrawn after other output,
//! and the final line `N passed, N failed, N skipped` is always the last line written.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

use testplan_runner::events::Event;
use testplan_schema::RunReport;

use crate::human::HumanReporter;
use crate::json::JsonReportBuilder;
use crate::progress::ProgressBars;

/// The report to compare with, and how to name it.
#[derive(Clone, Debug)]
pub struct Baseline {
    /// The earlier report.
    pub report: RunReport,
    /// Its path, as shown.
    pub source: String,
    /// Its tests by key.
    pub index: crate::baseline::BaselineIndex,
}

impl Baseline {
    /// The earlier `report`, read from `source`, indexed.
    pub fn new(report: RunReport, source: String) -> Self {
        let index = crate::baseline::BaselineIndex::new(&report);
        Self { report, source, index }
    }
}

/// Feeds events to every reporter of a run.
pub struct RunReporter<'a> {
    json: JsonReportBuilder<'a>,
    human: HumanReporter<'a>,
    bars: ProgressBars,
    out: Box<dyn Write + 'a>,
    baseline: Option<Baseline>,
    planned: Planned<'a>,
    annotations: Option<Option<PathBuf>>,
}

/// The (binary id, name) of every test of the run, computed the first time a baseline test
/// looks removed (thousands of string pairs otherwise built for nothing on every run).
struct Planned<'a> {
    compute: Option<Box<dyn FnOnce() -> TestKeys<'a> + 'a>>,
    known: Option<TestKeys<'a>>,
}

/// (binary id, name) pairs.
type TestKeys<'a> = HashSet<(&'a str, &'a str)>;

impl<'a> Planned<'a> {
    fn get(&mut self) -> &TestKeys<'a> {
        let compute = &mut self.compute;
        self.known.get_or_insert_with(|| compute.take().map_or_else(HashSet::new, |compute| compute()))
    }
}

impl std::fmt::Debug for RunReporter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunReporter").field("baseline", &self.baseline.as_ref().map(|b| &b.source)).finish()
    }
}

impl<'a> RunReporter<'a> {
    /// Reporters writing human output to `out`.
    pub fn new(
        json: JsonReportBuilder<'a>,
        human: HumanReporter<'a>,
        bars: ProgressBars,
        out: Box<dyn Write + 'a>,
    ) -> Self {
        RunReporter {
            json,
            human,
            bars,
            out,
            baseline: None,
            planned: Planned { compute: None, known: None },
            annotations: None,
        }
    }

    /// Compares with `baseline`; `planned` gives the (binary id, name) of every test of this
    /// run, so a test of a later phase is not taken for a removed one. It is called at most
    /// once, only when some baseline test is missing so far.
    pub fn with_baseline(
        mut self,
        baseline: Option<Baseline>,
        planned: impl FnOnce() -> HashSet<(&'a str, &'a str)> + 'a,
    ) -> Self {
        self.baseline = baseline;
        self.planned = Planned { compute: Some(Box::new(planned)), known: None };
        self
    }

    /// Prints `::error` annotations for failures at the end of the run (GitHub Actions);
    /// `repo_root` makes their paths repository-relative.
    pub fn with_annotations(mut self, repo_root: Option<PathBuf>) -> Self {
        self.annotations = Some(repo_root);
        self
    }

    /// Handles one event.
    pub fn handle(&mut self, event: &Event) {
        self.json.handle(event);
        let ends_block = matches!(event, Event::PhaseFinished { .. } | Event::RunFinished { .. });
        if ends_block {
            self.update_baseline();
            self.bars.handle(event);
        }
        if matches!(event, Event::RunFinished { .. }) {
            self.print_annotations();
        }
        self.human.handle(event, self.json.report());
        let text = self.human.take_output();
        if !text.is_empty() {
            let out = &mut self.out;
            // A closed stdout must not stop the run: the report is still written.
            self.bars.suspend(|| {
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            });
        }
        if !ends_block {
            self.bars.handle(event);
        }
    }

    fn update_baseline(&mut self) {
        let Some(baseline) = &self.baseline else {
            return;
        };
        let mut diff = crate::baseline::diff_indexed(
            self.json.report(),
            &baseline.report,
            &baseline.index,
            &baseline.source,
        );
        if !diff.removed.is_empty() {
            let planned = self.planned.get();
            diff.removed.retain(|t| !planned.contains(&(t.binary_id.as_str(), t.name.as_str())));
        }
        self.json.set_baseline(diff);
    }

    fn print_annotations(&mut self) {
        let Some(repo_root) = &self.annotations else {
            return;
        };
        for line in crate::github::annotations(self.json.report(), repo_root.as_deref()) {
            let _ = writeln!(self.out, "{line}");
        }
    }

    /// Records the run's coverage so far (`--coverage`); call before handling the event
    /// whose summary shows it.
    pub fn set_coverage(&mut self, coverage: testplan_schema::coverage::CoverageReport) {
        self.json.set_coverage(coverage);
    }

    /// The report so far.
    pub fn report(&self) -> &RunReport {
        self.json.report()
    }

    /// The finished report.
    pub fn finish(self) -> RunReport {
        self.json.finish()
    }
}
