//! What the plan tests share: each test's expected phase and markers (the `phase`,
//! `markers` and `plain_ignored` keys of a fixture's expected.toml), the parts of the run
//! report and the list document that carry phases and markers, and running a command with a
//! report in a fresh scratch file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use serde::Deserialize;

use crate::support::cargo_test::TestKey;
use crate::support::fixture::{Fixture, run_output};

/// The `phase` value of a test no phase selects.
pub const NOT_IN_PLAN: &str = "not in plan";

/// The plan-related keys of expected.toml.
#[derive(Debug, Deserialize)]
struct PlanFile {
    test: Vec<PlanTest>,
}

/// One test's place in the plan, as expected.toml writes it down.
#[derive(Debug, Deserialize)]
pub struct PlanTest {
    /// nextest-style binary id.
    pub binary: String,
    /// Test name.
    pub name: String,
    /// Its phase, or [`NOT_IN_PLAN`].
    pub phase: String,
    /// Its markers, sorted (only where the fixture writes them down).
    pub markers: Option<Vec<String>>,
    /// Skipped by `run`, run by `full`.
    #[serde(default)]
    pub plain_ignored: bool,
}

impl PlanTest {
    /// The key tests are compared by.
    pub fn key(&self) -> TestKey {
        (self.binary.clone(), self.name.clone())
    }
}

