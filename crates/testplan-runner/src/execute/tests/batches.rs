//! Batches with fake libtest binaries: shell scripts that, given `--exact A B C
//! --test-threads 1` (or no names: all of them), print libtest's text output for the tests they know (in name order,
//! `test NAME ... ` before each body runs, captured output in the `failures:` block), and
//! given `--exact NAME --nocapture` run one test. Bodies run in the script's own shell:
//! `return N` fails the test, `exit N` ends the whole process (like `process::exit`),
//! `kill -SEGV $$` crashes it, and `>&3` writes past the capture (like a child process).
//! Every invocation is appended to `<script>.calls`.
//!
//! Also the doctest overlap: a later phase's doctest batch starts while earlier phases run,
//! at a lower priority, and its events come in its own phase.

use std::collections::HashMap;
use std::time::Duration;

use camino::Utf8PathBuf;

use super::{
    FORK_LOCK, Fixture, Run, TestOptions, assert_gone, assert_group_gone, checked_run, options,
    wait_for_file, with_doctest_command,
};
use crate::cancel::CancelToken;
use crate::events::{Event, Reschedule, StopReason, TestStatus};
use crate::execute::{EstimateSource, PhaseRun, TestLimits, execute_phases};
use crate::filter::{Action, PlannedTest};
use crate::model::{BinaryIdx, ListMethod, TargetKind, TestIdx};

const BATCH_SCRIPT: &str = r#"printf '%s\n' "$*" >> "$0.calls"
exec 3>&1
[ "$1" = --exact ] && shift
names=""
while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do names="$names $1"; shift; done
# No names: every test the binary knows (libtest without a filter).
[ -n "$names" ] || names="$all"
case " $* " in
*" --nocapture "*)
    set -- $names
    if known "$1"; then body "$1"; exit $?; fi
    echo; echo 'running 0 tests'; exit 0;;
esac
out=$(mktemp -d)
set -- $(printf '%s\n' $names | LC_ALL=C sort)
echo; echo "running $# tests"
failed=""
for name in "$@"; do
    known "$name" || continue
    printf 'test %s ... ' "$name"
    if body "$name" > "$out/$name" 2>&1; then echo ok; else echo FAILED; failed="$failed $name"; fi
done
echo
if [ -n "$failed" ]; then
    echo 'failures:'; echo
    for name in $failed; do echo "---- $name stdout ----"; cat "$out/$name"; echo; done
    echo; echo 'failures:'
    for name in $failed; do echo "    $name"; done
    echo; echo 'test result: FAILED.'; rm -rf "$out"; exit 101
fi
echo 'test result: ok.'; rm -rf "$out"; exit 0
"#;

impl Fixture {
    /// A fake libtest binary that runs batches (see the module docs).
    pub(super) fn batch_binary(&mut self, id: &str, cases: &[(&str, &str)]) -> BinaryIdx {
        let mut functions = String::from("body() {\ncase \"$1\" in\n");
        for (name, body) in cases {
            functions.push_str(&format!("'{name}')\n{body}\n;;\n"));
        }
        functions.push_str("esac\n}\nknown() {\ncase \"$1\" in\n");
        let names: Vec<String> = cases.iter().map(|(n, _)| format!("'{n}'")).collect();
        functions.push_str(&format!("{}) return 0;;\n*) return 1;;\nesac\n}}\n", names.join("|")));
        let all: Vec<&str> = cases.iter().map(|(n, _)| *n).collect();
        functions.push_str(&format!("all='{}'\n", all.join(" ")));
        let exe = self.script(id, &format!("{functions}{BATCH_SCRIPT}"));
        let idx = self.add_binary(id, TargetKind::Lib, ListMethod::LibtestJson, Some(exe));
        for (name, _) in cases {
            self.add_test(idx, name);
        }
        idx
    }

    /// The argument lists `binary` was started with.
    fn calls(&self, binary: &str) -> Vec<String> {
        let text = std::fs::read_to_string(self.path().join(format!("{binary}.calls"))).unwrap_or_default();
        text.lines().map(str::to_owned).collect()
    }

