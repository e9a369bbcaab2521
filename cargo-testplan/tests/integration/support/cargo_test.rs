//! What `cargo test` ran and how each test ended, read from its human output.
//!
//! Input: the merged stdout+stderr of
//! `cargo test --no-fail-fast -- --include-ignored --test-threads=1` (one thread, so result
//! lines are not interleaved and a crash interrupts exactly one test). Observed with cargo
//! 1.95:
//!
//! - A section starts with `Running unittests src/lib.rs (target/debug/deps/NAME-HASH)`,
//!   `Running tests/x.rs (...)` or `Running unittests src/main.rs (...)`; the path in
//!   parentheses is relative to the current directory when inside it, absolute otherwise.
//!   Its file name is the executable's, which [`BinaryMap`] maps to a binary id.
//!   Doctests start at `Doc-tests CRATE` (the lib target's crate name: `shapes_cli`), and with
//!   edition 2024 one doctest section has two `running N tests` groups (merged doctests,
//!   then the ones that cannot be merged) and ends with `all doctests ran in ...`.
//! - Results: `test NAME ... ok`, `test NAME ... FAILED`, `test NAME ... ignored` or
//!   `test NAME ... ignored, REASON` (harnesses built on libtest-mimic or libtest2-mimic pad
//!   NAME with spaces so the verdicts align: `test adds                 ... ok`). libtest appends a mode to NAME that is not part of the
//!   name: ` - should panic` (`#[should_panic]`), ` - compile` (`no_run` doctest),
//!   ` - compile fail` (`compile_fail` doctest). Doctest names are rustdoc's:
//!   `crates/geometry/src/lib.rs - item::path (line 12)`, relative to the workspace root.
//! - A test that kills its process leaves its line dangling: with stdout and stderr merged,
//!   cargo's error lands on the same line: `test zz_segfaults ... error: test failed, to
//!   rerun pass `--lib``, then `Caused by:` and `process didn't exit successfully: `CMD`
//!   (signal: 11, SIGSEGV: invalid memory reference)` — or `(exit status: 3)` for a test
//!   that calls `process::exit`.
//! - A `harness = false` binary that is not libtest-like prints whatever it prints and no
//!   `running N tests` line: it is one test named after its target, passed unless cargo
//!   reports its process failing.
//! - Failure details (`failures:` ... `---- NAME stdout ----`, captured output) come after
//!   the result lines; they are skipped, since captured output may contain anything.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// How one test ended under `cargo test`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CargoOutcome {
    /// `... ok`
    Ok,
    /// `... FAILED`
    Failed,
    /// `... ignored[, REASON]`
    Ignored(Option<String>),
    /// The binary died of a signal (name, e.g. `SIGSEGV`) while running this test.
    Crashed(String),
    /// The binary exited with this code while running this test.
    Exited(i32),
}

impl CargoOutcome {
    /// The word used in expected.toml's `cargo_test` key.
    pub fn label(&self) -> &'static str {
        match self {
            CargoOutcome::Ok => "ok",
            CargoOutcome::Failed => "FAILED",
            CargoOutcome::Ignored(_) => "ignored",
            CargoOutcome::Crashed(_) => "crashed",
            CargoOutcome::Exited(_) => "exited",
        }
    }
}

/// (binary id, test name)
pub type TestKey = (String, String);

/// What a test binary is, as far as the comparison needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinaryInfo {
    /// nextest-style id: `pkg`, `pkg::bin/NAME`, `pkg::TEST`, `pkg::doc`.
    pub id: String,
    /// Cargo target name (an opaque harness's single test is named after it).
    pub target_name: String,
}

/// Maps what `cargo test` prints (executable file names, doctest crate names) to binary ids.
#[derive(Clone, Debug, Default)]
pub struct BinaryMap {
    by_file_name: HashMap<String, BinaryInfo>,
    doc_by_crate: HashMap<String, BinaryInfo>,
}

impl BinaryMap {
    /// Registers an executable (file name `NAME-HASH`).
    pub fn insert_executable(&mut self, file_name: &str, id: &str, target_name: &str) {
        let info = BinaryInfo { id: id.to_owned(), target_name: target_name.to_owned() };
        self.by_file_name.insert(file_name.to_owned(), info);
    }

    /// Registers the doctests of a library crate of `package`.
    pub fn insert_doc(&mut self, crate_name: &str, package: &str) {
        let info = BinaryInfo { id: format!("{package}::doc"), target_name: crate_name.to_owned() };
        self.doc_by_crate.insert(crate_name.replace('-', "_"), info);
    }

