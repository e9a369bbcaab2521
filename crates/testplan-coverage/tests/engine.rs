//! The coverage engine on `fixtures/coverage`, end to end: finds the LLVM tools, builds the
//! fixture instrumented (this test binary is the rustc wrapper, as cargo-testplan is in a
//! real run), runs each phase's tests with the phase's `LLVM_PROFILE_FILE`, and checks every
//! phase's own and cumulative figures, the totals, each file and the lcov file against the
//! fixture's `expected.toml` (figures measured by hand with `llvm-cov export`).
//!
//! Needs LLVM tools that read this rustc's profiles (`.ci/run` installs them); without
//! them it fails with the install hint rather than passing unchecked.

use std::collections::BTreeMap;
use std::process::{Command, ExitCode, Stdio};

use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::Message;
use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;
use testplan_coverage::instrument;
use testplan_coverage::model::{Counts, CoverageSummary};
use testplan_coverage::profiles::ProfileLayout;
use testplan_coverage::session::CoverageRun;
use testplan_coverage::sources::SourceFilter;
use testplan_coverage::tools::{self, RustcInfo, ToolSearch};

fn main() -> ExitCode {
    if let Some(code) = instrument::intercept() {
        return code;
    }
    let trials = vec![Trial::test("slow::engine_on_the_coverage_fixture", engine_on_the_coverage_fixture)];
    libtest_mimic::run(&Arguments::from_args(), trials).exit_code()
}

#[derive(Deserialize)]
struct Expected {
    phase: Vec<ExpectedPhase>,
    total: ExpectedFigures,
    files: BTreeMap<String, ExpectedFigures>,
}

#[derive(Deserialize)]
struct ExpectedPhase {
    name: String,
    lines: [u64; 2],
    cumulative: [u64; 2],
}

#[derive(Deserialize)]
struct ExpectedFigures {
    lines: [u64; 2],
    functions: [u64; 2],
    regions: [u64; 2],
    #[serde(default)]
    uncovered: Vec<u32>,
}

/// The instrumented build's binaries.
#[derive(Default)]
struct Built {
    /// Everything llvm-cov reads: test binaries, the binary, the library.
    objects: Vec<Utf8PathBuf>,
    /// Unit test binaries (lib and bin targets).
    unit: Vec<Utf8PathBuf>,
    /// Integration test binaries.
    integration: Vec<Utf8PathBuf>,
}

fn engine_on_the_coverage_fixture() -> Result<(), Failed> {
    let fixture = Utf8Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/coverage");
    let temp = tempfile::tempdir()?;
    let temp = Utf8PathBuf::from_path_buf(temp.path().canonicalize()?).map_err(|p| format!("{p:?}"))?;
    let ws = temp.join("ws");
    copy_fixture(&fixture, &ws)?;
    let target = temp.join("target");

    let rustc = RustcInfo::query(Utf8Path::new("rustc"), &ws)?;
    let tools = tools::find(&rustc, &ToolSearch::from_environment(&rustc), &temp)?;
    let layout = ProfileLayout::new(temp.join("profiles"));
    layout.prepare()?;
    let wrapper = std::env::current_exe()?;
    let env =
        instrument::build_env(&wrapper, layout.build_pattern().as_std_path(), |name| std::env::var_os(name));
    let built = build(&ws, &target, &env)?;

    let expected: Expected = toml::from_str(&std::fs::read_to_string(fixture.join("expected.toml"))?)?;
    let phases: Vec<&str> = expected.phase.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(phases, ["unit", "integration", "doc"], "the fixture's phases");
    for binary in &built.unit {
        run_tests(Command::new(binary), &ws, &env, &layout.phase_pattern(0, "unit"))?;
    }
    for binary in &built.integration {
        run_tests(Command::new(binary), &ws, &env, &layout.phase_pattern(1, "integration"))?;
    }
    let mut doctests = Command::new("cargo");
    doctests.args(["test", "--doc", "--locked", "--target-dir"]).arg(&target);
    run_tests(doctests, &ws, &env, &layout.phase_pattern(2, "doc"))?;

    let mut run = CoverageRun::new(tools, layout, built.objects, SourceFilter::new(&ws, vec![target]))?;
    for (index, phase) in expected.phase.iter().enumerate() {
        let got = run.finish_phase(index, &phase.name)?;
        check_eq(&format!("{} own lines", phase.name), got.own.summary().total.lines, counts(phase.lines))?;
        let cumulative = got.cumulative.summary().total.lines;
        check_eq(&format!("{} cumulative lines", phase.name), cumulative, counts(phase.cumulative))?;
        check_eq(&format!("{} lost profiles", phase.name), got.lost_profiles, 0)?;
    }
    let total = run.total().ok_or("no total after the last phase")?;
    let summary = total.summary();
    check_figures("total", &summary.total, &expected.total)?;
    check_files(&summary, &expected)?;
    for (path, figures) in &expected.files {
        let file = &total.files[&Utf8PathBuf::from(path)];
        let uncovered: Vec<u32> = file.uncovered_lines().collect();
        check_eq(&format!("{path} uncovered lines"), uncovered, figures.uncovered.clone())?;
    }
    check_lcov(&testplan_coverage::lcov::write(total), &ws, &expected)
}

