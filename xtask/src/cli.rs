//! The command line of `cargo xtask` (hand-parsed: a handful of options, no dependency).

use std::path::PathBuf;
use std::time::Duration;

use crate::realcrate::{CrateRef, DEFAULT_CRATES, PROFILE_CRATE};
use crate::runners::Runner;

/// Usage text.
pub const USAGE: &str = "\
Usage: cargo xtask bench [OPTIONS]
       cargo xtask profile [OPTIONS]
       cargo xtask diff [OPTIONS] PATH...   (see `cargo xtask diff --help`)

bench: generate workspaces under target/bench/, build each once, then time
`cargo testplan run`, `cargo test` and `cargo nextest run` (all --no-fail-fast,
execution after a warm build), alternating, and print medians and ratios.

  --shape LIST          tiny, sleepy, mixed, memory, crate, listing or all
                        (comma separated; default: all, or none with --workspace)
  --workspace PATH      also compare the runners on this workspace, where it is
                        (repeatable; any real workspace: the default command of each
                        runner at its root, after a warm build)
  --reps N              timed repetitions per runner (default: 3)
  --crate NAME@VERSION  the real crate of the `crate` shape (repeatable; default:
                        semver@1.0.28 and serde_json@1.0.149; `profile`: serde_json),
                        fetched if not in cargo's registry cache
  --runners LIST        testplan, cargo-test, nextest (default: all three)
  --testplan-bin PATH   benchmark this cargo-testplan instead of building the
                        repo's (cargo build --release -p cargo-testplan)
  --testplan-arg ARG    add ARG to every `cargo testplan run` (repeatable; e.g.
                        --no-cache to time a first run after a change)
  --timeout SECS        kill a run after this long (default: 1800)

profile: where cargo-testplan's time goes on the tiny shape (cargo's share,
listing, per-test process cost, the executor), and doctests on the real crate.

  --reps N, --crate NAME@VERSION, --testplan-bin PATH, --timeout SECS as above

Reports are printed and saved to target/bench/<bench|profile>-<time>.md.
";

/// A benchmark shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// 5,020 trivial tests in 40 binaries.
    Tiny,
    /// 80 tests sleeping 200 ms.
    Sleepy,
    /// tiny plus four 2 s tests.
    Mixed,
    /// 20 tests making 128–512 MiB resident.
    Memory,
    /// A published crate.
    Crate,
    /// Listing at 10k and 50k tests.
    Listing,
}

impl Shape {
    const ALL: [Shape; 6] =
        [Shape::Tiny, Shape::Sleepy, Shape::Mixed, Shape::Memory, Shape::Crate, Shape::Listing];

    fn parse(name: &str) -> Option<Shape> {
        Some(match name {
            "tiny" => Shape::Tiny,
            "sleepy" => Shape::Sleepy,
            "mixed" => Shape::Mixed,
            "memory" | "memory-heavy" => Shape::Memory,
            "crate" | "real" => Shape::Crate,
            "listing" | "list" => Shape::Listing,
            _ => return None,
        })
    }
}

/// `cargo xtask bench`.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchArgs {
    /// Shapes, in order.
    pub shapes: Vec<Shape>,
    /// Timed repetitions.
    pub reps: usize,
    /// Real crates.
    pub crates: Vec<CrateRef>,
    /// Runners compared.
    pub runners: Vec<Runner>,
    /// A prebuilt cargo-testplan.
    pub testplan_bin: Option<PathBuf>,
    /// Per-run limit.
    pub timeout: Duration,
    /// Workspaces benchmarked where they are (`--workspace`).
    pub workspaces: Vec<PathBuf>,
    /// Extra arguments of every `cargo testplan run` (`--testplan-arg`).
    pub testplan_args: Vec<String>,
    /// The arguments as given, for the report.
    pub command_line: String,
}

/// `cargo xtask profile`.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileArgs {
    /// Repetitions of each measurement.
    pub reps: usize,
    /// The real crate for doctests.
    pub krate: CrateRef,
    /// A prebuilt cargo-testplan.
    pub testplan_bin: Option<PathBuf>,
    /// Per-command limit.
    pub timeout: Duration,
}

