//! The coverage engine on `fixtures/coverage`, end to end through `collect` as a command
//! drives it: finds the LLVM tools, builds the fixture instrumented (this test binary is
//! the rustc wrapper, as cargo-testplan is in a real run), runs each phase's tests with the
//! phase's `LLVM_PROFILE_FILE`, and checks every phase's own and cumulative figures, the
//! totals, each file, the uncovered lines and the lcov file against the fixture's
//! `expected.toml` (figures measured by hand with `llvm-cov export`); then the failed
//! `--coverage-fail-under 99` gate, the changed lines since `HEAD` (a commit that differs
//! in one covered and one uncovered line) and that the Cobertura file parses with the
//! expected totals.
//!
//! Needs LLVM tools that read this rustc's profiles (`.ci/run` installs them); without
//! them it fails with the install hint rather than passing unchecked.

use std::collections::BTreeMap;
use std::process::{Command, ExitCode, Stdio};

use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::Message;
use libtest_mimic::{Arguments, Failed, Trial};
use testplan_coverage::collect::{self, Finish};
use testplan_coverage::gate::Gates;
use testplan_coverage::instrument;
use testplan_coverage::model::{Counts, CoverageSummary};

fn main() -> ExitCode {
    if let Some(code) = instrument::intercept() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    let trials = vec![Trial::test("slow::engine_on_the_coverage_fixture", engine_on_the_coverage_fixture)];
    libtest_mimic::run(&Arguments::from_args(), trials).exit_code()
}

#[path = "../../../fixtures/coverage/expected.rs"]
mod expected;
use expected::{Expected, ExpectedFigures};

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
    commit_with_two_lines_changed(&ws)?;

    let wrapper = Utf8PathBuf::from_path_buf(std::env::current_exe()?).map_err(|p| format!("{p:?}"))?;
    let prepared = collect::prepare(&ws, &temp.join("target"), &wrapper)?;
    let built = build(&ws, &prepared.target_dir, &prepared.cargo_env)?;

    let expected: Expected = toml::from_str(&std::fs::read_to_string(fixture.join("expected.toml"))?)?;
    let phases: Vec<&str> = expected.phase.iter().map(|p| p.name.as_str()).collect();
    check_eq("the fixture's phases", phases, vec!["unit", "integration", "doc"])?;
    let env = |index: usize, phase: &str| -> Vec<(String, String)> {
        prepared.cargo_env.iter().cloned().chain(prepared.phase_env(index, phase)).collect()
    };
    for binary in &built.unit {
        run_tests(Command::new(binary), &ws, &env(0, "unit"))?;
    }
    for binary in &built.integration {
        run_tests(Command::new(binary), &ws, &env(1, "integration"))?;
    }
    let mut doctests = Command::new("cargo");
    doctests.args(["test", "--doc", "--locked", "--target-dir"]).arg(&prepared.target_dir);
    run_tests(doctests, &ws, &env(2, "doc"))?;

    let mut collector = prepared.collector(&ws, built.objects)?;
    for (index, phase) in expected.phase.iter().enumerate() {
        let got = collector.finish_phase(index, &phase.name)?;
        check_eq(&format!("{} own lines", phase.name), got.own.lines, counts(phase.lines))?;
        check_eq(
            &format!("{} cumulative lines", phase.name),
            got.cumulative.lines,
            counts(phase.cumulative),
        )?;
        check_eq(&format!("{} lost profiles", phase.name), got.lost_profiles, 0)?;
    }
    let gates = Gates { fail_under: Some(99.0), ..Gates::default() };
    let outcome = collector.finish(&Finish { previous: None, gates: &gates, diff_base: Some("HEAD") })?;
    check_figures("total", &outcome.summary.total, &expected.total)?;
    check_files(&outcome.summary, &expected)?;
    for (path, figures) in &expected.files {
        let file = &outcome.data.files[&Utf8PathBuf::from(path)];
        let uncovered: Vec<u32> = file.uncovered_lines().collect();
        check_eq(&format!("{path} uncovered lines"), uncovered, figures.uncovered.clone())?;
    }
    check_lcov(&outcome.lcov(), &ws, &expected)?;
    let gates: Vec<String> = outcome.failed_gates.iter().map(ToString::to_string).collect();
    check_eq("failed gates", gates, vec!["line coverage 80.49% is under the minimum 99%".to_owned()])?;
    let (base, changed) = outcome.changed.as_ref().ok_or("no changed-lines coverage")?;
    check_eq("diff base", base.as_str(), "HEAD")?;
    check_eq("changed lines", changed.lines, Counts { covered: 1, total: 2 })?;
    check_eq("uncovered changed lines", changed.uncovered.clone(), vec![("src/lib.rs".into(), 31)])?;
    check_cobertura(&outcome.cobertura("0.1.0", 0), &expected)
}

/// Makes `ws` a git repository whose last commit differs from the working tree in two
/// lines of src/lib.rs: line 25 (`doc_only`, which the doctest runs) and line 31
/// (`never_called`), so `--coverage-diff HEAD` sees one covered and one uncovered line.
fn commit_with_two_lines_changed(ws: &Utf8Path) -> Result<(), Failed> {
    let lib = ws.join("src/lib.rs");
    let original = std::fs::read_to_string(&lib)?;
    let lines: Vec<&str> = original.lines().collect();
    check_eq("line 25", lines[24], "    let square = x * x;")?;
    check_eq("line 31", lines[30], "    let next = x.wrapping_add(1);")?;
    let older = original
        .replace("let square = x * x;", "let square = x.pow(2);")
        .replace("wrapping_add(1)", "saturating_add(1)");
    std::fs::write(&lib, older)?;
    git(ws, &["init", "-q"])?;
    git(ws, &["add", "."])?;
    git(ws, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "older"])?;
    std::fs::write(&lib, original)?;
    Ok(())
}

fn git(ws: &Utf8Path, args: &[&str]) -> Result<(), Failed> {
    let status = Command::new("git").args(args).current_dir(ws).stdout(Stdio::null()).status()?;
    if status.success() { Ok(()) } else { Err(format!("git {args:?}: {status}").into()) }
}

/// The Cobertura document parses and its totals are the expected lines.
fn check_cobertura(xml: &[u8], expected: &Expected) -> Result<(), Failed> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let (mut root, mut lines) = (None, 0_u64);
    loop {
        match reader.read_event_into(&mut buf)? {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) if e.name().as_ref() == b"coverage" => {
                let attr = |name: &str| -> Result<String, Failed> {
                    let value = e.try_get_attribute(name)?.ok_or(format!("no {name}"))?;
                    Ok(String::from_utf8_lossy(&value.value).into_owned())
                };
                root = Some((attr("lines-covered")?.parse::<u64>()?, attr("lines-valid")?.parse::<u64>()?));
            }
            quick_xml::events::Event::Empty(e) if e.name().as_ref() == b"line" => lines += 1,
            _ => {}
        }
        buf.clear();
    }
    let [covered, total] = expected.total.lines;
    check_eq("cobertura lines-covered/lines-valid", root, Some((covered, total)))?;
    check_eq("cobertura <line> elements", lines, total)
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
fn build(ws: &Utf8Path, target: &Utf8Path, env: &[(String, String)]) -> Result<Built, Failed> {
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

/// Runs a test command with `env`: the build's (so nothing is rebuilt) and the phase's.
fn run_tests(mut command: Command, ws: &Utf8Path, env: &[(String, String)]) -> Result<(), Failed> {
    command.current_dir(ws).envs(env.iter().map(|(k, v)| (k, v)));
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
