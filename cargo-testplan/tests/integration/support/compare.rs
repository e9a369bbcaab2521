//! Comparisons between expected.toml, `cargo test`'s results and cargo-testplan's report.
//! Each returns every difference found (empty = agreement), so a failure lists them all.

use std::collections::BTreeSet;

use crate::support::cargo_test::{CargoOutcome, CargoRun, TestKey};
use crate::support::expected::{ExpectedFile, Outcome};
use crate::support::report::{ReportTest, RunReport};

/// `cargo test`'s results against expected.toml (`cargo_test` labels, signals, exit codes).
pub fn cargo_vs_expected(expected: &ExpectedFile, cargo: &CargoRun) -> Vec<String> {
    let mut problems = Vec::new();
    let want = expected.by_key();
    for (key, test) in &want {
        match (cargo.results.get(key), test.cargo_label()) {
            (None, "skipped") => {}
            (None, label) => problems.push(format!("cargo test did not report {key:?} (expected {label})")),
            (Some(got), "skipped") => {
                problems.push(format!("cargo test ran {key:?} ({got:?}); it should be skipped"))
            }
            (Some(got), _) if !test.cargo_matches(got) => problems.push(format!(
                "cargo test: {key:?} is {got:?}, expected {} (signal {:?}, exit code {:?})",
                test.cargo_label(),
                test.signal,
                test.exit_code
            )),
            (Some(_), _) => {}
        }
    }
    for key in cargo.results.keys().filter(|k| !want.contains_key(*k)) {
        problems.push(format!("cargo test reported {key:?}, which expected.toml does not list"));
    }
    problems
}

/// A plain `cargo test` run (ignored tests not run) against expected.toml's `ignored` and
/// `ignore_reason`.
pub fn cargo_ignores_vs_expected(expected: &ExpectedFile, plain: &CargoRun) -> Vec<String> {
    let mut problems = Vec::new();
    for test in expected.test.iter().filter(|t| t.cargo_label() != "skipped") {
        let key = test.key();
        match (plain.results.get(&key), test.ignored) {
            (Some(CargoOutcome::Ignored(reason)), true) if *reason == test.ignore_reason => {}
            (got, true) => problems.push(format!(
                "plain cargo test: {key:?} is {got:?}, expected ignored with reason {:?}",
                test.ignore_reason
            )),
            (Some(got @ CargoOutcome::Ignored(_)), false) => {
                problems.push(format!("plain cargo test: {key:?} is {got:?}, expected not ignored"));
            }
            (_, false) => {}
        }
    }
    problems
}

/// cargo-testplan's report against expected.toml.
pub fn report_vs_expected(expected: &ExpectedFile, report: &RunReport) -> Vec<String> {
    let mut problems = Vec::new();
    let (want, got) = (expected.by_key(), report.by_key());
    for (key, test) in &want {
        let Some(actual) = got.get(key) else {
            problems
                .push(format!("cargo-testplan did not report {key:?} (expected {})", test.outcome.as_str()));
            continue;
        };
        if actual.status.as_str() != test.outcome.as_str() {
            problems.push(format!(
                "cargo-testplan: {key:?} is {}, expected {}",
                actual.status,
                test.outcome.as_str()
            ));
        }
        if test.outcome == Outcome::Crashed && actual.signal != test.signal {
            problems.push(format!(
                "cargo-testplan: {key:?} signal {:?}, expected {:?}",
                actual.signal, test.signal
            ));
        }
        if test.exit_code.is_some() && actual.exit_code != test.exit_code {
            problems.push(format!(
                "cargo-testplan: {key:?} exit code {:?}, expected {:?}",
                actual.exit_code, test.exit_code
            ));
        }
    }
    for key in got.keys().filter(|k| !want.contains_key(*k)) {
        problems.push(format!("cargo-testplan reported {key:?}, which expected.toml does not list"));
    }
    problems
}

