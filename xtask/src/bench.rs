//! The runner comparison on one workspace: build once, run every runner once untimed
//! (warm-up: cargo's fingerprints, the page cache, cargo-testplan's listing cache), then
//! `reps` repetitions, each running every runner once in a rotating order, and report the
//! median wall time of each and the ratios.
//!
//! Each timed run includes what a user waits for after a build: cargo's no-op fingerprint
//! check, listing, and execution. A run that rebuilt anything (a `Compiling` line, or a
//! changed file in `target/debug/deps`) is flagged, because it would not be execution-only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::Result;
use crate::context::Context;
use crate::measure::{self, Outcome, Rss};
use crate::runners::{Counts, Runner};
use crate::stats;

/// A workspace to compare the runners on.
#[derive(Clone, Debug)]
pub struct Target {
    /// Shape name, for tables.
    pub name: String,
    /// The workspace directory.
    pub dir: PathBuf,
    /// Tests it holds (cargo test's count), when known in advance.
    pub expected_tests: Option<usize>,
    /// Where the runs' output is kept (outside a user's workspace for `--workspace`).
    pub logs: PathBuf,
}

/// Settings of one comparison.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Runners compared.
    pub runners: Vec<Runner>,
    /// Timed repetitions.
    pub reps: usize,
    /// A run taking longer is killed (and reported).
    pub timeout: Duration,
}

/// What one runner did on one target.
#[derive(Clone, Debug, Default)]
pub struct RunnerResult {
    /// Wall time of each timed run.
    pub samples: Vec<Duration>,
    /// Passed/failed of the last run.
    pub counts: Option<Counts>,
    /// Problems: non-zero exits, rebuilds, kills.
    pub notes: Vec<String>,
}

impl RunnerResult {
    /// Median wall time.
    pub fn median(&self) -> Option<Duration> {
        stats::median(&self.samples)
    }
}

/// The comparison on one target.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The target.
    pub target: Target,
    /// Per runner.
    pub results: BTreeMap<Runner, RunnerResult>,
}

impl Comparison {
    fn median(&self, runner: Runner) -> Option<Duration> {
        self.results.get(&runner).and_then(RunnerResult::median)
    }

    /// The faster of cargo test and nextest.
    pub fn best_other(&self) -> Option<Duration> {
        [self.median(Runner::CargoTest), self.median(Runner::Nextest)].into_iter().flatten().min()
    }

    /// Per-runner table of this target.
    pub fn detail_table(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .results
            .iter()
            .map(|(runner, result)| {
                let min = result.samples.iter().min().copied();
                let max = result.samples.iter().max().copied();
                let all: Vec<String> = result.samples.iter().map(|d| stats::secs(*d)).collect();
                let (passed, failed) = result.counts.map_or(("?".to_owned(), "?".to_owned()), |c| {
                    (c.passed.to_string(), c.failed.to_string())
                });
                vec![
                    runner.name().to_owned(),
                    result.median().map_or_else(|| "–".to_owned(), stats::secs),
                    min.map_or_else(|| "–".to_owned(), stats::secs),
                    max.map_or_else(|| "–".to_owned(), stats::secs),
                    all.join(" "),
                    passed,
                    failed,
                ]
            })
            .collect();
        stats::table(&["runner", "median s", "min s", "max s", "runs s", "passed", "failed"], &rows)
    }

    /// One row of the summary table.
    pub fn summary_row(&self) -> Vec<String> {
        let testplan = self.median(Runner::Testplan);
        let cell = |runner| self.median(runner).map_or_else(|| "–".to_owned(), stats::secs);
        let tests = self.target.expected_tests.map_or_else(
            || {
                self.results
                    .get(&Runner::CargoTest)
                    .and_then(|r| r.counts)
                    .map_or_else(|| "?".to_owned(), |c| (c.passed + c.failed).to_string())
            },
            |n| n.to_string(),
        );
        vec![
            self.target.name.clone(),
            tests,
            cell(Runner::Testplan),
            cell(Runner::CargoTest),
            cell(Runner::Nextest),
            stats::ratio(testplan, self.median(Runner::CargoTest)),
            stats::ratio(testplan, self.median(Runner::Nextest)),
            stats::ratio(testplan, self.best_other()),
        ]
    }
}

/// Header of [`Comparison::summary_row`].
pub const SUMMARY_HEADER: [&str; 8] = [
    "shape",
    "tests",
    "testplan s",
    "cargo test s",
    "nextest s",
    "testplan/cargo-test",
    "testplan/nextest",
    "testplan/best",
];

/// Builds the target, warms every runner up, and times `settings.reps` rounds.
pub fn compare(ctx: &Context, target: Target, settings: &Settings) -> Result<Comparison> {
    let logs = target.logs.clone();
    build(ctx, &target, settings, &logs)?;
    let mut results: BTreeMap<Runner, RunnerResult> =
        settings.runners.iter().map(|r| (*r, RunnerResult::default())).collect();
    for &runner in &settings.runners {
        eprintln!("  warm-up: {}", runner.name());
        let outcome = run_one(ctx, &target, runner, &logs.join(format!("warm-{}", runner.name())), settings)?;
        let result = results.entry(runner).or_default();
        check(runner, &target, &outcome, None, result, "warm-up");
    }
    let mut deps = DepsSnapshot::take(&target.dir);
    for rep in 0..settings.reps {
        for runner in rotated(&settings.runners, rep) {
            let log = logs.join(format!("rep{rep}-{}", runner.name()));
            let outcome = run_one(ctx, &target, runner, &log, settings)?;
            eprintln!(
                "  rep {}/{}: {:<10} {:>8.3} s",
                rep + 1,
                settings.reps,
                runner.name(),
                outcome.wall.as_secs_f64()
            );
            let result = results.entry(runner).or_default();
            check(runner, &target, &outcome, Some(&mut deps), result, &format!("rep {}", rep + 1));
            if outcome.status.is_some() {
                result.samples.push(outcome.wall);
            }
        }
    }
    Ok(Comparison { target, results })
}

