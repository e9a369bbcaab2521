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
    let live = live_output(None);
    let saved = render_report(&every_status_report(), Style::default());
    let (header, summary) = saved.split_once('\n').expect("a header line");
    let jobs = "; jobs 2 (2 CPUs)";
    assert!(
        header.ends_with(jobs) && live.lines().next().is_some_and(|l| l.ends_with(jobs)),
        "{header}\n{live}"
    );
    // Every line after the header is the live run's, in the live run's order (which adds
    // phase headers, result lines and output). One known difference: the report keeps a
    // memory-killed test's peak but not its limit.
    let (kept, live_detail) =
        ("memory limit exceeded (peak 1.1 GiB)", "memory limit exceeded (peak 1.1 GiB > limit 1.0 GiB)");
    let mut live_lines = live.lines();
    for line in summary.lines() {
        let want = if line.ends_with(kept) { line.replace(kept, live_detail) } else { line.to_owned() };
        assert!(
            live_lines.any(|l| l == want),
            "not in the live output (in order): {line}\n--- live ---\n{live}--- saved ---\n{saved}"
        );
    }
    insta::assert_snapshot!(saved);
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

/// What a hostile test prints: a longer fence than ours, the end of our `<details>`, a
/// script, a window title (OSC ... BEL), a screen clear, NUL, and Markdown line syntax.
const HOSTILE_OUTPUT: &str = "before\n````\n</details>\n<script>alert(1)</script>\n\
                              \x1b]0;title\x07\x1b[2J\0after ``` ``\n# not a heading\n";

fn hostile_report() -> testplan_schema::RunReport {
    let mut failed = test_report("alpha", "tests::`odd`|name</details>", ReportStatus::Failed, 0.1);
    failed.output = Some(HOSTILE_OUTPUT.to_owned());
    failed.exit_code = Some(101);
    let mut skipped = test_report("alpha", "tests::skipped", ReportStatus::Skipped, 0.0);
    skipped.skip_reason = Some("ignored: <script>x</script> *bold* `tick` | pipe\n# h".to_owned());
    let mut report = report_of(vec![failed, skipped]);
    for test in &mut report.tests {
        test.phase = Some("unit".to_owned());
    }
    report.phases = vec![testplan_schema::PhaseReport {
        name: "unit".to_owned(),
        status: testplan_schema::PhaseStatus::Failed,
        reason: None,
        duration_secs: 0.1,
        counts: report.counts.clone(),
        position: Some(0),
        deselected_by_partition: 0,
    }];
    report
}

#[test]
fn hostile_test_text_keeps_the_markdown_structure() {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let markdown = crate::markdown::to_markdown(&hostile_report());
    let events: Vec<Event<'_>> = Parser::new_ext(&markdown, Options::ENABLE_TABLES).collect();
    let html: String = events
        .iter()
        .filter_map(|e| match e {
            Event::Html(h) | Event::InlineHtml(h) => Some(h.to_string()),
            _ => None,
        })
        .collect();
    assert!(!html.contains("<script"), "only our own HTML:\n{html}\n---\n{markdown}");
    assert_eq!((html.matches("<details>").count(), html.matches("</details>").count()), (1, 1), "{html}");
    let mut blocks = Vec::new();
    let mut inside = None;
    for event in &events {
        match event {
            Event::Start(Tag::CodeBlock(_)) => inside = Some(String::new()),
            Event::Text(text) => inside.iter_mut().for_each(|b| b.push_str(text)),
            Event::End(TagEnd::CodeBlock) => blocks.extend(inside.take()),
            _ => {}
        }
    }
    assert_eq!(blocks.len(), 1, "{markdown}");
    let expected = "before\n````\n</details>\n<script>alert(1)</script>\nafter ``` ``\n# not a heading\n";
    assert_eq!(blocks[0], expected, "the whole output, escapes removed, in one block:\n{markdown}");
    let headings = events.iter().filter(|e| matches!(e, Event::Start(Tag::Heading { .. }))).count();
    assert_eq!(headings, 3, "the title, Failures, Phase unit:\n{markdown}");
    let code: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Code(c) => Some(c.to_string()),
            _ => None,
        })
        .collect();
    assert!(code.contains(&"alpha tests::`odd`|name</details>".to_owned()), "{code:?}\n{markdown}");
    assert!(
        markdown.contains("ignored: &lt;script&gt;x&lt;/script&gt; \\*bold\\* \\`tick\\` \\| pipe^J# h"),
        "{markdown}"
    );
    assert!(!markdown.contains(['\x1b', '\x07', '\0']), "{markdown:?}");
}

