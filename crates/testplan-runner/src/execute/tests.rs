//! End-to-end tests of the executor with fake test binaries: shell scripts that behave like
//! libtest binaries (`BIN --exact NAME --nocapture`) or like `cargo test --doc`, written to a
//! temporary directory. Assertions are on events, statuses and process groups, never on
//! wall-clock thresholds.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};

use super::{ExecuteOptions, MemoryOptions, execute_with};
use crate::cancel::CancelToken;
use crate::events::{Event, Reschedule, RunStats, StopReason, TestResult, TestStatus};
use crate::filter::{Action, PlannedTest};
use crate::model::{BinaryIdx, ListMethod, RunCommand, TargetKind, TestBinary, TestIdx, TestList};
use crate::platform;

mod batches;
mod memory;
mod parking;

/// Writing an executable while another thread forks lets the child inherit the write
/// descriptor, and exec of the script then fails with "text file busy". Scripts are
/// written under the write lock; executor runs hold the read lock.
static FORK_LOCK: RwLock<()> = RwLock::new(());

/// A temporary workspace of fake binaries and the list describing them.
struct Fixture {
    dir: tempfile::TempDir,
    list: TestList,
}

impl Fixture {
    fn new() -> Self {
        Fixture { dir: tempfile::tempdir().expect("tempdir"), list: TestList::default() }
    }

    fn path(&self) -> Utf8PathBuf {
        Utf8Path::from_path(self.dir.path()).expect("utf-8 temp dir").to_owned()
    }

    /// Writes an executable `#!/bin/sh` script.
    fn script(&self, file: &str, body: &str) -> Utf8PathBuf {
        let path = self.path().join(file);
        let _guard = FORK_LOCK.write().unwrap_or_else(|e| e.into_inner());
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }

    /// A fake libtest binary: `$2` is the test name (`--exact NAME ...`); an unknown name
    /// behaves like libtest's empty filter result.
    fn libtest_binary(&mut self, id: &str, cases: &[(&str, &str)]) -> BinaryIdx {
        let mut body = String::from("case \"$2\" in\n");
        for (name, case) in cases {
            body.push_str(&format!("'{name}')\n{case}\n;;\n"));
        }
        body.push_str("*) echo; echo 'running 0 tests'; exit 0;;\nesac");
        let exe = self.script(id, &body);
        let idx = self.add_binary(id, TargetKind::Test, ListMethod::LibtestJson, Some(exe));
        for (name, _) in cases {
            self.add_test(idx, name);
        }
        idx
    }

    fn add_binary(
        &mut self,
        id: &str,
        kind: TargetKind,
        method: ListMethod,
        exe: Option<Utf8PathBuf>,
    ) -> BinaryIdx {
        let package = crate::testing::package("demo", "demo", self.path().as_str());
        self.list.binaries.push(TestBinary {
            executable: exe,
            env: Arc::new(vec![("FAKE_VAR".into(), "fake value".into())]),
            list_method: method,
            ..crate::testing::test_binary(id, id, kind, &package)
        });
        BinaryIdx(self.list.binaries.len() - 1)
    }

    fn add_test(&mut self, binary: BinaryIdx, name: &str) -> TestIdx {
        self.list.tests.push(crate::testing::test_case(binary.0, name));
        TestIdx(self.list.tests.len() - 1)
    }

    /// Every test, planned to run.
    fn run_all(&self) -> Vec<PlannedTest> {
        (0..self.list.tests.len())
            .map(|i| PlannedTest { test: TestIdx(i), action: Action::Run { ignored: false } })
            .collect()
    }
}

/// What the executor's tests run with: the executor's options, and the jobs and the
/// per-test timeout of the one phase the planned tests make (`execute_with`,
/// `batches::run_batched`).
#[derive(Clone, Debug)]
struct TestOptions {
    exec: ExecuteOptions,
    jobs: usize,
    timeout: Duration,
}

