//! Check 4 of the walking-skeleton issue: crashes are named, hung tests end at the timeout
//! without leaving processes behind, build errors exit 101 with the compiler's message, and
//! Ctrl-C stops the run cleanly (exit 130, no test process left, summary still printed,
//! the tests it stopped reported `interrupted`).

use std::io::Read;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::compare::{is_summary_line, last_line};
use crate::support::fixture::{Fixture, run_output};
use crate::support::procs::{processes_with_marker, survivors_after, unique_marker};
use crate::support::report::RunReport;

/// How long a killed process may take to be reaped before it counts as left behind.
const REAP_GRACE: Duration = Duration::from_secs(2);

fn report_arg(fixture: &Fixture) -> (std::path::PathBuf, String) {
    let path = fixture.scratch("out").join("report.json");
    let arg = path.to_str().expect("utf-8 temp path").to_owned();
    (path, arg)
}

fn find<'a>(report: &'a RunReport, binary: &str, name: &str) -> &'a crate::support::report::ReportTest {
    report
        .tests
        .iter()
        .find(|t| t.binary_id == binary && t.name == name)
        .unwrap_or_else(|| panic!("report has no {binary} {name}: {report:#?}"))
}

#[test]
fn segfault_is_reported_as_crashed_with_its_signal() {
    let fixture = Fixture::copy("fixtures/faults");
    let (report_path, report) = report_arg(&fixture);
    let args = ["run", "--no-fail-fast", "--report-json", &report, "--exact", "tests::zz_segfaults"];
    let out = run_output(&mut fixture.testplan(&args));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(100), "{text}");
    assert!(text.contains("SIGSEGV"), "the output names the signal:\n{text}");
    let report = RunReport::load(&report_path);
    let test = find(&report, "faults", "tests::zz_segfaults");
    assert_eq!((test.status.as_str(), test.signal.as_deref()), ("crashed", Some("SIGSEGV")), "{text}");
}

#[test]
fn child_that_never_exits_times_out_and_leaves_no_process() {
    let fixture = Fixture::copy("fixtures/faults");
    let marker = unique_marker("1000.");
    let started = fixture.scratch("started");
    let (report_path, report) = report_arg(&fixture);
    let args = [
        "run",
        "--no-fail-fast",
        "--timeout",
        "3s",
        "--report-json",
        &report,
        "--exact",
        "hang_child_never_exits",
    ];
    let mut cmd = fixture.testplan(&args);
    cmd.env("FAULTS_SLEEP_SECONDS", &marker).env("FAULTS_STARTED_DIR", &started);
    let out = run_output(&mut cmd);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let survivors = survivors_after(&marker, REAP_GRACE);
    assert!(survivors.is_empty(), "processes left behind: {survivors:#?}\n{text}");
    assert!(started.join("hang_child_never_exits").exists(), "the test never started:\n{text}");
    assert_eq!(out.status.code(), Some(100), "{text}");
    let report = RunReport::load(&report_path);
    assert_eq!(find(&report, "faults::hang", "hang_child_never_exits").status, "timed-out", "{text}");
}

/// Check 4 of the fidelity issue: plain output names a hung test as slow while it runs,
/// before its timeout (the runner emits the notice before it decides the timeout, so the
/// order holds on a loaded machine too).
#[test]
fn a_hung_test_is_named_slow_before_its_timeout() {
    let fixture = Fixture::copy("fixtures/faults");
    let args = ["run", "--timeout", "3s", "--slow-after", "1s", "--exact", "hang_forever"];
    let out = run_output(&mut fixture.testplan(&args));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let position = |needle: &str| stdout.lines().position(|line| line.contains(needle));
    let slow = position("SLOW [>  1.000s] faults::hang hang_forever").unwrap_or_else(|| panic!("{stdout}"));
    let timeout = position("TIMEOUT").unwrap_or_else(|| panic!("{stdout}"));
    assert!(slow < timeout, "{stdout}");
    assert_eq!(out.status.code(), Some(100), "{stdout}");
}

