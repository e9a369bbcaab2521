//! `cargo xtask`: cargo-testplan's developer tasks.
//!
//! - `cargo xtask bench`: the benchmark harness of docs/performance.md — generated
//!   workspaces of several shapes plus a real crate, `cargo testplan run` timed against
//!   `cargo test` and `cargo nextest run`, and listing time and runner RSS at 10k/50k tests.
//! - `cargo xtask profile`: where cargo-testplan's time goes on the tiny shape.
//! - `cargo xtask diff PATH...`: the differential check against `cargo test` on whole
//!   workspaces (docs/real-crates.md).
//!
//! Everything is generated and built under `target/bench/`.

mod bench;
mod cargo_output;
mod cli;
mod context;
mod diff;
mod listing;
mod measure;
mod profile;
mod realcrate;
mod runners;
mod shapes;
mod stats;

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::bench::{Comparison, Settings, Target};
use crate::cli::{BenchArgs, Cli, ProfileArgs, Shape};
use crate::context::Context;

/// Errors are messages for the developer running the task.
pub type Result<T, E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("diff") {
        return run_diff(&args[1..]);
    }
    let outcome = match cli::parse(&args) {
        Ok(Cli::Help) => {
            print!("{}", cli::USAGE);
            Ok(())
        }
        Ok(Cli::Bench(args)) => run_bench(&args),
        Ok(Cli::Profile(args)) => run_profile(&args),
        Err(message) => {
            eprintln!("error: {message}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_diff(args: &[String]) -> ExitCode {
    match diff::parse_args(args) {
        Ok(None) => {
            print!("{}", diff::USAGE);
            ExitCode::SUCCESS
        }
        Ok(Some(args)) => match diff::run(&args) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Err(message) => {
            eprintln!("error: {message}\n\n{}", diff::USAGE);
            ExitCode::from(2)
        }
    }
}

fn run_bench(args: &BenchArgs) -> Result<()> {
    let mut ctx = Context::new(args.testplan_bin.clone())?;
    ctx.testplan_args = args.testplan_args.clone();
    let settings = Settings { runners: args.runners.clone(), reps: args.reps, timeout: args.timeout };
    let mut report = header(&ctx, &format!("cargo xtask bench {}", args.command_line))?;
    let mut comparisons: Vec<Comparison> = Vec::new();
    for path in &args.workspaces {
        let target = workspace_target(&ctx, path)?;
        comparisons.push(compare_and_report(&ctx, target, &settings, &mut report)?);
    }
    for shape in &args.shapes {
        let targets = targets_of(&ctx, *shape, args)?;
        for target in targets {
            comparisons.push(compare_and_report(&ctx, target, &settings, &mut report)?);
        }
        if *shape == Shape::Listing {
            let rows = listing::measure_all(&ctx, &[10_000, 50_000], args.reps, args.timeout)?;
            let table = stats::table(&listing::HEADER, &rows);
            eprintln!("\n### listing\n\n{table}");
            let _ = writeln!(report, "### listing\n\n{table}");
        }
    }
    if !comparisons.is_empty() {
        let rows: Vec<Vec<String>> = comparisons.iter().map(Comparison::summary_row).collect();
        let summary = stats::table(&bench::SUMMARY_HEADER, &rows);
        let _ = writeln!(report, "### summary (median wall time, seconds)\n\n{summary}");
        println!("{summary}");
    }
    let path = save(&ctx, "bench", &report)?;
    eprintln!("full report: {}", path.display());
    Ok(())
}

/// Compares the runners on one target and adds its detail table to the report.
fn compare_and_report(
    ctx: &Context,
    target: Target,
    settings: &Settings,
    report: &mut String,
) -> Result<Comparison> {
    let comparison = bench::compare(ctx, target, settings)?;
    let detail = format!("### {}\n\n{}", comparison.target.name, comparison.detail_table());
    eprintln!("\n{detail}");
    let _ = writeln!(report, "{detail}");
    for note in comparison.results.iter().flat_map(|(r, res)| res.notes.iter().map(move |n| (r, n))) {
        let _ = writeln!(report, "- warning: {}: {}", note.0.name(), note.1);
    }
    Ok(comparison)
}

/// The workspaces of a shape (none for `listing`, which is measured differently).
fn targets_of(ctx: &Context, shape: Shape, args: &BenchArgs) -> Result<Vec<Target>> {
    let generated = |spec: shapes::WorkspaceSpec| -> Result<Vec<Target>> {
        let dir = spec.write(&ctx.bench_root)?;
        eprintln!("{}: {} tests in {} binaries", spec.name, spec.test_count(), spec.binary_count());
        let logs = dir.join("logs");
        Ok(vec![Target { name: spec.name.clone(), dir, expected_tests: Some(spec.test_count()), logs }])
    };
    match shape {
        Shape::Tiny => generated(shapes::tiny()),
        Shape::Sleepy => generated(shapes::sleepy()),
        Shape::Mixed => generated(shapes::mixed()),
        Shape::Memory => generated(shapes::memory()),
        Shape::Crate => args
            .crates
            .iter()
            .map(|krate| {
                let dir = realcrate::prepare(krate, &ctx.bench_root)?;
                let logs = dir.join("logs");
                Ok(Target {
                    name: format!("{}@{}", krate.name, krate.version),
                    dir,
                    expected_tests: None,
                    logs,
                })
            })
            .collect(),
        Shape::Listing => Ok(Vec::new()),
    }
}

/// A workspace given with `--workspace PATH`, benchmarked where it is (nothing is copied
/// or written inside it but cargo's own `target/`; logs go under target/bench/).
fn workspace_target(ctx: &Context, path: &std::path::Path) -> Result<Target> {
    let dir = path.canonicalize().map_err(|e| format!("--workspace {}: {e}", path.display()))?;
    if !dir.join("Cargo.toml").is_file() {
        return Err(format!("--workspace {}: no Cargo.toml there", dir.display()).into());
    }
    let name =
        dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned());
    let logs = ctx.bench_root.join(format!("workspace-{name}")).join("logs");
    Ok(Target { name, dir, expected_tests: None, logs })
}

fn run_profile(args: &ProfileArgs) -> Result<()> {
    let ctx = Context::new(args.testplan_bin.clone())?;
    let mut report = header(&ctx, "cargo xtask profile")?;
    let table = profile::profile(&ctx, args.reps, &args.krate, args.timeout)?;
    report.push_str(&table);
    println!("{table}");
    let path = save(&ctx, "profile", &report)?;
    eprintln!("full report: {}", path.display());
    Ok(())
}

/// What was measured, where: the command, the machine, the toolchain, the commit.
fn header(ctx: &Context, command: &str) -> Result<String> {
    let output = |program: &str, args: &[&str]| {
        std::process::Command::new(program)
            .args(args)
            .current_dir(&ctx.repo)
            .output()
            .ok()
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().map(|l| l.split_whitespace().nth(1).unwrap_or("?").to_owned()))
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or_else(|| "?".to_owned(), |kib| format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0));
    let nextest = output("cargo", &["nextest", "--version"]);
    Ok(format!(
        "## {command}\n\n- commit: {} ({})\n- machine: {cpus} CPUs, {memory}, load average {}\n- {}\n- {}\n- {}\n\n",
        output("git", &["rev-parse", "--short", "HEAD"]),
        if output("git", &["status", "--porcelain"]).is_empty() { "clean" } else { "working tree modified" },
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        output("rustc", &["--version"]),
        output("cargo", &["--version"]),
        nextest.lines().next().unwrap_or("cargo-nextest: not found"),
    ))
}

/// Writes the report to `target/bench/<kind>-<unix time>.md`.
fn save(ctx: &Context, kind: &str, report: &str) -> Result<std::path::PathBuf> {
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let path = ctx.bench_root.join(format!("{kind}-{stamp}.md"));
    std::fs::write(&path, report).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path)
}