    /// A fake `cargo test --doc` for `names`, running `body` after cargo's `Doc-tests`
    /// line for the binary's crate (on stderr, as cargo prints it).
    fn doc_binary(&mut self, names: &[&str], body: &str) -> Utf8PathBuf {
        let bin = self.add_binary("demo::doc", TargetKind::Doc, ListMethod::Rustdoc, None);
        for name in names {
            self.add_test(bin, name);
        }
        self.script("fake-cargo", &format!("echo '   Doc-tests demo::doc' >&2\n{body}"))
    }
}

fn batched(timeout: Duration) -> TestLimits {
    TestLimits {
        memory_estimate: 1 << 20,
        estimate_from: EstimateSource::Default,
        memory_limit: None,
        timeout,
        serial: false,
        batch: true,
    }
}

/// A phase of `tests` (indices into the fixture's list), every test batchable with the
/// given timeout.
pub(super) fn phase(name: &str, tests: &[usize], jobs: usize, timeout: Duration) -> PhaseRun {
    let planned: Vec<PlannedTest> = tests
        .iter()
        .map(|&i| PlannedTest { test: TestIdx(i), action: Action::Run { ignored: false } })
        .collect();
    let limits: HashMap<TestIdx, TestLimits> =
        tests.iter().map(|&i| (TestIdx(i), batched(timeout))).collect();
    PhaseRun {
        name: name.into(),
        planned,
        jobs,
        timeout,
        limits,
        continue_on_failure: false,
        unavailable: None,
    }
}

pub(super) fn run_phases(
    fx: &Fixture,
    phases: &[PhaseRun],
    opts: &TestOptions,
    doc: Option<Utf8PathBuf>,
) -> Run {
    let names: Vec<String> = fx.list.tests.iter().map(|t| t.name.clone()).collect();
    let planned: Vec<PlannedTest> = phases.iter().flat_map(|p| p.planned.clone()).collect();
    let mut events = Vec::new();
    let list = with_doctest_command(&fx.list, doc);
    let stats = {
        let _guard = FORK_LOCK.read().unwrap_or_else(|e| e.into_inner());
        let mut sink = |event: &Event| events.push(event.clone());
        execute_phases(&list, phases, &opts.exec, &CancelToken::new(), &mut sink)
    };
    checked_run(events, &stats, &planned, names)
}

/// Every test of the fixture in one batched phase.
fn run_batched(fx: &Fixture, jobs: usize, opts: &TestOptions) -> Run {
    let all: Vec<usize> = (0..fx.list.tests.len()).collect();
    run_phases(fx, &[phase("unit", &all, jobs, opts.timeout)], opts, None)
}

#[test]
fn a_batch_reports_each_test_with_its_own_output_and_duration() {
    let mut fx = Fixture::new();
    // Dealt to two chunks in turn: `a_passes b_fails`, then `c_sleeps d_strays`.
    fx.batch_binary(
        "bin",
        &[
            ("a_passes", "echo captured and dropped"),
            ("c_sleeps", "sleep 0.3"),
            ("b_fails", "echo 'assertion failed: boom'; echo 'from a child' >&3; return 1"),
            ("d_strays", "echo 'stray output' >&3"),
        ],
    );
    let run = run_batched(&fx, 1, &options(1));

    assert_eq!(
        fx.calls("bin"),
        [
            "--exact a_passes b_fails --test-threads 1 --color never --format pretty",
            "--exact c_sleeps d_strays --test-threads 1 --color never --format pretty"
        ]
    );
    assert_eq!(run.status("a_passes"), TestStatus::Passed);
    assert_eq!(run.status("b_fails"), TestStatus::Failed { exit_code: Some(101) });
    assert_eq!(run.result("b_fails").output.to_text(), "from a child\nassertion failed: boom\n");
    assert_eq!(run.status("c_sleeps"), TestStatus::Passed);
    assert_eq!(run.status("d_strays"), TestStatus::Passed);
    assert!(run.result("d_strays").output.is_empty(), "a passing test's output is not kept");
    assert!(run.result("c_sleeps").duration > run.result("a_passes").duration);
    assert!(run.result("a_passes").peak_rss.is_none(), "RSS is per process, not per test");
    // Each test starts when libtest says so, and ends before the next starts.
    assert_eq!(run.started(), ["a_passes", "b_fails", "c_sleeps", "d_strays"]);
    assert_eq!(run.max_concurrency(), 1);
    assert!(run.rescheduled().is_empty());
}

