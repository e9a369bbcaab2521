//! Coverage per phase (issue 15, docs/coverage.md) through the real binary on
//! `fixtures/coverage`, whose `expected.toml` holds the figures measured by hand with
//! `llvm-cov export`:
//!
//! - check 1: each phase's own and cumulative lines, the totals and each file equal the
//!   expected figures in the summaries and the JSON report, and the lcov file names exactly
//!   the expected uncovered lines;
//! - check 3: a function added between two runs shows its file's delta, and
//!   `--coverage-diff HEAD~1` lists its uncovered lines;
//! - check 4: `--coverage-fail-under 99` exits 3 and still writes every report; the
//!   Cobertura file parses;
//! - check 5: without usable LLVM tools `--coverage` stops before building, with the install
//!   hint; without `--coverage` nothing of it happens.
//!
//! Each test gives its runs a target directory of its own: a coverage run empties its
//! profile directory when it starts, so two at once in one target directory would mix.
//! These tests need LLVM tools that read rustc's profiles (`.ci/run` installs them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use testplan_schema::coverage::{CoverageCounts, CoverageReport};

use crate::support::fixture::{Fixture, run_merged};
use crate::support::report::RunReport;

#[path = "../../../../fixtures/coverage/expected.rs"]
mod expected;
use expected::Expected;

fn expected() -> Expected {
    let path = crate::support::fixture::repo_root().join("fixtures/coverage/expected.toml");
    toml::from_str(&std::fs::read_to_string(&path).expect("expected.toml")).expect("expected.toml parses")
}

fn counts([covered, total]: [u64; 2]) -> CoverageCounts {
    CoverageCounts { covered, total }
}

/// The fixture with a target directory of its own, and where its outputs go.
struct CoverageRun {
    fixture: Fixture,
    target: PathBuf,
    out: PathBuf,
}

impl CoverageRun {
    fn new() -> CoverageRun {
        let fixture = Fixture::copy("fixtures/coverage");
        let target = fixture.scratch("target");
        let out = fixture.scratch("out");
        CoverageRun { fixture, target, out }
    }

    fn path(&self, name: &str) -> String {
        self.out.join(name).to_str().expect("utf-8 path").to_owned()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.fixture.testplan(args);
        cmd.env("CARGO_TARGET_DIR", &self.target);
        cmd
    }

    /// `run ARGS --report-json out/report.json`: exit code, output, report.
    fn run(&self, args: &[&str]) -> (Option<i32>, String, RunReport) {
        let report = self.path("report.json");
        let mut all = vec!["run"];
        all.extend(args);
        all.extend(["--report-json", &report]);
        let (code, text) = run_merged(&mut self.command(&all));
        (code, text.clone(), RunReport::load(Path::new(&report)))
    }
}

fn coverage_of(report: &RunReport) -> &CoverageReport {
    report.coverage.as_ref().expect("the report has coverage")
}

/// `DA:<line>,0` lines of each `SF` block, by file.
fn lcov_uncovered(text: &str) -> BTreeMap<String, Vec<u32>> {
    let mut files: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let mut file = String::new();
    for line in text.lines() {
        if let Some(path) = line.strip_prefix("SF:") {
            file = path.to_owned();
            files.entry(file.clone()).or_default();
        } else if let Some(zero) = line.strip_prefix("DA:").and_then(|r| r.strip_suffix(",0")) {
            files.entry(file.clone()).or_default().push(zero.parse().expect("DA line number"));
        }
    }
    files
}

#[test]
fn each_phase_covers_what_llvm_cov_says() {
    let run = CoverageRun::new();
    let lcov = run.path("lcov.info");
    let (code, text, report) = run.run(&["--coverage", "--coverage-lcov", &lcov]);
    assert_eq!(code, Some(0), "{text}");
    let expected = expected();
    let coverage = coverage_of(&report);
    let phases: Vec<(&str, CoverageCounts, CoverageCounts)> =
        coverage.phases.iter().map(|p| (p.name.as_str(), p.own.lines, p.cumulative.lines)).collect();
    let want: Vec<(&str, CoverageCounts, CoverageCounts)> =
        expected.phase.iter().map(|p| (p.name.as_str(), counts(p.lines), counts(p.cumulative))).collect();
    assert_eq!(phases, want, "{text}");
    assert_eq!(coverage.total.lines, counts(expected.total.lines));
    assert_eq!(coverage.total.functions, counts(expected.total.functions));
    assert_eq!(coverage.total.regions, counts(expected.total.regions));
    let files: BTreeMap<&str, [CoverageCounts; 3]> = coverage
        .files
        .iter()
        .map(|f| (f.path.as_str(), [f.figures.lines, f.figures.functions, f.figures.regions]))
        .collect();
    let want: BTreeMap<&str, [CoverageCounts; 3]> = expected
        .files
        .iter()
        .map(|(path, f)| (path.as_str(), [counts(f.lines), counts(f.functions), counts(f.regions)]))
        .collect();
    assert_eq!(files, want);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.path("report.json")).expect("report"))
            .expect("json");
    let schema = crate::slow::reports::json_schema::report_schema();
    assert_eq!(crate::slow::reports::json_schema::validate(&schema, &written), Vec::<String>::new());

    // The summaries say the same: the first phase alone, each later one against the phases
    // before it, and the run.
    for line in [
        "Coverage:  lines 43.9% (18/41)",
        "Coverage:  unit 43.9% · +integration → 70.7% (+26.8)",
        "integration alone: lines 26.8% (11/41)",
        "Coverage:  unit+integration 70.7% · +doc → 80.5% (+9.8)",
        "doc alone: lines 9.8% (4/41)",
        "Coverage: lines 80.5% (33/41) · functions 87.5% (7/8) · regions 74.1% (40/54)",
    ] {
        assert!(text.contains(line), "no `{line}` in:\n{text}");
    }

    let lcov = std::fs::read_to_string(&lcov).expect("lcov file");
    let root = run.fixture.root().canonicalize().expect("root");
    let want: BTreeMap<String, Vec<u32>> = expected
        .files
        .iter()
        .map(|(path, f)| (root.join(path).to_str().expect("utf-8").to_owned(), f.uncovered.clone()))
        .collect();
    assert_eq!(lcov_uncovered(&lcov), want, "{lcov}");
}