/// `cargo test --no-run` (and nextest's build, which is the same cargo build) before
/// anything is timed.
fn build(ctx: &Context, target: &Target, settings: &Settings, logs: &Path) -> Result<()> {
    eprintln!("building {} ({})", target.name, target.dir.display());
    let mut command = ctx.cargo(&target.dir);
    command.args(["test", "--no-run"]);
    let outcome = measure::run(command, &logs.join("build"), settings.timeout, Rss::Tree)?;
    if !outcome.succeeded() {
        return Err(format!("building {} failed: {}", target.name, outcome.describe()).into());
    }
    eprintln!("  built in {:.1} s", outcome.wall.as_secs_f64());
    Ok(())
}

fn run_one(
    ctx: &Context,
    target: &Target,
    runner: Runner,
    log: &Path,
    settings: &Settings,
) -> Result<Outcome> {
    measure::run(runner.command(ctx, &target.dir), log, settings.timeout, Rss::Tree)
}

/// Records counts and notes problems of one run.
fn check(
    runner: Runner,
    target: &Target,
    outcome: &Outcome,
    deps: Option<&mut DepsSnapshot>,
    result: &mut RunnerResult,
    when: &str,
) {
    let stdout = std::fs::read_to_string(&outcome.stdout).unwrap_or_default();
    let stderr = std::fs::read_to_string(&outcome.stderr).unwrap_or_default();
    let mut notes = Vec::new();
    if !outcome.succeeded() {
        notes.push(format!("{when}: {}", outcome.describe()));
    }
    if stdout.lines().chain(stderr.lines()).any(|line| line.trim_start().starts_with("Compiling ")) {
        notes.push(format!("{when}: cargo compiled something (not execution-only)"));
    }
    if let Some(deps) = deps {
        let now = DepsSnapshot::take(&target.dir);
        if now != *deps {
            notes.push(format!("{when}: target/debug/deps changed (a rebuild)"));
            *deps = now;
        }
    }
    result.counts = runner.counts(&target.dir, &stdout, &stderr);
    if let (Some(expected), Some(counts)) = (target.expected_tests, result.counts) {
        let ran = counts.passed + counts.failed;
        if usize::try_from(ran).ok() != Some(expected) {
            notes.push(format!("{when}: {ran} tests ran, {expected} expected"));
        }
    }
    for note in &notes {
        eprintln!("  warning: {}: {note}", runner.name());
    }
    result.notes.extend(notes);
}

/// `runners` rotated left by `rep`, so each runner takes each position in turn.
fn rotated(runners: &[Runner], rep: usize) -> Vec<Runner> {
    let mut order = runners.to_vec();
    if !order.is_empty() {
        let len = order.len();
        order.rotate_left(rep % len);
    }
    order
}

/// Names, sizes and mtimes of `target/debug/deps`: any rebuild changes it.
#[derive(Debug, PartialEq, Eq)]
struct DepsSnapshot(BTreeMap<String, (u64, Option<SystemTime>)>);

impl DepsSnapshot {
    fn take(ws: &Path) -> DepsSnapshot {
        let mut files = BTreeMap::new();
        if let Ok(entries) = std::fs::read_dir(ws.join("target").join("debug").join("deps")) {
            for entry in entries.filter_map(|e| e.ok()) {
                if let Ok(meta) = entry.metadata() {
                    files.insert(
                        entry.file_name().to_string_lossy().into_owned(),
                        (meta.len(), meta.modified().ok()),
                    );
                }
            }
        }
        DepsSnapshot(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runners_rotate_through_every_position() {
        let all = Runner::ALL.to_vec();
        assert_eq!(rotated(&all, 0), all);
        assert_eq!(rotated(&all, 1), [Runner::CargoTest, Runner::Nextest, Runner::Testplan]);
        assert_eq!(rotated(&all, 3), all);
        assert!(rotated(&[], 2).is_empty());
    }

    #[test]
    fn the_summary_compares_against_the_faster_runner() {
        let result = |ms: &[u64]| RunnerResult {
            samples: ms.iter().map(|&m| Duration::from_millis(m)).collect(),
            ..RunnerResult::default()
        };
        let comparison = Comparison {
            target: Target {
                name: "t".into(),
                dir: PathBuf::new(),
                expected_tests: Some(10),
                logs: PathBuf::new(),
            },
            results: [
                (Runner::Testplan, result(&[300, 100, 200])),
                (Runner::CargoTest, result(&[400, 400, 400])),
                (Runner::Nextest, result(&[1000, 2000, 3000])),
            ]
            .into_iter()
            .collect(),
        };
        assert_eq!(comparison.summary_row(), ["t", "10", "0.200", "0.400", "2.000", "0.50", "0.10", "0.50"]);
        assert!(
            comparison
                .detail_table()
                .contains("| testplan | 0.200 | 0.100 | 0.300 | 0.300 0.100 0.200 | ? | ? |")
        );
    }
}
