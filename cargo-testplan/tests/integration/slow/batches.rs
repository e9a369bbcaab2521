//! Batch mode on the fixtures (check 5 of the performance issue): with `--isolation batch`
//! every libtest test that needs no process of its own shares a process with its binary's
//! other tests, and results still equal `cargo test`'s; a crash, an abort or a hang inside a
//! batch lands on the test that caused it alone; retries and fail-fast keep working.
//!
//! Batch members carry no peak RSS of their own (RSS is per process), which is how these
//! tests tell a test that ran in a batch from one that ran (or ran again) alone.

use serde_json::Value;

use crate::support::cargo_test::{build_binary_map, run_cargo_test};
use crate::support::compare::{
    assert_no_problems, cargo_vs_expected, expected_exit_code, expected_summary_line, last_line,
    report_vs_cargo, report_vs_expected,
};
use crate::support::expected::ExpectedFile;
use crate::support::fixture::{Fixture, run_merged, run_output};
use crate::support::procs::{survivors_after, unique_marker};
use crate::support::report::RunReport;

/// Runs `cargo testplan ARGS --report-json PATH`: exit code, merged output, report.
fn run(fixture: &Fixture, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, Value) {
    let path = fixture.scratch("out").join("report.json");
    let mut cmd = fixture.testplan(args);
    cmd.args(["--report-json", path.to_str().expect("utf-8 temp path")]);
    cmd.envs(env.iter().copied());
    let (code, text) = run_merged(&mut cmd);
    let report = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("no report: {e}\n{text}"));
    (code, text, serde_json::from_str(&report).expect("report is JSON"))
}

/// The report entry of `binary` `name`.
fn test<'r>(report: &'r Value, binary: &str, name: &str) -> &'r Value {
    let tests = report["tests"].as_array().expect("tests");
    tests
        .iter()
        .find(|t| t["binary_id"] == binary && t["name"] == name)
        .unwrap_or_else(|| panic!("no {binary} {name} in {report:#}"))
}

fn status(report: &Value, binary: &str, name: &str) -> String {
    test(report, binary, name)["status"].as_str().unwrap_or_default().to_owned()
}

/// Ran in a batch: no peak RSS of its own.
fn batched(report: &Value, binary: &str, name: &str) -> bool {
    test(report, binary, name)["peak_rss_bytes"].is_null()
}

/// The equality check of `slow::equality`, with `--isolation batch`.
fn check_equal_in_batch_mode(rel: &str) {
    let fixture = Fixture::copy(rel);
    let expected = ExpectedFile::load(fixture.root());
    let map = build_binary_map(&fixture);
    let cargo = run_cargo_test(&fixture, &map, &expected.cargo_test_args(true));
    let report_path = fixture.scratch("out").join("report.json");
    let timeout = if expected.cargo_test_skip.is_empty() { "60s" } else { "5s" };
    let args = [
        "run",
        "--isolation",
        "batch",
        "--run-ignored",
        "all",
        "--gpu",
        "yes",
        "--no-fail-fast",
        "--timeout",
        timeout,
        "--report-json",
        report_path.to_str().expect("utf-8 temp path"),
    ];
    let out = run_output(&mut fixture.testplan(&args));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let outputs = [("cargo test", cargo.output.as_str()), ("stdout", &stdout), ("stderr", &stderr)];
    assert_eq!(out.status.code(), Some(expected_exit_code(&expected)), "{rel}\n{stdout}\n{stderr}");
    let report = RunReport::load(&report_path);
    let mut problems = cargo_vs_expected(&expected, &cargo);
    problems.extend(report_vs_expected(&expected, &report));
    problems.extend(report_vs_cargo(&expected, &cargo, &report));
    if last_line(&stdout) != expected_summary_line(&expected) {
        problems.push(format!("last line of stdout is {:?}", last_line(&stdout)));
    }
    assert_no_problems(
        &format!("{rel}: cargo test vs cargo-testplan --isolation batch"),
        &problems,
        &outputs,
    );
}

#[test]
fn batch_mode_results_equal_cargo_test_on_showcase() {
    check_equal_in_batch_mode("examples/showcase");
}

#[test]
fn batch_mode_results_equal_cargo_test_on_faults() {
    check_equal_in_batch_mode("fixtures/faults");
}

#[test]
fn batch_mode_results_equal_cargo_test_on_harnesses() {
    check_equal_in_batch_mode("fixtures/harnesses");
}