/// cargo-testplan's report against `cargo test` directly: the same (binary, test) pairs
/// (plus the tests `cargo test` had to skip because they never end) and corresponding
/// outcomes.
pub fn report_vs_cargo(expected: &ExpectedFile, cargo: &CargoRun, report: &RunReport) -> Vec<String> {
    let mut problems = Vec::new();
    let got = report.by_key();
    let skipped_for_cargo: BTreeSet<TestKey> =
        expected.test.iter().filter(|t| t.cargo_label() == "skipped").map(|t| t.key()).collect();
    let cargo_keys: BTreeSet<&TestKey> = cargo.results.keys().collect();
    let report_keys: BTreeSet<&TestKey> = got.keys().filter(|k| !skipped_for_cargo.contains(*k)).collect();
    for key in cargo_keys.difference(&report_keys) {
        problems.push(format!("only cargo test ran {key:?}"));
    }
    for key in report_keys.difference(&cargo_keys) {
        problems.push(format!("only cargo-testplan ran {key:?}"));
    }
    for (key, outcome) in &cargo.results {
        if let Some(actual) = got.get(key)
            && !corresponds(outcome, actual)
        {
            problems.push(format!("{key:?}: cargo test {outcome:?}, cargo-testplan {}", describe(actual)));
        }
    }
    problems
}

/// Whether a report status is what `cargo test`'s outcome means.
fn corresponds(cargo: &CargoOutcome, report: &ReportTest) -> bool {
    match cargo {
        CargoOutcome::Ok => report.status.as_str() == "passed",
        // A failure cargo sees as FAILED may be a crash or timeout for one-process-per-test
        // (expected.toml says which; checked by report_vs_expected).
        CargoOutcome::Failed => matches!(report.status.as_str(), "failed" | "crashed" | "timed-out"),
        CargoOutcome::Ignored(_) => report.status.as_str() == "skipped",
        CargoOutcome::Crashed(signal) => {
            report.status.as_str() == "crashed" && report.signal.as_ref() == Some(signal)
        }
        CargoOutcome::Exited(code) => {
            report.status.as_str() == "failed" && report.exit_code.is_none_or(|c| c == *code)
        }
    }
}

fn describe(test: &ReportTest) -> String {
    let mut text = test.status.as_str().to_owned();
    if let Some(signal) = &test.signal {
        text.push_str(&format!(" ({signal})"));
    }
    if let Some(code) = test.exit_code {
        text.push_str(&format!(" (exit code {code})"));
    }
    text
}

/// The summary line a run must end with, from expected.toml's outcomes.
pub fn expected_summary_line(expected: &ExpectedFile) -> String {
    let count = |f: &dyn Fn(Outcome) -> bool| expected.test.iter().filter(|t| f(t.outcome)).count();
    let passed = count(&|o| o == Outcome::Passed);
    let failed = count(&|o| matches!(o, Outcome::Failed | Outcome::Crashed | Outcome::TimedOut));
    let skipped = count(&|o| o == Outcome::Skipped);
    format!("{passed} passed, {failed} failed, {skipped} skipped")
}

/// The exit code a run must have: 100 when any test fails, else 0.
pub fn expected_exit_code(expected: &ExpectedFile) -> i32 {
    let any_failure = expected
        .test
        .iter()
        .any(|t| matches!(t.outcome, Outcome::Failed | Outcome::Crashed | Outcome::TimedOut));
    if any_failure { 100 } else { 0 }
}

/// Last non-empty line of `text`.
pub fn last_line(text: &str) -> &str {
    text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim_end()
}

/// Whether `line` has the shape `N passed, N failed, N skipped`.
pub fn is_summary_line(line: &str) -> bool {
    let parts: Vec<&str> = line.split(", ").collect();
    let counted = |part: &str, word: &str| {
        part.split_once(' ').is_some_and(|(n, w)| w == word && n.parse::<usize>().is_ok())
    };
    let (first, rest) = parts.split_at(parts.len().min(3));
    // `, N interrupted` and `, N not run` follow when the run stopped early.
    let mut extra = ["interrupted", "not run"].into_iter();
    first.len() == 3
        && first.iter().zip(["passed", "failed", "skipped"]).all(|(part, word)| counted(part, word))
        && rest.iter().all(|part| extra.any(|word| counted(part, word)))
}

/// Panics listing every problem, with the outputs that explain them (tail-truncated).
pub fn assert_no_problems(what: &str, problems: &[String], outputs: &[(&str, &str)]) {
    if problems.is_empty() {
        return;
    }
    let mut message = format!("{what}: {} problem(s):\n  {}\n", problems.len(), problems.join("\n  "));
    for (name, text) in outputs {
        message.push_str(&format!("\n===== {name} (last 150 lines) =====\n{}\n", tail(text, 150)));
    }
    panic!("{message}");
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line_shape() {
        assert!(is_summary_line("38 passed, 0 failed, 1 skipped"));
        assert!(!is_summary_line("38 passed, 0 failed"));
        assert!(!is_summary_line("x passed, 0 failed, 1 skipped"));
    }
}
