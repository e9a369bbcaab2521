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

/// Check 1 (and 4, 6): inside a 2 GiB memory cgroup, with no history and no
/// `--memory-limit`, each test in a process of its own (`--isolation process`): a test
/// allocating 64 MiB chunks in a tight loop, one allocating about 100 MB/s and one whose
/// four children each allocate are each stopped by their own cgroup and reported `memory
/// limit exceeded`; the small tests beside them pass, and so does a test forking 500
/// sleeping children, whose peak is not over-counted; the enclosing cgroup's OOM-kill
/// counter does not move; no cgroup of the run is left.
#[test]
fn runaways_are_stopped_by_their_own_cgroups_in_a_2_gib_cgroup() {
    let Some((cgroup, fixture, target)) = runaway_setup() else { return };
    let report = fixture.scratch("out").join("report.json");
    let args = ["run", "--no-fail-fast", "--test", "runaway", "--isolation", "process"];
    let (code, text, saved) = run_contained(&cgroup, &fixture, &target, &args, &report);
    assert_eq!(code, Some(100), "{text}");
    for name in ["tight_loop_of_64_mib_chunks", "about_100_mb_per_second", "four_children_allocate"] {
        assert_eq!(test(&saved, "memhog::runaway", name)["status"], "memory-exceeded", "{name}\n{text}");
    }
    for name in ["small_c", "small_d", "forks_500_sleeping_children"] {
        assert_eq!(test(&saved, "memhog::runaway", name)["status"], "passed", "{name}\n{text}");
    }
    let forks = &test(&saved, "memhog::runaway", "forks_500_sleeping_children")["peak_rss_bytes"];
    assert!(
        forks.as_u64().is_some_and(|peak| peak < 512 << 20),
        "500 sleepers over-counted: {forks}\n{text}"
    );
}

/// The same in the default plan, whose integration phase batches: a runaway stops its
/// batch's cgroup, is reported `memory limit exceeded` (it runs again alone, judged by its
/// own limit), and the small tests of its batch pass; the enclosing cgroup sees no OOM kill.
#[test]
fn a_runaway_in_a_batch_is_reported_memory_exceeded_in_a_2_gib_cgroup() {
    let Some((cgroup, fixture, target)) = runaway_setup() else { return };
    let report = fixture.scratch("out").join("report.json");
    let args = ["run", "--no-fail-fast", "--test", "runaway", "-k", "tight_loop or small_"];
    let (code, text, saved) = run_contained(&cgroup, &fixture, &target, &args, &report);
    assert_eq!(code, Some(100), "{text}");
    let status = |name| test(&saved, "memhog::runaway", name)["status"].clone();
    assert_eq!(status("tight_loop_of_64_mib_chunks"), "memory-exceeded", "{text}");
    assert_eq!((status("small_c"), status("small_d")), ("passed".into(), "passed".into()), "{text}");
}

/// A 2 GiB memory cgroup and the memory fixture built into a target dir of its own, or
/// `None` (the test is skipped) where no memory cgroup can be made.
fn runaway_setup() -> Option<(MemCgroup, Fixture, PathBuf)> {
    let cgroup = match MemCgroup::create(2 * GIB) {
        Ok(cgroup) => cgroup,
        Err(why) => {
            eprintln!("skipped: no memory cgroup for this test: {why}");
            return None;
        }
    };
    let fixture = Fixture::copy("fixtures/memory");
    let target = fixture.scratch("target");
    let mut build = fixture.testplan(&["list", "--test", "runaway"]);
    let (code, text) = run_merged(build.env("CARGO_TARGET_DIR", &target));
    assert_eq!(code, Some(0), "{text}");
    Some((cgroup, fixture, target))
}