/// The default plan batches the unit phase: the segfaulting unit test crashes alone with
/// its signal, and every other unit test of the binary has its own result.
#[test]
fn a_segfault_in_the_batched_unit_phase_is_attributed_to_that_test_alone() {
    let fixture = Fixture::copy("fixtures/faults");
    let (code, text, report) = run(&fixture, &["unit", "--no-fail-fast"], &[]);
    assert_eq!(code, Some(100), "{text}");
    let crashed = test(&report, "faults", "tests::zz_segfaults");
    assert_eq!((crashed["status"].as_str(), crashed["signal"].as_str()), (Some("crashed"), Some("SIGSEGV")));
    assert!(!batched(&report, "faults", "tests::zz_segfaults"), "re-run alone:\n{text}");
    let expected = [
        ("tests::fails_assertion", "failed"),
        ("tests::panics_explicitly", "failed"),
        ("tests::passes", "passed"),
        ("tests::prints_20mb_then_fails", "failed"),
        ("tests::prints_a_lot_and_passes", "passed"),
        ("tests::reads_file_relative_to_package_dir", "passed"),
        ("tests::should_panic_and_does", "passed"),
        ("tests::should_panic_but_does_not", "failed"),
    ];
    for (name, want) in expected {
        assert_eq!(status(&report, "faults", name), want, "{name}\n{text}");
    }
    assert!(batched(&report, "faults", "tests::passes"), "the unit phase batches:\n{text}");
    let failure = test(&report, "faults", "tests::fails_assertion");
    assert!(
        failure["output"].as_str().is_some_and(|o| o.contains("deliberately wrong expectation")),
        "a batch member's failure output is its own: {failure:#}"
    );
}

/// `--isolation batch` batches the integration tests too: the abort and the exit are put on
/// their tests, hung tests time out alone, the others pass, and nothing is left running.
#[test]
fn aborts_exits_and_hangs_in_batches_land_on_their_tests() {
    let fixture = Fixture::copy("fixtures/faults");
    let marker = unique_marker("1000.");
    let args = ["run", "--isolation", "batch", "--no-fail-fast", "--timeout", "3s", "--phase", "integration"];
    let (code, text, report) = run(&fixture, &args, &[("FAULTS_SLEEP_SECONDS", &marker)]);
    let survivors = survivors_after(&marker, std::time::Duration::from_secs(2));
    assert!(survivors.is_empty(), "processes left behind: {survivors:#?}\n{text}");
    assert_eq!(code, Some(100), "{text}");
    assert_eq!(test(&report, "faults::abort", "zz_aborts")["signal"], "SIGABRT", "{text}");
    let exit = test(&report, "faults::process_exit", "zz_exits_with_code_3");
    assert_eq!((exit["status"].as_str(), exit["exit_code"].as_i64()), (Some("failed"), Some(3)), "{text}");
    for name in ["hang_forever", "hang_child_never_exits"] {
        assert_eq!(status(&report, "faults::hang", name), "timed-out", "{name}\n{text}");
    }
    for (binary, name) in [
        ("faults::abort", "passes_before_the_abort"),
        ("faults::process_exit", "passes_before_the_exit"),
        ("faults::hang", "finishes_quickly"),
    ] {
        assert_eq!(status(&report, binary, name), "passed", "{name}\n{text}");
        assert!(batched(&report, binary, name), "{name} ran in a batch:\n{text}");
    }
}

#[test]
fn a_flaky_test_in_a_batch_passes_on_a_retry() {
    let fixture = Fixture::copy("fixtures/memory");
    let state = fixture.scratch("flaky");
    let dir = state.to_str().expect("utf-8 temp path");
    let args = ["run", "--isolation", "batch", "--test", "flaky", "--retries", "2"];
    let (code, text, report) = run(&fixture, &args, &[("MEMHOG_FLAKY_DIR", dir)]);
    assert_eq!(code, Some(0), "{text}");
    let flaky = test(&report, "memhog::flaky", "fails_once");
    assert_eq!((flaky["status"].as_str(), flaky["attempts"].as_u64()), (Some("passed"), Some(2)), "{text}");
    assert_eq!(flaky["flaky"], true, "{text}");
}

/// Fail-fast (the default) in a batched phase: the failures are reported with their
/// output, the later phases do not run. (The segfaulting unit test is left out: tests are
/// dealt to chunks in turn, so it may share a batch with the failing one and end the run
/// before that one's output is recovered.)
#[test]
fn fail_fast_in_a_batched_phase_stops_the_later_phases() {
    let fixture = Fixture::copy("fixtures/faults");
    let (code, text, report) = run(&fixture, &["run", "-j", "1", "-k", "not segfaults"], &[]);
    assert_eq!(code, Some(100), "{text}");
    assert_eq!(report["stopped"], "fail-fast", "{text}");
    assert!(status(&report, "faults", "tests::fails_assertion") == "failed", "{text}");
    for (binary, name) in [("faults::abort", "zz_aborts"), ("faults::doc", "src/lib.rs - (line 7)")] {
        assert_eq!(status(&report, binary, name), "not-run", "{name}\n{text}");
    }
}

/// Custom harnesses that list like libtest (libtest-mimic, libtest2-mimic) share a process
/// when the batch is their whole binary (one run with `--test-threads 1`): the same
/// outcomes as `cargo test`, run-time ignores included.
#[test]
fn batch_mode_results_equal_cargo_test_on_mimics() {
    check_equal_in_batch_mode("fixtures/mimics");
}
