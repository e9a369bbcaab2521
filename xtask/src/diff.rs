//! `cargo xtask diff`: the differential check of cargo-testplan against `cargo test` on whole
//! workspaces (docs/real-crates.md, "Workspaces").
//!
//! For each workspace given, copied once to `WORK/NAME/ws` (the original is never touched)
//! and built once into its own target directory `WORK/NAME/target` (reused by later runs):
//!
//! | mode | cargo test | cargo-testplan |
//! |---|---|---|
//! | include-ignored | `cargo test --workspace --no-fail-fast -- --include-ignored` | `cargo testplan run --workspace --run-ignored all --no-fail-fast --report-json WORK/NAME/include-ignored.json` |
//! | default | `cargo test --workspace --no-fail-fast` | `cargo testplan run --workspace --no-fail-fast --report-json WORK/NAME/default.json` |
//!
//! cargo test's output is parsed (crate::cargo_output), its binaries mapped to
//! cargo-testplan's binary ids through the build's JSON messages, and every (binary id, test)
//! whose outcome class differs — passed (`ok` / `passed`), failed (`FAILED`, a crash, an exit
//! / `failed`, `crashed`, `timed-out`, `memory-exceeded`), skipped (`ignored` / `skipped`,
//! `not-run`) — or that only one side ran is printed, with a hint from cargo-testplan's
//! captured output. Everything printed, and both runners' outputs, are saved under
//! `WORK/NAME/`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::Result;
use crate::cargo_output::{self, BinaryMap, CargoOutcome, CargoResults, TestKey};

/// Usage text of `cargo xtask diff`.
pub const USAGE: &str = "\
Usage: cargo xtask diff [OPTIONS] PATH...

Differential check on whole workspaces: copy each PATH to WORK/NAME/ws (never
modifying PATH), build its tests once into WORK/NAME/target, then compare
  cargo test --workspace --no-fail-fast -- --include-ignored
    with cargo testplan run --workspace --run-ignored all --no-fail-fast
  cargo test --workspace --no-fail-fast
    with cargo testplan run --workspace --no-fail-fast
and print every (binary id, test) whose outcome differs or that one side did not
run, doctests included. Outputs and reports are kept in WORK/NAME/.

  --work-dir DIR        where copies, target dirs and outputs go
                        (default: /tmp/testplan-diff)
  --testplan-bin PATH   the cargo-testplan to check (its directory is put first on
                        PATH; default: `cargo testplan` as found on PATH)
  --mode MODE           include-ignored, default or both (default: both)
  --exclude PKG         leave a package out of every command (repeatable; e.g. a
                        member whose tests need nightly)
  --test-threads-1      pass --test-threads=1 to cargo test (a crashing test then
                        gets its own line; slower)
  --nextest             also time `cargo nextest run --workspace --no-fail-fast`
  --fresh               copy PATH again even if WORK/NAME/ws exists
  --compare-only        run nothing but the (up-to-date) build: compare the outputs
                        and reports a previous run left in WORK/NAME/

Exit status: 0 when every workspace agrees, 1 when any differs, 2 on usage errors.
";

/// The two comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Ignored tests included on both sides.
    IncludeIgnored,
    /// Both tools' default command.
    Default,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::IncludeIgnored => "include-ignored",
            Mode::Default => "default",
        }
    }

    fn libtest_args(self) -> &'static [&'static str] {
        match self {
            Mode::IncludeIgnored => &["--include-ignored"],
            Mode::Default => &[],
        }
    }

    fn testplan_args(self) -> &'static [&'static str] {
        match self {
            Mode::IncludeIgnored => &["--run-ignored", "all"],
            Mode::Default => &[],
        }
    }
}

/// `cargo xtask diff`'s options.
#[derive(Clone, Debug, PartialEq)]
pub struct DiffArgs {
    /// Workspaces to check.
    pub paths: Vec<PathBuf>,
    /// Copies, target directories, outputs.
    pub work_dir: PathBuf,
    /// The cargo-testplan checked.
    pub testplan_bin: Option<PathBuf>,
    /// Comparisons to make.
    pub modes: Vec<Mode>,
    /// `--test-threads=1` for cargo test.
    pub one_thread: bool,
    /// Time nextest too.
    pub nextest: bool,
    /// Copy again.
    pub fresh: bool,
    /// Compare the outputs and reports a previous run saved, without running.
    pub compare_only: bool,
    /// Packages passed to every command as `--exclude`.
    pub exclude: Vec<String>,
}