#[test]
fn a_crashing_test_in_a_batch_is_attributed_to_it_alone() {
    let mut fx = Fixture::new();
    // Two chunks (one job: two batches), tests dealt to them in turn: a to e in the first,
    // v to z in the second, untouched by the crash.
    let cases = [
        ("a", "return 0"),
        ("v", "return 0"),
        ("b_fails_first", "echo 'lost with the batch'; return 1"),
        ("w", "return 0"),
        ("c_crashes", "kill -SEGV $$"),
        ("x", "return 0"),
        ("d", "return 0"),
        ("y", "return 0"),
        ("e", "return 0"),
        ("z", "return 0"),
    ];
    fx.batch_binary("bin", &cases);
    let run = run_batched(&fx, 1, &options(1));

    assert_eq!(run.status("a"), TestStatus::Passed);
    assert_eq!(run.status("b_fails_first"), TestStatus::Failed { exit_code: Some(1) });
    assert!(run.result("b_fails_first").output.to_text().contains("lost with the batch"));
    assert_eq!(run.status("c_crashes"), TestStatus::Crashed { signal: crate::platform::SIGSEGV });
    assert!(run.result("c_crashes").peak_rss.is_some(), "measured in its own process");
    for name in ["d", "e", "v", "w", "x", "y", "z"] {
        assert_eq!(run.status(name), TestStatus::Passed, "{name}");
    }
    let calls = fx.calls("bin");
    let args = |rest: &str| format!("{rest} --test-threads 1 --color never --format pretty");
    assert_eq!(
        calls,
        [
            args("--exact a b_fails_first c_crashes d e"),
            // The test it died on first, alone; then the failure whose output was lost;
            // then the tests that never started, in a batch of their own.
            "--exact c_crashes --nocapture --test-threads 1".to_owned(),
            "--exact b_fails_first --nocapture --test-threads 1".to_owned(),
            args("--exact d e"),
            args("--exact v w x y z"),
        ]
    );
    let isolated = run.rescheduled_where(|reason| matches!(reason, Reschedule::Isolated { .. }));
    assert_eq!(isolated, ["c_crashes", "b_fails_first"]);
    let Reschedule::Isolated { cause } = run.rescheduled()[0].1 else { panic!() };
    assert_eq!(cause, "its batch process crashed (SIGSEGV)");
}

#[test]
/// Check 3 of the fidelity issue: a hung test in a batch costs one timeout. Its start line
/// names it, so it is reported timed out at once, not re-run alone for a second timeout.
fn a_hanging_test_in_a_batch_costs_one_timeout_and_the_rest_pass() {
    let mut fx = Fixture::new();
    fx.batch_binary(
        "bin",
        &[
            ("a", "return 0"),
            ("b_hangs", "echo \"pid $$\" >&3; sleep 1000 & sleep 1000; wait"),
            ("c", "return 0"),
        ],
    );
    let opts = options(1).timeout(Duration::from_millis(400));
    let run = run_batched(&fx, 1, &opts);

    assert_eq!(run.status("a"), TestStatus::Passed);
    assert_eq!(run.status("b_hangs"), TestStatus::TimedOut { after: Duration::from_millis(400) });
    assert_eq!(run.status("c"), TestStatus::Passed);
    assert_gone(&run, "b_hangs");
    assert_eq!(fx.calls("bin").len(), 2, "the batch, then c in a batch of its own: b ran once");
    assert!(run.rescheduled().iter().all(|(name, _)| *name != "b_hangs"), "{:?}", run.rescheduled());
    let output = run.result("b_hangs").output.to_text();
    assert!(output.contains("timed out after 400ms in a batch"), "{output}");
}