    /// Builds the map from `cargo test --no-run --message-format=json` output.
    pub fn from_cargo_messages(json_lines: &str) -> BinaryMap {
        let mut map = BinaryMap::default();
        for line in json_lines.lines().filter(|l| l.starts_with('{')) {
            let msg: serde_json::Value = serde_json::from_str(line).expect("cargo JSON message");
            if msg["reason"] != "compiler-artifact" {
                continue;
            }
            let package = package_name(msg["package_id"].as_str().expect("package_id"));
            let target = &msg["target"];
            let name = target["name"].as_str().expect("target name");
            let kind = target["kind"][0].as_str().expect("target kind");
            if matches!(kind, "lib" | "rlib" | "proc-macro") && target["doctest"] == true {
                map.insert_doc(name, &package);
            }
            let Some(exe) = msg["executable"].as_str() else { continue };
            if msg["profile"]["test"] != true {
                continue;
            }
            let id = binary_id(&package, kind, name);
            let file_name = Path::new(exe).file_name().expect("exe file name").to_string_lossy();
            map.insert_executable(&file_name, &id, name);
        }
        map
    }

    fn executable(&self, file_name: &str) -> &BinaryInfo {
        self.by_file_name
            .get(file_name)
            .unwrap_or_else(|| panic!("cargo test ran `{file_name}`, which the build did not list"))
    }

    fn doc(&self, crate_name: &str) -> &BinaryInfo {
        self.doc_by_crate
            .get(crate_name)
            .unwrap_or_else(|| panic!("doctests of unknown crate `{crate_name}`"))
    }
}

/// nextest's binary id for a target.
pub fn binary_id(package: &str, kind: &str, target_name: &str) -> String {
    match kind {
        "lib" | "rlib" | "dylib" | "cdylib" | "staticlib" | "proc-macro" => package.to_owned(),
        "bin" => format!("{package}::bin/{target_name}"),
        "test" => format!("{package}::{target_name}"),
        other => format!("{package}::{other}/{target_name}"),
    }
}

/// The package name in a package id spec: `path+file:///a/b/geometry#0.1.0` (name = last path
/// segment) or `path+file:///a/b/dir#geometry@0.1.0`.
pub fn package_name(package_id: &str) -> String {
    let (url, fragment) = package_id.rsplit_once('#').unwrap_or((package_id, ""));
    match fragment.split_once('@') {
        Some((name, _version)) => name.to_owned(),
        None => url.trim_end_matches('/').rsplit('/').next().unwrap_or(url).to_owned(),
    }
}

/// Every test `cargo test` reported, by (binary id, name).
pub type CargoResults = BTreeMap<TestKey, CargoOutcome>;

#[derive(Debug)]
enum State {
    /// Between sections, or in a section before `running N tests`.
    Outside,
    /// After `running N tests`: result lines.
    Results,
    /// After `failures:`: captured output, skipped.
    Failures,
}

/// One binary's section of the output.
#[derive(Debug)]
struct Section {
    binary: BinaryInfo,
    saw_running: bool,
    dangling: Option<String>,
}

/// Parses `cargo test` output (see the module doc).
pub fn parse_cargo_test_output(text: &str, map: &BinaryMap) -> CargoResults {
    let mut parser = Parser { map, results: BTreeMap::new(), section: None, state: State::Outside };
    for line in text.lines() {
        parser.line(line);
    }
    parser.finish_section(None);
    parser.results
}

struct Parser<'a> {
    map: &'a BinaryMap,
    results: CargoResults,
    section: Option<Section>,
    state: State,
}

