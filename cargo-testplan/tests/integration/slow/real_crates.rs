//! Check 2 of the walking-skeleton issue: on published crates with real test suites, the
//! (binary, test) pairs that `cargo testplan run --run-ignored all --no-fail-fast` executes,
//! and their outcomes, equal those of `cargo test --no-fail-fast -- --include-ignored`,
//! doctests included. It is slow::equality's comparison without an expected.toml: nothing is
//! known in advance about these suites except that both runners must agree (and on the exit
//! code: 0 for both, or a failure for both).
//!
//! The crates are [`PINNED`], or those `TESTPLAN_REAL_CRATES` names (set by
//! scripts/compare-real-crate.sh): whitespace-separated crate directories, `NAME@VERSION` or
//! `NAME` (newest). Sources come from cargo's registry cache and are fetched into it when
//! missing (support::registry); building them downloads their dev-dependencies. Hence the
//! ignore: plain runs stay offline. Each crate is copied to a temporary directory and built
//! in its own shared target dir (`target/tmp/fixtures/crate-NAME-VERSION`).
//!
//! Prints one Markdown table row per crate (tests per kind, outcomes under both runners,
//! wall times), the rows docs/real-crates.md records. Wall times are after the build
//! (timed separately, and warm when the target dir already has it); `cargo test` runs
//! twice: once with its default threads, for timing, once with `--test-threads=1`, which
//! the output parser needs (support::cargo_test), for the comparison.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::support::cargo_test::{CargoOutcome, CargoRun, build_binary_map, run_cargo_test};
use crate::support::compare::{assert_no_problems, is_summary_line, last_line, report_vs_cargo};
use crate::support::expected::ExpectedFile;
use crate::support::fixture::{Fixture, run_merged, run_output};
use crate::support::registry::{self, CrateSource};
use crate::support::report::{ListDocument, RunReport};

/// Crates compared by default: small enough to build in under a minute on 2 cores, with
/// unit, integration and doctests between them, a build script and `no_run` doctests
/// (camino), `compile_fail` doctests, and an `ignore` doctest that fails to compile once
/// `--include-ignored` runs it (once_cell: both runners must report it failed). More in
/// docs/real-crates.md.
const PINNED: &[&str] = &["semver@1.0.28", "strsim@0.11.1", "camino@1.2.6", "once_cell@1.21.4"];

/// Hard timeout per test for cargo-testplan: generous, nothing here comes near it.
const TIMEOUT: &str = "300s";

#[test]
#[ignore = "requires-network: needs crates.io sources"]
fn published_crates_same_tests_and_outcomes_as_cargo_test() {
    let specs = requested_crates();
    let mut rows = vec![TABLE_HEADER.to_owned()];
    let (mut problems, mut outputs) = (Vec::new(), Vec::new());
    for spec in &specs {
        let source = registry::resolve(spec);
        // A crate that does not build here (or another panic) is reported, and the others
        // are still compared; the panic's message is above.
        let result = std::panic::catch_unwind(|| compare_crate(&source)).unwrap_or_else(|_| CrateResult {
            row: format!(
                "| {} | {} | comparison aborted: see the panic above |",
                source.name, source.version
            ),
            problems: vec!["comparison aborted: see the panic above".to_owned()],
            outputs: Vec::new(),
        });
        println!("{}", result.row);
        rows.push(result.row);
        let label = format!("{} {}", source.name, source.version);
        if !result.problems.is_empty() {
            problems.extend(result.problems.iter().map(|p| format!("{label}: {p}")));
            outputs.extend(result.outputs.into_iter().map(|(name, text)| (format!("{label}: {name}"), text)));
        }
    }
    println!("\n{}", rows.join("\n"));
    let outputs: Vec<(&str, &str)> = outputs.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    assert_no_problems("published crates: cargo test vs cargo-testplan", &problems, &outputs);
}

fn requested_crates() -> Vec<String> {
    let named = std::env::var("TESTPLAN_REAL_CRATES").unwrap_or_default();
    let specs: Vec<String> = named.split_whitespace().map(str::to_owned).collect();
    if specs.is_empty() { PINNED.iter().map(|s| (*s).to_owned()).collect() } else { specs }
}

/// What comparing one crate gave.
struct CrateResult {
    /// Its table row.
    row: String,
    /// Disagreements (empty: the runners agree).
    problems: Vec<String>,
    /// The outputs that explain them.
    outputs: Vec<(String, String)>,
}

const TABLE_HEADER: &str = "| crate | version | unit | integration | doc | ignored | cargo test: passed / failed / ignored | \
     cargo-testplan: passed / failed / skipped | build | cargo test | cargo test, 1 thread | cargo-testplan | agree |\n\
     |---|---|---|---|---|---|---|---|---|---|---|---|---|";