#[test]
/// A member libtest reported FAILED, whose output was lost when the batch was killed, is
/// queued to run alone for its output; when fail-fast stops the phase first (here: the
/// member that timed out), it is still reported failed, never `not run`.
fn a_known_failure_of_a_killed_batch_stays_failed_when_fail_fast_stops() {
    let mut fx = Fixture::new();
    // Dealt to two chunks in turn: `a_fails c_hangs`, then `b d`.
    fx.batch_binary(
        "bin",
        &[
            ("a_fails", "echo 'assertion failed'; return 1"),
            ("b", "return 0"),
            ("c_hangs", "sleep 1000 & sleep 1000; wait"),
            ("d", "return 0"),
        ],
    );
    let opts = options(1).timeout(Duration::from_millis(400)).with(|o| o.fail_fast = true);
    let run = run_batched(&fx, 1, &opts);

    assert_eq!(fx.calls("bin"), ["--exact a_fails c_hangs --test-threads 1 --color never --format pretty"]);
    assert_eq!(run.status("c_hangs"), TestStatus::TimedOut { after: Duration::from_millis(400) });
    assert_eq!(run.status("a_fails"), TestStatus::Failed { exit_code: None });
    let output = run.result("a_fails").output.to_text();
    assert!(output.contains("its failure output was lost"), "{output}");
    for name in ["b", "d"] {
        assert_eq!(run.status(name), TestStatus::NotRun { reason: StopReason::FailFast }, "{name}");
    }
}

#[test]
fn a_test_ending_the_process_gets_its_exit_code_and_vanished_names_fail() {
    let mut fx = Fixture::new();
    let bin = fx.batch_binary("bin", &[("a", "return 0"), ("b_exits", "exit 3"), ("c", "return 0")]);
    fx.add_test(bin, "d_vanished");
    let run = run_batched(&fx, 1, &options(1));

    assert_eq!(run.status("a"), TestStatus::Passed);
    assert_eq!(run.status("b_exits"), TestStatus::Failed { exit_code: Some(3) });
    assert_eq!(run.status("c"), TestStatus::Passed);
    assert_eq!(run.status("d_vanished"), TestStatus::Failed { exit_code: Some(0) });
    assert!(run.result("d_vanished").output.to_text().contains("ran 0 tests"));
}

#[test]
fn a_lost_outcome_is_decided_by_the_failure_list() {
    let mut fx = Fixture::new();
    // Output without a newline glues itself to libtest's `ok`.
    fx.batch_binary("bin", &[("a_glued", "printf 'no newline' >&3"), ("b", "printf 'x' >&3; return 1")]);
    let run = run_batched(&fx, 1, &options(1));
    assert_eq!(run.status("a_glued"), TestStatus::Passed);
    assert_eq!(run.status("b"), TestStatus::Failed { exit_code: Some(101) });
    assert_eq!(fx.calls("bin").len(), 2, "one batch each, nothing runs again");
}

#[test]
fn a_flaky_test_in_a_batch_is_retried_alone() {
    let mut fx = Fixture::new();
    let flag = fx.path().join("tried");
    let flaky =
        format!("if [ -e '{flag}' ]; then return 0; fi; touch '{flag}'; echo 'first try fails'; return 1");
    fx.batch_binary("bin", &[("a", "return 0"), ("flaky", &flaky), ("z", "return 0")]);
    // Fail-fast (the default) waits for the retry before calling it a failure.
    let opts = options(1).with(|o| {
        o.retries = 2;
        o.fail_fast = true;
    });
    let run = run_batched(&fx, 1, &opts);

    assert_eq!(run.status("flaky"), TestStatus::Passed);
    assert_eq!(run.status("z"), TestStatus::Passed);
    assert_eq!(run.stopped(), None);
    assert_eq!(run.result("flaky").attempts, 2);
    assert!(run.result("flaky").is_flaky());
    assert_eq!(run.result("a").attempts, 1);
    match run.rescheduled()[..] {
        // The failed attempt's output travels with the event, for the reports.
        [("flaky", Reschedule::Retry { attempt: 1, max_attempts: 3, output, .. })] => {
            assert!(output.to_text().contains("first try fails"), "{output:?}");
        }
        ref other => panic!("{other:?}"),
    }
    assert!(
        fx.calls("bin").contains(&"--exact flaky --nocapture --test-threads 1".to_owned()),
        "{:?}",
        fx.calls("bin")
    );
}

