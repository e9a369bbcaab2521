//! Custom harnesses built on libtest2-mimic and libtest-mimic (fixtures/mimics): every
//! trial is listed and run as a test of its own, and each (binary, test) ends exactly as
//! `cargo test` reports it — in a default run (libtest2-mimic's run-time `cx.ignore()`
//! is skipped, not passed) and under `--run-ignored all` (run with `--include-ignored`,
//! like `cargo test -- --include-ignored`, so an ignored trial that fails is failed).
//! A harness whose `--list` answer is not a listing runs as one test, with a note.

use std::collections::BTreeMap;

use crate::support::cargo_test::{CargoOutcome, CargoRun, TestKey, build_binary_map, run_cargo_test};
use crate::support::compare::{assert_no_problems, last_line};
use crate::support::fixture::{Fixture, run_output};
use crate::support::report::RunReport;

/// What cargo-testplan's report must say for a `cargo test` outcome.
fn report_word(outcome: &CargoOutcome) -> &'static str {
    match outcome {
        CargoOutcome::Ok => "passed",
        CargoOutcome::Failed | CargoOutcome::Exited(_) => "failed",
        CargoOutcome::Ignored(_) => "skipped",
        CargoOutcome::Crashed(_) => "crashed",
    }
}

/// Runs `cargo testplan run --no-fail-fast EXTRA` and `cargo test --no-fail-fast -- CARGO`,
/// and checks the (binary, test) → outcome maps are equal, the exit codes agree and the
/// summary line is `summary`. Returns cargo-testplan's stderr.
fn check_equal(fixture: &Fixture, extra: &[&str], cargo_args: &[&str], summary: &str, exit: i32) -> String {
    let map = build_binary_map(fixture);
    let cargo: CargoRun = run_cargo_test(fixture, &map, cargo_args);
    let report_path = fixture.scratch("out").join("report.json");
    let mut args = vec!["run", "--no-fail-fast", "--report-json", report_path.to_str().expect("utf-8")];
    args.extend_from_slice(extra);
    let out = run_output(&mut fixture.testplan(&args));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let outputs = [("cargo test", cargo.output.as_str()), ("stdout", &stdout), ("stderr", &stderr)];

    let want: BTreeMap<TestKey, &str> =
        cargo.results.iter().map(|(k, o)| (k.clone(), report_word(o))).collect();
    let report = RunReport::load(&report_path);
    let got: BTreeMap<TestKey, &str> =
        report.by_key().into_iter().map(|(k, t)| (k, t.status.as_str())).collect();
    let mut problems = Vec::new();
    if got != want {
        problems.push(format!("cargo-testplan {got:#?}\n  cargo test {want:#?}"));
    }
    if last_line(&stdout) != summary {
        problems.push(format!("last line of stdout is {:?}, expected {summary:?}", last_line(&stdout)));
    }
    let cargo_exit = if exit == 0 { 0 } else { 101 };
    if (out.status.code(), cargo.exit_code) != (Some(exit), Some(cargo_exit)) {
        problems.push(format!(
            "exit codes: cargo-testplan {:?} (expected {exit}), cargo test {:?} (expected {cargo_exit})",
            out.status.code(),
            cargo.exit_code
        ));
    }
    assert_no_problems(&format!("{} {args:?}", fixture.name()), &problems, &outputs);
    stderr.into_owned()
}

#[test]
fn mimic_harnesses_default_run_equals_plain_cargo_test() {
    let fixture = Fixture::copy("fixtures/mimics");
    let stderr = check_equal(&fixture, &[], &["--test-threads=1"], "3 passed, 0 failed, 4 skipped", 0);
    assert!(!stderr.contains("note:"), "both harnesses list: no note expected\n{stderr}");
}

#[test]
fn mimic_harnesses_run_ignored_all_equals_cargo_test_include_ignored() {
    let fixture = Fixture::copy("fixtures/mimics");
    let cargo_args = ["--test-threads=1", "--include-ignored"];
    check_equal(&fixture, &["--run-ignored", "all"], &cargo_args, "5 passed, 2 failed, 0 skipped", 100);
}

#[test]
fn a_harness_that_does_not_list_runs_as_one_test_with_a_note() {
    let fixture = Fixture::copy("fixtures/harnesses");
    let out = run_output(&mut fixture.testplan(&["list"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let notes: Vec<&str> = stderr.lines().filter(|line| line.starts_with("note:")).collect();
    assert_eq!(
        notes,
        ["note: `toolbox::opaque_harness` (harness = false): its `--list` output is not a test listing \
             (line 1: `[pass] input has nine words`); it runs as one test, as `cargo test` runs it"],
        "{stderr}"
    );
}