/// A parsed command line.
#[derive(Clone, Debug, PartialEq)]
pub enum Cli {
    /// `--help`, or nothing.
    Help,
    /// `bench`.
    Bench(BenchArgs),
    /// `profile`.
    Profile(ProfileArgs),
}

/// Parses the arguments after `xtask`.
pub fn parse(args: &[String]) -> Result<Cli, String> {
    let Some((command, rest)) = args.split_first() else {
        return Ok(Cli::Help);
    };
    let options = Options::parse(rest)?;
    match command.as_str() {
        "-h" | "--help" | "help" => Ok(Cli::Help),
        _ if options.help => Ok(Cli::Help),
        "bench" => Ok(Cli::Bench(BenchArgs {
            shapes: options.shapes.unwrap_or_else(|| {
                if options.workspaces.is_empty() { Shape::ALL.to_vec() } else { Vec::new() }
            }),
            reps: options.reps,
            crates: if options.crates.is_empty() { parse_crates(&DEFAULT_CRATES)? } else { options.crates },
            runners: options.runners.unwrap_or_else(|| Runner::ALL.to_vec()),
            testplan_bin: options.testplan_bin,
            timeout: options.timeout,
            workspaces: options.workspaces,
            testplan_args: options.testplan_args,
            command_line: rest.join(" "),
        })),
        "profile" => {
            if options.shapes.is_some()
                || options.runners.is_some()
                || options.crates.len() > 1
                || !options.workspaces.is_empty()
                || !options.testplan_args.is_empty()
            {
                return Err("`profile` takes --reps, --crate (once), --testplan-bin and --timeout".to_owned());
            }
            let krate = options.crates.into_iter().next().map_or_else(|| parse_crate(PROFILE_CRATE), Ok)?;
            Ok(Cli::Profile(ProfileArgs {
                reps: options.reps,
                krate,
                testplan_bin: options.testplan_bin,
                timeout: options.timeout,
            }))
        }
        other => Err(format!("unknown task `{other}`")),
    }
}

fn parse_crate(spec: &str) -> Result<CrateRef, String> {
    CrateRef::parse(spec).map_err(|e| e.to_string())
}

fn parse_crates(specs: &[&str]) -> Result<Vec<CrateRef>, String> {
    specs.iter().map(|spec| parse_crate(spec)).collect()
}

/// Options shared by both tasks.
#[derive(Debug, Default)]
struct Options {
    help: bool,
    shapes: Option<Vec<Shape>>,
    reps: usize,
    crates: Vec<CrateRef>,
    runners: Option<Vec<Runner>>,
    testplan_bin: Option<PathBuf>,
    timeout: Duration,
    workspaces: Vec<PathBuf>,
    testplan_args: Vec<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options { reps: 3, timeout: Duration::from_secs(1800), ..Options::default() };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
                _ => (arg.as_str(), None),
            };
            if matches!(flag, "-h" | "--help") {
                options.help = true;
                continue;
            }
            let mut value =
                || inline.clone().or_else(|| args.next().cloned()).ok_or(format!("{flag} needs a value"));
            match flag {
                "--shape" | "--shapes" => options.shapes = Some(shapes(&value()?)?),
                "--reps" => options.reps = positive(flag, &value()?)?,
                "--crate" => options.crates.push(CrateRef::parse(&value()?).map_err(|e| e.to_string())?),
                "--runners" => options.runners = Some(runners(&value()?)?),
                "--testplan-bin" => options.testplan_bin = Some(PathBuf::from(value()?)),
                "--workspace" => options.workspaces.push(PathBuf::from(value()?)),
                "--testplan-arg" => options.testplan_args.push(value()?),
                "--timeout" => options.timeout = Duration::from_secs(positive(flag, &value()?)? as u64),
                other => return Err(format!("unknown option `{other}`")),
            }
        }
        Ok(options)
    }
}

fn positive(flag: &str, value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{flag} takes a positive integer, not `{value}`")),
    }
}