/// Runs `args` with cgroup containment inside `cgroup`; asserts that the enclosing cgroup
/// saw no OOM kill and that no cgroup of the run is left. Returns the exit code, the
/// output and the JSON report.
fn run_contained(
    cgroup: &MemCgroup,
    fixture: &Fixture,
    target: &Path,
    args: &[&str],
    report: &Path,
) -> (Option<i32>, String, Value) {
    let mut cmd = fixture.testplan(args);
    cmd.args(["--containment", "cgroup", "--report-json"]).arg(report).env("CARGO_TARGET_DIR", target);
    let before = cgroup.oom_kills();
    let (code, text) = run_merged(&mut cgroup.wrap(&cmd));
    assert_eq!(cgroup.oom_kills() - before, 0, "the enclosing cgroup saw an OOM kill:\n{text}");
    assert_eq!(run_groups_in(cgroup.path()), Vec::<PathBuf>::new(), "cgroups left behind:\n{text}");
    (code, text, load(report))
}

/// Check 4: the peak of a test holding 100, 200 or 400 MiB is within 2% of it on a cgroup
/// level (the group's own peak: everything its processes were charged).
#[test]
fn cgroup_peaks_are_within_2_percent() {
    if let Err(why) = MemCgroup::create(GIB) {
        return eprintln!("skipped: no writable memory cgroup here: {why}");
    }
    let fixture = Fixture::copy("fixtures/memory");
    let report = fixture.scratch("out").join("report.json");
    let report_arg = report.to_str().expect("utf-8 path");
    // Peaks per test need a process per test (a batch's peak is the batch's).
    let args = [
        "run",
        "--test",
        "sizes",
        "--isolation",
        "process",
        "--containment",
        "cgroup",
        "--report-json",
        report_arg,
    ];
    let (code, text) = run_merged(&mut fixture.testplan(&args));
    assert_eq!(code, Some(0), "{text}");
    let report = load(&report);
    let mut checked = 0;
    for test in report["tests"].as_array().expect("tests") {
        let name = test["name"].as_str().unwrap_or_default();
        let Some(mib) =
            name.strip_prefix("touches_").and_then(|n| n.strip_suffix("_mib")?.parse::<f64>().ok())
        else {
            continue;
        };
        let peak = test["peak_rss_bytes"].as_f64().expect("a peak") / f64::from(1 << 20);
        assert!((peak - mib).abs() <= mib * 0.02, "{name}: peak {peak:.1} MiB\n{text}");
        checked += 1;
    }
    assert_eq!(checked, 3, "{text}");
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
    // Leaks are put on the test that left them when each test has a process of its own.
    let args = [
        "run",
        "--test",
        "leak",
        "--isolation",
        "process",
        "--containment",
        "cgroup",
        "--report-json",
        report_arg,
    ];
    let mut cmd = fixture.testplan(&args);
    let (code, text) = run_merged(cmd.env("MEMHOG_SLEEP_SECONDS", &marker));
    let survivors = survivors_after(&marker, GRACE);
    assert!(survivors.is_empty(), "processes left behind: {survivors:#?}\n{text}");
    assert_eq!(code, Some(0), "{text}");
    for name in ["leaves_a_setsid_daemon", "leaves_a_setpgid_child", "leaves_a_daemon_holding_the_output"] {
        let line = format!("memhog::leak {name} (leaked processes)");
        assert!(text.contains(&line), "shown without -v: {line}\n{text}");
    }
    let report = load(&report);
    for name in ["leaves_a_setsid_daemon", "leaves_a_setpgid_child", "leaves_a_daemon_holding_the_output"] {
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
/// (`PR_SET_PDEATHSIG`) and its sentinel kills what they left in their groups (the test's
/// `sleep` child); with the sentinel gone too, the next run removes the run's groups and
/// what was left in them.
#[test]
fn a_sigkilled_runner_leaves_no_test_process() {
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
    let survivors = survivors_after(&marker, GRACE);
    assert!(survivors.is_empty(), "processes outlived the runner: {survivors:#?}");

    // Without the sentinel, the test's child stays until the next run.
    let marker = unique_marker("1000.");
    let mut run = start_hung_run(&fixture, &marker, &["--containment", "cgroup"]);
    let sentinel = format!("testplan-{}", run.child.id());
    let sentinels: Vec<u32> = processes_with_marker(&sentinel)
        .into_iter()
        .filter(|(_, cmd)| cmd.contains("testplan-sentinel"))
        .map(|(pid, _)| pid)
        .collect();
    assert_eq!(sentinels.len(), 1, "one sentinel per run: {sentinels:?}");
    // SAFETY: `kill` has no memory-safety preconditions; the pid is the run's sentinel.
    unsafe { libc::kill(sentinels[0] as i32, libc::SIGKILL) };
    run.child.kill().expect("SIGKILL the runner");
    run.child.wait().expect("reap the runner");
    let deadline = Instant::now() + GRACE;
    while processes_with_marker(&marker).len() != sleeping_children(&marker) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        sleeping_children(&marker),
        1,
        "the test's child waits: {:#?}",
        processes_with_marker(&marker)
    );
    let args = ["run", "--exact", "finishes_quickly", "--containment", "cgroup"];
    let (code, text) = run_merged(&mut fixture.testplan(&args));
    assert_eq!(code, Some(0), "{text}");
    let survivors = survivors_after(&marker, GRACE);
    assert!(survivors.is_empty(), "the next run did not clean up: {survivors:#?}\n{text}");
}

/// Check 5: with containment forced off, the documented fallback: `-v` says so, and a test
/// past its limit is still stopped — by sampling its process tree's RSS, so its peak is
/// past the limit rather than at it.
#[test]
fn without_containment_sampling_stops_a_test_past_its_limit() {
    let fixture = Fixture::copy("fixtures/memory");
    let report = fixture.scratch("out").join("report.json");
    let report_arg = report.to_str().expect("utf-8 path");
    let args = [
        "run",
        "--no-fail-fast",
        "--test",
        "grow",
        "--memory-limit",
        "512MiB",
        "--containment",
        "none",
        "-v",
        "--report-json",
        report_arg,
    ];
    let (code, text) = run_merged(&mut fixture.testplan(&args));
    assert_eq!(code, Some(100), "{text}");
    assert!(text.contains("Containment: none: process groups and sampling (--containment none)"), "{text}");
    let report = load(&report);
    let grown = test(&report, "memhog::grow", "grows_without_bound");
    assert_eq!(grown["status"], "memory-exceeded", "{text}");
    let peak = grown["peak_rss_bytes"].as_u64().expect("a peak");
    assert!(peak > 512 << 20, "sampling sees it past the limit: {peak}\n{text}");
}

/// Check 5, leaks: without containment, a process that escaped the process group but still
/// holds the test's output pipe is reported as a leak (it cannot be found to be killed); the
/// test kills it afterwards.
#[test]
fn without_containment_a_daemon_holding_the_output_is_reported() {
    let fixture = Fixture::copy("fixtures/memory");
    let marker = unique_marker("1000.");
    let report = fixture.scratch("out").join("report.json");
    let report_arg = report.to_str().expect("utf-8 path");
    let args = [
        "run",
        "--test",
        "leak",
        "--exact",
        "leaves_a_daemon_holding_the_output",
        "--isolation",
        "process",
        "--containment",
        "none",
        "--report-json",
        report_arg,
    ];
    let mut cmd = fixture.testplan(&args);
    let (code, text) = run_merged(cmd.env("MEMHOG_SLEEP_SECONDS", &marker));
    for (pid, _) in processes_with_marker(&marker) {
        // SAFETY: `kill` has no memory-safety preconditions; the pid was just found by its marker.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
    assert_eq!(code, Some(0), "{text}");
    let report = load(&report);
    let test = test(&report, "memhog::leak", "leaves_a_daemon_holding_the_output");
    assert_eq!(test["leaked_processes"].as_bool(), Some(true), "{text}");
}