/// Parses the arguments after `diff`. `Ok(None)`: help was asked for.
pub fn parse_args(args: &[String]) -> Result<Option<DiffArgs>, String> {
    let mut parsed = DiffArgs {
        paths: Vec::new(),
        work_dir: PathBuf::from("/tmp/testplan-diff"),
        testplan_bin: None,
        modes: vec![Mode::IncludeIgnored, Mode::Default],
        one_thread: false,
        nextest: false,
        fresh: false,
        compare_only: false,
        exclude: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value =
            || inline.clone().or_else(|| args.next().cloned()).ok_or(format!("{flag} needs a value"));
        match flag {
            "-h" | "--help" => return Ok(None),
            "--work-dir" => parsed.work_dir = PathBuf::from(value()?),
            "--testplan-bin" => parsed.testplan_bin = Some(PathBuf::from(value()?)),
            "--mode" => parsed.modes = modes(&value()?)?,
            "--test-threads-1" => parsed.one_thread = true,
            "--nextest" => parsed.nextest = true,
            "--fresh" => parsed.fresh = true,
            "--compare-only" => parsed.compare_only = true,
            "--exclude" => parsed.exclude.push(value()?),
            other if other.starts_with('-') => return Err(format!("unknown option `{other}`")),
            path => parsed.paths.push(PathBuf::from(path)),
        }
    }
    if parsed.paths.is_empty() {
        return Err("`diff` needs at least one workspace PATH".to_owned());
    }
    Ok(Some(parsed))
}

fn modes(value: &str) -> Result<Vec<Mode>, String> {
    match value {
        "both" => Ok(vec![Mode::IncludeIgnored, Mode::Default]),
        "include-ignored" => Ok(vec![Mode::IncludeIgnored]),
        "default" => Ok(vec![Mode::Default]),
        other => Err(format!("unknown mode `{other}` (include-ignored, default, both)")),
    }
}

/// Runs the check on every workspace; `Ok(true)` when all agree.
pub fn run(args: &DiffArgs) -> Result<bool> {
    let mut summaries = Vec::new();
    let mut all_agree = true;
    for path in &args.paths {
        let checked = check_workspace(args, path)?;
        all_agree &= checked.differences == 0;
        summaries.push(checked.summary);
    }
    println!("\n## summary\n");
    for summary in summaries {
        println!("{summary}");
    }
    Ok(all_agree)
}

/// One workspace's directories.
struct Workspace {
    name: String,
    /// The copy the runners work in.
    ws: PathBuf,
    /// Its CARGO_TARGET_DIR.
    target: PathBuf,
    /// Outputs and reports.
    out: PathBuf,
    /// PATH with --testplan-bin's directory first.
    path_env: Option<std::ffi::OsString>,
    /// Packages left out (`--exclude`), added after every `--workspace`.
    exclude: Vec<String>,
}

impl Workspace {
    fn cargo(&self, args: &[&str]) -> Command {
        let mut command = Command::new("cargo");
        for arg in args {
            command.arg(arg);
            if *arg == "--workspace" {
                for package in &self.exclude {
                    command.args(["--exclude", package]);
                }
            }
        }
        command
            .current_dir(&self.ws)
            .env("CARGO_TARGET_DIR", &self.target)
            .env("CARGO_TERM_COLOR", "never")
            .stdin(Stdio::null());
        if let Some(path) = &self.path_env {
            command.env("PATH", path);
        }
        command
    }
}

/// What checking one workspace gave.
struct Checked {
    differences: usize,
    summary: String,
}