#[test]
fn a_failed_gate_exits_3_after_every_report_is_written() {
    let run = CoverageRun::new();
    let (lcov, cobertura, junit, markdown) =
        (run.path("lcov.info"), run.path("coverage.xml"), run.path("junit.xml"), run.path("summary.md"));
    let html = run.path("html");
    let args = [
        "--coverage-fail-under",
        "99",
        "--coverage-lcov",
        &lcov,
        "--coverage-cobertura",
        &cobertura,
        "--junit",
        &junit,
        "--markdown",
        &markdown,
        "--coverage-html",
        &html,
    ];
    let (code, text, report) = run.run(&args);
    assert_eq!(code, Some(3), "{text}");
    let gate = "line coverage 80.49% is under the minimum 99%";
    assert_eq!(coverage_of(&report).failed_gates, [gate]);
    assert!(text.contains(&format!("Coverage gate failed: {gate}")), "{text}");
    assert_eq!(text.lines().last(), Some("5 passed, 0 failed, 0 skipped"), "{text}");
    for path in [&lcov, &cobertura, &junit, &markdown] {
        assert!(Path::new(path).is_file(), "{path} was not written:\n{text}");
    }
    let md = std::fs::read_to_string(&markdown).expect("markdown");
    assert!(md.contains("### Coverage: lines 80.5% (33/41)"), "{md}");
    assert!(md.contains(&format!("❌ Coverage gate failed: {gate}")), "{md}");
    assert_eq!(cobertura_totals(&std::fs::read(&cobertura).expect("cobertura")), (33, 41, 41));
    // llvm-cov's HTML report covers the measured files, not the test code.
    let index = std::fs::read_to_string(Path::new(&html).join("index.html")).expect("html index");
    assert!(index.contains("src/lib.rs") && index.contains("src/main.rs"), "{index}");
    assert!(!index.contains("tests/api.rs"), "{index}");
}

/// `lines-covered`, `lines-valid` and the number of `<line>` elements of a Cobertura
/// document, which must parse.
fn cobertura_totals(xml: &[u8]) -> (u64, u64, u64) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let (mut totals, mut lines) = ((0, 0), 0);
    loop {
        match reader.read_event_into(&mut buf).expect("Cobertura parses") {
            Event::Eof => break,
            Event::Start(e) if e.name().as_ref() == b"coverage" => {
                let attr = |name: &str| -> u64 {
                    let value = e.try_get_attribute(name).expect("attribute").expect(name);
                    String::from_utf8_lossy(&value.value).parse().expect("a number")
                };
                totals = (attr("lines-covered"), attr("lines-valid"));
            }
            Event::Empty(e) if e.name().as_ref() == b"line" => lines += 1,
            _ => {}
        }
        buf.clear();
    }
    (totals.0, totals.1, lines)
}