impl TestOptions {
    /// The options with `change` made to the executor's.
    fn with(mut self, change: impl FnOnce(&mut ExecuteOptions)) -> Self {
        change(&mut self.exec);
        self
    }

    /// The options with this per-test timeout.
    fn timeout(self, timeout: Duration) -> Self {
        TestOptions { timeout, ..self }
    }
}

fn options(jobs: usize) -> TestOptions {
    let exec = ExecuteOptions {
        slow_after: None,
        phase_env: Vec::new(),
        containment: None,
        fail_fast: false,
        max_fail: 1,
        no_capture: false,
        kill_grace: Duration::from_millis(200),
        output_head: 1024,
        output_tail: 1024,
        memory: MemoryOptions::default(),
        retries: 0,
    };
    TestOptions { exec, jobs, timeout: Duration::from_secs(30) }
}

/// The events of one run, with lookups by test name.
struct Run {
    events: Vec<Event>,
    names: Vec<String>,
}

impl Run {
    fn result(&self, name: &str) -> &TestResult {
        let mut found = self.events.iter().filter_map(|e| match e {
            Event::TestFinished { test, result } if self.names[test.0] == name => Some(&**result),
            _ => None,
        });
        found.next().unwrap_or_else(|| panic!("no result for {name}"))
    }

    fn status(&self, name: &str) -> TestStatus {
        self.result(name).status.clone()
    }

    /// The index of the first event matching `pred`.
    fn position(&self, pred: impl Fn(&Event) -> bool) -> usize {
        self.events.iter().position(pred).expect("event")
    }

    /// Every `TestRescheduled`, in order: (test name, reason).
    fn rescheduled(&self) -> Vec<(&str, &Reschedule)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::TestRescheduled { test, reason } => Some((self.names[test.0].as_str(), reason)),
                _ => None,
            })
            .collect()
    }

    /// The tests rescheduled for a reason `which` accepts, in order.
    fn rescheduled_where(&self, which: impl Fn(&Reschedule) -> bool) -> Vec<&str> {
        self.rescheduled().into_iter().filter(|(_, reason)| which(reason)).map(|(name, _)| name).collect()
    }

    fn started(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::TestStarted { test } => Some(self.names[test.0].as_str()),
                _ => None,
            })
            .collect()
    }

    /// The highest number of tests started and not yet finished at any point.
    fn max_concurrency(&self) -> usize {
        let (mut now, mut max) = (0usize, 0usize);
        for event in &self.events {
            match event {
                Event::TestStarted { .. } => now += 1,
                Event::TestRescheduled { .. } => now = now.saturating_sub(1),
                Event::TestFinished { result, .. }
                    if !matches!(result.status, TestStatus::Skipped { .. }) =>
                {
                    now = now.saturating_sub(1)
                }
                _ => {}
            }
            max = max.max(now);
        }
        max
    }

    fn stopped(&self) -> Option<StopReason> {
        match self.events.last() {
            Some(Event::RunFinished { stopped, .. }) => *stopped,
            other => panic!("last event is not RunFinished: {other:?}"),
        }
    }

    /// The pid a fake test printed as `pid N` (its process group id).
    fn pgid(&self, name: &str) -> i32 {
        let text = self.result(name).output.to_text();
        let line = text
            .lines()
            // In a batch's output it may follow the test's start line (`test b ... pid N`).
            .find_map(|l| l.strip_prefix("pid ").or_else(|| l.split_once(" ... pid ").map(|(_, pid)| pid)))
            .unwrap_or_else(|| panic!("{name}: no pid in {text:?}"));
        line.trim().parse().expect("pid")
    }
}