fn compare_crate(source: &CrateSource) -> CrateResult {
    let fixture = Fixture::copy_from(&source.dir, &format!("crate-{}-{}", source.name, source.version));
    registry::ensure_own_workspace(fixture.root());
    let (map, build_time) = timed(|| build_binary_map(&fixture));
    let (_, cargo_default_time) =
        timed(|| run_merged(&mut fixture.cargo(&["test", "--no-fail-fast", "--", "--include-ignored"])));
    let (cargo, cargo_time) =
        timed(|| run_cargo_test(&fixture, &map, &["--include-ignored", "--test-threads=1"]));

    let report_path = fixture.scratch("out").join("report.json");
    let report_arg = report_path.to_str().expect("utf-8 temp path");
    let args =
        ["run", "--run-ignored", "all", "--no-fail-fast", "--timeout", TIMEOUT, "--report-json", report_arg];
    let (out, testplan_time) = timed(|| run_output(&mut fixture.testplan(&args)));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        report_path.is_file(),
        "{}: cargo-testplan wrote no report (exit {:?})\n{stderr}",
        source.name,
        out.status.code()
    );
    let report = RunReport::load(&report_path);
    let listed = list_document(&fixture);

    let no_expectations = ExpectedFile { cargo_test_skip: Vec::new(), test: Vec::new() };
    let mut problems = report_vs_cargo(&no_expectations, &cargo, &report);
    let (cargo_ok, testplan_ok) = (cargo.exit_code == Some(0), out.status.code() == Some(0));
    if cargo_ok != testplan_ok {
        problems.push(format!(
            "cargo test exited {:?}, cargo-testplan {:?}",
            cargo.exit_code,
            out.status.code()
        ));
    }
    if !is_summary_line(last_line(&stdout)) {
        problems.push(format!("cargo-testplan's last line is {:?}", last_line(&stdout)));
    }
    let times = Times {
        build: build_time,
        cargo_default: cargo_default_time,
        cargo: cargo_time,
        testplan: testplan_time,
    };
    let row = table_row(source, &listed, &cargo, &report, &times, problems.is_empty());
    let outputs = vec![
        ("cargo test".to_owned(), cargo.output.clone()),
        ("cargo-testplan stdout".to_owned(), stdout.into_owned()),
        ("cargo-testplan stderr".to_owned(), stderr.into_owned()),
    ];
    CrateResult { row, problems, outputs }
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

/// `cargo testplan list --message-format json`: what each binary holds, by kind.
fn list_document(fixture: &Fixture) -> ListDocument {
    let out = run_output(&mut fixture.testplan(&["list", "--message-format", "json"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "list failed\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("list JSON: {e}\n{stdout}"))
}

/// Wall times of one crate's runs.
struct Times {
    build: Duration,
    cargo_default: Duration,
    cargo: Duration,
    testplan: Duration,
}

fn table_row(
    source: &CrateSource,
    listed: &ListDocument,
    cargo: &CargoRun,
    report: &RunReport,
    times: &Times,
    agree: bool,
) -> String {
    let per_kind = |kinds: &[&str]| -> usize {
        listed.binaries.iter().filter(|b| kinds.contains(&b.kind.as_str())).map(|b| b.tests.len()).sum()
    };
    let ignored: usize = listed.binaries.iter().flat_map(|b| &b.tests).filter(|t| t.ignored).count();
    let cargo_count = |f: fn(&CargoOutcome) -> bool| cargo.results.values().filter(|o| f(o)).count();
    let report_count =
        |statuses: &[&str]| report.tests.iter().filter(|t| statuses.contains(&t.status.as_str())).count();
    let mut row = format!("| {} | {} ", source.name, source.version);
    let _ = write!(
        row,
        "| {} | {} | {} | {ignored} | {} / {} / {} | {} / {} / {} ",
        per_kind(&["lib", "bin", "proc-macro"]),
        per_kind(&["test"]),
        per_kind(&["doc"]),
        cargo_count(|o| *o == CargoOutcome::Ok),
        cargo_count(|o| matches!(
            o,
            CargoOutcome::Failed | CargoOutcome::Crashed(_) | CargoOutcome::Exited(_)
        )),
        cargo_count(|o| matches!(o, CargoOutcome::Ignored(_))),
        report_count(&["passed"]),
        report_count(&["failed", "crashed", "timed-out"]),
        report_count(&["skipped", "not-run"]),
    );
    let secs = |d: Duration| format!("{:.1} s", d.as_secs_f64());
    let _ = write!(
        row,
        "| {} | {} | {} | {} | {} |",
        secs(times.build),
        secs(times.cargo_default),
        secs(times.cargo),
        secs(times.testplan),
        if agree { "yes" } else { "NO" }
    );
    row
}