fn shapes(list: &str) -> Result<Vec<Shape>, String> {
    let mut shapes = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if name == "all" {
            shapes.extend(Shape::ALL);
        } else {
            shapes.push(Shape::parse(name).ok_or_else(|| {
                format!("unknown shape `{name}` (tiny, sleepy, mixed, memory, crate, listing, all)")
            })?);
        }
    }
    let mut unique = Vec::new();
    for shape in shapes {
        if !unique.contains(&shape) {
            unique.push(shape);
        }
    }
    if unique.is_empty() { Err("--shape needs at least one shape".to_owned()) } else { Ok(unique) }
}

fn runners(list: &str) -> Result<Vec<Runner>, String> {
    let mut runners = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let runner = Runner::parse(name)
            .ok_or_else(|| format!("unknown runner `{name}` (testplan, cargo-test, nextest)"))?;
        if !runners.contains(&runner) {
            runners.push(runner);
        }
    }
    if runners.is_empty() { Err("--runners needs at least one runner".to_owned()) } else { Ok(runners) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(line: &str) -> Result<Cli, String> {
        parse(&line.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
    }

    fn bench(line: &str) -> BenchArgs {
        match parse_line(line) {
            Ok(Cli::Bench(args)) => args,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn bench_defaults() {
        let args = bench("bench");
        assert_eq!(args.shapes, Shape::ALL);
        assert_eq!(args.reps, 3);
        assert_eq!(args.crates, parse_crates(&DEFAULT_CRATES).expect("defaults"));
        assert_eq!(args.runners, Runner::ALL);
        assert_eq!(args.timeout, Duration::from_secs(1800));
    }

    #[test]
    fn bench_options() {
        let args = bench(
            "bench --shape tiny,crate,tiny --reps=5 --crate serde_json@1.0.149 --crate semver@1.0.28 \
             --runners testplan,nextest --testplan-bin /x/cargo-testplan --timeout 60",
        );
        assert_eq!(args.shapes, [Shape::Tiny, Shape::Crate]);
        assert_eq!(args.reps, 5);
        assert_eq!(args.crates.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["serde_json", "semver"]);
        assert_eq!(args.runners, [Runner::Testplan, Runner::Nextest]);
        assert_eq!(args.testplan_bin, Some(PathBuf::from("/x/cargo-testplan")));
        assert_eq!(args.timeout, Duration::from_secs(60));
        assert_eq!(bench("bench --shape all").shapes, Shape::ALL);
    }

    #[test]
    fn workspaces_replace_the_default_shapes() {
        let args = bench("bench --workspace /a --workspace=/b");
        assert_eq!(args.workspaces, [PathBuf::from("/a"), PathBuf::from("/b")]);
        assert!(args.shapes.is_empty());
        let args = bench("bench --workspace /a --shape tiny");
        assert_eq!(args.shapes, [Shape::Tiny]);
        assert!(bench("bench").workspaces.is_empty());
    }

    #[test]
    fn testplan_args_are_kept_in_order() {
        let args = bench("bench --testplan-arg --no-cache --testplan-arg=-j1");
        assert_eq!(args.testplan_args, ["--no-cache", "-j1"]);
        assert!(bench("bench").testplan_args.is_empty());
    }

    #[test]
    fn errors_name_the_problem() {
        let cases = [
            ("bench --shape huge", "unknown shape `huge`"),
            ("bench --reps 0", "--reps takes a positive integer, not `0`"),
            ("bench --reps", "--reps needs a value"),
            ("bench --crate semver", "expected NAME@VERSION"),
            ("bench --runners ctest", "unknown runner `ctest`"),
            ("bench --fast", "unknown option `--fast`"),
            ("deploy", "unknown task `deploy`"),
            ("profile --shape tiny", "`profile` takes"),
            ("profile --workspace /a", "`profile` takes"),
        ];
        for (line, expected) in cases {
            let err = parse_line(line).expect_err(line);
            assert!(err.contains(expected), "{line}: {err}");
        }
    }

    #[test]
    fn help_and_profile() {
        assert_eq!(parse_line(""), Ok(Cli::Help));
        assert_eq!(parse_line("--help"), Ok(Cli::Help));
        assert_eq!(parse_line("bench --help"), Ok(Cli::Help));
        match parse_line("profile --reps 2") {
            Ok(Cli::Profile(args)) => {
                assert_eq!(args.reps, 2);
                assert_eq!(args.krate.name, "serde_json");
            }
            other => panic!("{other:?}"),
        }
    }
}