fn copy_fixture(from: &Utf8Path, to: &Utf8Path) -> Result<(), Failed> {
    for dir in ["", "src", "tests"] {
        std::fs::create_dir_all(to.join(dir))?;
    }
    for file in ["Cargo.toml", "Cargo.lock", "src/lib.rs", "src/main.rs", "tests/api.rs"] {
        std::fs::copy(from.join(file), to.join(file))?;
    }
    Ok(())
}

/// `cargo test --no-run` with the instrumented build's environment; the binaries it made.
fn build(ws: &Utf8Path, target: &Utf8Path, env: &[(String, std::ffi::OsString)]) -> Result<Built, Failed> {
    let mut cargo = Command::new("cargo");
    cargo.args(["test", "--no-run", "--locked", "--message-format=json-render-diagnostics", "--target-dir"]);
    cargo.arg(target).current_dir(ws).envs(env.iter().map(|(k, v)| (k, v))).stderr(Stdio::inherit());
    let output = cargo.output()?;
    if !output.status.success() {
        return Err(format!("instrumented build failed: {}", output.status).into());
    }
    let mut built = Built::default();
    for message in Message::parse_stream(output.stdout.as_slice()) {
        let Message::CompilerArtifact(artifact) = message? else { continue };
        let kinds: Vec<String> = artifact.target.kind.iter().map(ToString::to_string).collect();
        if let Some(exe) = artifact.executable {
            built.objects.push(exe.clone());
            if artifact.profile.test && kinds.iter().any(|k| k == "test") {
                built.integration.push(exe);
            } else if artifact.profile.test {
                built.unit.push(exe);
            }
        }
        built.objects.extend(artifact.filenames.into_iter().filter(|f| f.extension() == Some("rlib")));
    }
    Ok(built)
}

/// Runs a test command with the build's environment (nothing is rebuilt) and the phase's
/// profile pattern.
fn run_tests(
    mut command: Command,
    ws: &Utf8Path,
    env: &[(String, std::ffi::OsString)],
    profiles: &Utf8Path,
) -> Result<(), Failed> {
    command.current_dir(ws).envs(env.iter().map(|(k, v)| (k, v))).env("LLVM_PROFILE_FILE", profiles);
    let output = command.output()?;
    if !output.status.success() {
        return Err(format!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    Ok(())
}

fn check_eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, expected: T) -> Result<(), Failed> {
    if got == expected {
        return Ok(());
    }
    Err(format!("{what}: got {got:?}, expected {expected:?}").into())
}

fn counts([covered, total]: [u64; 2]) -> Counts {
    Counts { covered, total }
}

fn check_figures(
    what: &str,
    got: &testplan_coverage::model::FileSummary,
    expected: &ExpectedFigures,
) -> Result<(), Failed> {
    check_eq(&format!("{what} lines"), got.lines, counts(expected.lines))?;
    check_eq(&format!("{what} functions"), got.functions, counts(expected.functions))?;
    check_eq(&format!("{what} regions"), got.regions, counts(expected.regions))
}

fn check_files(summary: &CoverageSummary, expected: &Expected) -> Result<(), Failed> {
    let files: Vec<&String> = summary.files.keys().collect();
    check_eq("measured files", files, expected.files.keys().collect())?;
    for (path, figures) in &expected.files {
        check_figures(path, &summary.files[path], figures)?;
    }
    Ok(())
}

/// The lcov file names exactly the expected uncovered lines (`DA:<line>,0`), each file by
/// its absolute path, and its `LF`/`LH` equal the expected line figures.
fn check_lcov(text: &str, ws: &Utf8Path, expected: &Expected) -> Result<(), Failed> {
    let mut uncovered: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let mut totals: BTreeMap<String, [u64; 2]> = BTreeMap::new();
    let mut file = String::new();
    for line in text.lines() {
        if let Some(path) = line.strip_prefix("SF:") {
            file = path.to_owned();
        } else if let Some(zero) = line.strip_prefix("DA:").and_then(|r| r.strip_suffix(",0")) {
            uncovered.entry(file.clone()).or_default().push(zero.parse()?);
        } else if let Some(lf) = line.strip_prefix("LF:") {
            totals.entry(file.clone()).or_default()[1] = lf.parse()?;
        } else if let Some(lh) = line.strip_prefix("LH:") {
            totals.entry(file.clone()).or_default()[0] = lh.parse()?;
        }
    }
    for (path, figures) in &expected.files {
        let absolute = ws.join(path).to_string();
        check_eq(
            &format!("lcov uncovered lines of {path}"),
            uncovered.remove(&absolute).unwrap_or_default(),
            figures.uncovered.clone(),
        )?;
        check_eq(&format!("lcov LH/LF of {path}"), totals.remove(&absolute), Some(figures.lines))?;
    }
    check_eq("lcov files beyond the expected", totals.keys().collect::<Vec<_>>(), Vec::<&String>::new())
}