#[test]
fn hostile_test_text_reaches_the_terminal_without_its_escapes() {
    use testplan_runner::events::{Event, TestResult, TestStatus};
    use testplan_runner::model::TestIdx;
    use testplan_runner::output::CapturedOutput;

    let report = hostile_report();
    for color in [false, true] {
        let text = render_report(&report, Style { color });
        // Our own colours only: every ESC starts one of the reporter's SGR sequences.
        let ours = ["\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[1m", "\x1b[0m"];
        let theirs =
            text.match_indices('\x1b').filter(|(i, _)| !ours.iter().any(|o| text[*i..].starts_with(o)));
        assert_eq!(theirs.count(), 0, "{text:?}");
        assert!(text.contains("alpha tests::`odd`|name</details> — failed (exit code 101)"), "{text}");
    }
    // The live run prints the captured output of a failure.
    let list = test_list();
    let mut human = HumanReporter::new(&list, Verbosity::Normal, true, HeaderInfo::default());
    let output = CapturedOutput { head: HOSTILE_OUTPUT.as_bytes().to_vec(), ..CapturedOutput::default() };
    let result = TestResult {
        status: TestStatus::Failed { exit_code: Some(101) },
        duration: std::time::Duration::from_millis(5),
        peak_rss: None,
        output,
        leaked_processes: false,
        attempts: 1,
        cached: false,
    };
    human.handle(&Event::TestFinished { test: TestIdx(1), result: Box::new(result) }, &report);
    let text = human.take_output();
    assert!(text.contains("\n<script>alert(1)</script>\nafter ``` ``\n"), "{text:?}");
    assert!(
        !text.contains(['\x07', '\0']) && !text.contains("\x1b]") && !text.contains("\x1b[2J"),
        "{text:?}"
    );
}

