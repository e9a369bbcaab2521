//! `cargo xtask profile`: where cargo-testplan's time goes on the tiny shape (and, for
//! doctests, on the real crate). Measures each component on its own:
//!
//! - cargo's share: `cargo metadata`, and `cargo test --no-run` when nothing is stale;
//! - listing: `cargo testplan list` with the listing cache warm and off;
//! - per-test process cost: one tiny binary's 250 tests run one process each
//!   (`--exact NAME --nocapture`, as cargo-testplan runs them), serially and two at a time,
//!   against the same binary running all 250 in one process;
//! - the whole run at `-j1` and `-j2`, split with the run report
//!   (`target/testplan/last-run.json`) into time before execution, the sum of the tests'
//!   own durations, and what is left (scheduling, events, reporting);
//! - doctests (real crate): `cargo test --doc` against cargo-testplan's doc phase and the
//!   `cargo test --doc -- --list` listing it runs twice.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::Result;
use crate::context::Context;
use crate::measure::{self, Outcome, Rss};
use crate::realcrate::{self, CrateRef};
use crate::shapes;
use crate::stats;

/// One measured component.
struct Row {
    what: String,
    samples: Vec<Duration>,
    note: String,
}

impl Row {
    fn cells(&self) -> Vec<String> {
        let median = stats::median(&self.samples).map_or_else(|| "–".to_owned(), stats::secs);
        let runs: Vec<String> = self.samples.iter().map(|d| stats::secs(*d)).collect();
        vec![self.what.clone(), median, runs.join(" "), self.note.clone()]
    }
}

/// Runs the profile and returns its Markdown report.
pub fn profile(ctx: &Context, reps: usize, krate: &CrateRef, timeout: Duration) -> Result<String> {
    let spec = shapes::tiny();
    let ws = spec.write(&ctx.bench_root)?;
    let logs = ws.join("logs").join("profile");
    eprintln!("profiling on {}", ws.display());
    let build = run_ok(
        cargo(ctx, &ws, &["test", "--no-run", "--message-format", "json"]),
        &logs.join("build"),
        timeout,
    )?;
    let executables = lib_executables(&std::fs::read_to_string(&build.stdout).unwrap_or_default());
    let mut rows = Vec::new();
    rows.push(repeat(reps, "cargo metadata --format-version 1", "", |i| {
        run_ok(
            cargo(ctx, &ws, &["metadata", "--format-version", "1"]),
            &logs.join(format!("metadata{i}")),
            timeout,
        )
    })?);
    rows.push(repeat(reps, "cargo test --no-run (nothing to build)", "", |i| {
        run_ok(
            cargo(ctx, &ws, &["test", "--no-run", "--message-format", "json"]),
            &logs.join(format!("noop{i}")),
            timeout,
        )
    })?);
    for (cache, label) in
        [("1", "cargo testplan list (cache warm)"), ("0", "cargo testplan list (cache off)")]
    {
        rows.push(repeat(reps, label, "metadata + no-op build + listing 40 binaries + plan", |i| {
            let mut command = cargo(ctx, &ws, &["testplan", "list"]);
            command.env("CARGO_TESTPLAN_LIST_CACHE", cache);
            run_ok(command, &logs.join(format!("list{cache}-{i}")), timeout)
        })?);
    }
    let binary = executables.first().ok_or("no library test binary in the build output")?;
    rows.extend(spawn_costs(&binary.1, &ws.join("crates").join(&binary.0), reps)?);
    let mut notes = Vec::new();
    for jobs in ["1", "2"] {
        let (row, note) = whole_run(ctx, &ws, jobs, reps, &logs, timeout)?;
        rows.push(row);
        notes.push(note);
    }
    rows.extend(doctests(ctx, krate, reps, timeout)?);
    let table = stats::table(
        &["component", "median s", "runs s", "note"],
        &rows.iter().map(Row::cells).collect::<Vec<_>>(),
    );
    Ok(format!("{table}\n{}\n", notes.join("\n")))
}

/// Runs `measure(i)` `reps` times.
fn repeat(
    reps: usize,
    what: &str,
    note: &str,
    mut measure: impl FnMut(usize) -> Result<Outcome>,
) -> Result<Row> {
    let mut samples = Vec::new();
    for i in 0..reps {
        samples.push(measure(i)?.wall);
    }
    eprintln!("  {what}: {}", stats::median(&samples).map_or_else(String::new, stats::secs));
    Ok(Row { what: what.to_owned(), samples, note: note.to_owned() })
}

/// `(target name, executable)` of every library test binary in cargo's JSON messages.
fn lib_executables(messages: &str) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    for line in messages.lines().filter(|line| line.starts_with('{')) {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let target = &message["target"];
        let is_lib = target["kind"].as_array().is_some_and(|kinds| kinds.iter().any(|k| k == "lib"));
        if let (true, Some(name), Some(exe)) =
            (is_lib, target["name"].as_str(), message["executable"].as_str())
        {
            found.push((name.to_owned(), PathBuf::from(exe)));
        }
    }
    found.sort();
    found
}

