//! Synthetic runs for the reporters' tests: a small test list, the events of a run with
//! every status, and report entries made to order.

use std::time::Duration;

use testplan_runner::events::{Event, RunStats, TestResult, TestStatus};
use testplan_runner::model::{TestCase, TestIdx, TestList};
use testplan_runner::output::CapturedOutput;
use testplan_runner::testing::{TestListBuilder, test_case};
use testplan_schema::{ReportStatus, RunReport, SourceLocation, TargetKind, TestReport};

use crate::json::{JsonReportBuilder, RunMeta, TestAnnotation};

/// A report entry of binary `binary` (kind lib).
pub fn test_report(binary: &str, name: &str, status: ReportStatus, secs: f64) -> TestReport {
    TestReport {
        binary_id: binary.to_owned(),
        package: binary.to_owned(),
        kind: TargetKind::Lib,
        name: name.to_owned(),
        status,
        exit_code: None,
        signal: None,
        skip_reason: None,
        duration_secs: secs,
        peak_rss_bytes: None,
        leaked_processes: false,
        source: None,
        package_dir: None,
        output: None,
        phase: None,
        markers: Vec::new(),
        marker_sources: Vec::new(),
        attempts: 1,
        flaky: false,
        time_budget_secs: None,
        failed_attempts: Vec::new(),
        cached: false,
    }
}

/// A report holding `tests`, with counts.
pub fn report_of(tests: Vec<TestReport>) -> RunReport {
    let mut report = RunReport::new("0.1.0", vec!["cargo".to_owned(), "testplan".to_owned()], 1000.0);
    report.counts = testplan_schema::ReportCounts::of_tests(&tests);
    report.tests = tests;
    report
}

/// One synthetic test: binary index, name, source line, phase, markers, budget, result.
struct Spec {
    binary: usize,
    name: &'static str,
    line: u32,
    phase: &'static str,
    markers: &'static [&'static str],
    budget: Option<u64>,
    status: TestStatus,
    millis: u64,
    rss_mib: Option<u64>,
    output: &'static str,
}

const fn spec(
    binary: usize,
    name: &'static str,
    line: u32,
    phase: &'static str,
    status: TestStatus,
    millis: u64,
) -> Spec {
    Spec {
        binary,
        name,
        line,
        phase,
        markers: &["unit"],
        budget: Some(5),
        status,
        millis,
        rss_mib: Some(3),
        output: "",
    }
}

fn specs() -> Vec<Spec> {
    vec![
        spec(0, "tests::passes", 3, "unit", TestStatus::Passed, 12),
        Spec {
            output: "thread 'tests::fails' panicked at src/lib.rs:14:9:\nassertion `left == right` failed\n  left: 1\n right: 2\n",
            ..spec(0, "tests::fails", 12, "unit", TestStatus::Failed { exit_code: Some(101) }, 30)
        },
        Spec {
            rss_mib: None,
            ..spec(0, "tests::zz_segfaults", 20, "unit", TestStatus::Crashed { signal: 11 }, 5)
        },
        Spec {
            output: "started\n",
            ..spec(
                0,
                "tests::hangs",
                25,
                "unit",
                TestStatus::TimedOut { after: Duration::from_secs(5) },
                5000,
            )
        },
        Spec {
            rss_mib: Some(1100),
            ..spec(
                0,
                "tests::eats_memory",
                30,
                "unit",
                TestStatus::MemoryExceeded { peak: 1100 << 20, limit: 1 << 30 },
                800,
            )
        },
        Spec {
            rss_mib: None,
            ..spec(
                0,
                "tests::needs_network",
                35,
                "unit",
                TestStatus::Skipped { reason: "ignored: needs network".to_owned() },
                0,
            )
        },
        Spec {
            rss_mib: Some(40),
            ..spec(0, "tests::takes_seven_seconds", 40, "unit", TestStatus::Passed, 7000)
        },
        Spec {
            markers: &["integration"],
            budget: Some(30),
            ..spec(1, "end_to_end_parse", 5, "integration", TestStatus::Passed, 250)
        },
        Spec {
            markers: &["integration"],
            budget: Some(30),
            ..spec(1, "reads_fixture", 9, "integration", TestStatus::Passed, 120)
        },
        Spec {
            markers: &["doc"],
            budget: Some(10),
            rss_mib: None,
            ..spec(2, "src/lib.rs - add (line 7)", 7, "doc", TestStatus::Passed, 400)
        },
        Spec {
            markers: &["integration", "slow"],
            budget: None,
            ..spec(1, "slow::big_batch", 20, "slow", TestStatus::Passed, 2500)
        },
        Spec {
            markers: &["integration", "slow"],
            budget: None,
            ..spec(1, "slow::not_so_big", 30, "slow", TestStatus::Passed, 100)
        },
        Spec {
            markers: &["integration", "requires-gpu"],
            budget: None,
            rss_mib: None,
            ..spec(1, "gpu::kernel_runs", 40, "gpu", skipped_gpu(), 0)
        },
    ]
}