/// Runs and checks the invariants every run keeps: `RunStarted` first, `RunFinished` last
/// with totals matching, and exactly one `TestFinished` per planned test.
fn run_with(
    fixture: &Fixture,
    planned: &[PlannedTest],
    opts: &TestOptions,
    cancel: &CancelToken,
    doc: Option<Utf8PathBuf>,
    on_event: &mut dyn FnMut(&Event, &[String]),
) -> Run {
    let names: Vec<String> = fixture.list.tests.iter().map(|t| t.name.clone()).collect();
    let mut events = Vec::new();
    let list = with_doctest_command(&fixture.list, doc);
    let stats = {
        let _guard = FORK_LOCK.read().unwrap_or_else(|e| e.into_inner());
        let mut sink = |event: &Event| {
            on_event(event, &names);
            events.push(event.clone());
        };
        execute_with(&list, (planned, opts.jobs, opts.timeout), &opts.exec, cancel, &mut sink)
    };
    checked_run(events, &stats, planned, names)
}

/// `list` whose doctests run through the fake cargo `doc` (`doc test ...`), in the
/// runner's directory, as discovery would set it for `cargo`.
fn with_doctest_command(list: &TestList, doc: Option<Utf8PathBuf>) -> TestList {
    let cwd = std::env::current_dir().expect("cwd");
    let doctest_command = doc.map(|program| RunCommand {
        program,
        args: vec!["test".into()],
        cwd: Utf8PathBuf::from_path_buf(cwd).expect("utf-8 cwd"),
        env: Arc::new(Vec::new()),
    });
    TestList { doctest_command, ..list.clone() }
}

/// The invariants every run keeps (see [`run_with`]), checked; the run's events.
fn checked_run(events: Vec<Event>, stats: &RunStats, planned: &[PlannedTest], names: Vec<String>) -> Run {
    assert!(matches!(events.first(), Some(Event::RunStarted { .. })), "{events:?}");
    let Some(Event::RunFinished { stats: final_stats, .. }) = events.last() else { panic!("no RunFinished") };
    assert_eq!(final_stats, stats);
    assert_eq!(stats.total, planned.len());
    let mut finished: HashMap<TestIdx, usize> = HashMap::new();
    for event in &events {
        if let Event::TestFinished { test, .. } = event {
            *finished.entry(*test).or_default() += 1;
        }
    }
    for p in planned {
        assert_eq!(finished.get(&p.test), Some(&1), "{}: TestFinished count", names[p.test.0]);
    }
    assert_eq!(finished.len(), planned.len());
    let counted = stats.recorded();
    assert_eq!(counted, planned.len(), "{stats:?}");
    Run { events, names }
}

fn run(fixture: &Fixture, planned: &[PlannedTest], opts: &TestOptions) -> Run {
    run_with(fixture, planned, opts, &CancelToken::new(), None, &mut |_, _| {})
}

fn assert_gone(run: &Run, name: &str) {
    let pgid = run.pgid(name);
    assert!(!platform::group_alive(pgid), "{name}: process group {pgid} survived the run");
}

/// Shell lines that wait, at most `ticks` × 10 ms, for `file` to exist (bounded, so a
/// fake never hangs a test run when what it waits for never comes).
fn wait_for_file(file: &str, ticks: u32) -> String {
    format!("i=0; while [ ! -e '{file}' ] && [ $i -lt {ticks} ]; do sleep 0.01; i=$((i+1)); done")
}

/// The process group whose id a fake wrote to `pid_file` is gone (`what` names it).
fn assert_group_gone(pid_file: &Utf8Path, what: &str) {
    let pid: i32 = std::fs::read_to_string(pid_file).expect("pid").trim().parse().expect("pid");
    assert!(!platform::group_alive(pid), "{what}'s group {pid} survived");
}

