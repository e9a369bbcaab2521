//! The three runners compared, how each is invoked, and how many tests each says passed
//! and failed (read back from its output, so a run that silently did less is noticed).

use std::path::Path;
use std::process::Command;

use crate::context::Context;

/// A test runner under comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Runner {
    /// `cargo testplan run --no-fail-fast` (the repo's binary, first on `PATH`).
    Testplan,
    /// `cargo test --no-fail-fast`.
    CargoTest,
    /// `cargo nextest run --no-fail-fast`.
    Nextest,
}

impl Runner {
    /// Every runner, in table order.
    pub const ALL: [Runner; 3] = [Runner::Testplan, Runner::CargoTest, Runner::Nextest];

    /// The name used on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Runner::Testplan => "testplan",
            Runner::CargoTest => "cargo-test",
            Runner::Nextest => "nextest",
        }
    }

    /// Parses [`Runner::name`].
    pub fn parse(name: &str) -> Option<Runner> {
        Runner::ALL.into_iter().find(|runner| runner.name() == name)
    }

    /// The cargo arguments of a full run.
    pub fn run_args(self) -> &'static [&'static str] {
        match self {
            Runner::Testplan => &["testplan", "run", "--no-fail-fast", "--color", "never"],
            Runner::CargoTest => &["test", "--no-fail-fast"],
            Runner::Nextest => &["nextest", "run", "--no-fail-fast"],
        }
    }

    /// The command of a full run in the workspace `ws`.
    pub fn command(self, ctx: &Context, ws: &Path) -> Command {
        let mut command = ctx.cargo(ws);
        command.args(self.run_args());
        if self == Runner::Testplan {
            command.args(&ctx.testplan_args);
        }
        command
    }

    /// Tests passed and failed, as the runner reported them.
    pub fn counts(self, ws: &Path, stdout: &str, stderr: &str) -> Option<Counts> {
        match self {
            Runner::Testplan => {
                let report = std::fs::read_to_string(ws.join("target/testplan/last-run.json")).ok()?;
                testplan_counts(&report)
            }
            Runner::CargoTest => cargo_test_counts(stdout),
            Runner::Nextest => nextest_counts(stderr),
        }
    }
}

/// Tests passed and failed in one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Passed.
    pub passed: u64,
    /// Failed in any way (failed, crashed, timed out, over memory).
    pub failed: u64,
}

/// Sums libtest's `test result: ok. 250 passed; 0 failed; ...` lines (one per binary and
/// one per doctest crate).
fn cargo_test_counts(stdout: &str) -> Option<Counts> {
    let mut counts = None::<Counts>;
    for line in stdout.lines().filter_map(|line| line.strip_prefix("test result: ")) {
        let total = counts.get_or_insert_with(Counts::default);
        for part in line.split(';') {
            let part = part.trim().trim_start_matches("ok. ").trim_start_matches("FAILED. ");
            if let Some(n) = part.strip_suffix(" passed").and_then(|n| n.parse::<u64>().ok()) {
                total.passed += n;
            } else if let Some(n) = part.strip_suffix(" failed").and_then(|n| n.parse::<u64>().ok()) {
                total.failed += n;
            }
        }
    }
    counts
}

/// nextest's `Summary [ 1.234s] 5020 tests run: 5018 passed, 2 failed, 0 skipped`.
fn nextest_counts(stderr: &str) -> Option<Counts> {
    let line = stderr.lines().rev().find(|line| line.trim_start().starts_with("Summary"))?;
    let (_, results) = line.split_once("tests run:").or_else(|| line.split_once("test run:"))?;
    let mut counts = Counts::default();
    for part in results.split(',') {
        let mut words = part.split_whitespace();
        let (Some(n), Some(what)) = (words.next().and_then(|n| n.parse::<u64>().ok()), words.next()) else {
            continue;
        };
        match what {
            "passed" => counts.passed += n,
            "failed" | "timed" => counts.failed += n,
            _ => {}
        }
    }
    Some(counts)
}

/// The `counts` of cargo-testplan's run report (`target/testplan/last-run.json`).
fn testplan_counts(report: &str) -> Option<Counts> {
    let report: serde_json::Value = serde_json::from_str(report).ok()?;
    let counts = report.get("counts")?;
    let field = |name: &str| counts.get(name).and_then(serde_json::Value::as_u64).unwrap_or(0);
    Some(Counts {
        passed: field("passed"),
        failed: field("failed") + field("crashed") + field("timed_out") + field("memory_exceeded"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runner_names_round_trip() {
        for runner in Runner::ALL {
            assert_eq!(Runner::parse(runner.name()), Some(runner));
        }
        assert_eq!(Runner::parse("ctest"), None);
    }

    #[test]
    fn cargo_test_results_are_summed_over_binaries() {
        let out = "\
running 2 tests
test result: ok. 250 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s

test result: FAILED. 3 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.20s
";
        assert_eq!(cargo_test_counts(out), Some(Counts { passed: 253, failed: 2 }));
        assert_eq!(cargo_test_counts("error: could not compile"), None);
    }

    #[test]
    fn nextest_summaries_are_read() {
        let cases = [
            (
                "     Summary [  17.412s] 5020 tests run: 5020 passed, 0 skipped",
                Counts { passed: 5020, failed: 0 },
            ),
            (
                "     Summary [   0.5s] 10 tests run: 7 passed, 2 failed, 1 timed out, 3 skipped",
                Counts { passed: 7, failed: 3 },
            ),
            ("     Summary [   0.1s] 1 test run: 1 passed, 0 skipped", Counts { passed: 1, failed: 0 }),
        ];
        for (line, expected) in cases {
            assert_eq!(nextest_counts(&format!("noise\n{line}\n")), Some(expected), "{line}");
        }
        assert_eq!(nextest_counts("error: building failed"), None);
    }

    #[test]
    fn testplan_reports_are_read() {
        let report = r#"{ "counts": { "total": 9, "passed": 5, "failed": 1, "crashed": 1, "timed_out": 1,
            "skipped": 1, "not_run": 0 }, "phases": [ { "counts": { "passed": 99 } } ] }"#;
        assert_eq!(testplan_counts(report), Some(Counts { passed: 5, failed: 3 }));
        assert_eq!(testplan_counts("{}"), None);
    }
}
