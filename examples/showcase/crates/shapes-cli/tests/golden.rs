//! Golden-output tests with a hand-written harness (`harness = false`).
//!
//! Real projects write harnesses like this one (or use libtest-mimic) for data-driven
//! tests. It speaks enough of libtest's command line for `cargo test` and test runners:
//! `--list` (`name: test` lines), `--ignored`, `--include-ignored`, `--exact`, `--skip`,
//! name filters, and libtest's `test NAME ... ok` result lines.

use std::process::ExitCode;

/// A golden case: shape description and the report line it must produce.
struct Case {
    name: &'static str,
    input: &'static str,
    expected: &'static str,
    /// `Some(reason)` for cases that only run when ignored tests are asked for.
    ignored: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        name: "golden::circle",
        input: "circle 2",
        expected: "area=12.566 perimeter=12.566",
        ignored: None,
    },
    Case { name: "golden::rect", input: "rect 2 5", expected: "area=10.000 perimeter=14.000", ignored: None },
    Case {
        name: "golden::triangle",
        input: "triangle 0 0 3 0 0 4",
        expected: "area=6.000 perimeter=12.000",
        ignored: None,
    },
    Case {
        name: "golden::huge_rect",
        input: "rect 1e6 1e6",
        expected: "area=1000000000000.000 perimeter=4000000.000",
        ignored: Some("slow"),
    },
];

fn check(case: &Case) -> Result<(), String> {
    if case.ignored.is_some() {
        // Stands in for a slow golden comparison.
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    let shape = shapes_cli::parse_shape(case.input).map_err(|e| e.to_string())?;
    let got = shapes_cli::report(&shape);
    if got == case.expected { Ok(()) } else { Err(format!("expected `{}`, got `{got}`", case.expected)) }
}

#[derive(Default)]
struct Args {
    list: bool,
    terse: bool,
    ignored: bool,
    include_ignored: bool,
    exact: bool,
    filters: Vec<String>,
    skips: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--list" => args.list = true,
            "--ignored" => args.ignored = true,
            "--include-ignored" => args.include_ignored = true,
            "--exact" => args.exact = true,
            "--nocapture" | "--show-output" | "-q" | "--quiet" => {}
            "--skip" => args.skips.push(it.next().ok_or("--skip needs a value")?),
            "--test-threads" | "--color" => {
                it.next();
            }
            "--format" => match it.next().as_deref() {
                Some("pretty") => {}
                Some("terse") => args.terse = true,
                other => return Err(format!("unsupported --format {other:?}")),
            },
            a if a.starts_with("--test-threads=") || a.starts_with("--color=") => {}
            a if a.starts_with('-') => return Err(format!("unknown option `{a}`")),
            filter => args.filters.push(filter.to_owned()),
        }
    }
    Ok(args)
}

impl Args {
    fn selects(&self, case: &Case) -> bool {
        let matches = |pattern: &String| {
            if self.exact { case.name == pattern } else { case.name.contains(pattern.as_str()) }
        };
        (self.filters.is_empty() || self.filters.iter().any(matches)) && !self.skips.iter().any(matches)
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(101);
        }
    };
    let selected: Vec<&Case> =
        CASES.iter().filter(|c| args.selects(c) && (!args.ignored || c.ignored.is_some())).collect();
    if args.list {
        for case in &selected {
            println!("{}: test", case.name);
        }
        if !args.terse {
            let n = selected.len();
            println!("\n{n} {}, 0 benchmarks", if n == 1 { "test" } else { "tests" });
        }
        return ExitCode::SUCCESS;
    }
    println!("\nrunning {} tests", selected.len());
    let (mut passed, mut failed, mut ignored) = (0, Vec::new(), 0);
    for case in &selected {
        let run = args.ignored || args.include_ignored || case.ignored.is_none();
        if !run {
            println!("test {} ... ignored, {}", case.name, case.ignored.unwrap_or_default());
            ignored += 1;
            continue;
        }
        match check(case) {
            Ok(()) => {
                println!("test {} ... ok", case.name);
                passed += 1;
            }
            Err(msg) => {
                println!("test {} ... FAILED", case.name);
                failed.push((case.name, msg));
            }
        }
    }
    for (name, msg) in &failed {
        println!("\n---- {name} ----\n{msg}");
    }
    let verdict = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {verdict}. {passed} passed; {} failed; {ignored} ignored; 0 measured; {} filtered out\n",
        failed.len(),
        CASES.len() - selected.len()
    );
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(101) }
}