#[test]
fn statuses_of_single_tests() {
    let mut fx = Fixture::new();
    let cwd = fx.path();
    let env_check = format!(
        "[ \"$(pwd)\" = '{cwd}' ] || exit 5\n[ \"$FAKE_VAR\" = 'fake value' ] || exit 6\n\
         if read line; then exit 7; fi\n[ \"$3\" = --nocapture ] || exit 8\necho fine"
    );
    let bin = fx.libtest_binary(
        "bin",
        &[
            ("pass", "echo 'running 1 test'; echo hello"),
            ("fail", "echo 'assertion failed: boom' >&2; exit 101"),
            ("crash", "kill -SEGV $$"),
            ("env_and_cwd", &env_check),
            ("ignored_one", "[ \"$6\" = --ignored ] || exit 9"),
            ("skipped", "exit 1"),
        ],
    );
    let vanished = fx.add_test(bin, "vanished");
    let opaque_exe = fx.script("opaque", "[ $# -eq 0 ] || exit 3; echo opaque ran");
    let opaque_bin = fx.add_binary("opaque", TargetKind::Test, ListMethod::Opaque, Some(opaque_exe));
    fx.add_test(opaque_bin, "opaque");

    let mut planned = fx.run_all();
    planned[4].action = Action::Run { ignored: true };
    planned[5].action = Action::Skip { reason: "ignored: slow".into() };
    let run = run(&fx, &planned, &options(2));

    assert_eq!(run.status("pass"), TestStatus::Passed);
    assert_eq!(run.result("pass").output.to_text(), "running 1 test\nhello\n");
    assert!(run.result("pass").peak_rss.is_some_and(|rss| rss > 0));
    assert_eq!(run.status("fail"), TestStatus::Failed { exit_code: Some(101) });
    assert_eq!(run.result("fail").output.to_text(), "assertion failed: boom\n");
    assert_eq!(run.status("crash"), TestStatus::Crashed { signal: platform::SIGSEGV });
    assert_eq!(
        run.status("env_and_cwd"),
        TestStatus::Passed,
        "{}",
        run.result("env_and_cwd").output.to_text()
    );
    assert_eq!(run.status("ignored_one"), TestStatus::Passed);
    assert_eq!(run.status("skipped"), TestStatus::Skipped { reason: "ignored: slow".into() });
    assert_eq!(run.status("vanished"), TestStatus::Failed { exit_code: Some(0) });
    assert!(run.result("vanished").output.to_text().contains("[cargo-testplan] the test binary ran 0 tests"));
    assert_eq!(run.status("opaque"), TestStatus::Passed);
    assert!(!run.result("pass").leaked_processes);
    let _ = vanished;

    // Skips come first (after the phase's start), before anything starts; starts follow
    // planned order.
    assert!(matches!(&run.events[1], Event::PhaseStarted { .. }), "{:?}", run.events[1]);
    assert!(matches!(&run.events[2], Event::TestFinished { test, .. } if run.names[test.0] == "skipped"));
    assert_eq!(run.started(), ["pass", "fail", "crash", "env_and_cwd", "ignored_one", "vanished", "opaque"]);
    let Event::RunStarted { tests, binaries, jobs } = run.events[0] else { panic!("RunStarted") };
    assert_eq!((tests, binaries, jobs), (8, 2, 2));
    assert_eq!(run.stopped(), None);
}

#[test]
fn a_hung_test_and_its_grandchildren_are_killed_at_the_timeout() {
    let mut fx = Fixture::new();
    fx.libtest_binary(
        "bin",
        &[
            ("hangs", "echo \"pid $$\"; sleep 1000 & sleep 1000; wait"),
            // Ignores SIGTERM (and so do its children): only SIGKILL after the grace stops it.
            ("stubborn", "trap '' TERM; echo \"pid $$\"; sleep 1000 & sleep 1000; wait"),
        ],
    );
    let opts = options(2).timeout(Duration::from_millis(300));
    let run = run(&fx, &fx.run_all(), &opts);
    for name in ["hangs", "stubborn"] {
        assert_eq!(run.status(name), TestStatus::TimedOut { after: Duration::from_millis(300) });
        assert_gone(&run, name);
    }
}

