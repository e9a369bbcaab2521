//! Coverage in the human summaries and the Markdown (`--coverage`, docs/coverage.md),
//! rendered from the run report's `coverage` like everything else.
//!
//! The grammar:
//!
//! ```text
//! phase block, first phase:  Coverage:  lines 43.9% (18/41) · functions 62.5% (5/8) · regions 55.6% (30/54)
//! phase block, later phases: Coverage:  unit 43.9% · +integration → 70.7% (+26.8)
//!                                       integration alone: lines 26.8% (11/41) · ...
//! end block:                 Coverage: lines 80.5% (33/41) · functions ... (llvm-profdata-19 and llvm-cov-19)
//!                                  unit → 43.9%  (alone 43.9%)
//!                                  integration → 70.7% (+26.8)  (alone 26.8%)
//!                            Coverage since last run: 81.7% → 80.5% (−1.2): src/parser.rs 92.0 → 80.1, ...
//!                            Changed lines since BASE: 1 of 2 covered (50.0%); not covered: src/lib.rs:31
//!                            Coverage gate failed: <message>
//! ```
//!
//! Percentages have one decimal (gate messages, written by the gate, have two); a change
//! is computed from the exact figures, then rounded.

use std::fmt::Write as _;

use testplan_schema::RunReport;
use testplan_schema::coverage::{CoverageCounts, CoverageFigures, CoverageReport, FileDelta, PhaseCoverage};

use crate::sanitize::{inline, md_text};

/// Files named in the "since last run" line; the Markdown lists more.
const DELTA_FILES_SHOWN: usize = 5;
/// Files in the Markdown's per-file table.
const MARKDOWN_FILES: usize = 30;
/// Uncovered changed lines named in the human output.
const CHANGED_LINES_SHOWN: usize = 10;

/// `43.9%`, or `n/a` when there is nothing to cover.
pub fn percent(counts: CoverageCounts) -> String {
    counts.percent().map_or_else(|| "n/a".to_owned(), |p| format!("{p:.1}%"))
}

/// `+9.2` / `−1.3` / `±0.0`: the change in percentage points from `before` to `after`.
pub fn points(before: CoverageCounts, after: CoverageCounts) -> String {
    let change = after.percent().unwrap_or(0.0) - before.percent().unwrap_or(0.0);
    match format!("{:.1}", change.abs()).as_str() {
        "0.0" => "±0.0".to_owned(),
        text if change > 0.0 => format!("+{text}"),
        text => format!("−{text}"),
    }
}

/// `lines 43.9% (18/41) · functions 62.5% (5/8) · regions 55.6% (30/54)`.
pub fn figures(f: &CoverageFigures) -> String {
    let one = |name: &str, c: CoverageCounts| format!("{name} {} ({}/{})", percent(c), c.covered, c.total);
    [one("lines", f.lines), one("functions", f.functions), one("regions", f.regions)].join(" · ")
}

/// The lines under a phase's summary (empty when the run has no coverage or the phase did
/// not run).
pub fn phase_lines(report: &RunReport, phase: &str) -> Vec<String> {
    let Some(coverage) = &report.coverage else { return Vec::new() };
    let Some(index) = coverage.phases.iter().position(|p| p.name == phase) else { return Vec::new() };
    let this = &coverage.phases[index];
    let mut lines = match index {
        0 => vec![figures(&this.own)],
        _ => {
            let before = &coverage.phases[index - 1];
            vec![
                format!(
                    "{} {} · +{} → {} ({})",
                    earlier_names(&coverage.phases[..index]),
                    percent(before.cumulative.lines),
                    inline(&this.name),
                    percent(this.cumulative.lines),
                    points(before.cumulative.lines, this.cumulative.lines)
                ),
                format!("{} alone: {}", inline(&this.name), figures(&this.own)),
            ]
        }
    };
    if this.lost_profiles > 0 {
        lines.push(lost(this.lost_profiles));
    }
    lines
}

/// [`phase_lines`] as printed under a phase's summary, the first headed `Coverage:`.
pub fn phase_block(report: &RunReport, phase: &str) -> String {
    let mut out = String::new();
    for (i, line) in phase_lines(report, phase).iter().enumerate() {
        let head = if i == 0 { "Coverage:" } else { "" };
        let _ = writeln!(out, "{head:>13}  {line}");
    }
    out
}

