//! The memory guard, admission, serial tests and retries, end to end with fake test binaries.
//! Live memory is scripted (a [`SampleMemory`] that counts running marker processes), so
//! memory pressure is exact and the machine's real memory is never at stake.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use super::{FORK_LOCK, Fixture, Run, TestOptions, assert_gone, checked_run, options};
use crate::cancel::CancelToken;
use crate::events::{Event, Reschedule, TestStatus};
use crate::execute::{EstimateSource, LiveMemory, MemoryOptions, PhaseRun, TestLimits, execute_phases};
use crate::model::TestIdx;
use crate::resources::{MemorySample, SampleMemory, SampleSource};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

fn limits(estimate: u64, limit: Option<u64>, serial: bool) -> TestLimits {
    TestLimits {
        memory_estimate: estimate,
        estimate_from: EstimateSource::Default,
        memory_limit: limit,
        timeout: Duration::from_secs(30),
        serial,
        batch: false,
    }
}

/// Runs every test of the fixture as one phase with the given per-test limits.
fn run_phase(fx: &Fixture, jobs: usize, per_test: &[(&str, TestLimits)], opts: &TestOptions) -> Run {
    let names: Vec<String> = fx.list.tests.iter().map(|t| t.name.clone()).collect();
    let index = |name: &str| TestIdx(names.iter().position(|n| n == name).expect("test name"));
    let limits: HashMap<TestIdx, TestLimits> = per_test.iter().map(|(name, l)| (index(name), *l)).collect();
    let planned = fx.run_all();
    let phase = PhaseRun {
        name: "p".into(),
        planned: planned.clone(),
        jobs,
        timeout: Duration::from_secs(30),
        limits,
        continue_on_failure: false,
        unavailable: None,
    };
    let mut events = Vec::new();
    let stats = {
        let _guard = FORK_LOCK.read().unwrap_or_else(|e| e.into_inner());
        execute_phases(&fx.list, &[phase], &opts.exec, &CancelToken::new(), &mut |e| events.push(e.clone()))
    };
    checked_run(events, &stats, &planned, names)
}

impl Run {
    fn started_at(&self, name: &str) -> usize {
        self.position(|e| matches!(e, Event::TestStarted { test } if self.names[test.0] == name))
    }

    fn finished_at(&self, name: &str) -> usize {
        self.position(|e| matches!(e, Event::TestFinished { test, .. } if self.names[test.0] == name))
    }
}

/// Memory as the number of live processes that wrote their pid into `running.*` files of a
/// directory: each holds `per_process` of a `limit`, and every sample adds a byte so memory
/// is always "rising".
struct CountingSampler {
    dir: PathBuf,
    per_process: u64,
    limit: u64,
    samples: u64,
}

impl SampleMemory for CountingSampler {
    fn sample(&mut self) -> Option<MemorySample> {
        self.samples += 1;
        let live = std::fs::read_dir(&self.dir)
            .ok()?
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("running."))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter(|pid| {
                // Zombies have an empty command line: their memory is gone.
                std::fs::read(format!("/proc/{}/cmdline", pid.trim())).is_ok_and(|c| !c.is_empty())
            })
            .count() as u64;
        Some(MemorySample {
            used: live * self.per_process + self.samples,
            limit: self.limit,
            source: SampleSource::Cgroup,
        })
    }
}

#[test]
fn memory_pressure_stops_the_newest_test_and_reruns_it_alone() {
    let mut fx = Fixture::new();
    let dir = fx.path();
    let body =
        |name: &str| format!("echo $$ > '{dir}/running.{name}'; echo \"pid $$\"; sleep 0.5; echo done");
    let (a, b, c) = (body("a"), body("b"), body("c"));
    fx.libtest_binary("bin", &[("a", &a), ("b", &b), ("c", &c)]);
    // Two tests at once are 96% of the limit: critical. One is 48%: calm.
    let sampler = CountingSampler { dir: dir.clone().into(), per_process: 480, limit: 1000, samples: 0 };
    let memory =
        MemoryOptions { budget: Some(100 * GIB), default_limit: None, live: Some(LiveMemory::new(sampler)) };
    let opts = options(2).with(|o| o.memory = memory);
    let run = run_phase(&fx, 2, &[], &opts);

    for name in ["a", "b", "c"] {
        assert_eq!(run.status(name), TestStatus::Passed, "{name}: {}", run.result(name).output.to_text());
        assert_eq!(run.result(name).attempts, 1, "a re-run alone is not a retry");
    }
    // a and b start together; b, the newest, is stopped; nothing new starts beside a (it
    // and one more do not fit, whatever the estimates say); c follows a, and b runs last,
    // alone.
    let stopped: Vec<&str> = run.rescheduled().iter().map(|(name, _)| *name).collect();
    assert_eq!(stopped, ["b"], "{:#?}", run.events);
    let Reschedule::MemoryPressure { used, limit } = run.rescheduled()[0].1 else {
        panic!("{:?}", run.rescheduled())
    };
    assert!(*used >= 920 && *limit == 1000, "{used} of {limit}");
    assert_eq!(run.started(), ["a", "b", "c", "b"]);
    let last_start = |name: &str| {
        run.events
            .iter()
            .rposition(|e| matches!(e, Event::TestStarted { test } if run.names[test.0] == name))
            .expect("started")
    };
    assert!(run.finished_at("a") < run.started_at("c"));
    assert!(run.finished_at("c") < last_start("b"));
    assert_eq!(run.max_concurrency(), 2);
    assert_gone(&run, "b");
}