#[test]
fn fail_fast_lets_the_running_batch_finish_and_starts_no_other() {
    let mut fx = Fixture::new();
    fx.batch_binary("one", &[("a_fails", "return 1"), ("b", "return 0"), ("c", "return 0")]);
    fx.batch_binary("two", &[("d", "return 0"), ("e", "return 0")]);
    let opts = options(1).with(|o| o.fail_fast = true);
    let run = run_batched(&fx, 1, &opts);

    assert_eq!(run.status("a_fails"), TestStatus::Failed { exit_code: Some(101) });
    // The batch that was running finishes: its tests have real results.
    assert_eq!((run.status("b"), run.status("c")), (TestStatus::Passed, TestStatus::Passed));
    for name in ["d", "e"] {
        assert_eq!(run.status(name), TestStatus::NotRun { reason: StopReason::FailFast }, "{name}");
    }
    assert!(fx.calls("two").is_empty());
    assert_eq!(run.stopped(), Some(StopReason::FailFast));
}

#[test]
fn binaries_are_cut_into_enough_chunks_for_every_slot() {
    let mut fx = Fixture::new();
    let cases: Vec<(String, &str)> = (0..9).map(|i| (format!("t{i}"), "sleep 0.05")).collect();
    let cases: Vec<(&str, &str)> = cases.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    fx.batch_binary("bin", &cases);
    let run = run_batched(&fx, 2, &options(2));
    // 2 jobs: at least 4 batches, of 3, 2, 2 and 2 tests, two at a time.
    let sizes: Vec<usize> = fx
        .calls("bin")
        .iter()
        .map(|c| c.split(' ').take_while(|a| *a != "--test-threads").count() - 1)
        .collect();
    let mut sorted = sizes.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [2, 2, 2, 3], "{sizes:?}");
    assert_eq!(run.max_concurrency(), 2);
    assert_eq!(run.events.iter().filter(|e| matches!(e, Event::TestFinished { .. })).count(), 9);
}