fn check_workspace(args: &DiffArgs, path: &Path) -> Result<Checked> {
    let ws = prepare(args, path)?;
    let mut log = Log::new(ws.out.join(if args.compare_only { "diff-compare-only.txt" } else { "diff.txt" }));
    log.line(&format!("\n== {} ({})", ws.name, path.display()));
    log.line(&format!("   copy {}, target {}", ws.ws.display(), ws.target.display()));
    let version =
        ws.cargo(&["testplan", "--version"]).output().map_err(|e| format!("cargo testplan: {e}"))?;
    log.line(&format!("   {}", String::from_utf8_lossy(&version.stdout).trim()));

    let start = Instant::now();
    let build = ws
        .cargo(&["test", "--workspace", "--no-run", "--message-format=json-render-diagnostics"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cargo test --no-run: {e}"))?;
    let build_secs = start.elapsed().as_secs_f64();
    if !build.status.success() {
        return Err(format!("{}: building the tests failed ({})", ws.name, build.status).into());
    }
    let map = BinaryMap::from_cargo_messages(&String::from_utf8_lossy(&build.stdout));
    log.line(&format!("   build {build_secs:.1} s, {} test executables", map.executables()));

    let mut differences = 0;
    let mut parts = vec![format!("{}: build {build_secs:.1} s", ws.name)];
    for mode in &args.modes {
        let compared = compare_mode(&ws, &map, *mode, args, &mut log)?;
        differences += compared.differences;
        parts.push(compared.summary);
    }
    if args.nextest && !args.compare_only {
        let start = Instant::now();
        let out = ws.cargo(&["nextest", "run", "--workspace", "--no-fail-fast"]).output()?;
        let secs = start.elapsed().as_secs_f64();
        write(
            &ws.out.join("nextest.txt"),
            &[&out.stdout, &out.stderr].map(|b| String::from_utf8_lossy(b)).concat(),
        )?;
        let summary_line = String::from_utf8_lossy(&out.stderr)
            .lines()
            .rfind(|l| l.trim_start().starts_with("Summary"))
            .unwrap_or("")
            .trim()
            .to_owned();
        log.line(&format!("   cargo nextest run (default, no doctests): {secs:.1} s, {summary_line}"));
        parts.push(format!("nextest {secs:.1} s"));
    }
    let summary = format!("{}; {differences} differences not by design", parts.join("; "));
    log.line(&format!("SUMMARY {summary}"));
    log.save()?;
    Ok(Checked { differences, summary })
}

/// Copies the workspace (once, unless --fresh) without `target/` and `.git/`.
fn prepare(args: &DiffArgs, path: &Path) -> Result<Workspace> {
    let source = path.canonicalize().map_err(|e| format!("{}: {e}", path.display()))?;
    if !source.join("Cargo.toml").is_file() {
        return Err(format!("{}: no Cargo.toml", source.display()).into());
    }
    let name =
        source.file_name().map_or_else(|| "workspace".to_owned(), |n| n.to_string_lossy().into_owned());
    let out = args.work_dir.join(&name);
    let ws = out.join("ws");
    let marker = out.join("copied-from");
    if args.fresh || !marker.is_file() {
        if ws.exists() {
            std::fs::remove_dir_all(&ws).map_err(|e| format!("removing {}: {e}", ws.display()))?;
        }
        std::fs::create_dir_all(&ws).map_err(|e| format!("creating {}: {e}", ws.display()))?;
        for entry in std::fs::read_dir(&source)? {
            let entry = entry?;
            if matches!(entry.file_name().to_str(), Some(".git" | "target")) {
                continue;
            }
            let status = Command::new("cp").arg("-a").arg(entry.path()).arg(&ws).status()?;
            if !status.success() {
                return Err(format!("copying {} failed", entry.path().display()).into());
            }
        }
        write(&marker, &format!("{}\n", source.display()))?;
    }
    let path_env = match &args.testplan_bin {
        Some(bin) => {
            let dir = bin.canonicalize().map_err(|e| format!("{}: {e}", bin.display()))?;
            let dir = dir.parent().map(Path::to_path_buf).unwrap_or_default();
            let mut dirs = vec![dir];
            dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
            Some(std::env::join_paths(dirs)?)
        }
        None => None,
    };
    Ok(Workspace { name, ws, target: out.join("target"), out, path_env, exclude: args.exclude.clone() })
}

/// Outcome class compared across the runners.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Passed,
    Failed,
    Skipped,
}

fn cargo_class(outcome: &CargoOutcome) -> Class {
    match outcome {
        CargoOutcome::Ok => Class::Passed,
        CargoOutcome::Failed | CargoOutcome::Crashed(_) | CargoOutcome::Exited(_) => Class::Failed,
        CargoOutcome::Ignored(_) => Class::Skipped,
    }
}

fn testplan_class(status: &str) -> Class {
    match status {
        "passed" => Class::Passed,
        "skipped" | "not-run" => Class::Skipped,
        _ => Class::Failed,
    }
}

/// One test in cargo-testplan's report.
#[derive(Debug)]
struct PlanTest {
    status: String,
    /// `failed (exit 1)`, `skipped (ignored)`, ...
    label: String,
    output: String,
    /// The phase its markers from an `#[ignore = "MARKER..."]` reason put it in, if any.
    marker_phase: Option<String>,
}

fn report_tests(report: &serde_json::Value) -> BTreeMap<TestKey, PlanTest> {
    let mut tests = BTreeMap::new();
    for test in report["tests"].as_array().into_iter().flatten() {
        let text = |field: &str| test[field].as_str().unwrap_or_default().to_owned();
        let status = text("status");
        let detail = [
            text("skip_reason"),
            text("signal"),
            test["exit_code"].as_i64().map(|c| format!("exit {c}")).unwrap_or_default(),
        ]
        .into_iter()
        .filter(|d| !d.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
        let label = if detail.is_empty() { status.clone() } else { format!("{status} ({detail})") };
        let from_ignore_reason = test["marker_sources"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|source| source["source"].as_str().is_some_and(|s| s.starts_with("ignore reason")));
        let marker_phase = from_ignore_reason.then(|| text("phase"));
        let plan_test = PlanTest { status, label, output: text("output"), marker_phase };
        tests.insert((text("binary_id"), text("name")), plan_test);
    }
    tests
}

/// One (binary, test) the runners disagree on.
#[derive(Debug)]
struct Difference {
    key: TestKey,
    cargo: Option<String>,
    testplan: Option<String>,
    hint: Option<String>,
    /// Why the difference is cargo-testplan's documented behaviour, when it is.
    by_design: Option<String>,
}

fn differences(
    cargo: &CargoResults,
    plan: &BTreeMap<TestKey, PlanTest>,
    not_in_plan: &[TestKey],
) -> Vec<Difference> {
    let mut found = Vec::new();
    for (key, outcome) in &cargo.tests {
        match plan.get(key) {
            Some(test) if cargo_class(outcome) == testplan_class(&test.status) => {}
            Some(test) => found.push(Difference {
                key: key.clone(),
                cargo: Some(outcome.label()),
                testplan: Some(test.label.clone()),
                hint: hint(&test.output),
                by_design: by_design(outcome, test),
            }),
            None => {
                let testplan = not_in_plan.contains(key).then(|| "not in plan".to_owned());
                found.push(Difference {
                    key: key.clone(),
                    cargo: Some(outcome.label()),
                    testplan,
                    hint: None,
                    by_design: None,
                });
            }
        }
    }
    for (key, test) in plan.iter().filter(|(key, _)| !cargo.tests.contains_key(*key)) {
        found.push(Difference {
            key: key.clone(),
            cargo: None,
            testplan: Some(test.label.clone()),
            hint: hint(&test.output),
            by_design: None,
        });
    }
    found.sort_by(|a, b| a.key.cmp(&b.key));
    found
}

/// PRODUCT.md: a test `#[ignore = "slow"]` (a reason naming markers) is skipped by plain
/// `cargo test` and run by cargo-testplan in the phase its markers select.
fn by_design(cargo: &CargoOutcome, test: &PlanTest) -> Option<String> {
    let phase = test.marker_phase.as_ref()?;
    (matches!(cargo, CargoOutcome::Ignored(_)) && testplan_class(&test.status) != Class::Skipped)
        .then(|| format!("by design: its ignore reason names a marker, so it runs in phase `{phase}`"))
}

/// The line of captured output that most likely says why a test failed.
fn hint(output: &str) -> Option<String> {
    let lines: Vec<&str> = output.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let pick = lines
        .iter()
        .find(|l| l.starts_with("error[") || l.starts_with("error:") || l.contains("panicked at"))
        .or_else(|| lines.last())?;
    let mut text: String = pick.chars().take(200).collect();
    if pick.chars().count() > 200 {
        text.push('…');
    }
    Some(text)
}

/// What one mode's comparison gave.
struct Compared {
    differences: usize,
    summary: String,
}

fn compare_mode(
    ws: &Workspace,
    map: &BinaryMap,
    mode: Mode,
    args: &DiffArgs,
    log: &mut Log,
) -> Result<Compared> {
    let cargo_path = ws.out.join(format!("cargo-test-{}.txt", mode.name()));
    let report_path = ws.out.join(format!("{}.json", mode.name()));
    let (cargo_code, cargo_text, cargo_secs, plan_code, plan_secs) = if args.compare_only {
        let text =
            std::fs::read_to_string(&cargo_path).map_err(|e| format!("{}: {e}", cargo_path.display()))?;
        (None, text, 0.0, None, 0.0)
    } else {
        let (cargo_code, cargo_text, cargo_secs) = run_cargo_test(ws, mode, args.one_thread)?;
        write(&cargo_path, &cargo_text)?;
        let (plan_code, plan_secs) = run_testplan(ws, mode, &report_path)?;
        (cargo_code, cargo_text, cargo_secs, plan_code, plan_secs)
    };
    let cargo = cargo_output::parse(&cargo_text, map);
    let report: serde_json::Value = match std::fs::read_to_string(&report_path) {
        Ok(text) => serde_json::from_str(&text)?,
        Err(e) => return Err(format!("{}: no report {}: {e}", ws.name, report_path.display()).into()),
    };
    let plan = report_tests(&report);
    let not_in_plan: Vec<TestKey> = report["not_in_plan"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["binary_id"].as_str().unwrap_or_default().to_owned(),
                t["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let found = differences(&cargo, &plan, &not_in_plan);
    let designed = found.iter().filter(|d| d.by_design.is_some()).count();

    let cargo_count = |class: Class| cargo.tests.values().filter(|o| cargo_class(o) == class).count();
    let plan_count = |class: Class| plan.values().filter(|t| testplan_class(&t.status) == class).count();
    let tally = |count: &dyn Fn(Class) -> usize| {
        format!("{} / {} / {}", count(Class::Passed), count(Class::Failed), count(Class::Skipped))
    };
    log.line(&format!(
        "[{}] cargo test (exit {}): {} tests, passed/failed/ignored {} in {cargo_secs:.1} s; \
         cargo-testplan (exit {}): {} tests, passed/failed/skipped {} in {plan_secs:.1} s; \
         {} differences ({designed} by design)",
        mode.name(),
        code_text(cargo_code),
        cargo.tests.len(),
        tally(&cargo_count),
        code_text(plan_code),
        plan.len(),
        tally(&plan_count),
        found.len()
    ));
    for note in &cargo.notes {
        log.line(&format!("   note: {note}"));
    }
    log_differences(&found, log);
    let summary = format!(
        "{}: cargo test {} ({}) {cargo_secs:.1} s, testplan {} ({}) {plan_secs:.1} s, {} diffs ({designed} by design)",
        mode.name(),
        cargo.tests.len(),
        tally(&cargo_count),
        plan.len(),
        tally(&plan_count),
        found.len()
    );
    Ok(Compared { differences: found.len() - designed, summary })
}

fn code_text(code: Option<i32>) -> String {
    code.map_or_else(|| "-".to_owned(), |c| c.to_string())
}

/// `cargo test --workspace --no-fail-fast -- [--include-ignored]`: exit code, merged output,
/// wall time.
fn run_cargo_test(ws: &Workspace, mode: Mode, one_thread: bool) -> Result<(Option<i32>, String, f64)> {
    let mut cargo_args = vec!["test", "--workspace", "--no-fail-fast", "--"];
    cargo_args.extend_from_slice(mode.libtest_args());
    if one_thread {
        cargo_args.push("--test-threads=1");
    }
    let start = Instant::now();
    let (code, text) = run_merged(ws.cargo(&cargo_args))?;
    Ok((code, text, start.elapsed().as_secs_f64()))
}

/// `cargo testplan run --workspace --no-fail-fast [--run-ignored all] --report-json PATH`:
/// exit code and wall time; its output goes to WORK/NAME/testplan-MODE.txt.
fn run_testplan(ws: &Workspace, mode: Mode, report_path: &Path) -> Result<(Option<i32>, f64)> {
    let _ = std::fs::remove_file(report_path);
    let report_arg = report_path.to_string_lossy().into_owned();
    let mut plan_args = vec!["testplan", "run", "--workspace", "--no-fail-fast", "--color", "never"];
    plan_args.extend_from_slice(mode.testplan_args());
    plan_args.extend_from_slice(&["--report-json", &report_arg]);
    let start = Instant::now();
    let out = ws.cargo(&plan_args).output()?;
    let secs = start.elapsed().as_secs_f64();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let path = ws.out.join(format!("testplan-{}.txt", mode.name()));
    write(&path, &format!("{stdout}\n--- stderr ---\n{stderr}"))?;
    if !report_path.is_file() {
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{}: cargo-testplan wrote no report ({})\n{}",
            ws.name,
            out.status,
            tail.join("\n")
        )
        .into());
    }
    Ok((out.status.code(), secs))
}

/// Per binary and kind of disagreement a count, then every difference.
fn log_differences(found: &[Difference], log: &mut Log) {
    let show = |side: &Option<String>| side.clone().unwrap_or_else(|| "absent".to_owned());
    let mut groups: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for d in found {
        let cargo = show(&d.cargo).split(" (").next().unwrap_or_default().to_owned();
        let plan = show(&d.testplan).split(" (").next().unwrap_or_default().to_owned();
        let plan = if d.by_design.is_some() { format!("{plan} (by design)") } else { plan };
        *groups.entry((d.key.0.clone(), cargo, plan)).or_default() += 1;
    }
    for ((binary, cargo, plan), count) in &groups {
        log.line(&format!("   {binary}: {count} x cargo test {cargo} / cargo-testplan {plan}"));
    }
    for d in found {
        let mut line = format!(
            "   - {} `{}`: cargo test {}, cargo-testplan {}",
            d.key.0,
            d.key.1,
            show(&d.cargo),
            show(&d.testplan)
        );
        if let Some(why) = &d.by_design {
            let _ = write!(line, " [{why}]");
        }
        if let Some(hint) = &d.hint {
            let _ = write!(line, "\n       {hint}");
        }
        log.line(&line);
    }
}

/// Runs a command with stdout and stderr into one pipe (the order cargo test's parser needs).
fn run_merged(mut command: Command) -> Result<(Option<i32>, String)> {
    let (mut reader, writer) = std::io::pipe()?;
    command.stdout(writer.try_clone()?).stderr(writer);
    let mut child = command.spawn()?;
    drop(command);
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    let status = child.wait()?;
    Ok((status.code(), String::from_utf8_lossy(&bytes).into_owned()))
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()).into())
}

