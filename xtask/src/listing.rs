//! Listing at scale: `cargo testplan list` on generated workspaces of 10,000 and 50,000
//! tests (40 binaries each), after the build, with cargo-testplan's listing cache warm and
//! turned off. Reports the wall time of `cargo testplan list` (cargo metadata, cargo's
//! no-op build, listing every binary, planning, printing) and the runner's own peak RSS.
//!
//! The peak RSS is cargo-testplan's `VmHWM` at exit (see [`crate::measure`]), from a run of
//! the binary itself (`cargo-testplan testplan list`, as cargo would invoke it), so
//! neither cargo nor the listed binaries are counted. For reference the table also shows
//! cargo's own share (`cargo metadata`, `cargo test --no-run` when nothing is stale) and
//! `cargo nextest list`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::Result;
use crate::context::Context;
use crate::measure::{self, Outcome, Rss};
use crate::shapes;
use crate::stats;

/// The environment variable that turns cargo-testplan's listing cache off.
const CACHE_ENV: &str = "CARGO_TESTPLAN_LIST_CACHE";

/// Header of the rows [`measure_all`] returns.
pub const HEADER: [&str; 6] =
    ["tests", "command", "median s", "runs s", "runner peak RSS MiB", "wait4 maxrss MiB"];

/// Measures listing on workspaces of each size in `sizes`: one row per command and size.
pub fn measure_all(
    ctx: &Context,
    sizes: &[usize],
    reps: usize,
    timeout: Duration,
) -> Result<Vec<Vec<String>>> {
    let mut rows = Vec::new();
    for &tests in sizes {
        rows.extend(measure_one(ctx, tests, reps, timeout)?);
    }
    Ok(rows)
}

fn measure_one(ctx: &Context, tests: usize, reps: usize, timeout: Duration) -> Result<Vec<Vec<String>>> {
    let spec = shapes::listing(tests);
    let dir = spec.write(&ctx.bench_root)?;
    let logs = dir.join("logs");
    eprintln!("building {} ({})", spec.name, dir.display());
    let built = timed(cargo(ctx, &dir, &["test", "--no-run"]), &logs.join("build"), timeout, Rss::Tree)?;
    eprintln!("  built in {:.1} s", built.wall.as_secs_f64());
    // The listing cache does not store binaries modified in the last 2 s.
    std::thread::sleep(Duration::from_millis(2500));
    let warm = timed(list_command(ctx, &dir, true), &logs.join("warm-list"), timeout, Rss::Tree)?;
    check_count(&warm, tests)?;

    let mut samples: Vec<(&str, Vec<Outcome>)> = Vec::new();
    let mut record =
        |label: &'static str, outcome: Outcome| match samples.iter_mut().find(|(l, _)| *l == label) {
            Some((_, list)) => list.push(outcome),
            None => samples.push((label, vec![outcome])),
        };
    for rep in 0..reps {
        let log = |what: &str| logs.join(format!("rep{rep}-{what}"));
        for (cache, label, own_label) in [
            (true, "cargo testplan list (cache warm)", "cargo-testplan list, runner RSS (cache warm)"),
            (false, "cargo testplan list (cache off)", "cargo-testplan list, runner RSS (cache off)"),
        ] {
            let name = if cache { "cache" } else { "nocache" };
            let outcome =
                timed(list_command(ctx, &dir, cache), &log(&format!("list-{name}")), timeout, Rss::Tree)?;
            check_count(&outcome, tests)?;
            record(label, outcome);
            let own = timed(
                direct_list_command(ctx, &dir, cache),
                &log(&format!("own-{name}")),
                timeout,
                Rss::Own,
            )?;
            check_count(&own, tests)?;
            record(own_label, own);
        }
        for (label, args, file) in [
            ("cargo metadata", &["metadata", "--format-version", "1"][..], "metadata"),
            (
                "cargo test --no-run (nothing to build)",
                &["test", "--no-run", "--message-format", "json"],
                "noop-build",
            ),
            ("cargo nextest list", &["nextest", "list"], "nextest-list"),
        ] {
            record(label, timed(cargo(ctx, &dir, args), &log(file), timeout, Rss::Tree)?);
        }
    }
    let rows = samples
        .into_iter()
        .map(|(label, outcomes)| {
            let walls: Vec<Duration> = outcomes.iter().map(|o| o.wall).collect();
            let own = outcomes.iter().filter_map(|o| o.own_peak_kib).max();
            let tree = outcomes.iter().filter_map(|o| o.tree_peak_kib).max();
            vec![
                tests.to_string(),
                label.to_owned(),
                stats::median(&walls).map_or_else(|| "–".to_owned(), stats::secs),
                walls.iter().map(|d| stats::secs(*d)).collect::<Vec<_>>().join(" "),
                stats::mib(own),
                stats::mib(tree),
            ]
        })
        .collect();
    Ok(rows)
}

/// `cargo testplan list`, with or without the listing cache.
fn list_command(ctx: &Context, ws: &Path, cache: bool) -> Command {
    let mut command = ctx.cargo(ws);
    command.args(["testplan", "list", "--color", "never"]).env(CACHE_ENV, if cache { "1" } else { "0" });
    command
}

/// The same, invoking the binary the way cargo does (`cargo-testplan testplan list`), so
/// the measured process is cargo-testplan itself.
fn direct_list_command(ctx: &Context, ws: &Path, cache: bool) -> Command {
    let mut command = ctx.command(&ctx.testplan_bin, ws);
    command.args(["testplan", "list", "--color", "never"]).env(CACHE_ENV, if cache { "1" } else { "0" });
    command
}

/// `cargo ARGS` in the workspace.
fn cargo(ctx: &Context, ws: &Path, args: &[&str]) -> Command {
    let mut command = ctx.cargo(ws);
    command.args(args);
    command
}

/// Runs a command, failing when it fails.
fn timed(command: Command, log: &Path, timeout: Duration, rss: Rss) -> Result<Outcome> {
    let args: Vec<String> = command.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    let outcome = measure::run(command, log, timeout, rss)?;
    if !outcome.succeeded() {
        return Err(format!("`{}` failed: {}", args.join(" "), outcome.describe()).into());
    }
    Ok(outcome)
}

/// Checks the list's last line, `N tests in M binaries`.
fn check_count(outcome: &Outcome, expected: usize) -> Result<()> {
    let stdout = std::fs::read_to_string(&outcome.stdout).unwrap_or_default();
    let last = stdout.lines().last().unwrap_or_default();
    let listed = last.split_whitespace().next().and_then(|n| n.parse::<usize>().ok());
    if listed == Some(expected) {
        Ok(())
    } else {
        Err(format!(
            "expected {expected} tests listed, the list ends with `{last}` ({})",
            outcome.stdout.display()
        )
        .into())
    }
}
