//! Issue 12, containment: a cgroup per test where the machine allows one
//! (docs/memory.md#containment). Tests that need a writable cgroup v1 memory controller skip
//! with a printed reason where there is none (CI here has one, as root); the signal tests
//! run everywhere.
//!
//! Every wait is for a condition (a marker file, a process gone), bounded generously, never
//! a fixed sleep: the suite must pass on a loaded machine.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::memory_cgroup::MemCgroup;
use crate::support::fixture::{Fixture, run_merged};
use crate::support::procs::{processes_with_marker, survivors_after, unique_marker};

const GIB: u64 = 1 << 30;
/// Room for a loaded machine to reap killed processes.
const GRACE: Duration = Duration::from_secs(20);

fn load(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("no report at {}: {e}", path.display()));
    serde_json::from_str(&text).expect("report is JSON")
}

fn test<'r>(report: &'r Value, binary: &str, name: &str) -> &'r Value {
    let tests = report["tests"].as_array().expect("tests");
    tests
        .iter()
        .find(|t| t["binary_id"] == binary && t["name"] == name)
        .unwrap_or_else(|| panic!("no {binary} {name} in the report"))
}

/// The `testplan-*` run groups left under `dir`.
fn run_groups_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("testplan-")))
        .collect()
}

/// Check 1: inside a 2 GiB memory cgroup, with no history and no `--memory-limit`, a test
/// allocating without bound is stopped by its own cgroup and reported `memory limit
/// exceeded`; the small tests beside it pass; the enclosing cgroup's OOM-kill counter does
/// not move; no cgroup of the run is left (check 6).
#[test]
fn a_runaway_test_is_stopped_by_its_own_cgroup_in_a_2_gib_cgroup() {
    let cgroup = match MemCgroup::create(2 * GIB) {
        Ok(cgroup) => cgroup,
        Err(why) => return eprintln!("skipped: no memory cgroup for this test: {why}"),
    };
    let fixture = Fixture::copy("fixtures/memory");
    let target = fixture.scratch("target");
    let mut build = fixture.testplan(&["list", "--test", "grow"]);
    let (code, text) = run_merged(build.env("CARGO_TARGET_DIR", &target));
    assert_eq!(code, Some(0), "{text}");

    let report = fixture.scratch("out").join("report.json");
    let report_arg = report.to_str().expect("utf-8 path");
    let args =
        ["run", "--no-fail-fast", "--test", "grow", "--containment", "cgroup", "--report-json", report_arg];
    let mut cmd = fixture.testplan(&args);
    cmd.env("CARGO_TARGET_DIR", &target);
    let before = cgroup.oom_kills();
    let (code, text) = run_merged(&mut cgroup.wrap(&cmd));
    assert_eq!(cgroup.oom_kills() - before, 0, "the enclosing cgroup saw an OOM kill:\n{text}");
    assert_eq!(code, Some(100), "{text}");
    let report = load(&report);
    let runaway = test(&report, "memhog::grow", "grows_without_bound");
    assert_eq!(runaway["status"], "memory-exceeded", "{text}");
    for name in ["small_a", "small_b"] {
        assert_eq!(test(&report, "memhog::grow", name)["status"], "passed", "{text}");
    }
    assert!(text.contains("memory limit exceeded"), "{text}");
    assert_eq!(run_groups_in(cgroup.path()), Vec::<PathBuf>::new(), "cgroups left behind:\n{text}");
}

/// Check 2: a `setsid` daemon and a `setpgid` child started by passing tests are killed by
/// the end of the run and reported as leaks; a /proc scan finds no survivor.
#[test]
fn escaped_daemons_and_children_are_killed_and_reported_as_leaks() {
    if let Err(why) = MemCgroup::create(GIB) {
        return eprintln!("skipped: no writable memory cgroup here: {why}");
    }
    let fixture = Fixture::copy("fixtures/memory");
    let marker = unique_marker("1000.");
    let report = fixture.scratch("out").join("report.json");
    let report_arg = report.to_str().expect("utf-8 path");
    let args = ["run", "--test", "leak", "--containment", "cgroup", "--report-json", report_arg];
    let mut cmd = fixture.testplan(&args);
    let (code, text) = run_merged(cmd.env("MEMHOG_SLEEP_SECONDS", &marker));
    let survivors = survivors_after(&marker, GRACE);
    assert!(survivors.is_empty(), "processes left behind: {survivors:#?}\n{text}");
    assert_eq!(code, Some(0), "{text}");
    let report = load(&report);
    for name in ["leaves_a_setsid_daemon", "leaves_a_setpgid_child"] {
        let test = test(&report, "memhog::leak", name);
        assert_eq!(
            (test["status"].as_str(), test["leaked_processes"].as_bool()),
            (Some("passed"), Some(true)),
            "{name}\n{text}"
        );
    }
}