/// `unit`, `unit+integration`; past three phases `4 phases`.
fn earlier_names(phases: &[PhaseCoverage]) -> String {
    if phases.len() > 3 {
        return format!("{} phases", phases.len());
    }
    phases.iter().map(|p| inline(&p.name).into_owned()).collect::<Vec<_>>().join("+")
}

fn lost(n: usize) -> String {
    let processes = if n == 1 { "1 test process" } else { &format!("{n} test processes") };
    format!("{processes} died while writing its profile: that coverage is missing")
}

/// The coverage lines of the end block (empty without coverage).
pub fn end_lines(report: &RunReport) -> Vec<String> {
    let Some(coverage) = &report.coverage else { return Vec::new() };
    let mut lines = vec![format!("Coverage: {} ({})", figures(&coverage.total), inline(&coverage.tools))];
    if coverage.phases.len() > 1 {
        lines.extend(phase_rows(coverage));
    }
    if let Some(delta) = &coverage.delta {
        lines.push(delta_line(delta));
    }
    if let Some(changed) = &coverage.changed {
        lines.push(changed_line(changed));
    }
    if coverage.lost_profiles > 0 {
        lines.push(format!("      {}", lost(coverage.lost_profiles)));
    }
    lines.extend(coverage.failed_gates.iter().map(|gate| format!("Coverage gate failed: {gate}")));
    lines
}

fn phase_rows(coverage: &CoverageReport) -> Vec<String> {
    let width = coverage.phases.iter().map(|p| p.name.len()).max().unwrap_or(0);
    let mut before: Option<CoverageCounts> = None;
    let mut rows = Vec::new();
    for phase in &coverage.phases {
        let change = before.map(|b| format!(" ({})", points(b, phase.cumulative.lines))).unwrap_or_default();
        let name = inline(&phase.name);
        rows.push(format!(
            "      {name:<width$} → {}{change}  (alone {})",
            percent(phase.cumulative.lines),
            percent(phase.own.lines)
        ));
        before = Some(phase.cumulative.lines);
    }
    rows
}

fn delta_line(delta: &testplan_schema::coverage::CoverageDelta) -> String {
    let mut line = format!(
        "Coverage since last run: {} → {} ({})",
        percent(delta.before),
        percent(delta.after),
        points(delta.before, delta.after)
    );
    let files: Vec<String> = delta.files.iter().take(DELTA_FILES_SHOWN).map(file_change).collect();
    if !files.is_empty() {
        let more = delta.files.len().saturating_sub(DELTA_FILES_SHOWN);
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        let _ = write!(line, ": {}{more}", files.join(", "));
    }
    line
}

/// `src/parser.rs 92.0 → 80.1`, `src/new.rs new (100.0)`, `src/old.rs removed`.
fn file_change(file: &FileDelta) -> String {
    let path = inline(&file.path);
    let pct = |c: CoverageCounts| c.percent().map_or_else(|| "n/a".to_owned(), |p| format!("{p:.1}"));
    match (file.before, file.after) {
        (Some(before), Some(after)) => format!("{path} {} → {}", pct(before), pct(after)),
        (None, Some(after)) => format!("{path} new ({})", pct(after)),
        (Some(_), None) => format!("{path} removed"),
        (None, None) => path.into_owned(),
    }
}

fn changed_line(changed: &testplan_schema::coverage::ChangedLinesCoverage) -> String {
    let c = changed.lines;
    let mut line = format!(
        "Changed lines since {}: {} of {} covered ({})",
        inline(&changed.base),
        c.covered,
        c.total,
        percent(c)
    );
    if !changed.uncovered.is_empty() {
        let shown: Vec<String> = changed
            .uncovered
            .iter()
            .take(CHANGED_LINES_SHOWN)
            .map(|l| format!("{}:{}", inline(&l.file), l.line))
            .collect();
        let more = changed.uncovered.len().saturating_sub(CHANGED_LINES_SHOWN);
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        let _ = write!(line, "; not covered: {}{more}", shown.join(", "));
    }
    line
}