/// A function added (and committed) after a first run: the second run names its file's
/// change since the first, and its uncovered lines as changed since `HEAD~1`.
#[test]
fn a_changed_function_shows_its_delta_and_its_uncovered_lines() {
    let run = CoverageRun::new();
    let root = run.fixture.root().to_path_buf();
    git(&root, &["init", "-q"]);
    git(&root, &["add", "."]);
    git(&root, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "first"]);
    let (code, text, _) = run.run(&["--coverage"]);
    assert_eq!(code, Some(0), "{text}");

    let lib = root.join("src/lib.rs");
    let before = std::fs::read_to_string(&lib).expect("lib.rs");
    let added = "\n/// Added between the runs, never called.\npub fn added_later(x: u32) -> u32 {\n    let doubled = x * 2;\n    doubled + 1\n}\n";
    std::fs::write(&lib, format!("{before}{added}")).expect("write lib.rs");
    git(&root, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-am", "second"]);
    let lcov = run.path("lcov.info");
    let (code, text, report) =
        run.run(&["--coverage", "--coverage-diff", "HEAD~1", "--coverage-lcov", &lcov]);
    assert_eq!(code, Some(0), "{text}");
    let coverage = coverage_of(&report);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.path("report.json")).expect("report"))
            .expect("json");
    let schema = crate::slow::reports::json_schema::report_schema();
    assert_eq!(crate::slow::reports::json_schema::validate(&schema, &written), Vec::<String>::new());

    // The new lines are the instrumented lines past the old end of the file, none covered.
    let old_end = u32::try_from(before.lines().count()).expect("line count");
    let lib_key = root.canonicalize().expect("root").join("src/lib.rs").to_str().expect("utf-8").to_owned();
    let uncovered = lcov_uncovered(&std::fs::read_to_string(&lcov).expect("lcov"));
    let new_lines: Vec<u32> = uncovered[&lib_key].iter().copied().filter(|&l| l > old_end).collect();
    assert!(!new_lines.is_empty(), "the added function is instrumented:\n{text}");

    let delta = coverage.delta.as_ref().expect("a delta against the first run");
    let lib_delta = delta.files.iter().find(|f| f.path == "src/lib.rs").expect("src/lib.rs changed");
    let added_lines = new_lines.len() as u64;
    assert_eq!(lib_delta.before, Some(CoverageCounts { covered: 26, total: 32 }));
    assert_eq!(lib_delta.after, Some(CoverageCounts { covered: 26, total: 32 + added_lines }));
    assert_eq!(delta.files.len(), 1, "only src/lib.rs changed: {:?}", delta.files);
    assert!(text.contains("Coverage since last run: 80.5% → "), "{text}");
    assert!(text.contains(": src/lib.rs 81.2 → "), "{text}");

    let changed = coverage.changed.as_ref().expect("changed lines");
    assert_eq!(changed.base, "HEAD~1");
    assert_eq!(changed.lines, CoverageCounts { covered: 0, total: added_lines });
    let listed: Vec<(&str, u32)> = changed.uncovered.iter().map(|l| (l.file.as_str(), l.line)).collect();
    let want: Vec<(&str, u32)> = new_lines.iter().map(|&l| ("src/lib.rs", l)).collect();
    assert_eq!(listed, want);
    let first = format!("src/lib.rs:{}", new_lines[0]);
    assert!(
        text.contains(&format!(
            "Changed lines since HEAD~1: 0 of {added_lines} covered (0.0%); not covered: {first}"
        )),
        "{text}"
    );
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git").args(args).current_dir(dir).status().expect("git runs");
    assert!(status.success(), "git {args:?}: {status}");
}

#[test]
fn without_usable_tools_coverage_stops_before_building() {
    let run = CoverageRun::new();
    let mut cmd = run.command(&["run", "--coverage"]);
    cmd.env("LLVM_PROFDATA", "/nonexistent/llvm-profdata").env("LLVM_COV", "/nonexistent/llvm-cov");
    let (code, text) = run_merged(&mut cmd);
    assert_eq!(code, Some(96), "{text}");
    assert!(
        text.contains(
            "error: no LLVM coverage tools that read this rustc's profiles (tried /nonexistent/llvm-profdata:"
        ),
        "{text}"
    );
    assert!(text.contains("`rustup component add llvm-tools-preview`"), "{text}");
    assert!(text.contains("`apt-get install llvm-19`"), "{text}");
    assert!(!text.contains("Compiling"), "nothing is built:\n{text}");
    assert!(!run.target.join("testplan/coverage/target").exists(), "no instrumented build");
}

#[test]
fn without_coverage_nothing_of_it_happens() {
    let run = CoverageRun::new();
    let (code, text, report) = run.run(&[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(report.coverage.is_none());
    assert!(!text.contains("Coverage"), "{text}");
    assert!(!run.target.join("testplan/coverage").exists(), "no coverage state without --coverage");
}

/// `[coverage]` in testplan.toml: coverage without the option, and a phase's minimum on what
/// its tests cover alone.
#[test]
fn the_configuration_turns_coverage_on_and_sets_phase_minimums() {
    let run = CoverageRun::new();
    let config = "[coverage]\nenabled = true\nphase-minimum = { unit = 50, doc = 5 }\n";
    std::fs::write(run.fixture.root().join("testplan.toml"), config).expect("write testplan.toml");
    let (code, text, report) = run.run(&[]);
    assert_eq!(code, Some(3), "{text}");
    let gate = "phase unit covers 43.90% on its own, under its minimum 50%";
    assert_eq!(coverage_of(&report).failed_gates, [gate]);
    assert!(text.contains(&format!("Coverage gate failed: {gate}")), "{text}");
}
