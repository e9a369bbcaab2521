//! Memory-safe execution on `fixtures/memory` (checks 2-4 of the memory issue, and the
//! history): a test allocating without bound is killed at its memory limit while the
//! others pass; reported peak RSS matches what tests touch; a hung test with a sleeping
//! grandchild is killed at its timeout with nothing left behind; measured peaks become the
//! next run's estimates. The 2 GiB cgroup checks are in `memory_cgroup`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::support::fixture::{Fixture, run_merged};
use crate::support::procs::{survivors_after, unique_marker};

const MIB: f64 = (1u64 << 20) as f64;

fn report_path(fixture: &Fixture) -> PathBuf {
    fixture.scratch("out").join("report.json")
}

/// Runs `cargo testplan ARGS --report-json PATH`: exit code, merged output, report.
fn run(fixture: &Fixture, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, Value) {
    let path = report_path(fixture);
    let path_arg = path.to_str().expect("utf-8 temp path");
    let mut cmd = fixture.testplan(args);
    cmd.args(["--report-json", path_arg]);
    for (key, value) in env {
        cmd.env(key, value);
    }
    let (code, text) = run_merged(&mut cmd);
    (code, text, load(&path))
}

fn load(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("no report at {}: {e}", path.display()));
    serde_json::from_str(&text).expect("report is JSON")
}

/// The report entry of test `name`.
fn test<'r>(report: &'r Value, name: &str) -> &'r Value {
    let tests = report["tests"].as_array().expect("tests");
    tests.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("no {name} in {report:#}"))
}

#[test]
fn a_test_allocating_without_bound_is_killed_at_its_limit_and_the_others_pass() {
    let fixture = Fixture::copy("fixtures/memory");
    let args = ["run", "--no-fail-fast", "--test", "grow", "--memory-limit", "512MiB", "-j", "3"];
    let (code, text, report) = run(&fixture, &args, &[]);
    assert_eq!(code, Some(100), "{text}");
    let grown = test(&report, "grows_without_bound");
    assert_eq!(grown["status"], "memory-exceeded", "{text}");
    let peak = grown["peak_rss_bytes"].as_f64().expect("peak measured");
    // At the limit where a cgroup stopped it (containment), past it where sampling did.
    assert!(peak >= 512.0 * MIB, "peak {peak} is not at or past the limit\n{text}");
    assert!(peak < 4096.0 * MIB, "killed long before its own 6 GiB stop: {peak}\n{text}");
    assert!(text.contains("memory limit exceeded (peak "), "{text}");
    assert!(text.contains("> limit 512.0 MiB)"), "{text}");
    for name in ["small_a", "small_b"] {
        assert_eq!(test(&report, name)["status"], "passed", "{text}");
    }
    assert_eq!(text.lines().last(), Some("2 passed, 1 failed, 0 skipped"), "{text}");
}

#[test]
fn reported_peak_rss_is_within_ten_percent_of_what_tests_touch() {
    let fixture = Fixture::copy("fixtures/memory");
    let (code, text, report) =
        run(&fixture, &["run", "--test", "sizes", "--isolation", "process", "-v"], &[]);
    assert_eq!(code, Some(0), "{text}");
    for (name, mib) in [("touches_100_mib", 100.0), ("touches_200_mib", 200.0), ("touches_400_mib", 400.0)] {
        let peak = test(&report, name)["peak_rss_bytes"].as_f64().expect("peak measured") / MIB;
        let error = (peak - mib).abs() / mib;
        eprintln!("{name}: peak {peak:.1} MiB, {:.1}% off", error * 100.0);
        assert!(error < 0.10, "{name}: peak {peak:.1} MiB is not within 10% of {mib} MiB\n{text}");
    }
}

#[test]
fn a_hung_test_with_a_sleeping_grandchild_is_killed_at_its_timeout_leaving_nothing() {
    let fixture = Fixture::copy("fixtures/memory");
    let marker = unique_marker("1000.");
    let args = ["run", "--no-fail-fast", "--test", "hang", "--timeout", "2s"];
    let (code, text, report) = run(&fixture, &args, &[("MEMHOG_SLEEP_SECONDS", &marker)]);
    let survivors = survivors_after(&marker, Duration::from_secs(2));
    assert!(survivors.is_empty(), "processes of the run left behind: {survivors:#?}\n{text}");
    assert_eq!(code, Some(100), "{text}");
    assert_eq!(test(&report, "hang_with_sleeping_grandchild")["status"], "timed-out", "{text}");
    let duration =
        test(&report, "hang_with_sleeping_grandchild")["duration_secs"].as_f64().expect("duration");
    assert!((2.0..10.0).contains(&duration), "killed at its timeout, not {duration}s\n{text}");
    assert_eq!(test(&report, "quick")["status"], "passed", "{text}");
}

#[test]
fn measured_peaks_become_the_next_runs_estimates() {
    let fixture = Fixture::copy("fixtures/memory");
    // A target dir of its own: the history must start empty.
    let target = fixture.scratch("target");
    let history = target.join("testplan/history.json");
    let with_target = |args: &[&str]| {
        let mut cmd = fixture.testplan(args);
        cmd.env("CARGO_TARGET_DIR", &target);
        run_merged(&mut cmd)
    };
    // Each test's own peak needs a process of its own (a batch's peak is the batch's).
    let (code, first) = with_target(&["run", "--test", "sizes", "--isolation", "process"]);
    assert_eq!(code, Some(0), "{first}");
    assert!(first.contains(" usable / 1 GiB per test)"), "no history: the default estimate\n{first}");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&history).expect("history written"))
        .expect("history is JSON");
    let peaks = &saved["binaries"]["memhog::sizes"]["touches_200_mib"]["peaks"];
    let peak = peaks[0].as_f64().expect("a peak") / MIB;
    assert!((190.0..230.0).contains(&peak), "{saved:#}");

    let (code, second) = with_target(&["run", "--test", "sizes", "--isolation", "process"]);
    assert_eq!(code, Some(0), "{second}");
    // The median test (200 MiB): 200 × 1.25 + 64 ≈ 314-320 MiB per test.
    let per_test = second
        .lines()
        .find_map(|l| l.split(" usable / ").nth(1))
        .and_then(|rest| rest.split(" per test").next())
        .unwrap_or_else(|| panic!("no per-test estimate in the header:\n{second}"));
    assert!(per_test.ends_with("MiB") && per_test.starts_with('3'), "estimate {per_test}\n{second}");
}

#[test]
fn a_test_passing_on_a_retry_is_reported_flaky() {
    let fixture = Fixture::copy("fixtures/memory");
    let state = fixture.scratch("flaky");
    let state = state.to_str().expect("utf-8 temp path");
    let args = ["run", "--test", "flaky", "--retries", "2"];
    let (code, text, report) = run(&fixture, &args, &[("MEMHOG_FLAKY_DIR", state)]);
    assert_eq!(code, Some(0), "{text}");
    let test = test(&report, "fails_once");
    assert_eq!((test["status"].as_str(), test["attempts"].as_u64()), (Some("passed"), Some(2)), "{text}");
    assert_eq!(test["flaky"], true, "{text}");
    assert!(text.contains("FLAKY"), "{text}");
    assert_eq!(text.lines().last(), Some("1 passed, 0 failed, 0 skipped"), "{text}");
}