#[test]
fn cancellation_stops_a_batch_and_reports_its_tests_not_run() {
    let mut fx = Fixture::new();
    let started = fx.path().join("started");
    let hang = format!("touch '{started}'; sleep 1000 & sleep 1000; wait");
    // Dealt to two chunks in turn: `a b_hangs`, then `c`.
    fx.batch_binary("bin", &[("a", "return 0"), ("c", "return 0"), ("b_hangs", &hang)]);
    let cancel = CancelToken::new();
    let canceller = std::thread::spawn({
        let (cancel, started) = (cancel.clone(), started.clone());
        move || {
            for _ in 0..1000 {
                if started.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            cancel.cancel();
        }
    });
    let names: Vec<String> = fx.list.tests.iter().map(|t| t.name.clone()).collect();
    let all = phase("unit", &[0, 1, 2], 1, Duration::from_secs(30));
    let mut events = Vec::new();
    let stats = {
        let _guard = FORK_LOCK.read().unwrap_or_else(|e| e.into_inner());
        let opts = options(1).with(|o| o.kill_grace = Duration::from_secs(30));
        execute_phases(&fx.list, std::slice::from_ref(&all), &opts.exec, &cancel, &mut |e| {
            events.push(e.clone())
        })
    };
    canceller.join().expect("canceller");
    let run = checked_run(events, &stats, &all.planned, names);
    assert_eq!(run.status("a"), TestStatus::Passed);
    assert_eq!(run.status("b_hangs"), TestStatus::Interrupted, "it was running");
    assert_eq!(run.status("c"), TestStatus::NotRun { reason: StopReason::Interrupted });
    assert_eq!(fx.calls("bin").len(), 1, "nothing runs again after Ctrl-C");
}

const ADD: &str = "src/lib.rs - add (line 3)";
const SUB: &str = "src/lib.rs - sub (line 9)";

/// The doc phase's batch starts while the unit phase runs (the unit test sees it), at nice
/// 10, and its events come between the doc phase's start and end. (The batch reads its
/// nice value before it says it started: once the unit phase ends, the runner sets it back
/// to 0.)
#[test]
fn doctests_start_in_the_background_and_report_in_their_phase() {
    let mut fx = Fixture::new();
    let dir = fx.path();
    let unit = format!("{}\n[ -e '{dir}/doc-started' ]", wait_for_file(&format!("{dir}/doc-started"), 1000));
    fx.batch_binary("bin", &[("waits_for_doc", &unit)]);
    let cargo = fx.doc_binary(
        &[ADD, SUB],
        &format!(
            "nice > '{dir}/niceness'; touch '{dir}/doc-started'\necho 'running 2 tests'\n\
             echo 'test {ADD} ... ok'; echo 'test {SUB} ... ok'; echo; echo 'test result: ok.'"
        ),
    );
    let phases =
        [phase("unit", &[0], 2, Duration::from_secs(30)), phase("doc", &[1, 2], 2, Duration::from_secs(30))];
    let run = run_phases(&fx, &phases, &options(2), Some(cargo));

    assert_eq!(run.status("waits_for_doc"), TestStatus::Passed, "the doc batch ran beside the unit phase");
    assert_eq!((run.status(ADD), run.status(SUB)), (TestStatus::Passed, TestStatus::Passed));
    let niceness = std::fs::read_to_string(dir.join("niceness")).expect("niceness");
    assert_eq!(niceness.trim(), "10");
    let doc_started = run.position(|e| matches!(e, Event::PhaseStarted { name, .. } if name == "doc"));
    let unit_finished = run.position(|e| matches!(e, Event::PhaseFinished { name, .. } if name == "unit"));
    let add_started = run.position(|e| matches!(e, Event::TestStarted { test } if run.names[test.0] == ADD));
    assert!(unit_finished < doc_started && doc_started < add_started, "{:#?}", run.events);
    let Some(Event::PhaseFinished { stats, .. }) =
        run.events.iter().rev().find(|e| matches!(e, Event::PhaseFinished { .. }))
    else {
        panic!("no PhaseFinished")
    };
    assert_eq!((stats.total, stats.passed), (2, 2));
}

/// A failed earlier phase stops the run: the background doctest batch is killed and its
/// tests are reported not run.
#[test]
fn a_failed_phase_kills_the_background_doctests() {
    let mut fx = Fixture::new();
    let dir = fx.path();
    let unit = format!("{}; return 1", wait_for_file(&format!("{dir}/doc-started"), 1000));
    fx.batch_binary("bin", &[("fails", &unit)]);
    let cargo = fx.doc_binary(
        &[ADD, SUB],
        &format!("echo $$ > '{dir}/doc-pid'; touch '{dir}/doc-started'; echo 'running 2 tests'; sleep 1000 & sleep 1000; wait"),
    );
    let phases =
        [phase("unit", &[0], 2, Duration::from_secs(30)), phase("doc", &[1, 2], 2, Duration::from_secs(30))];
    let opts = options(2).with(|o| o.fail_fast = true);
    let run = run_phases(&fx, &phases, &opts, Some(cargo));

    assert_eq!(run.status("fails"), TestStatus::Failed { exit_code: Some(101) });
    for name in [ADD, SUB] {
        assert_eq!(run.status(name), TestStatus::NotRun { reason: StopReason::FailFast }, "{name}");
    }
    assert!(run.started().iter().all(|name| *name == "fails"), "no doctest event leaks: {:?}", run.started());
    assert!(run.events.iter().any(|e| matches!(e, Event::PhaseSkipped { name, .. } if name == "doc")));
    assert_group_gone(&dir.join("doc-pid"), "the doctest batch");
}

/// The next phase's jobs take the slots the current phase's tail leaves idle: the
/// integration test starts (and ends) while the unit phase's last test still runs, and its
/// events still come in its own phase, after the unit phase's.
#[test]
fn the_next_phase_starts_on_slots_the_current_phase_leaves_idle() {
    let mut fx = Fixture::new();
    let dir = fx.path();
    let waits = format!("{}\n[ -e '{dir}/it-ran' ]", wait_for_file(&format!("{dir}/it-ran"), 1000));
    fx.batch_binary("unit", &[("waits_for_integration", &waits)]);
    fx.batch_binary("it", &[("touches", &format!("touch '{dir}/it-ran'"))]);
    let phases = [
        phase("unit", &[0], 2, Duration::from_secs(30)),
        phase("integration", &[1], 2, Duration::from_secs(30)),
    ];
    let run = run_phases(&fx, &phases, &options(2), None);

    assert_eq!(
        run.status("waits_for_integration"),
        TestStatus::Passed,
        "integration ran beside the unit tail"
    );
    assert_eq!(run.status("touches"), TestStatus::Passed);
    let unit_finished = run.position(|e| matches!(e, Event::PhaseFinished { name, .. } if name == "unit"));
    let it_started = run.position(|e| matches!(e, Event::PhaseStarted { name, .. } if name == "integration"));
    let touch_started =
        run.position(|e| matches!(e, Event::TestStarted { test } if run.names[test.0] == "touches"));
    assert!(unit_finished < it_started && it_started < touch_started, "{:#?}", run.events);
}

/// Nothing starts early beside a phase with one slot, and a phase with one slot is not
/// started early: the unit test waits for an integration test that never comes, so it
/// times out, and the integration test runs only after it.
#[test]
fn a_one_slot_phase_is_not_overtaken_or_started_early() {
    let mut fx = Fixture::new();
    let dir = fx.path();
    let waits = format!("{}\n[ ! -e '{dir}/it-ran' ]", wait_for_file(&format!("{dir}/it-ran"), 30));
    fx.batch_binary("unit", &[("runs_alone", &waits)]);
    fx.batch_binary("it", &[("touches", &format!("touch '{dir}/it-ran'"))]);
    let phases = [
        phase("unit", &[0], 2, Duration::from_secs(30)),
        phase("integration", &[1], 1, Duration::from_secs(30)),
    ];
    let run = run_phases(&fx, &phases, &options(2), None);

    assert_eq!(run.status("runs_alone"), TestStatus::Passed, "the one-slot phase did not start early");
    assert_eq!(run.status("touches"), TestStatus::Passed);
}

/// A failed phase stops the run: a next-phase job started early is killed and its test
/// reported not run, with no event of it leaking.
#[test]
fn a_failed_phase_kills_the_next_phases_early_jobs() {
    let mut fx = Fixture::new();
    let dir = fx.path();
    let fails = format!("{}; return 1", wait_for_file(&format!("{dir}/it-started"), 1000));
    fx.batch_binary("unit", &[("fails_late", &fails)]);
    fx.batch_binary(
        "it",
        &[("hangs", &format!("echo $$ > '{dir}/it-pid'; touch '{dir}/it-started'; sleep 1000"))],
    );
    let phases = [
        phase("unit", &[0], 2, Duration::from_secs(30)),
        phase("integration", &[1], 2, Duration::from_secs(30)),
    ];
    let opts = options(2).with(|o| o.fail_fast = true);
    let run = run_phases(&fx, &phases, &opts, None);

    assert_eq!(run.status("fails_late"), TestStatus::Failed { exit_code: Some(101) });
    assert_eq!(run.status("hangs"), TestStatus::NotRun { reason: StopReason::FailFast });
    assert!(run.started().iter().all(|name| *name == "fails_late"), "{:?}", run.started());
    assert_group_gone(&dir.join("it-pid"), "the early job");
}

/// Check 4 of the fidelity issue, in the executor: a test running past `slow_after` is
/// reported slow while it runs — single tests and libtest batch members alike. Each test
/// waits (bounded) for the file the event handler writes when its `TestSlow` arrives, so
/// it passes only if the event came before its end.
#[test]
fn slow_tests_are_reported_while_they_run() {
    let mut fx = Fixture::new();
    let dir = fx.path();
    let wait = |name: &str| {
        format!("{}\n[ -e '{dir}/{name}.slow' ]", wait_for_file(&format!("{dir}/{name}.slow"), 1000))
    };
    fx.libtest_binary("single", &[("alone_waits", &wait("alone_waits"))]);
    fx.batch_binary("bin", &[("a", "return 0"), ("member_waits", &wait("member_waits")), ("c", "return 0")]);
    let opts = options(2).with(|o| o.slow_after = Some(Duration::from_millis(50)));
    let mut planned = fx.run_all();
    planned.rotate_left(1);
    let mut phase = phase("unit", &[], 2, opts.timeout);
    phase.limits = planned[..3].iter().map(|p| (p.test, batched(opts.timeout))).collect();
    phase.planned = planned;
    let names: Vec<String> = fx.list.tests.iter().map(|t| t.name.clone()).collect();
    let mut events = Vec::new();
    {
        let _guard = FORK_LOCK.read().unwrap_or_else(|e| e.into_inner());
        let mut sink = |event: &Event| {
            if let Event::TestSlow { test, .. } = event {
                std::fs::write(dir.join(format!("{}.slow", names[test.0])), "").expect("marker");
            }
            events.push(event.clone());
        };
        execute_phases(&fx.list, &[phase], &opts.exec, &CancelToken::new(), &mut sink);
    }
    let slow: Vec<(&str, Duration)> = events
        .iter()
        .filter_map(|e| match e {
            Event::TestSlow { test, elapsed } => Some((names[test.0].as_str(), *elapsed)),
            _ => None,
        })
        .collect();
    let finished = |name: &str| {
        events.iter().find_map(|e| match e {
            Event::TestFinished { test, result } if names[test.0] == name => Some(result.status.clone()),
            _ => None,
        })
    };
    for name in ["alone_waits", "member_waits"] {
        assert_eq!(finished(name), Some(TestStatus::Passed), "{name} saw its slow notice: {events:#?}");
        let (_, elapsed) = slow.iter().find(|(n, _)| *n == name).expect("slow event");
        assert_eq!(elapsed.as_millis() % 50, 0, "a multiple of the threshold: {elapsed:?}");
    }
}

/// Doctests the plan took from the result cache are reported — started and finished at
/// once, passed or ignored, `cached`, zero duration — and never run: a phase of cached
/// doctests starts no process, and a phase with some cached runs only the others.
#[test]
fn cached_doctests_are_reported_and_not_run() {
    let mut fx = Fixture::new();
    let dir = fx.path();
    let cargo = fx.doc_binary(
        &[ADD, SUB],
        &format!(
            "echo \"$@\" >> '{dir}/doc-calls'\necho 'running 1 test'\n\
             echo 'test {SUB} ... ok'; echo; echo 'test result: ok.'"
        ),
    );
    let mut doc = phase("doc", &[0, 1], 2, Duration::from_secs(30));
    doc.planned[0].action = Action::Cached { ignored: false };
    doc.planned[1].action = Action::Cached { ignored: true };
    let run = run_phases(&fx, std::slice::from_ref(&doc), &options(2), Some(cargo.clone()));

    assert!(!dir.join("doc-calls").exists(), "a cached doctest ran");
    assert_eq!(run.status(ADD), TestStatus::Passed);
    assert_eq!(run.status(SUB), TestStatus::Skipped { reason: "ignored".into() });
    for name in [ADD, SUB] {
        let result = run.result(name);
        assert!(result.cached && result.duration.is_zero(), "{name}: {result:?}");
    }
    assert_eq!(run.started(), [ADD, SUB]);
    let Some(Event::RunFinished { stats, .. }) = run.events.last() else { panic!("no RunFinished") };
    assert_eq!((stats.passed, stats.skipped, stats.cached), (1, 1, 2));

    doc.planned[1].action = Action::Run { ignored: false };
    let run = run_phases(&fx, &[doc], &options(2), Some(cargo));
    let calls = std::fs::read_to_string(dir.join("doc-calls")).expect("the uncached doctest ran");
    assert_eq!(calls.lines().count(), 1, "{calls}");
    assert!(run.result(ADD).cached && !run.result(SUB).cached);
    assert_eq!((run.status(ADD), run.status(SUB)), (TestStatus::Passed, TestStatus::Passed));
}