/// The memory guard stops a batch like a test: its running test runs again alone, with
/// the whole budget; its tests that never started run again; every test gets one result.
#[test]
fn memory_pressure_stops_a_batch_and_its_tests_run_again() {
    let mut fx = Fixture::new();
    let dir = fx.path();
    let body = format!("echo $$ > '{dir}/running.'$$; sleep 0.3");
    let names: Vec<String> = (0..8).map(|i| format!("t{i}")).collect();
    let cases: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), body.as_str())).collect();
    fx.batch_binary("bin", &cases);
    // Two processes at once are 96% of the limit: critical. One is 48%: calm.
    let sampler = CountingSampler { dir: dir.clone().into(), per_process: 480, limit: 1000, samples: 0 };
    let memory =
        MemoryOptions { budget: Some(100 * GIB), default_limit: None, live: Some(LiveMemory::new(sampler)) };
    let opts = options(2).with(|o| o.memory = memory);
    let all: Vec<usize> = (0..8).collect();
    let run =
        super::batches::run_phases(&fx, &[super::batches::phase("unit", &all, 2, opts.timeout)], &opts, None);

    for name in &names {
        assert_eq!(run.status(name), TestStatus::Passed, "{name}: {}", run.result(name).output.to_text());
        assert_eq!(run.result(name).attempts, 1, "a re-run alone is not a retry");
    }
    let stopped = run.rescheduled_where(|reason| matches!(reason, Reschedule::MemoryPressure { .. }));
    assert!(!stopped.is_empty(), "{:#?}", run.events);
    for name in stopped {
        assert!(run.result(name).peak_rss.is_some(), "{name} ran again in a process of its own");
    }
    assert!(run.max_concurrency() <= 2);
}

#[test]
fn a_test_past_its_memory_limit_is_killed_and_the_others_pass() {
    let mut fx = Fixture::new();
    // Grows without a bound the test sets (up to 800 MB in dash, if nothing stops it).
    let hog = "echo \"pid $$\"; x=$(head -c 400000000 /dev/zero | tr '\\0' a); echo \"survived ${#x}\"";
    fx.libtest_binary("bin", &[("ok1", "sleep 0.2"), ("hog", hog), ("ok2", "sleep 0.2")]);
    let memory = MemoryOptions { budget: Some(64 * GIB), default_limit: Some(64 * GIB), live: None };
    let opts = options(3).with(|o| o.memory = memory);
    let limit = 48 * MIB;
    let run = run_phase(&fx, 3, &[("hog", limits(MIB, Some(limit), false))], &opts);

    let TestStatus::MemoryExceeded { peak, limit: reported } = run.status("hog") else {
        panic!("{:?}: {}", run.status("hog"), run.result("hog").output.to_text())
    };
    assert_eq!(reported, limit);
    assert!(peak > limit, "peak {peak}");
    assert!(run.result("hog").peak_rss.is_some_and(|p| p > limit));
    assert!(!run.result("hog").output.to_text().contains("survived"));
    assert_gone(&run, "hog");
    for name in ["ok1", "ok2"] {
        assert_eq!(run.status(name), TestStatus::Passed);
    }
    assert!(run.status("hog").is_failure());
}