/// One binary's tests one process each (serially, then two at a time), and all in one
/// process.
fn spawn_costs(exe: &Path, cwd: &Path, reps: usize) -> Result<Vec<Row>> {
    let names = list_names(exe, cwd)?;
    let n = names.len();
    let per_test =
        |total: Duration| format!("{:.2} ms per test ({n} tests)", total.as_secs_f64() * 1000.0 / n as f64);
    let mut rows = Vec::new();
    for workers in [1, 2] {
        let mut samples = Vec::new();
        for _ in 0..reps {
            samples.push(run_each(exe, cwd, &names, workers)?);
        }
        let note = stats::median(&samples).map(per_test).unwrap_or_default();
        rows.push(Row { what: format!("{n} tests, one process each, {workers} at a time"), samples, note });
    }
    for threads in ["1", "2"] {
        let mut samples = Vec::new();
        for _ in 0..reps {
            let started = Instant::now();
            let status = Command::new(exe)
                .args(["--test-threads", threads])
                .current_dir(cwd)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| format!("running {}: {e}", exe.display()))?;
            samples.push(started.elapsed());
            if !status.success() {
                return Err(format!("{} failed: {status}", exe.display()).into());
            }
        }
        let note = stats::median(&samples).map(per_test).unwrap_or_default();
        rows.push(Row { what: format!("{n} tests in one process, --test-threads {threads}"), samples, note });
    }
    for row in &rows {
        eprintln!("  {}: {}", row.what, row.note);
    }
    Ok(rows)
}

fn list_names(exe: &Path, cwd: &Path) -> Result<Vec<String>> {
    let out = Command::new(exe)
        .args(["--list", "--format", "terse"])
        .current_dir(cwd)
        .output()
        .map_err(|e| format!("listing {}: {e}", exe.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.lines().filter_map(|line| line.strip_suffix(": test")).map(str::to_owned).collect())
}

/// Runs each test in its own process, `workers` at a time; the wall time.
fn run_each(exe: &Path, cwd: &Path, names: &[String], workers: usize) -> Result<Duration> {
    let started = Instant::now();
    let chunks: Vec<&[String]> = names.chunks(names.len().div_ceil(workers.max(1)).max(1)).collect();
    let failures: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .filter(|name| {
                            !Command::new(exe)
                                .args(["--exact", name.as_str(), "--nocapture"])
                                .current_dir(cwd)
                                .stdout(Stdio::null())
                                .stderr(Stdio::null())
                                .status()
                                .is_ok_and(|status| status.success())
                        })
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(usize::MAX)).sum()
    });
    if failures > 0 {
        return Err(format!("{failures} single-test runs of {} failed", exe.display()).into());
    }
    Ok(started.elapsed())
}

/// `cargo testplan run -jN`, split with its run report.
fn whole_run(
    ctx: &Context,
    ws: &Path,
    jobs: &str,
    reps: usize,
    logs: &Path,
    timeout: Duration,
) -> Result<(Row, String)> {
    let mut samples = Vec::new();
    let mut splits = Vec::new();
    for i in 0..reps {
        let spawned_at = unix_now();
        let outcome = run_ok(
            cargo(ctx, ws, &["testplan", "run", "--no-fail-fast", "-j", jobs]),
            &logs.join(format!("run-j{jobs}-{i}")),
            timeout,
        )?;
        let report = std::fs::read_to_string(ws.join("target/testplan/last-run.json"))
            .map_err(|e| format!("reading the run report: {e}"))?;
        splits.push(split_run(&report, spawned_at).ok_or("unreadable run report")?);
        samples.push(outcome.wall);
    }
    let mid = splits.len() / 2;
    let mut by_wall: Vec<(Duration, Split)> = samples.iter().copied().zip(splits).collect();
    by_wall.sort_by_key(|(wall, _)| *wall);
    let (wall, split) = &by_wall[mid.min(by_wall.len() - 1)];
    let jobs_n: f64 = jobs.parse().unwrap_or(1.0);
    let note = format!(
        "-j{jobs} (median run, {:.3} s): {:.3} s before the executor started (cargo, listing, planning); \
         executor {:.3} s for {} tests whose own durations sum to {:.3} s ({:.2} ms each, {:.3} s at {jobs} jobs); \
         {:.3} s in the executor beyond the tests' durations/jobs; {:.3} s after it (report, exit).",
        wall.as_secs_f64(),
        split.before,
        split.executor,
        split.tests,
        split.test_sum,
        split.test_sum * 1000.0 / split.tests.max(1) as f64,
        split.test_sum / jobs_n,
        split.executor - split.test_sum / jobs_n,
        wall.as_secs_f64() - split.before - split.executor,
    );
    eprintln!("  {note}");
    Ok((Row { what: format!("cargo testplan run -j{jobs}"), samples, note: String::new() }, note))
}