#[test]
fn build_error_exits_101_with_the_compilers_message() {
    let fixture = Fixture::copy("fixtures/broken");
    let out = run_output(&mut fixture.testplan(&["run"]));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(101), "{text}");
    assert!(text.contains("error[E0308]: mismatched types"), "compiler error shown:\n{text}");
    assert!(text.contains("expected `String`, found `u32`"), "compiler detail shown:\n{text}");
}

/// Kills the runner if the test fails before it ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_files(dir: &Path, names: &[&str], runner: &mut Child, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !names.iter().all(|n| dir.join(n).exists()) {
        if let Some(status) = runner.try_wait().expect("poll runner") {
            panic!("cargo-testplan ended ({status}) before the tests started");
        }
        assert!(Instant::now() < deadline, "tests did not start within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_with_limit(runner: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = runner.try_wait().expect("poll runner") {
            return status;
        }
        assert!(Instant::now() < deadline, "cargo-testplan did not exit within {limit:?} of SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigint_mid_run_exits_130_leaves_no_test_process_and_prints_the_summary() {
    let fixture = Fixture::copy("fixtures/faults");
    // Build first, so the wait below is for tests, not the compiler.
    crate::support::cargo_test::build_binary_map(&fixture);
    let marker = unique_marker("1000.");
    let started = fixture.scratch("started");
    let (report_path, report) = report_arg(&fixture);
    let args = ["run", "--no-fail-fast", "--timeout", "120s", "-j", "2", "--report-json", &report, "hang_"];
    let mut cmd = fixture.testplan(&args);
    cmd.env("FAULTS_SLEEP_SECONDS", &marker).env("FAULTS_STARTED_DIR", &started);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut runner = KillOnDrop(cmd.spawn().expect("spawn cargo-testplan"));
    let mut stdout_pipe = runner.0.stdout.take().expect("stdout");
    let mut stderr_pipe = runner.0.stderr.take().expect("stderr");
    let stdout = std::thread::spawn(move || read_all(&mut stdout_pipe));
    let stderr = std::thread::spawn(move || read_all(&mut stderr_pipe));

    wait_for_files(
        &started,
        &["hang_forever", "hang_child_never_exits"],
        &mut runner.0,
        Duration::from_secs(300),
    );
    assert!(!processes_with_marker(&marker).is_empty(), "test processes carry the marker");
    let pid = libc::pid_t::try_from(runner.0.id()).expect("pid fits pid_t");
    // SAFETY: sending a signal to our own child process; no memory is involved.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0, "send SIGINT");
    let status = wait_with_limit(&mut runner.0, Duration::from_secs(60));
    let (stdout, stderr) = (stdout.join().expect("stdout reader"), stderr.join().expect("stderr reader"));
    let survivors = survivors_after(&marker, REAP_GRACE);

    assert!(survivors.is_empty(), "processes left behind: {survivors:#?}\n{stdout}\n{stderr}");
    assert_eq!(status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(is_summary_line(last_line(&stdout)), "summary is the last line of stdout:\n{stdout}\n{stderr}");
    // Both hung tests were running: interrupted (not "not run"), and the final line says so.
    assert_eq!(last_line(&stdout), "0 passed, 0 failed, 0 skipped, 2 interrupted", "{stdout}\n{stderr}");
    let report = RunReport::load(&report_path);
    assert_eq!(report.stopped.as_deref(), Some("interrupted"), "{stdout}\n{stderr}");
    for name in ["hang_forever", "hang_child_never_exits"] {
        assert_eq!(find(&report, "faults::hang", name).status, "interrupted", "{stdout}\n{stderr}");
    }
    assert!(stdout.contains("INTERRUPTED faults::hang hang_forever"), "listed at the end:\n{stdout}");
}

fn read_all(pipe: &mut impl Read) -> String {
    let mut bytes = Vec::new();
    let _ = pipe.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}