fn skipped_gpu() -> TestStatus {
    TestStatus::Skipped { reason: "requires a GPU; none detected (no nvidia-smi on PATH)".to_owned() }
}

/// A test list with binaries `alpha` (lib), `alpha::api` (test), `alpha::doc` (doc).
pub fn test_list() -> TestList {
    let builder = TestListBuilder::new()
        .workspace("/ws")
        .package("alpha 0.1.0", "alpha", "/ws/crates/alpha")
        .binary("alpha", TargetKind::Lib)
        .binary_named("alpha::api", "api", TargetKind::Test)
        .binary("alpha::doc", TargetKind::Doc);
    let tests = specs().into_iter().map(|s| TestCase {
        source: Some(SourceLocation {
            file: if s.binary == 1 { "tests/api.rs".to_owned() } else { "src/lib.rs".to_owned() },
            line: s.line,
        }),
        ..test_case(s.binary, s.name)
    });
    tests.fold(builder, TestListBuilder::test_case).build()
}

/// Phase, markers and budget of every test of [`test_list`].
pub fn annotations() -> Vec<TestAnnotation> {
    specs()
        .iter()
        .map(|s| TestAnnotation {
            phase: Some(s.phase.to_owned()),
            markers: s.markers.iter().map(|m| (*m).to_owned()).collect(),
            marker_sources: Vec::new(),
            time_budget: s.budget.map(Duration::from_secs),
        })
        .collect()
}

/// The events of a run of [`test_list`]: phases unit, integration, doc and slow run; gpu
/// is skipped; every status occurs.
pub fn every_status_events() -> Vec<Event> {
    let specs = specs();
    let mut events = vec![Event::RunStarted { tests: specs.len(), binaries: 3, jobs: 2 }];
    let mut run = RunStats { total: specs.len(), ..RunStats::default() };
    let phases = ["unit", "integration", "doc", "slow", "gpu"];
    for (index, phase) in phases.iter().enumerate() {
        let of_phase: Vec<(usize, &Spec)> =
            specs.iter().enumerate().filter(|(_, s)| s.phase == *phase).collect();
        let name = (*phase).to_owned();
        if *phase == "gpu" {
            let reason = "requires a GPU; none detected (no nvidia-smi on PATH)".to_owned();
            events.push(Event::PhaseSkipped { index, name, tests: of_phase.len(), reason });
            for (i, s) in &of_phase {
                run.record(&s.status);
                events.push(finished(*i, s));
            }
            continue;
        }
        events.push(Event::PhaseStarted { index, name: name.clone(), tests: of_phase.len(), jobs: 2 });
        let mut stats = RunStats { total: of_phase.len(), ..RunStats::default() };
        for (i, s) in &of_phase {
            if !matches!(s.status, TestStatus::Skipped { .. }) {
                events.push(Event::TestStarted { test: TestIdx(*i) });
            }
            stats.record(&s.status);
            run.record(&s.status);
            events.push(finished(*i, s));
        }
        let duration = Duration::from_millis(of_phase.iter().map(|(_, s)| s.millis).sum::<u64>() / 2);
        events.push(Event::PhaseFinished { index, name, stats, duration, stopped: None });
    }
    events.push(Event::RunFinished { stats: run, duration: Duration::from_millis(9876), stopped: None });
    events
}

fn finished(i: usize, s: &Spec) -> Event {
    let output = CapturedOutput { head: s.output.as_bytes().to_vec(), tail: Vec::new(), elided: 0 };
    let result = TestResult {
        status: s.status.clone(),
        duration: Duration::from_millis(s.millis),
        peak_rss: s.rss_mib.map(|m| m << 20),
        output,
        leaked_processes: false,
        attempts: u32::from(!matches!(s.status, TestStatus::Skipped { .. })),
        cached: false,
    };
    Event::TestFinished { test: TestIdx(i), result: Box::new(result) }
}

/// The run report of [`every_status_events`].
pub fn every_status_report() -> RunReport {
    let list = test_list();
    let meta = RunMeta {
        profile: Some("run".to_owned()),
        jobs_reason: Some("2 CPUs".to_owned()),
        phase_positions: ["unit", "integration", "doc", "slow", "models", "gpu"]
            .iter()
            .enumerate()
            .map(|(i, p)| ((*p).to_owned(), i))
            .collect(),
        ..RunMeta::default()
    };
    let mut builder =
        JsonReportBuilder::new(&list, vec!["cargo".to_owned(), "testplan".to_owned(), "run".to_owned()])
            .with_annotations(annotations())
            .with_meta(meta);
    for event in every_status_events() {
        builder.handle(&event);
    }
    let mut report = builder.finish();
    report.started_at_unix = 1_700_000_000.0;
    report
}