#[test]
fn leaked_processes_are_killed_and_reported() {
    let mut fx = Fixture::new();
    fx.libtest_binary(
        "bin",
        &[
            ("leaks", "echo \"pid $$\"; sleep 1000 & echo done"),
            // A process that leaves the group keeps the pipe open: the capture so far is used.
            ("escapes", "echo \"pid $$\"; setsid sleep 2 & echo before exit"),
            ("tidy", "echo \"pid $$\"; sleep 0.01 & wait"),
        ],
    );
    let run = run(&fx, &fx.run_all(), &options(3));
    assert_eq!(run.status("leaks"), TestStatus::Passed);
    assert!(run.result("leaks").leaked_processes);
    assert_gone(&run, "leaks");
    assert_eq!(run.status("escapes"), TestStatus::Passed);
    assert!(run.result("escapes").output.to_text().contains("before exit"));
    assert!(!run.result("tidy").leaked_processes);
}

#[test]
fn flooding_output_is_captured_bounded() {
    let mut fx = Fixture::new();
    fx.libtest_binary("bin", &[("floods", "yes 0123456789 | head -c 50000000; echo; echo the end; exit 1")]);
    let run = run(&fx, &fx.run_all(), &options(1));
    let out = &run.result("floods").output;
    assert_eq!(run.status("floods"), TestStatus::Failed { exit_code: Some(1) });
    assert_eq!((out.head.len(), out.tail.len()), (1024, 1024));
    assert_eq!(out.elided, 50_000_000 + 9 - 2048);
    assert!(out.head.starts_with(b"0123456789\n"));
    assert!(out.tail.ends_with(b"\nthe end\n"));
}

#[test]
fn fail_fast_starts_nothing_after_the_first_failure() {
    let mut fx = Fixture::new();
    fx.libtest_binary("bin", &[("a", "exit 0"), ("b", "exit 101"), ("c", "exit 0"), ("d", "exit 0")]);
    let opts = options(1).with(|o| o.fail_fast = true);
    let run = run(&fx, &fx.run_all(), &opts);
    assert_eq!(run.status("a"), TestStatus::Passed);
    assert_eq!(run.status("b"), TestStatus::Failed { exit_code: Some(101) });
    for name in ["c", "d"] {
        assert_eq!(run.status(name), TestStatus::NotRun { reason: StopReason::FailFast });
    }
    assert_eq!(run.started(), ["a", "b"]);
    assert!(run.events.iter().any(|e| matches!(e, Event::Stopping { reason: StopReason::FailFast })));
    assert_eq!(run.stopped(), Some(StopReason::FailFast));
}

#[test]
fn max_fail_starts_nothing_after_the_nth_failure() {
    let mut fx = Fixture::new();
    let cases = [("a", "exit 101"), ("b", "exit 0"), ("c", "exit 101"), ("d", "exit 0"), ("e", "exit 101")];
    fx.libtest_binary("bin", &cases);
    let opts = options(1).with(|o| {
        o.fail_fast = true;
        o.max_fail = 2;
    });
    let run = run(&fx, &fx.run_all(), &opts);
    assert_eq!(run.started(), ["a", "b", "c"]);
    for name in ["d", "e"] {
        assert_eq!(run.status(name), TestStatus::NotRun { reason: StopReason::FailFast });
    }
    assert_eq!(run.stopped(), Some(StopReason::FailFast));
}

#[test]
fn fail_fast_lets_running_tests_finish() {
    let mut fx = Fixture::new();
    let go = fx.path().join("failure-seen");
    // `slow` finishes only once the runner has reported `fails`, so it is surely running
    // when fail-fast triggers (bounded, in case it never does).
    let slow = format!("{}; exit 0", wait_for_file(go.as_str(), 500));
    fx.libtest_binary("bin", &[("slow", &slow), ("fails", "exit 101"), ("later", "exit 0")]);
    let opts = options(2).with(|o| o.fail_fast = true);
    let mut on_event = |event: &Event, names: &[String]| {
        if let Event::TestFinished { test, .. } = event
            && names[test.0] == "fails"
        {
            std::fs::write(&go, "").expect("marker");
        }
    };
    let run = run_with(&fx, &fx.run_all(), &opts, &CancelToken::new(), None, &mut on_event);
    assert_eq!(run.status("slow"), TestStatus::Passed);
    assert_eq!(run.status("later"), TestStatus::NotRun { reason: StopReason::FailFast });
    assert_eq!(run.started(), ["slow", "fails"]);
}