/// Prints lines and keeps them for WORK/NAME/diff.txt.
struct Log {
    path: PathBuf,
    text: String,
}

impl Log {
    fn new(path: PathBuf) -> Log {
        Log { path, text: String::new() }
    }

    fn line(&mut self, line: &str) {
        println!("{line}");
        self.text.push_str(line);
        self.text.push('\n');
    }

    fn save(&self) -> Result<()> {
        write(&self.path, &self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<Option<DiffArgs>, String> {
        parse_args(&line.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
    }

    #[test]
    fn options() {
        let parsed = args("--mode default --work-dir /w --nextest --exclude demo a b")
            .expect("parses")
            .expect("not help");
        assert_eq!(parsed.exclude, ["demo"]);
        assert_eq!(parsed.paths, [PathBuf::from("a"), PathBuf::from("b")]);
        assert_eq!(parsed.modes, [Mode::Default]);
        assert_eq!(parsed.work_dir, PathBuf::from("/w"));
        assert!(parsed.nextest && !parsed.fresh && !parsed.one_thread);
        assert_eq!(args("--help"), Ok(None));
        assert!(args("").expect_err("no path").contains("at least one workspace"));
        assert!(args("--mode all x").expect_err("bad mode").contains("unknown mode `all`"));
    }

    #[test]
    fn outcomes_are_compared_by_class() {
        let mut cargo = CargoResults::default();
        let key = |b: &str, n: &str| (b.to_owned(), n.to_owned());
        cargo.tests.insert(key("a", "same"), CargoOutcome::Ok);
        cargo.tests.insert(key("a", "crash"), CargoOutcome::Crashed("SIGSEGV".into()));
        cargo.tests.insert(key("a", "differs"), CargoOutcome::Ok);
        cargo.tests.insert(key("a::doc", "only cargo"), CargoOutcome::Ignored(None));
        let plan_test = |status: &str, output: &str| PlanTest {
            status: status.to_owned(),
            label: status.to_owned(),
            output: output.to_owned(),
            marker_phase: None,
        };
        let mut plan = BTreeMap::new();
        plan.insert(key("a", "same"), plan_test("passed", ""));
        plan.insert(key("a", "crash"), plan_test("crashed", ""));
        plan.insert(key("a", "differs"), plan_test("failed", "noise\nerror[E0433]: failed to resolve\nmore"));
        plan.insert(key("a", "only plan"), plan_test("passed", ""));
        let found = differences(&cargo, &plan, &[]);
        type Row<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);
        let got: Vec<Row> = found
            .iter()
            .map(|d| (d.key.1.as_str(), d.cargo.as_deref(), d.testplan.as_deref(), d.hint.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("differs", Some("ok"), Some("failed"), Some("error[E0433]: failed to resolve")),
                ("only plan", None, Some("passed"), None),
                ("only cargo", Some("ignored"), None, None),
            ]
        );
    }
}
