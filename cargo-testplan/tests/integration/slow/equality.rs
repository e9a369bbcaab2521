//! Check 1 of the walking-skeleton issue: `cargo testplan run --run-ignored all
//! --no-fail-fast` executes the same (binary, test) pairs as `cargo test --no-fail-fast --
//! --include-ignored`, doctests included, with corresponding outcomes — and both agree with
//! the fixture's expected.toml.
//!
//! The `cargo test` side skips tests that never end (expected.toml's `cargo_test_skip`);
//! cargo-testplan runs them too and must report them timed out (`--timeout 5s` for such a
//! fixture; 60 s for the others, where nothing should come near it).

use crate::support::cargo_test::{build_binary_map, run_cargo_test};
use crate::support::compare::{
    assert_no_problems, cargo_vs_expected, expected_exit_code, expected_summary_line, last_line,
    report_vs_cargo, report_vs_expected,
};
use crate::support::expected::ExpectedFile;
use crate::support::fixture::{Fixture, run_output};
use crate::support::report::RunReport;

fn check(rel: &str) {
    let fixture = Fixture::copy(rel);
    let expected = ExpectedFile::load(fixture.root());
    let map = build_binary_map(&fixture);
    let cargo = run_cargo_test(&fixture, &map, &expected.cargo_test_args(true));

    let report_path = fixture.scratch("out").join("report.json");
    let report_arg = report_path.to_str().expect("utf-8 temp path");
    // Tests that hang must end quickly; the others get room for a loaded CI machine.
    let timeout = if expected.cargo_test_skip.is_empty() { "60s" } else { "5s" };
    let args = [
        "run",
        "--run-ignored",
        "all",
        "--gpu",
        "yes",
        "--no-fail-fast",
        "--timeout",
        timeout,
        "--report-json",
        report_arg,
    ];
    let out = run_output(&mut fixture.testplan(&args));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let outputs = [
        ("cargo test", cargo.output.as_str()),
        ("cargo-testplan stdout", &stdout),
        ("cargo-testplan stderr", &stderr),
    ];
    assert_eq!(
        out.status.code(),
        Some(expected_exit_code(&expected)),
        "{rel}: cargo-testplan exit code\n{stdout}\n{stderr}"
    );
    let report = RunReport::load(&report_path);

    let mut problems = cargo_vs_expected(&expected, &cargo);
    problems.extend(report_vs_expected(&expected, &report));
    problems.extend(report_vs_cargo(&expected, &cargo, &report));
    let summary = expected_summary_line(&expected);
    if last_line(&stdout) != summary {
        problems.push(format!("last line of stdout is {:?}, expected {summary:?}", last_line(&stdout)));
    }
    assert_no_problems(&format!("{rel}: cargo test vs cargo-testplan"), &problems, &outputs);
}

#[test]
fn showcase_same_tests_and_outcomes_as_cargo_test() {
    check("examples/showcase");
}

#[test]
fn faults_same_tests_and_outcomes_as_cargo_test() {
    check("fixtures/faults");
}

#[test]
fn harnesses_same_tests_and_outcomes_as_cargo_test() {
    check("fixtures/harnesses");
}

#[test]
fn mimics_same_tests_and_outcomes_as_cargo_test() {
    check("fixtures/mimics");
}

#[test]
fn unify_same_tests_and_outcomes_as_cargo_test() {
    check("fixtures/unify");
}

/// The default command on a workspace whose doctests need a feature another member turns
/// on: the same (binary, test) → outcome as plain `cargo test --workspace`, and every
/// library compiled once (a doctest run of one package alone would unify fewer features
/// and leave a second `libunify_core-*.rlib` behind).
#[test]
fn unify_default_run_equals_cargo_test_and_compiles_each_library_once() {
    let fixture = Fixture::copy("fixtures/unify");
    let expected = ExpectedFile::load(fixture.root());
    let map = build_binary_map(&fixture);
    let cargo = run_cargo_test(&fixture, &map, &expected.cargo_test_args(false));
    let report_path = fixture.scratch("out").join("report.json");
    let report_arg = report_path.to_str().expect("utf-8 temp path");
    let out = run_output(&mut fixture.testplan(&["run", "--workspace", "--report-json", report_arg]));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let outputs = [("cargo test", cargo.output.as_str()), ("stdout", &stdout), ("stderr", &stderr)];
    let mut problems = report_vs_cargo(&expected, &cargo, &RunReport::load(&report_path));
    if out.status.code() != Some(0) {
        problems.push(format!("cargo-testplan exited with {:?}, cargo test passed", out.status.code()));
    }
    let deps = fixture.target_dir().join("debug").join("deps");
    let rlibs: Vec<String> = std::fs::read_dir(&deps)
        .expect("deps dir")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("libunify_core-") && name.ends_with(".rlib"))
        .collect();
    if rlibs.len() != 1 {
        problems.push(format!("unify-core compiled {} times: {rlibs:?}", rlibs.len()));
    }
    assert_no_problems("fixtures/unify: default run vs cargo test", &problems, &outputs);
}

/// `--show-skipped` (pytest's `-rs`) names each skipped test and its reason at the end.
#[test]
fn show_skipped_names_the_skipped_tests() {
    let fixture = Fixture::copy("fixtures/unify");
    let out = run_output(&mut fixture.testplan(&["run", "--workspace", "--show-skipped"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = "  SKIPPED unify-legacy::doc crates/legacy/src/lib.rs - ignored_example (line 15) — ignored";
    assert!(stdout.lines().any(|l| l == line), "{stdout}");
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let plain = run_output(&mut fixture.testplan(&["run", "--workspace"]));
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("SKIPPED"), "only when asked");
}