#[test]
fn cancellation_kills_running_tests_and_reports_every_test() {
    let mut fx = Fixture::new();
    let hang = "echo \"pid $$\"; sleep 1000 & sleep 1000; wait";
    let stubborn = "trap '' TERM; echo \"pid $$\"; sleep 1000 & sleep 1000; wait";
    fx.libtest_binary("bin", &[("h1", hang), ("h2", stubborn), ("h3", hang), ("h4", hang)]);
    let cancel = CancelToken::new();
    let (tx, rx) = std::sync::mpsc::channel();
    let canceller = std::thread::spawn({
        let cancel = cancel.clone();
        move || {
            // Once both slots are busy, give the scripts a moment to print their pids.
            if rx.recv_timeout(Duration::from_secs(10)).is_ok() {
                std::thread::sleep(Duration::from_millis(200));
            }
            cancel.cancel();
        }
    });
    let mut started = 0;
    let mut on_event = |event: &Event, _: &[String]| {
        if matches!(event, Event::TestStarted { .. }) {
            started += 1;
            if started == 2 {
                let _ = tx.send(());
            }
        }
    };
    let opts = options(2).with(|o| o.kill_grace = Duration::from_secs(30));
    let run = run_with(&fx, &fx.run_all(), &opts, &cancel, None, &mut on_event);
    canceller.join().expect("canceller");

    // The running tests were interrupted; the others never started.
    for name in ["h1", "h2"] {
        assert_eq!(run.status(name), TestStatus::Interrupted, "{name}");
    }
    for name in ["h3", "h4"] {
        assert_eq!(run.status(name), TestStatus::NotRun { reason: StopReason::Interrupted }, "{name}");
    }
    assert_eq!(run.started(), ["h1", "h2"]);
    // Output of the killed tests is kept, and nothing of them survives.
    assert_gone(&run, "h1");
    assert_gone(&run, "h2");
    assert!(run.events.iter().any(|e| matches!(e, Event::Stopping { reason: StopReason::Interrupted })));
    assert_eq!(run.stopped(), Some(StopReason::Interrupted));
}

#[test]
fn a_cancelled_run_starts_nothing() {
    let mut fx = Fixture::new();
    fx.libtest_binary("bin", &[("a", "exit 0"), ("b", "exit 0")]);
    let cancel = CancelToken::new();
    cancel.cancel();
    let run = run_with(&fx, &fx.run_all(), &options(2), &cancel, None, &mut |_, _| {});
    assert!(run.started().is_empty());
    assert_eq!(run.status("a"), TestStatus::NotRun { reason: StopReason::Interrupted });
}

#[test]
fn no_more_than_jobs_tests_run_at_once() {
    let mut fx = Fixture::new();
    let cases: Vec<(String, &str)> = (1..=5).map(|i| (format!("t{i}"), "sleep 0.1")).collect();
    let cases: Vec<(&str, &str)> = cases.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    fx.libtest_binary("bin", &cases);
    let run = run(&fx, &fx.run_all(), &options(2));
    assert_eq!(run.max_concurrency(), 2);
    assert_eq!(run.started(), ["t1", "t2", "t3", "t4", "t5"]);
    // The third test starts only after one of the first two finished.
    let position = |pred: &dyn Fn(&Event) -> bool| run.events.iter().position(pred).expect("event");
    let third_start = position(&|e| matches!(e, Event::TestStarted { test } if run.names[test.0] == "t3"));
    let first_finish = position(&|e| matches!(e, Event::TestFinished { .. }));
    assert!(first_finish < third_start);
}

