//! Check 1 of the phase-summaries issue, on a real run of `fixtures/faults` with every
//! status: the human summaries and the Markdown (snapshots, redacted), the JSON report
//! (valid against docs/report-schema.json), the JUnit XML (parses back with the run's
//! counts), and `cargo testplan report` re-rendering the saved report.
//!
//! A `testplan.toml` written into the copy sends one test to the gpu phase (skipped here:
//! no GPU) and marks a quick test slow (the time-budget audit suggests unmarking it).

use std::path::Path;

use quick_junit::{Report, TestCaseStatus};
use serde_json::Value;

use super::json_schema::{report_schema, validate};
use super::redact::redact;
use crate::support::fixture::{Fixture, run_output};

const CONFIG: &str = r#"
[[markers.requires-gpu.rules]]
name = "^finishes_quickly$"

[[markers.slow.rules]]
name = "^passes_before_the_exit$"
"#;

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

#[test]
fn every_status_run_renders_summaries_reports_and_junit() {
    let fixture = Fixture::copy("fixtures/faults");
    std::fs::write(fixture.root().join("testplan.toml"), CONFIG).expect("write testplan.toml");
    let out = fixture.scratch("out");
    let (json, junit, markdown) = (out.join("report.json"), out.join("junit.xml"), out.join("summary.md"));
    let args = [
        "run",
        // One process per test: in a batch a trivial test's duration can measure 0 (batch
        // times are 1 ms precise) and drop out of the "Slowest" list, so the snapshot would
        // depend on timing. Batches are covered by `slow::batches`.
        "--isolation",
        "process",
        "--no-fail-fast",
        "--timeout",
        "3s",
        "-j",
        "1",
        "--no-progress",
        "--no-baseline",
        "--skip",
        "prints_",
        "--report-json",
        path_arg(&json),
        "--junit",
        path_arg(&junit),
        "--markdown",
        path_arg(&markdown),
    ];
    let mut cmd = fixture.testplan(&args);
    // Captured output must not depend on the caller's environment.
    cmd.env("RUST_BACKTRACE", "0");
    let ran = run_output(&mut cmd);
    let stdout = String::from_utf8_lossy(&ran.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&ran.stderr);
    assert_eq!(ran.status.code(), Some(100), "{stdout}\n{stderr}");
    insta::assert_snapshot!("faults_human", redact(&stdout, fixture.root()));

    let md = std::fs::read_to_string(&markdown).expect("markdown written");
    insta::assert_snapshot!("faults_markdown", redact(&md, fixture.root()));

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).expect("report")).expect("json");
    let problems = validate(&report_schema(), &report);
    assert!(
        problems.is_empty(),
        "the report does not match docs/report-schema.json:\n{}",
        problems.join("\n")
    );
    let statuses: Vec<&str> =
        report["tests"].as_array().expect("tests").iter().filter_map(|t| t["status"].as_str()).collect();
    for status in ["passed", "failed", "crashed", "timed-out", "skipped"] {
        assert!(statuses.contains(&status), "no {status} test in {statuses:?}");
    }

    check_junit(&std::fs::read_to_string(&junit).expect("junit written"), &report["counts"]);
    check_rerender(&fixture, &json, &stdout);
}

/// The JUnit file parses back with as many tests, failures and skips as the run counted.
fn check_junit(xml: &str, counts: &Value) {
    let junit =
        Report::deserialize_from_str(xml).unwrap_or_else(|e| panic!("JUnit does not parse: {e}\n{xml}"));
    let cases: Vec<_> = junit.test_suites.iter().flat_map(|s| &s.test_cases).collect();
    let count = |f: fn(&TestCaseStatus) -> bool| cases.iter().filter(|c| f(&c.status)).count() as u64;
    let failing = count(|s| matches!(s, TestCaseStatus::NonSuccess { .. }));
    let skipped = count(|s| matches!(s, TestCaseStatus::Skipped { .. }));
    let n = |key: &str| counts[key].as_u64().expect("count");
    assert_eq!(
        (cases.len() as u64, failing, skipped),
        (n("total"), n("failed"), n("skipped") + n("not_run")),
        "JUnit counts differ from the run's {counts}"
    );
    let names: Vec<&str> = junit.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert!(
        names.contains(&"unit: faults (lib)") && names.contains(&"gpu: faults::hang (test)"),
        "{names:?}"
    );
}

/// `cargo testplan report FILE` prints the run's table of phases and final line again.
fn check_rerender(fixture: &Fixture, json: &Path, live: &str) {
    let again = run_output(&mut fixture.testplan(&["report", path_arg(json), "--format", "human"]));
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let text = String::from_utf8_lossy(&again.stdout);
    let table: Vec<&str> =
        live.lines().skip_while(|l| !l.trim_start().starts_with("Summary")).skip(1).take(6).collect();
    for line in table.iter().chain(live.lines().last().iter()) {
        assert!(text.lines().any(|l| l == *line), "`report` lacks the live line {line:?}:\n{text}");
    }
}

/// Check 2 of the daily-loop issue: a one-test run prints at most 8 lines of its own (no
/// empty phases, no "no changes" line on the second run, "1 test" not "1 tests").
#[test]
fn a_one_test_run_is_quiet() {
    let fixture = Fixture::copy("fixtures/faults");
    // A selection of its own (the key covers the filters), unique per run of the suite: the
    // second run compares with the first and nothing else.
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let own = format!("zz_quiet_{}_{nanos}", std::process::id());
    let args = ["run", "--no-progress", "-j", "1", "--exact", "tests::passes", "--skip", &own];
    let run = || {
        let out = run_output(&mut fixture.testplan(&args));
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = run();
    let second = run();
    assert!(!second.contains("Changes"), "nothing changed, nothing said:\n{second}");
    assert!(second.lines().count() <= 8, "{second}");
    assert_eq!(redact(&first, fixture.root()), redact(&second, fixture.root()));
    insta::assert_snapshot!("one_test_run", redact(&second, fixture.root()));
}