/// The `sleep MARKER` processes running now.
fn sleeping_children(marker: &str) -> usize {
    processes_with_marker(marker).into_iter().filter(|(_, cmd)| cmd.starts_with("sleep ")).count()
}

/// The faults fixture's test whose child never exits, started in the background with every
/// report requested; returns the runner and the paths of its reports.
struct HungRun {
    child: Child,
    reports: [PathBuf; 3],
    last_run: PathBuf,
}

fn start_hung_run(fixture: &Fixture, marker: &str, extra: &[&str]) -> HungRun {
    let out = fixture.scratch("out");
    let reports = [out.join("report.json"), out.join("junit.xml"), out.join("summary.md")];
    let arg = |p: &PathBuf| p.to_str().expect("utf-8 path").to_owned();
    let (report, junit, markdown) = (arg(&reports[0]), arg(&reports[1]), arg(&reports[2]));
    let started = fixture.scratch("started");
    let mut args = vec!["run", "--no-fail-fast", "--timeout", "600s", "--exact", "hang_child_never_exits"];
    args.extend(["--report-json", &report, "--junit", &junit, "--markdown", &markdown]);
    args.extend(extra);
    let mut cmd: Command = fixture.testplan(&args);
    cmd.env("FAULTS_SLEEP_SECONDS", marker)
        .env("FAULTS_STARTED_DIR", &started)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = cmd.spawn().expect("start cargo-testplan");
    let flag = started.join("hang_child_never_exits");
    let deadline = Instant::now() + Duration::from_secs(300);
    while !flag.exists() {
        assert!(Instant::now() < deadline, "the hanging test never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The test has started; its `sleep` child (carrying the marker) follows.
    while sleeping_children(marker) == 0 {
        assert!(Instant::now() < deadline, "the test's child never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let last_run = fixture.target_dir().join("testplan").join("last-run.json");
    HungRun { child, reports, last_run }
}

/// Check 3: SIGHUP, SIGQUIT, SIGINT and SIGTERM to the runner mid-run each leave no test
/// process behind, write last-run.json, `--junit` and `--markdown`, and exit with 130.
#[test]
fn every_stop_signal_kills_the_tests_and_writes_every_report() {
    let fixture = Fixture::copy("fixtures/faults");
    let (code, text) = run_merged(&mut fixture.testplan(&["list"]));
    assert_eq!(code, Some(0), "{text}");
    for (signal, name) in [
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGQUIT, "SIGQUIT"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGTERM, "SIGTERM"),
    ] {
        let marker = unique_marker("1000.");
        let mut run = start_hung_run(&fixture, &marker, &[]);
        let _ = std::fs::remove_file(&run.last_run);
        // SAFETY: `kill` has no memory-safety preconditions; the pid is our own child's.
        assert_eq!(unsafe { libc::kill(run.child.id() as i32, signal) }, 0);
        let status = run.child.wait().expect("wait for cargo-testplan");
        assert_eq!(status.code(), Some(130), "{name}: {status:?}");
        let survivors = survivors_after(&marker, GRACE);
        assert!(survivors.is_empty(), "{name}: processes left behind: {survivors:#?}");
        for path in run.reports.iter().chain([&run.last_run]) {
            assert!(path.is_file(), "{name}: {} was not written", path.display());
        }
    }
}

/// Check 3, SIGKILL: the runner cannot clean up, but its test processes die with it
/// (`PR_SET_PDEATHSIG`), and the next run removes the run's cgroup with what was left in it
/// (the test's own child).
#[test]
fn a_sigkilled_runners_tests_die_and_the_next_run_cleans_up() {
    if let Err(why) = MemCgroup::create(GIB) {
        return eprintln!("skipped: no writable memory cgroup here: {why}");
    }
    let fixture = Fixture::copy("fixtures/faults");
    let (code, text) = run_merged(&mut fixture.testplan(&["list"]));
    assert_eq!(code, Some(0), "{text}");
    let marker = unique_marker("1000.");
    let mut run = start_hung_run(&fixture, &marker, &["--containment", "cgroup"]);
    run.child.kill().expect("SIGKILL the runner");
    run.child.wait().expect("reap the runner");
    // The test process (the marker is in its environment) goes; its `sleep` child stays.
    let deadline = Instant::now() + GRACE;
    let test_processes =
        || processes_with_marker(&marker).into_iter().filter(|(_, cmd)| !cmd.starts_with("sleep ")).count();
    while test_processes() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        test_processes(),
        0,
        "the test process outlived the runner: {:#?}",
        processes_with_marker(&marker)
    );

    let (code, text) =
        run_merged(&mut fixture.testplan(&["run", "--exact", "finishes_quickly", "--containment", "cgroup"]));
    assert_eq!(code, Some(0), "{text}");
    let survivors = survivors_after(&marker, GRACE);
    assert!(survivors.is_empty(), "the next run did not clean up: {survivors:#?}\n{text}");
}