#[test]
fn a_test_over_the_budget_runs_alone_with_a_warning() {
    let mut fx = Fixture::new();
    fx.libtest_binary("bin", &[("a", "sleep 0.2"), ("big", "sleep 0.1"), ("c", "exit 0"), ("d", "exit 0")]);
    let memory = MemoryOptions { budget: Some(100 * MIB), default_limit: None, live: None };
    let opts = options(4).with(|o| o.memory = memory);
    let small = limits(10 * MIB, None, false);
    let per_test = [("a", small), ("big", limits(GIB, None, false)), ("c", small), ("d", small)];
    let run = run_phase(&fx, 4, &per_test, &opts);

    let warnings: Vec<_> = run
        .events
        .iter()
        .filter_map(|e| match e {
            Event::TestOverBudget { test, estimate, budget } => {
                Some((run.names[test.0].as_str(), *estimate, *budget))
            }
            _ => None,
        })
        .collect();
    assert_eq!(warnings, [("big", GIB, 100 * MIB)]);
    assert!(run.finished_at("a") < run.started_at("big"), "big waits for a");
    assert!(run.finished_at("big") < run.started_at("c"), "nothing starts beside big");
    assert!(run.started_at("c") < run.finished_at("d"), "small tests share the budget");
    assert_eq!(run.max_concurrency(), 2);
}

#[test]
fn estimates_bound_how_many_tests_run_at_once() {
    let mut fx = Fixture::new();
    let cases: Vec<(String, &str)> = (1..=6).map(|i| (format!("t{i}"), "sleep 0.1")).collect();
    let cases: Vec<(&str, &str)> = cases.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    fx.libtest_binary("bin", &cases);
    // 4 slots, but a budget for two 400 MiB tests.
    let memory = MemoryOptions { budget: Some(900 * MIB), default_limit: None, live: None };
    let opts = options(4).with(|o| o.memory = memory);
    let per_test: Vec<(&str, TestLimits)> =
        cases.iter().map(|(n, _)| (*n, limits(400 * MIB, None, false))).collect();
    let run = run_phase(&fx, 4, &per_test, &opts);
    assert_eq!(run.max_concurrency(), 2);
    for (name, _) in &cases {
        assert_eq!(run.status(name), TestStatus::Passed);
    }
}

#[test]
fn serial_tests_run_alone() {
    let mut fx = Fixture::new();
    fx.libtest_binary(
        "bin",
        &[("a", "sleep 0.1"), ("b", "sleep 0.1"), ("s", "sleep 0.1"), ("c", "sleep 0.1"), ("d", "sleep 0.1")],
    );
    let opts = options(4);
    let run = run_phase(&fx, 4, &[("s", limits(MIB, None, true))], &opts);
    assert!(run.finished_at("a") < run.started_at("s") && run.finished_at("b") < run.started_at("s"));
    assert!(run.finished_at("s") < run.started_at("c"));
    assert_eq!(run.max_concurrency(), 2, "c and d run together again");
}

#[test]
fn failed_tests_are_retried_and_flaky_ones_pass() {
    let mut fx = Fixture::new();
    let dir = fx.path();
    let flaky =
        format!("if [ -e '{dir}/tried' ]; then exit 0; fi; touch '{dir}/tried'; echo first; exit 101");
    fx.libtest_binary("bin", &[("flaky", &flaky), ("broken", "echo nope; exit 101"), ("fine", "exit 0")]);
    let opts = options(1).with(|o| {
        o.retries = 2;
        o.fail_fast = true;
    });
    let run = run_phase(&fx, 1, &[], &opts);

    assert_eq!(run.status("flaky"), TestStatus::Passed);
    assert_eq!(run.result("flaky").attempts, 2);
    assert!(run.result("flaky").is_flaky());
    assert_eq!(run.status("broken"), TestStatus::Failed { exit_code: Some(101) });
    assert_eq!(run.result("broken").attempts, 3);
    assert!(!run.result("broken").is_flaky());
    // The flaky failure did not trip fail-fast; the final failure of `broken` did.
    assert_eq!(run.status("fine"), TestStatus::NotRun { reason: crate::events::StopReason::FailFast });
    let retries: Vec<(&str, u32)> = run
        .rescheduled()
        .iter()
        .map(|(name, reason)| match reason {
            Reschedule::Retry { attempt, max_attempts: 3, .. } => (*name, *attempt),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(retries, [("flaky", 1), ("broken", 1), ("broken", 2)]);
    assert_eq!(run.started(), ["flaky", "flaky", "broken", "broken", "broken"]);
}

#[test]
fn small_tests_are_not_charged_the_runners_own_peak() {
    let mut fx = Fixture::new();
    fx.libtest_binary("bin", &[("small", "sleep 0.3")]);
    // Make sure this process's own peak is well above a shell's.
    let ballast = vec![1u8; 64 * MIB as usize];
    let run = run_phase(&fx, 1, &[], &options(1));
    std::hint::black_box(&ballast);
    let floor = crate::execute::process::own_peak_rss().expect("VmHWM");
    let peak = run.result("small").peak_rss.expect("measured");
    assert!(peak > 0 && peak < floor / 2, "peak {peak}, the runner's own peak {floor}");
}