/// The Markdown coverage section (empty without coverage): the phases, the files (those
/// that changed most since the last run first, else the least covered first), the changed
/// lines and the failed gates.
pub fn markdown(report: &RunReport) -> String {
    let Some(coverage) = &report.coverage else { return String::new() };
    let mut out = String::new();
    let _ = writeln!(out, "### Coverage: {}\n", figures(&coverage.total));
    let _ = writeln!(out, "| Phase | Alone | Cumulative | Change |\n|:--|--:|--:|--:|");
    let mut before: Option<CoverageCounts> = None;
    for phase in &coverage.phases {
        let change = before.map_or_else(|| "–".to_owned(), |b| points(b, phase.cumulative.lines));
        let name = cell(&phase.name);
        let (own, cumulative) = (percent(phase.own.lines), percent(phase.cumulative.lines));
        let _ = writeln!(out, "| {name} | {own} | {cumulative} | {change} |");
        before = Some(phase.cumulative.lines);
    }
    out.push('\n');
    if let Some(delta) = &coverage.delta {
        let _ = writeln!(out, "{}\n", md_text(&delta_line(delta)));
    }
    files_table(coverage, &mut out);
    if let Some(changed) = &coverage.changed {
        let _ = writeln!(out, "{}\n", md_text(&changed_line(changed)));
    }
    for gate in &coverage.failed_gates {
        let _ = writeln!(out, "❌ Coverage gate failed: {}\n", md_text(gate));
    }
    out
}

fn files_table(coverage: &CoverageReport, out: &mut String) {
    let changed: Vec<&FileDelta> = coverage.delta.iter().flat_map(|d| &d.files).collect();
    let mut files: Vec<&testplan_schema::coverage::FileCoverage> = coverage.files.iter().collect();
    let rank = |path: &str| changed.iter().position(|d| d.path == path).unwrap_or(usize::MAX);
    let pct = |f: &testplan_schema::coverage::FileCoverage| f.figures.lines.percent().unwrap_or(100.0);
    files.sort_by(|a, b| {
        rank(&a.path).cmp(&rank(&b.path)).then(pct(a).total_cmp(&pct(b))).then(a.path.cmp(&b.path))
    });
    if files.is_empty() {
        return;
    }
    let _ = writeln!(out, "| File | Lines | Functions | Regions | Since last run |\n|:--|--:|--:|--:|--:|");
    for file in files.iter().take(MARKDOWN_FILES) {
        let f = &file.figures;
        let since =
            changed.iter().find(|d| d.path == file.path).map_or_else(String::new, |d| match d.before {
                Some(before) => points(before, f.lines),
                None => "new".to_owned(),
            });
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {since} |",
            cell(&file.path),
            percent(f.lines),
            percent(f.functions),
            percent(f.regions)
        );
    }
    if files.len() > MARKDOWN_FILES {
        let _ = writeln!(out, "\n{} more files.", files.len() - MARKDOWN_FILES);
    }
    out.push('\n');
}