/// Reads the plan keys of `<workspace>/expected.toml`; every test must have a `phase`.
pub fn load_plan(fixture: &Fixture) -> Vec<PlanTest> {
    let path = fixture.root().join("expected.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: PlanFile = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.test
}

/// Keys of the expected tests that satisfy `keep`.
pub fn keys_where(plan: &[PlanTest], keep: impl Fn(&PlanTest) -> bool) -> BTreeSet<TestKey> {
    plan.iter().filter(|t| keep(t)).map(PlanTest::key).collect()
}

/// The run report's phases and tests (docs/report-schema.md), the fields these tests use.
#[derive(Debug, Deserialize)]
pub struct PlanReport {
    /// Phases in run order.
    pub phases: Vec<PhaseEntry>,
    /// Tests in the order they finished.
    pub tests: Vec<TestEntry>,
    /// Tests the filters select but no phase does.
    #[serde(default)]
    pub not_in_plan: Vec<TestRef>,
}

/// A test named by the report outside `tests`.
#[derive(Debug, Deserialize)]
pub struct TestRef {
    /// nextest-style binary id.
    pub binary_id: String,
    /// Test name.
    pub name: String,
}

/// One phase of the report.
#[derive(Debug, Deserialize)]
pub struct PhaseEntry {
    /// Its name.
    pub name: String,
    /// `passed`, `failed`, `skipped`.
    pub status: String,
    /// Why it was skipped.
    #[serde(default)]
    pub reason: Option<String>,
    /// Its counts.
    pub counts: PhaseCounts,
}

/// A phase's counts.
#[derive(Debug, Deserialize)]
pub struct PhaseCounts {
    /// Tests planned in it.
    pub total: usize,
}

/// One test of the report.
#[derive(Debug, Deserialize)]
pub struct TestEntry {
    /// nextest-style binary id.
    pub binary_id: String,
    /// Test name.
    pub name: String,
    /// `passed`, `skipped`, ...
    pub status: String,
    /// Why it was skipped.
    #[serde(default)]
    pub skip_reason: Option<String>,
    /// The phase it ran (or was skipped) in.
    #[serde(default)]
    pub phase: Option<String>,
    /// Its markers.
    #[serde(default)]
    pub markers: Vec<String>,
}

impl TestEntry {
    /// The key tests are compared by.
    pub fn key(&self) -> TestKey {
        (self.binary_id.clone(), self.name.clone())
    }
}

impl PlanReport {
    /// Names of the phases, in report order.
    pub fn phase_names(&self) -> Vec<&str> {
        self.phases.iter().map(|p| p.name.as_str()).collect()
    }

    /// The phase of this name.
    pub fn phase(&self, name: &str) -> &PhaseEntry {
        self.phases.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no phase {name} in {self:#?}"))
    }

    /// Tests by key; a test reported twice is an error.
    pub fn by_key(&self) -> BTreeMap<TestKey, &TestEntry> {
        let mut map = BTreeMap::new();
        for test in &self.tests {
            assert!(map.insert(test.key(), test).is_none(), "report lists {:?} twice", test.key());
        }
        map
    }

    /// Keys of the reported tests with this status.
    pub fn keys_with_status(&self, status: &str) -> BTreeSet<TestKey> {
        self.tests.iter().filter(|t| t.status == status).map(TestEntry::key).collect()
    }
}

/// A finished command: exit code, stdout, stderr, and the report if one was written.
#[derive(Debug)]
pub struct Ran {
    /// Exit code.
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Where `--report-json` pointed.
    pub report_path: PathBuf,
}

impl Ran {
    /// The report; panics (with the output) when none was written.
    pub fn report(&self) -> PlanReport {
        let text = std::fs::read_to_string(&self.report_path)
            .unwrap_or_else(|e| panic!("no report at {}: {e}\n{self}", self.report_path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("report: {e}\n{text}"))
    }

    /// Asserts the exit code, showing the output when it differs.
    pub fn assert_code(&self, code: i32) -> &Ran {
        assert_eq!(self.code, Some(code), "exit code\n{self}");
        self
    }

    /// The last line of stdout.
    pub fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or_default()
    }
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "--- exit {:?}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Runs `cargo testplan ARGS --report-json <fresh scratch file>`.
pub fn run_with_report(fixture: &Fixture, args: &[&str]) -> Ran {
    run_cmd_with_report(fixture, args, |_| {})
}

/// Like [`run_with_report`], letting `adjust` change the command (environment) first.
pub fn run_cmd_with_report(fixture: &Fixture, args: &[&str], adjust: impl FnOnce(&mut Command)) -> Ran {
    let report_path = fresh_report_path(fixture);
    let report_arg = report_path.to_str().expect("utf-8 temp path");
    let mut cmd = fixture.testplan(args);
    cmd.args(["--report-json", report_arg]);
    adjust(&mut cmd);
    let out = run_output(&mut cmd);
    Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        report_path,
    }
}

/// Runs `cargo testplan ARGS` (no report).
pub fn run_plain(fixture: &Fixture, args: &[&str]) -> Ran {
    let out = run_output(&mut fixture.testplan(args));
    Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        report_path: PathBuf::new(),
    }
}

fn fresh_report_path(fixture: &Fixture) -> PathBuf {
    let dir = fixture.scratch("reports");
    let n = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    dir.join(format!("report-{n}.json"))
}

/// A test of `list --message-format json`, with what the plan says of it.
#[derive(Debug, Deserialize)]
pub struct ListedTest {
    /// Test name.
    pub name: String,
    /// Whether the selection runs it.
    pub selected: bool,
    /// Its markers.
    pub markers: Vec<String>,
    /// Its phase (`None`: not in plan).
    pub phase: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ListDoc {
    binaries: Vec<ListBinary>,
}

#[derive(Debug, Deserialize)]
struct ListBinary {
    binary_id: String,
    tests: Vec<ListedTest>,
}

/// `cargo testplan list --message-format json ARGS`, by key.
pub fn list_json(fixture: &Fixture, args: &[&str]) -> BTreeMap<TestKey, ListedTest> {
    let mut all = vec!["list", "--message-format", "json"];
    all.extend_from_slice(args);
    let ran = run_plain(fixture, &all);
    ran.assert_code(0);
    let doc: ListDoc = serde_json::from_str(&ran.stdout).unwrap_or_else(|e| panic!("list JSON: {e}\n{ran}"));
    let mut map = BTreeMap::new();
    for binary in doc.binaries {
        for test in binary.tests {
            map.insert((binary.binary_id.clone(), test.name.clone()), test);
        }
    }
    map
}

/// Keys of the listed tests the selection runs.
pub fn selected(listed: &BTreeMap<TestKey, ListedTest>) -> BTreeSet<TestKey> {
    listed.iter().filter(|(_, t)| t.selected).map(|(k, _)| k.clone()).collect()
}

/// The test names a human `list` shows, as (binary id, name) pairs: a `BINARY (KIND):`
/// header, then `    NAME  [markers] → phase` lines.
pub fn human_list_keys(stdout: &str) -> BTreeSet<TestKey> {
    let mut keys = BTreeSet::new();
    let mut binary = None;
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("    ") {
            let name = rest.split("  [").next().unwrap_or(rest);
            let binary: &String =
                binary.as_ref().unwrap_or_else(|| panic!("test line before a binary: {line}"));
            keys.insert((binary.clone(), name.to_owned()));
        } else if let Some((id, _)) = line.split_once(" (")
            && line.ends_with("):")
        {
            binary = Some(id.to_owned());
        }
    }
    keys
}

/// Differences between two key sets, one line each, for [`assert_no_problems`].
///
/// [`assert_no_problems`]: crate::support::compare::assert_no_problems
pub fn set_diff(what: &str, got: &BTreeSet<TestKey>, want: &BTreeSet<TestKey>) -> Vec<String> {
    let extra = got.difference(want).map(|k| format!("{what}: unexpected {k:?}"));
    let missing = want.difference(got).map(|k| format!("{what}: missing {k:?}"));
    extra.chain(missing).collect()
}