/// A doctest binary with `names`, run through a fake `cargo test --doc` script that prints
/// cargo's `Doc-tests` line for the binary's crate (on stderr), then runs `cargo_body`.
fn doc_fixture(fx: &mut Fixture, names: &[&str], cargo_body: &str) -> Utf8PathBuf {
    let bin = fx.add_binary("demo::doc", TargetKind::Doc, ListMethod::Rustdoc, None);
    for name in names {
        fx.add_test(bin, name);
    }
    fx.script("fake-cargo", &format!("echo '   Doc-tests demo::doc' >&2\n{cargo_body}"))
}

const ADD: &str = "src/lib.rs - add (line 3)";
const BOOM: &str = "src/lib.rs - boom (line 20)";
const FOO: &str = "src/lib.rs - foo (line 9)";
const NET: &str = "src/lib.rs - net (line 30)";
const SKIPPED: &str = "src/lib.rs - skipped (line 40)";

#[test]
fn doctests_run_as_one_batch_with_results_streamed() {
    let mut fx = Fixture::new();
    // cargo runs in the runner's directory, not the fixture's: the script names its files.
    let dir = fx.path();
    let cargo = doc_fixture(
        &mut fx,
        &[ADD, BOOM, FOO, NET, SKIPPED],
        &format!(
            "cd '{dir}'\nprintf '%s\\n' \"$@\" > args\necho\necho 'running 4 tests'\n\
             echo 'test {ADD} ... ok'\n\
             i=0; while [ ! -e streamed ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done\n\
             if [ -e streamed ]; then echo 'test {FOO} - compile fail ... ok'; else echo 'test {FOO} ... FAILED'; fi\n\
             echo 'test {BOOM} ... FAILED'\necho 'test {NET} ... ignored, needs network'\n\
             echo; echo 'failures:'; echo; echo '---- {BOOM} stdout ----'\n\
             echo 'Test executable failed (exit status: 101).'; echo; echo 'failures:'; echo '    {BOOM}'\n\
             echo; echo 'test result: FAILED. 2 passed; 1 failed; 1 ignored'; exit 101"
        ),
    );
    let mut planned = fx.run_all();
    planned[3].action = Action::Run { ignored: true };
    planned[4].action = Action::Skip { reason: "ignored".into() };
    // The fake cargo waits for the runner to report the first doctest before going on:
    // it passes `FOO` only if results are reported as they arrive.
    let marker = fx.path().join("streamed");
    let mut on_event = |event: &Event, names: &[String]| {
        if let Event::TestFinished { test, .. } = event
            && names[test.0] == ADD
        {
            std::fs::write(&marker, "").expect("marker");
        }
    };
    let run = run_with(&fx, &planned, &options(3), &CancelToken::new(), Some(cargo), &mut on_event);

    assert_eq!(run.status(ADD), TestStatus::Passed);
    assert_eq!(run.status(FOO), TestStatus::Passed);
    assert_eq!(run.status(BOOM), TestStatus::Failed { exit_code: Some(101) });
    assert_eq!(run.result(BOOM).output.to_text(), "Test executable failed (exit status: 101).\n");
    assert_eq!(run.status(NET), TestStatus::Skipped { reason: "ignored: needs network".into() });
    assert_eq!(run.status(SKIPPED), TestStatus::Skipped { reason: "ignored".into() });
    assert!(run.result(ADD).peak_rss.is_none());
    assert_eq!(run.started(), [ADD, BOOM, FOO, NET]);

    let args = std::fs::read_to_string(fx.path().join("args")).expect("args");
    let expected = ["test", "--", "add", "boom", "foo", "net", "--test-threads", "3", "--color", "never"];
    let mut expected = expected.join("\n");
    expected.push_str("\n--include-ignored\n");
    assert_eq!(args, expected);
}