/// A table cell: pipes and backticks escaped (the path sits in a code span), on one line.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('`', "'").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use testplan_schema::SourceLocation;
    use testplan_schema::coverage::{ChangedLinesCoverage, CoverageDelta, FileCoverage};

    fn c(covered: u64, total: u64) -> CoverageCounts {
        CoverageCounts { covered, total }
    }

    fn f(covered: u64, total: u64) -> CoverageFigures {
        CoverageFigures { lines: c(covered, total), functions: c(1, 2), regions: c(3, 4) }
    }

    fn phase(name: &str, own: (u64, u64), cumulative: (u64, u64)) -> PhaseCoverage {
        PhaseCoverage {
            name: name.into(),
            own: f(own.0, own.1),
            cumulative: f(cumulative.0, cumulative.1),
            lost_profiles: 0,
        }
    }

    fn report() -> RunReport {
        let mut report = RunReport::new("0.1.0", Vec::new(), 0.0);
        report.coverage = Some(CoverageReport {
            tools: "llvm-profdata-19 and llvm-cov-19".into(),
            phases: vec![
                phase("unit", (18, 41), (18, 41)),
                phase("integration", (11, 41), (29, 41)),
                phase("doc", (4, 41), (33, 41)),
            ],
            total: f(33, 41),
            files: vec![
                FileCoverage { path: "src/lib.rs".into(), figures: f(26, 32) },
                FileCoverage { path: "src/main.rs".into(), figures: f(7, 9) },
            ],
            delta: Some(CoverageDelta {
                before: c(34, 41),
                after: c(33, 41),
                files: vec![FileDelta {
                    path: "src/lib.rs".into(),
                    before: Some(c(27, 32)),
                    after: Some(c(26, 32)),
                }],
            }),
            changed: Some(ChangedLinesCoverage {
                base: "HEAD~1".into(),
                lines: c(1, 2),
                uncovered: vec![SourceLocation { file: "src/lib.rs".into(), line: 31 }],
            }),
            failed_gates: vec!["line coverage 80.49% is under the minimum 99%".into()],
            lost_profiles: 0,
        });
        report
    }

    #[test]
    fn percentages_and_changes() {
        assert_eq!(percent(c(33, 41)), "80.5%");
        assert_eq!(percent(c(0, 0)), "n/a");
        assert_eq!(points(c(18, 41), c(29, 41)), "+26.8");
        assert_eq!(points(c(34, 41), c(33, 41)), "−2.4");
        assert_eq!(points(c(1, 2), c(2, 4)), "±0.0");
    }

    #[test]
    fn phase_lines_show_own_and_cumulative() {
        let report = report();
        assert_eq!(
            phase_lines(&report, "unit"),
            ["lines 43.9% (18/41) · functions 50.0% (1/2) · regions 75.0% (3/4)"]
        );
        assert_eq!(
            phase_lines(&report, "doc"),
            [
                "unit+integration 70.7% · +doc → 80.5% (+9.8)",
                "doc alone: lines 9.8% (4/41) · functions 50.0% (1/2) · regions 75.0% (3/4)",
            ]
        );
        assert!(phase_lines(&report, "gpu").is_empty());
        assert!(phase_lines(&RunReport::new("0.1.0", Vec::new(), 0.0), "unit").is_empty());
    }

    #[test]
    fn end_lines_show_the_run_the_phases_the_changes_and_the_gates() {
        assert_eq!(
            end_lines(&report()).join("\n"),
            "Coverage: lines 80.5% (33/41) · functions 50.0% (1/2) · regions 75.0% (3/4) (llvm-profdata-19 and llvm-cov-19)
      unit        → 43.9%  (alone 43.9%)
      integration → 70.7% (+26.8)  (alone 26.8%)
      doc         → 80.5% (+9.8)  (alone 9.8%)
Coverage since last run: 82.9% → 80.5% (−2.4): src/lib.rs 84.4 → 81.2
Changed lines since HEAD~1: 1 of 2 covered (50.0%); not covered: src/lib.rs:31
Coverage gate failed: line coverage 80.49% is under the minimum 99%"
        );
    }

    #[test]
    fn a_saved_report_renders_each_phases_coverage_as_the_live_run_printed_it() {
        let mut report = report();
        for name in ["unit", "integration", "doc"] {
            report.phases.push(testplan_schema::PhaseReport {
                name: name.into(),
                status: testplan_schema::PhaseStatus::Passed,
                reason: None,
                duration_secs: 0.1,
                counts: testplan_schema::ReportCounts { total: 1, passed: 1, ..Default::default() },
                position: None,
                deselected_by_partition: 0,
            });
        }
        let text = crate::human::render_report(&report, crate::human::Style::default());
        assert_eq!(
            phase_block(&report, "integration"),
            "    Coverage:  unit 43.9% · +integration → 70.7% (+26.8)\n               integration alone: lines 26.8% \
             (11/41) · functions 50.0% (1/2) · regions 75.0% (3/4)\n"
        );
        for phase in ["unit", "integration", "doc"] {
            assert!(text.contains(&phase_block(&report, phase)), "{phase}:\n{text}");
        }
    }

    #[test]
    fn markdown_lists_phases_and_files_changed_first() {
        let md = markdown(&report());
        assert!(md.starts_with("### Coverage: lines 80.5% (33/41)"), "{md}");
        assert!(md.contains("| integration | 26.8% | 70.7% | +26.8 |"), "{md}");
        let lib = md.find("| `src/lib.rs` | 81.2% | 50.0% | 75.0% | −3.1 |").expect("lib row");
        let main = md.find("| `src/main.rs` | 77.8% |").expect("main row");
        assert!(lib < main, "the changed file first:\n{md}");
        assert!(
            md.contains("❌ Coverage gate failed: line coverage 80.49% is under the minimum 99%"),
            "{md}"
        );
    }
}
