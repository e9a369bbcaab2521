//! Snapshot tests of everything rendered from a synthetic run with every status: the live
//! human output (phase summaries, the end table, the final line), the re-rendered report,
//! the Markdown and the JUnit XML. Synthetic durations and sizes are fixed, so nothing needs
//! redacting here; the integration tests snapshot a real run with redactions.

use crate::human::{HeaderInfo, HumanReporter, Style, Verbosity, render_report};
use crate::json::{JsonReportBuilder, RunMeta};
use crate::session::{Baseline, RunReporter};
use crate::testing::{
    annotations, every_status_events, every_status_report, report_of, test_list, test_report,
};
use testplan_schema::ReportStatus;

fn live_output(baseline: Option<Baseline>) -> String {
    let list = test_list();
    let json = JsonReportBuilder::new(&list, vec!["cargo".to_owned()])
        .with_annotations(annotations())
        .with_meta(RunMeta { profile: Some("run".to_owned()), ..RunMeta::default() });
    let header = HeaderInfo { jobs_reason: "2 CPUs".to_owned(), filtered_out: 3, ..HeaderInfo::default() };
    let human = HumanReporter::new(&list, Verbosity::Normal, false, header);
    let mut out = Vec::new();
    {
        let bars = crate::progress::ProgressBars::new(false);
        let planned: std::collections::HashSet<_> =
            list.tests.iter().map(|t| (list.binaries[t.binary.0].id.as_str(), t.name.as_str())).collect();
        let mut reporter =
            RunReporter::new(json, human, bars, Box::new(&mut out)).with_baseline(baseline, move || planned);
        for event in every_status_events() {
            reporter.handle(&event);
        }
    }
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn human_output_of_a_run_with_every_status() {
    let text = live_output(None);
    assert!(text.ends_with("7 passed, 4 failed, 2 skipped\n"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn human_output_names_changes_against_the_baseline() {
    let mut broken_before = test_report("alpha", "tests::fails", ReportStatus::Passed, 0.03);
    broken_before.phase = Some("unit".to_owned());
    let mut gone = test_report("alpha", "tests::deleted", ReportStatus::Passed, 0.01);
    gone.phase = Some("unit".to_owned());
    let mut current: Vec<_> = every_status_report().tests;
    current.retain(|t| t.name != "tests::fails" && t.name != "tests::passes");
    current.push(broken_before);
    current.push(gone);
    let baseline = Baseline::new(report_of(current), "target/testplan/runs/run.json".to_owned());
    let text = live_output(Some(baseline));
    assert!(text.contains("1 added, 1 removed, 1 newly failing"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn saved_report_renders_like_the_live_run() {
    insta::assert_snapshot!(render_report(&every_status_report(), Style::default()));
}

#[test]
fn markdown_of_a_run_with_every_status() {
    insta::assert_snapshot!(crate::markdown::to_markdown(&every_status_report()));
}

#[test]
fn junit_of_a_run_with_every_status() {
    let xml = crate::junit::to_junit_string(&every_status_report()).expect("junit");
    insta::assert_snapshot!(xml);
}

#[test]
fn an_interrupted_run_says_so_in_every_output() {
    let passed = test_report("alpha", "tests::passes", ReportStatus::Passed, 0.1);
    let hung = test_report("alpha", "tests::hangs", ReportStatus::Interrupted, 3.0);
    let mut waiting = test_report("alpha", "tests::waits", ReportStatus::NotRun, 0.0);
    waiting.skip_reason = Some("interrupted".to_owned());
    let mut report = report_of(vec![passed, hung, waiting]);
    report.stopped = Some("interrupted".to_owned());
    let final_line = "1 passed, 0 failed, 0 skipped, 1 interrupted, 1 not run";

    let text = render_report(&report, Style::default());
    assert!(text.ends_with(&format!("{final_line}\n")), "{text}");
    assert!(
        text.contains("  INTERRUPTED alpha tests::hangs — interrupted (killed while running)\n"),
        "{text}"
    );

    let markdown = crate::markdown::to_markdown(&report);
    assert!(markdown.starts_with(&format!("## ⚠️ cargo-testplan: {final_line}\n")), "{markdown}");

    let xml = crate::junit::to_junit_string(&report).expect("junit");
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("parse back");
    let types: Vec<Option<&str>> = parsed.test_suites[0]
        .test_cases
        .iter()
        .map(|c| match &c.status {
            quick_junit::TestCaseStatus::Skipped { ty, .. } => ty.as_ref().map(|t| t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(types, [None, Some("interrupted"), Some("not-run")], "{xml}");
}
