//! Check 1 of the outputs issue, for text from tests: a test printing a longer code fence,
//! `</details>`, `<script>`, a window title (OSC ... BEL), a screen clear, colour and NUL
//! leaves the Markdown summary's structure intact (parsed with pulldown-cmark), the JUnit
//! XML valid and the terminal free of its escapes (`fixtures/hostile`); a flaky test's
//! failed attempt keeps its output in the JSON report, JUnit and Markdown
//! (`fixtures/memory`'s `flaky`).

use std::path::Path;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use quick_junit::{Report, TestCaseStatus};
use serde_json::Value;

use super::json_schema::{report_schema, validate};
use crate::support::fixture::{Fixture, run_output};

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The report entry of test `name`.
fn entry<'r>(report: &'r Value, name: &str) -> &'r Value {
    let tests = report["tests"].as_array().expect("tests");
    tests.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("no {name} in {report:#}"))
}

/// Raw HTML and the text of each code block of a Markdown document.
fn html_and_code_blocks(markdown: &str) -> (String, Vec<String>) {
    let mut html = String::new();
    let mut blocks = Vec::new();
    let mut inside: Option<String> = None;
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Html(h) | Event::InlineHtml(h) => html.push_str(&h),
            Event::Start(Tag::CodeBlock(_)) => inside = Some(String::new()),
            Event::Text(text) => inside.iter_mut().for_each(|b| b.push_str(&text)),
            Event::End(TagEnd::CodeBlock) => blocks.extend(inside.take()),
            _ => {}
        }
    }
    (html, blocks)
}

/// The escapes a terminal would act on: any ESC that does not start one of the reporter's
/// own colours, and BEL / NUL.
fn foreign_escapes(text: &str) -> Vec<String> {
    let ours = ["\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[1m", "\x1b[0m"];
    let mut found: Vec<String> = text
        .match_indices('\x1b')
        .filter(|(i, _)| !ours.iter().any(|o| text[*i..].starts_with(o)))
        .map(|(i, _)| text[i..].chars().take(12).collect())
        .collect();
    found.extend(text.matches(['\x07', '\0']).map(str::to_owned));
    found
}

/// What the failing test of `fixtures/hostile` printed, as every output must show it:
/// the escapes gone, the rest as text.
const SHOWN: &str = "hostile output begins\n````\n</details>\n<script>alert(1)</script>\n\
                     red bell\n# not a heading\nhostile output ends\n";

#[test]
fn hostile_test_text_keeps_every_output_intact() {
    let fixture = Fixture::copy("fixtures/hostile");
    let out = fixture.scratch("out");
    let (json, junit, markdown) = (out.join("report.json"), out.join("junit.xml"), out.join("summary.md"));
    let args = [
        "run",
        "--color",
        "always",
        "--report-json",
        path_arg(&json),
        "--junit",
        path_arg(&junit),
        "--markdown",
        path_arg(&markdown),
    ];
    let output = run_output(&mut fixture.testplan(&args));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(100), "{stdout}\n{stderr}");

    // The terminal: the output is shown, as text, with colour only from cargo-testplan.
    assert!(stdout.contains(SHOWN), "{stdout:?}");
    assert_eq!(foreign_escapes(&stdout), Vec::<String>::new(), "{stdout:?}");
    // stderr carries cargo's own (coloured) build lines, and nothing of the test's.
    assert!(
        !stderr.contains(['\x07', '\0']) && !stderr.contains("\x1b]") && !stderr.contains("\x1b[2J"),
        "{stderr:?}"
    );
    assert!(stdout.contains("1 passed, 1 failed, 1 skipped"), "{stdout}");

    // Markdown: our one <details> block, no script, the output whole in one code block.
    let md = read(&markdown);
    let (html, blocks) = html_and_code_blocks(&md);
    assert!(!html.contains("<script"), "only cargo-testplan's HTML:\n{html}\n---\n{md}");
    assert_eq!((html.matches("<details>").count(), html.matches("</details>").count()), (1, 1), "{md}");
    assert_eq!(blocks.len(), 1, "{md}");
    assert!(blocks[0].contains(SHOWN), "the output, escapes removed, in one code block:\n{md}");
    assert!(!md.contains(['\x1b', '\x07', '\0']), "{md:?}");
    assert!(md.contains("&lt;script&gt;alert(2)&lt;/script&gt; \\*and\\* \\`ticks\\` \\| pipes"), "{md}");

    // JUnit: only characters XML 1.0 allows; it parses back with the output as text.
    let xml = read(&junit);
    let bad: Vec<char> = xml.chars().filter(|&c| c < ' ' && !matches!(c, '\t' | '\n' | '\r')).collect();
    assert!(bad.is_empty(), "{bad:?}");
    let parsed = Report::deserialize_from_str(&xml).expect("JUnit parses back");
    let case =
        parsed.test_suites.iter().flat_map(|s| &s.test_cases).find(|c| c.name.as_str().ends_with("fails"));
    match case.map(|c| &c.status) {
        Some(TestCaseStatus::NonSuccess { description: Some(text), .. }) => {
            assert!(text.as_str().contains("<script>alert(1)</script>\nred bell"), "{xml}");
        }
        other => panic!("{other:?}\n{xml}"),
    }

    // The JSON report keeps the text (JSON escapes it; a libtest batch's parser has already
    // removed its escape sequences).
    let report: Value = serde_json::from_str(&read(&json)).expect("report is JSON");
    let raw = entry(&report, "tests::prints_hostile_text_and_fails")["output"].as_str().unwrap_or_default();
    assert!(raw.contains("</details>\n<script>alert(1)</script>\n"), "{raw:?}");
    assert_eq!(validate(&report_schema(), &report), Vec::<String>::new());
}