/// What a run report says about where the time went.
#[derive(Debug, PartialEq)]
struct Split {
    /// Seconds from spawning `cargo testplan` to the executor's start.
    before: f64,
    /// The executor's duration.
    executor: f64,
    /// Tests reported.
    tests: usize,
    /// Sum of the tests' durations.
    test_sum: f64,
}

fn split_run(report: &str, spawned_at: f64) -> Option<Split> {
    let report: serde_json::Value = serde_json::from_str(report).ok()?;
    let tests = report["tests"].as_array()?;
    Some(Split {
        before: report["started_at_unix"].as_f64()? - spawned_at,
        executor: report["duration_secs"].as_f64()?,
        tests: tests.len(),
        test_sum: tests.iter().filter_map(|t| t["duration_secs"].as_f64()).sum(),
    })
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// Doctests of the real crate: cargo test's doctest run, cargo-testplan's doc phase, and
/// the listing cargo-testplan runs (twice: all, then `--ignored`).
fn doctests(ctx: &Context, krate: &CrateRef, reps: usize, timeout: Duration) -> Result<Vec<Row>> {
    let ws = realcrate::prepare(krate, &ctx.bench_root)?;
    let logs = ws.join("logs").join("profile");
    run_ok(cargo(ctx, &ws, &["test", "--no-run"]), &logs.join("build"), timeout)?;
    let name = format!("{}@{}", krate.name, krate.version);
    let mut rows = vec![
        repeat(reps, &format!("{name}: cargo test --doc"), "compiles and runs every doctest", |i| {
            run_ok(cargo(ctx, &ws, &["test", "--doc"]), &logs.join(format!("doc{i}")), timeout)
        })?,
        repeat(
            reps,
            &format!("{name}: cargo test --doc -- --list"),
            "cargo-testplan runs this twice",
            |i| {
                run_ok(
                    cargo(ctx, &ws, &["test", "--doc", "--", "--list", "--format", "terse"]),
                    &logs.join(format!("doclist{i}")),
                    timeout,
                )
            },
        )?,
    ];
    let mut phase = Vec::new();
    for i in 0..reps {
        run_ok(
            cargo(ctx, &ws, &["testplan", "run", "--no-fail-fast"]),
            &logs.join(format!("run{i}")),
            timeout,
        )?;
        let report = std::fs::read_to_string(ws.join("target/testplan/last-run.json")).unwrap_or_default();
        let report: serde_json::Value = serde_json::from_str(&report).unwrap_or_default();
        let doc = report["phases"]
            .as_array()
            .and_then(|phases| phases.iter().find(|p| p["name"] == "doc"))
            .cloned();
        if let Some(secs) = doc.and_then(|p| p["duration_secs"].as_f64()) {
            phase.push(Duration::from_secs_f64(secs));
        }
    }
    rows.push(Row {
        what: format!("{name}: cargo testplan run, doc phase"),
        samples: phase,
        note: "from the run report".into(),
    });
    Ok(rows)
}

fn cargo(ctx: &Context, ws: &Path, args: &[&str]) -> Command {
    let mut command = ctx.cargo(ws);
    command.args(args);
    command
}

fn run_ok(command: Command, log: &Path, timeout: Duration) -> Result<Outcome> {
    let args: Vec<String> = command.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    let outcome = measure::run(command, log, timeout, Rss::Tree)?;
    if !outcome.succeeded() {
        return Err(format!("`cargo {}` failed: {}", args.join(" "), outcome.describe()).into());
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_test_binaries_are_found_in_cargo_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"tiny_01"},"executable":"/t/tiny_01-aa"}
{"reason":"compiler-artifact","target":{"kind":["test"],"name":"it"},"executable":"/t/it-bb"}
{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"tiny_00"},"executable":"/t/tiny_00-cc"}
{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"dep"},"executable":null}
{"reason":"build-finished","success":true}"#;
        let found = lib_executables(messages);
        assert_eq!(
            found,
            [
                ("tiny_00".to_owned(), PathBuf::from("/t/tiny_00-cc")),
                ("tiny_01".to_owned(), PathBuf::from("/t/tiny_01-aa"))
            ]
        );
    }

    #[test]
    fn a_run_report_is_split() {
        let report = r#"{ "started_at_unix": 100.5, "duration_secs": 2.0,
            "tests": [ { "duration_secs": 0.5 }, { "duration_secs": 1.5 } ] }"#;
        let split = split_run(report, 100.0).expect("split");
        assert_eq!(split, Split { before: 0.5, executor: 2.0, tests: 2, test_sum: 2.0 });
    }
}
