//! A fixture's `expected.toml`: each test's expected outcome, as data.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::cargo_test::{CargoOutcome, TestKey};

/// The whole file.
#[derive(Debug, Deserialize)]
pub struct ExpectedFile {
    /// `--skip` filters the `cargo test` side needs (tests that never end).
    #[serde(default)]
    pub cargo_test_skip: Vec<String>,
    /// One entry per test.
    pub test: Vec<ExpectedTest>,
}

/// One test. Unknown keys are allowed: later issues add some (e.g. `phase`).
#[derive(Debug, Deserialize)]
pub struct ExpectedTest {
    /// nextest-style binary id.
    pub binary: String,
    /// Test name.
    pub name: String,
    /// What cargo-testplan reports with `--run-ignored all`.
    pub outcome: Outcome,
    /// Signal name, for `crashed`.
    pub signal: Option<String>,
    /// Exit code, for a `failed` test that exits the process itself.
    pub exit_code: Option<i32>,
    /// Whether plain `cargo test` skips it.
    #[serde(default)]
    pub ignored: bool,
    /// Its ignore reason.
    pub ignore_reason: Option<String>,
    /// Ignored only when it runs (libtest2-mimic's `cx.ignore()`): listed as not ignored.
    #[serde(default)]
    pub ignored_at_run_time: bool,
    /// What `cargo test` shows, when it is not the plain mapping of `outcome`.
    pub cargo_test: Option<String>,
    /// A `harness = false` target run as one test.
    #[serde(default)]
    pub opaque: bool,
}

/// cargo-testplan's statuses, as the report writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Passed,
    Failed,
    Crashed,
    TimedOut,
    Skipped,
}

impl Outcome {
    /// The report's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::Crashed => "crashed",
            Outcome::TimedOut => "timed-out",
            Outcome::Skipped => "skipped",
        }
    }
}

impl ExpectedTest {
    /// The key tests are compared by.
    pub fn key(&self) -> TestKey {
        (self.binary.clone(), self.name.clone())
    }

    /// What `cargo test -- --include-ignored` shows for it: `ok`, `FAILED`, `crashed`,
    /// `exited`, or `skipped` (left out by `cargo_test_skip`).
    pub fn cargo_label(&self) -> &str {
        if let Some(label) = &self.cargo_test {
            return label;
        }
        match self.outcome {
            Outcome::Passed => "ok",
            Outcome::Failed => "FAILED",
            Outcome::Crashed => "crashed",
            Outcome::TimedOut => "skipped",
            Outcome::Skipped => "ignored",
        }
    }

    /// Whether a `cargo test` outcome is the expected one (signal and exit code included).
    pub fn cargo_matches(&self, got: &CargoOutcome) -> bool {
        got.word() == self.cargo_label()
            && match got {
                CargoOutcome::Crashed(signal) => self.signal.as_deref() == Some(signal.as_str()),
                CargoOutcome::Exited(code) => self.exit_code == Some(*code),
                _ => true,
            }
    }
}

impl ExpectedFile {
    /// Reads `<workspace>/expected.toml`.
    pub fn load(workspace: &Path) -> ExpectedFile {
        let path = workspace.join("expected.toml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file: ExpectedFile = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut seen = std::collections::BTreeSet::new();
        for test in &file.test {
            assert!(seen.insert(test.key()), "{}: {:?} listed twice", path.display(), test.key());
        }
        file
    }

    /// libtest arguments for the `cargo test` side: `--include-ignored --test-threads=1`
    /// plus a `--skip` per `cargo_test_skip` filter.
    pub fn cargo_test_args(&self, include_ignored: bool) -> Vec<&str> {
        let mut args = vec!["--test-threads=1"];
        if include_ignored {
            args.push("--include-ignored");
        }
        for skip in &self.cargo_test_skip {
            args.extend(["--skip", skip.as_str()]);
        }
        args
    }

    /// Tests by key.
    pub fn by_key(&self) -> BTreeMap<TestKey, &ExpectedTest> {
        self.test.iter().map(|t| (t.key(), t)).collect()
    }
}