#[test]
fn a_doctest_build_failure_fails_every_doctest_with_the_output() {
    let mut fx = Fixture::new();
    let cargo = doc_fixture(
        &mut fx,
        &[ADD, BOOM],
        "echo 'error[E0432]: unresolved import `nope`' >&2; echo 'error: could not compile `demo`' >&2; exit 101",
    );
    let run = run_with(&fx, &fx.run_all(), &options(2), &CancelToken::new(), Some(cargo), &mut |_, _| {});
    for name in [ADD, BOOM] {
        assert_eq!(run.status(name), TestStatus::Failed { exit_code: Some(101) });
    }
    // The output is attached once; the other doctest points to it.
    let first = run.result(ADD).output.to_text();
    assert!(first.contains("error: could not compile `demo`"), "{first}");
    assert!(first.contains("before reporting any result"), "{first}");
    let other = run.result(BOOM).output.to_text();
    assert!(other.contains(&format!("the batch's full output is attached to `{ADD}`")), "{other}");
    assert!(!other.contains("could not compile"), "{other}");
}

#[test]
fn a_silent_doctest_batch_is_killed_by_its_watchdog() {
    let mut fx = Fixture::new();
    let cargo = doc_fixture(
        &mut fx,
        &[ADD, BOOM],
        &format!(
            "echo \"pid $$\"; echo 'running 2 tests'; echo 'test {ADD} ... ok'; sleep 1000 & sleep 1000; wait"
        ),
    );
    let opts = options(2).timeout(Duration::from_millis(300));
    let run = run_with(&fx, &fx.run_all(), &opts, &CancelToken::new(), Some(cargo), &mut |_, _| {});
    assert_eq!(run.status(ADD), TestStatus::Passed);
    assert_eq!(run.status(BOOM), TestStatus::TimedOut { after: Duration::from_millis(300) });
    assert_gone(&run, BOOM);
}

/// The watchdog of a doctest batch gives cargo and rustdoc time to compile: a `--timeout`
/// shorter than the compile does not kill the batch before its `running N tests` line.
#[test]
fn a_doctest_batch_compiling_longer_than_the_timeout_is_not_killed() {
    let mut fx = Fixture::new();
    let cargo = doc_fixture(
        &mut fx,
        &[ADD],
        &format!(
            "sleep 1; echo 'running 1 test'; echo 'test {ADD} ... ok'; echo 'test result: ok. 1 passed'"
        ),
    );
    let opts = options(1).timeout(Duration::from_millis(200));
    let run = run_with(&fx, &fx.run_all(), &opts, &CancelToken::new(), Some(cargo), &mut |_, _| {});
    assert_eq!(run.status(ADD), TestStatus::Passed);
}

#[test]
fn a_batch_waits_for_all_the_slots_it_needs() {
    let mut fx = Fixture::new();
    fx.libtest_binary("bin", &[("first", "sleep 0.1"), ("last", "exit 0")]);
    let cargo = doc_fixture(
        &mut fx,
        &[ADD, BOOM],
        &format!("echo 'running 2 tests'; echo 'test {ADD} ... ok'; echo 'test {BOOM} ... ok'"),
    );
    // Order: first (1 slot), the batch (2 slots = all of -j 2), last.
    let planned = fx.run_all();
    let planned = [planned[0].clone(), planned[2].clone(), planned[3].clone(), planned[1].clone()];
    let run = run_with(&fx, &planned, &options(2), &CancelToken::new(), Some(cargo), &mut |_, _| {});
    assert_eq!(run.status(ADD), TestStatus::Passed);
    assert_eq!(run.started(), ["first", ADD, BOOM, "last"]);
    assert_eq!(run.max_concurrency(), 2);
    let position = |pred: &dyn Fn(&Event) -> bool| run.events.iter().position(pred).expect("event");
    let first_done =
        position(&|e| matches!(e, Event::TestFinished { test, .. } if run.names[test.0] == "first"));
    let batch_start = position(&|e| matches!(e, Event::TestStarted { test } if run.names[test.0] == ADD));
    assert!(first_done < batch_start);
}