impl Parser<'_> {
    fn line(&mut self, line: &str) {
        if let Some(file_name) = running_executable(line) {
            let binary = self.map.executable(file_name).clone();
            self.start_section(binary);
        } else if let Some(krate) = line.trim_start().strip_prefix("Doc-tests ") {
            let binary = self.map.doc(krate.trim()).clone();
            self.start_section(binary);
        } else if let Some(death) = process_death(line) {
            self.finish_section(Some(death));
        } else if (line.starts_with("running ") && line.ends_with(" tests")) || line == "running 1 test" {
            self.state = State::Results;
            if let Some(section) = &mut self.section {
                section.saw_running = true;
            }
        } else if line == "failures:" {
            self.state = State::Failures;
        } else if line.starts_with("test result: ") {
            self.state = State::Outside;
        } else if matches!(self.state, State::Results)
            && let Some(rest) = line.strip_prefix("test ")
        {
            self.result_line(rest);
        }
    }

    fn result_line(&mut self, rest: &str) {
        let Some(section) = &mut self.section else { return };
        let Some((name, verdict)) = rest.split_once(" ... ") else {
            // `test NAME ...` with nothing after: the process died mid-test.
            if let Some(name) = rest.strip_suffix(" ...") {
                section.dangling = Some(strip_mode(name).to_owned());
            }
            return;
        };
        let outcome = match verdict {
            "ok" => CargoOutcome::Ok,
            "FAILED" => CargoOutcome::Failed,
            "ignored" => CargoOutcome::Ignored(None),
            v => match v.strip_prefix("ignored, ") {
                Some(reason) => CargoOutcome::Ignored(Some(reason.to_owned())),
                None => {
                    // Anything else (cargo's error appended to the line): the process died.
                    section.dangling = Some(strip_mode(name).to_owned());
                    return;
                }
            },
        };
        // libtest-mimic and libtest2-mimic pad names to align the verdicts.
        let key = (section.binary.id.clone(), strip_mode(name.trim_end()).to_owned());
        let previous = self.results.insert(key.clone(), outcome);
        assert!(previous.is_none(), "cargo test reported {key:?} twice");
    }

    fn start_section(&mut self, binary: BinaryInfo) {
        self.finish_section(None);
        self.section = Some(Section { binary, saw_running: false, dangling: None });
        self.state = State::Outside;
    }

    /// Ends the current section; `death` is how cargo said its process ended, if it failed.
    fn finish_section(&mut self, death: Option<CargoOutcome>) {
        let Some(section) = self.section.take() else { return };
        self.state = State::Outside;
        let id = section.binary.id.clone();
        if let Some(name) = section.dangling {
            let outcome =
                death.unwrap_or_else(|| panic!("{id}: `{name}` has no result and no process error"));
            self.results.insert((id, name), outcome);
        } else if !section.saw_running && !id.ends_with("::doc") {
            // A harness that does not speak libtest: one test named after its target.
            let outcome = match death {
                None | Some(CargoOutcome::Ok) => CargoOutcome::Ok,
                Some(CargoOutcome::Exited(_)) => CargoOutcome::Failed,
                Some(other) => other,
            };
            self.results.insert((id, section.binary.target_name.clone()), outcome);
        }
        // Otherwise the process failed because tests failed: already recorded.
    }
}

/// The executable file name of a `Running ... (PATH)` line.
fn running_executable(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix("Running ")?;
    let path = rest.strip_suffix(')')?.rsplit_once(" (")?.1;
    Some(path.rsplit('/').next().unwrap_or(path))
}

/// cargo's `process didn't exit successfully: `...` (signal: 11, SIGSEGV: ...)` or
/// `(exit status: 3)`.
fn process_death(line: &str) -> Option<CargoOutcome> {
    let rest = line.trim_start().strip_prefix("process didn't exit successfully: ")?;
    let detail = rest.rsplit_once(" (")?.1.strip_suffix(')')?;
    if let Some(signal) = detail.strip_prefix("signal: ") {
        let name = signal.split_once(", ")?.1.split(':').next()?;
        return Some(CargoOutcome::Crashed(name.to_owned()));
    }
    let code = detail.strip_prefix("exit status: ")?.parse().ok()?;
    Some(CargoOutcome::Exited(code))
}

/// Removes the mode libtest prints after a name (` - should panic`, ` - compile`, ...).
fn strip_mode(name: &str) -> &str {
    [" - should panic", " - compile fail", " - compile"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name)
}

/// What running `cargo test` on a fixture gave.
#[derive(Debug)]
pub struct CargoRun {
    /// cargo's exit code.
    pub exit_code: Option<i32>,
    /// Merged stdout and stderr.
    pub output: String,
    /// Parsed results.
    pub results: CargoResults,
}

/// Builds the fixture's tests and maps their executables to binary ids. (Diagnostics are
/// rendered to stderr, so a failed build's message shows the compiler's errors.)
pub fn build_binary_map(fixture: &super::fixture::Fixture) -> BinaryMap {
    let args = ["test", "--no-run", "--message-format=json-render-diagnostics"];
    let out = super::fixture::run_output(&mut fixture.cargo(&args));
    assert!(
        out.status.success(),
        "building {} failed:\n{}",
        fixture.name(),
        String::from_utf8_lossy(&out.stderr)
    );
    BinaryMap::from_cargo_messages(&String::from_utf8_lossy(&out.stdout))
}

/// Runs `cargo test --no-fail-fast -- LIBTEST_ARGS` on the fixture and parses what it
/// reports. Pass `--test-threads=1` (see the module doc).
pub fn run_cargo_test(fixture: &super::fixture::Fixture, map: &BinaryMap, libtest_args: &[&str]) -> CargoRun {
    let mut args = vec!["test", "--no-fail-fast", "--"];
    args.extend_from_slice(libtest_args);
    let (exit_code, output) = super::fixture::run_merged(&mut fixture.cargo(&args));
    let results = parse_cargo_test_output(&output, map);
    CargoRun { exit_code, output, results }
}