#[test]
fn junit_stays_valid_xml_whatever_a_test_prints() {
    let xml = crate::junit::to_junit_string(&hostile_report()).expect("junit");
    // XML 1.0's Char production: tab, newline, carriage return and U+0020 up, less U+FFFE/F.
    let bad: Vec<char> = xml
        .chars()
        .filter(|&c| (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{fffe}' | '\u{ffff}'))
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("parse back");
    assert_eq!(parsed.test_suites[0].test_cases[0].name.as_str(), "tests::`odd`|name</details>");
}

/// A flaky test (failed, then passed on a retry): the failed attempt's output is in the
/// JSON report, the JUnit XML (`<flakyFailure>`) and the Markdown.
#[test]
fn a_flaky_tests_failed_attempt_is_in_every_report() {
    use std::time::Duration;
    use testplan_runner::events::{Event, Reschedule, RunStats, TestResult, TestStatus};
    use testplan_runner::model::TestIdx;
    use testplan_runner::output::CapturedOutput;

    let list = test_list();
    let mut builder = JsonReportBuilder::new(&list, vec!["cargo".to_owned()]).with_annotations(annotations());
    let test = TestIdx(0);
    let failed = TestStatus::Failed { exit_code: Some(101) };
    let output =
        CapturedOutput { head: b"first attempt: boom ```` </details>\n".to_vec(), ..Default::default() };
    let retry = Reschedule::Retry {
        attempt: 1,
        max_attempts: 3,
        status: failed,
        duration: Duration::from_millis(20),
        output,
    };
    let passed = TestResult {
        status: TestStatus::Passed,
        duration: Duration::from_millis(10),
        peak_rss: None,
        output: CapturedOutput::default(),
        leaked_processes: false,
        attempts: 2,
        cached: false,
    };
    let mut stats = RunStats { total: 1, ..RunStats::default() };
    stats.record(&TestStatus::Passed);
    let events = [
        Event::RunStarted { tests: 1, binaries: 1, jobs: 1 },
        Event::PhaseStarted { index: 0, name: "unit".to_owned(), tests: 1, jobs: 1 },
        Event::TestStarted { test },
        Event::TestRescheduled { test, reason: retry },
        Event::TestStarted { test },
        Event::TestFinished { test, result: Box::new(passed) },
        Event::PhaseFinished {
            index: 0,
            name: "unit".to_owned(),
            stats: stats.clone(),
            duration: Duration::from_millis(30),
            stopped: None,
        },
        Event::RunFinished { stats, duration: Duration::from_millis(30), stopped: None },
    ];
    for event in &events {
        builder.handle(event);
    }
    let report = builder.finish();

    let entry = &report.tests[0];
    assert!(entry.flaky && entry.output.is_none(), "{entry:?}");
    let attempt = &entry.failed_attempts[..];
    assert_eq!(attempt.len(), 1, "{entry:?}");
    assert_eq!(
        (attempt[0].attempt, attempt[0].status, attempt[0].exit_code),
        (1, ReportStatus::Failed, Some(101))
    );
    assert_eq!(attempt[0].output.as_deref(), Some("first attempt: boom ```` </details>\n"));
    let json = serde_json::to_string(&report).expect("json");
    let back: testplan_schema::RunReport = serde_json::from_str(&json).expect("read back");
    assert_eq!(back.tests[0].failed_attempts, entry.failed_attempts);

    let xml = crate::junit::to_junit_string(&report).expect("junit");
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("parse back");
    match &parsed.test_suites[0].test_cases[0].status {
        quick_junit::TestCaseStatus::Success { flaky_runs } => {
            assert_eq!(flaky_runs.len(), 1, "{xml}");
            let description = flaky_runs[0].description.as_ref().map(|d| d.as_str().trim_end());
            assert_eq!(description, Some("first attempt: boom ```` </details>"), "{xml}");
        }
        other => panic!("{other:?}\n{xml}"),
    }
    assert!(xml.contains("<flakyFailure"), "{xml}");

    let markdown = crate::markdown::to_markdown(&report);
    assert!(markdown.contains("**Flaky:** `alpha tests::passes` (passed on attempt 2)"), "{markdown}");
    assert!(
        markdown.contains("attempt 1: failed (exit code 101)</summary>\n\n`````text\nfirst attempt: boom ```` </details>\n`````"),
        "{markdown}"
    );
}

/// A test that failed every attempt: the last is its failure, the earlier ones are
/// `<rerunFailure>` in JUnit and collapsed blocks under its failure in Markdown.
#[test]
fn a_test_failing_after_retries_keeps_its_earlier_attempts() {
    let mut test = test_report("alpha", "tests::always_fails", ReportStatus::Failed, 0.2);
    test.exit_code = Some(101);
    test.attempts = 2;
    test.output = Some("second attempt: boom\n".to_owned());
    test.failed_attempts = vec![testplan_schema::AttemptReport {
        attempt: 1,
        status: ReportStatus::Crashed,
        exit_code: None,
        signal: Some("SIGSEGV".to_owned()),
        duration_secs: 0.1,
        output: Some("first attempt: segfault\n".to_owned()),
    }];
    let report = report_of(vec![test]);

    let xml = crate::junit::to_junit_string(&report).expect("junit");
    assert!(
        xml.contains("<rerunError time=\"0.100\" message=\"attempt 1: crashed (SIGSEGV)\" type=\"crashed\">"),
        "{xml}"
    );
    assert!(xml.contains("first attempt: segfault"), "{xml}");
    let parsed = quick_junit::Report::deserialize_from_str(&xml).expect("parse back");
    match &parsed.test_suites[0].test_cases[0].status {
        quick_junit::TestCaseStatus::NonSuccess { reruns, .. } => assert_eq!(reruns.runs.len(), 1, "{xml}"),
        other => panic!("{other:?}"),
    }

    let markdown = crate::markdown::to_markdown(&report);
    let last = markdown.find("second attempt: boom").expect("the last attempt's output");
    let first = markdown.find("first attempt: segfault").expect("the first attempt's output");
    assert!(last < first, "{markdown}");
    assert!(markdown.contains("— attempt 1: crashed (SIGSEGV)</summary>"), "{markdown}");
}
