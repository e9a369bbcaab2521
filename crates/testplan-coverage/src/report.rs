//! The finished coverage run as the run report's `coverage` (testplan-schema), and a
//! previous report's coverage back as figures (for the delta and the no-drop gate).

use std::collections::BTreeMap;

use testplan_schema::SourceLocation;
use testplan_schema::coverage as schema;

use crate::collect::{Outcome, PhaseFigures};
use crate::delta::CoverageDelta;
use crate::model::{Counts, CoverageSummary, FileSummary};

/// The report's `coverage` for the phases finished so far (what a phase summary shows).
pub fn partial(tools: &str, phases: &[PhaseFigures]) -> schema::CoverageReport {
    let total = phases.last().map(|p| figures(&p.cumulative)).unwrap_or_default();
    schema::CoverageReport {
        tools: tools.to_owned(),
        phases: phases.iter().map(phase).collect(),
        total,
        lost_profiles: phases.iter().map(|p| p.lost_profiles).sum(),
        ..schema::CoverageReport::default()
    }
}

/// The report's `coverage` of a finished run.
pub fn finished(outcome: &Outcome) -> schema::CoverageReport {
    let files = outcome
        .summary
        .files
        .iter()
        .map(|(path, file)| schema::FileCoverage { path: path.clone(), figures: figures(file) })
        .collect();
    schema::CoverageReport {
        tools: outcome.tools.clone(),
        phases: outcome.phases.iter().map(phase).collect(),
        total: figures(&outcome.summary.total),
        files,
        delta: outcome.delta.as_ref().map(delta),
        changed: outcome.changed.as_ref().map(|(base, changed)| schema::ChangedLinesCoverage {
            base: base.clone(),
            lines: counts(changed.lines),
            uncovered: changed
                .uncovered
                .iter()
                .map(|(file, line)| SourceLocation { file: file.to_string(), line: *line })
                .collect(),
        }),
        failed_gates: outcome.failed_gates.iter().map(ToString::to_string).collect(),
        lost_profiles: outcome.lost_profiles(),
    }
}

/// The figures a previous report recorded, for [`crate::delta`] and the no-drop gate.
pub fn summary_of(report: &schema::CoverageReport) -> CoverageSummary {
    let files: BTreeMap<String, FileSummary> =
        report.files.iter().map(|f| (f.path.clone(), file_summary(&f.figures))).collect();
    CoverageSummary { total: file_summary(&report.total), files }
}

fn phase(p: &PhaseFigures) -> schema::PhaseCoverage {
    schema::PhaseCoverage {
        name: p.name.clone(),
        own: figures(&p.own),
        cumulative: figures(&p.cumulative),
        lost_profiles: p.lost_profiles,
    }
}

fn counts(c: Counts) -> schema::CoverageCounts {
    schema::CoverageCounts { covered: c.covered, total: c.total }
}

fn figures(f: &FileSummary) -> schema::CoverageFigures {
    schema::CoverageFigures {
        lines: counts(f.lines),
        functions: counts(f.functions),
        regions: counts(f.regions),
    }
}

fn file_summary(f: &schema::CoverageFigures) -> FileSummary {
    let back = |c: schema::CoverageCounts| Counts { covered: c.covered, total: c.total };
    FileSummary { lines: back(f.lines), functions: back(f.functions), regions: back(f.regions) }
}

fn delta(d: &CoverageDelta) -> schema::CoverageDelta {
    let file = |f: &crate::delta::FileDelta| schema::FileDelta {
        path: f.path.clone(),
        before: f.before.map(counts),
        after: f.after.map(counts),
    };
    schema::CoverageDelta {
        before: counts(d.before),
        after: counts(d.after),
        files: d.files.iter().map(file).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CoverageData;

    fn figures_of(covered: u64, total: u64) -> FileSummary {
        let c = Counts { covered, total };
        FileSummary { lines: c, functions: c, regions: c }
    }

    fn outcome() -> Outcome {
        let phases = vec![
            PhaseFigures {
                name: "unit".into(),
                own: figures_of(18, 41),
                cumulative: figures_of(18, 41),
                lost_profiles: 0,
            },
            PhaseFigures {
                name: "doc".into(),
                own: figures_of(4, 41),
                cumulative: figures_of(22, 41),
                lost_profiles: 1,
            },
        ];
        let summary = CoverageSummary {
            total: figures_of(22, 41),
            files: [
                ("src/lib.rs".to_owned(), figures_of(20, 32)),
                ("src/main.rs".to_owned(), figures_of(2, 9)),
            ]
            .into(),
        };
        let before = CoverageSummary {
            total: figures_of(2, 9),
            files: [("src/main.rs".to_owned(), figures_of(2, 9))].into(),
        };
        Outcome {
            tools: "llvm-profdata-19 and llvm-cov-19".into(),
            phases,
            delta: Some(crate::delta::delta(&before, &summary)),
            summary,
            data: CoverageData::default(),
            changed: Some((
                "HEAD".into(),
                crate::diff::ChangedCoverage {
                    lines: Counts { covered: 1, total: 2 },
                    uncovered: vec![("src/lib.rs".into(), 31)],
                },
            )),
            failed_gates: Vec::new(),
            html: crate::html::HtmlInputs::default(),
        }
    }

    #[test]
    fn a_finished_run_reads_back_as_its_figures() {
        let outcome = outcome();
        let report = finished(&outcome);
        assert_eq!(summary_of(&report), outcome.summary);
        assert_eq!(report.lost_profiles, 1);
        assert_eq!(report.phases[1].cumulative.lines, schema::CoverageCounts { covered: 22, total: 41 });
        let delta = report.delta.expect("delta");
        assert_eq!(delta.files.len(), 1);
        assert_eq!(delta.files[0].path, "src/lib.rs");
        assert_eq!(delta.files[0].before, None);
        let changed = report.changed.expect("changed");
        assert_eq!(changed.uncovered, [SourceLocation { file: "src/lib.rs".into(), line: 31 }]);
    }

    #[test]
    fn partial_reports_show_the_phases_so_far() {
        let outcome = outcome();
        let report = partial(&outcome.tools, &outcome.phases[..1]);
        assert_eq!(report.phases.len(), 1);
        assert_eq!(report.total.lines, schema::CoverageCounts { covered: 18, total: 41 });
        assert!(report.files.is_empty());
    }
}