#[test]
fn a_flaky_tests_failed_attempt_is_in_all_three_reports() {
    let fixture = Fixture::copy("fixtures/memory");
    let state = fixture.scratch("flaky");
    let out = fixture.scratch("out");
    let (json, junit, markdown) = (out.join("report.json"), out.join("junit.xml"), out.join("summary.md"));
    let args = [
        "run",
        "--test",
        "flaky",
        "--retries",
        "2",
        "--report-json",
        path_arg(&json),
        "--junit",
        path_arg(&junit),
        "--markdown",
        path_arg(&markdown),
    ];
    let mut cmd = fixture.testplan(&args);
    cmd.env("MEMHOG_FLAKY_DIR", &state);
    let output = run_output(&mut cmd);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    // The first attempt's panic message, in its output.
    let said = "first attempt fails";
    let try_line = stdout.find("TRY 1").unwrap_or_else(|| panic!("{stdout}"));
    assert!(stdout[try_line..].contains(said), "the TRY line shows the attempt's output:\n{stdout}");

    let report: Value = serde_json::from_str(&read(&json)).expect("report is JSON");
    assert_eq!(validate(&report_schema(), &report), Vec::<String>::new(), "failed_attempts is documented");
    let test = entry(&report, "fails_once");
    assert_eq!((test["flaky"].as_bool(), test["attempts"].as_u64()), (Some(true), Some(2)), "{test:#}");
    let attempts = test["failed_attempts"].as_array().unwrap_or_else(|| panic!("{test:#}"));
    assert_eq!(attempts.len(), 1, "{test:#}");
    assert_eq!((attempts[0]["attempt"].as_u64(), attempts[0]["status"].as_str()), (Some(1), Some("failed")));
    assert!(attempts[0]["output"].as_str().is_some_and(|o| o.contains(said)), "{test:#}");

    let xml = read(&junit);
    let parsed = Report::deserialize_from_str(&xml).expect("JUnit parses back");
    let case =
        parsed.test_suites.iter().flat_map(|s| &s.test_cases).find(|c| c.name.as_str() == "fails_once");
    match case.map(|c| &c.status) {
        Some(TestCaseStatus::Success { flaky_runs }) if flaky_runs.len() == 1 => {
            let text = flaky_runs[0].description.as_ref().map(|d| d.as_str()).unwrap_or_default();
            assert!(text.contains(said), "{xml}");
        }
        other => panic!("{other:?}\n{xml}"),
    }
    assert!(xml.contains("<flakyFailure"), "{xml}");

    let md = read(&markdown);
    assert!(md.contains("attempt 1: failed (exit code 101)</summary>"), "{md}");
    let (_, blocks) = html_and_code_blocks(&md);
    assert!(blocks.iter().any(|b| b.contains(said)), "{md}");
}
