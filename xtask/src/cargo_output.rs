//! What `cargo test --workspace` ran and how each test ended, read from its human output:
//! the one parser of cargo's test output, for `cargo xtask diff` and (included by path) the
//! integration suite's `support/cargo_test.rs`. It works with libtest's default parallel
//! threads and never panics: whatever it cannot place becomes a note in the result (the
//! integration suite fails on any note).
//!
//! Output grammar (cargo 1.95, stdout and stderr merged into one pipe):
//!
//! - A section starts with `Running unittests src/lib.rs (DIR/deps/NAME-HASH)` or
//!   `Running tests/x.rs (...)`; the executable's file name maps to a binary id through
//!   [`BinaryMap`]. Doctests start at `Doc-tests CRATE` (the lib target's crate name).
//! - `running N tests` starts the result lines (twice in an edition-2024 doctest section:
//!   merged doctests, then the rest). libtest-mimic and libtest2-mimic harnesses print the
//!   same lines.
//! - Results: `test NAME ... ok`, `... FAILED`, `... ignored`, `... ignored, REASON`. A mode
//!   after NAME (` - should panic`, ` - compile`, ` - compile fail`) is not part of the name.
//!   With parallel threads each result is printed whole when its test ends, so the lines do
//!   not interleave; `test NAME has been running for over 60 seconds` lines are skipped.
//! - A process that dies is reported by cargo as `process didn't exit successfully: `CMD`
//!   (signal: 11, SIGSEGV: ...)` or `(exit status: 3)`. With one thread (`--test-threads=1`)
//!   the dying test's line dangles (`test NAME ... ` and cargo's error) and gets the death as
//!   its outcome; with parallel threads the tests in flight have no line at all, which
//!   becomes a note.
//! - A `harness = false` binary that prints no `running N tests` is one test named after its
//!   target (as cargo-testplan names it), passed unless its process failed.
//! - Tests that write to the terminal past libtest's capture (trybuild prints
//!   `test tests/ui/x.rs ... ok` lines, coloured, from inside its one test) can print
//!   look-alikes: lines with colour codes or an unknown verdict are not results.
//! - `error: test failed, to rerun pass ...` marks the current binary failed even when no
//!   `process didn't exit successfully` follows (cargo omits it for some exits): an opaque
//!   harness that rejects an argument (the `tester` crate and `--include-ignored`) fails.
//! - `failures:` starts the captured output of failed tests, skipped up to `test result:`.

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
    /// The bare word, as the integration suite's expected.toml writes it: `ok`, `FAILED`,
    /// `ignored`, `crashed`, `exited`.
    pub fn word(&self) -> &'static str {
        match self {
            CargoOutcome::Ok => "ok",
            CargoOutcome::Failed => "FAILED",
            CargoOutcome::Ignored(_) => "ignored",
            CargoOutcome::Crashed(_) => "crashed",
            CargoOutcome::Exited(_) => "exited",
        }
    }

    /// How it reads in a difference.
    pub fn label(&self) -> String {
        match self {
            CargoOutcome::Ok | CargoOutcome::Failed | CargoOutcome::Ignored(None) => self.word().to_owned(),
            CargoOutcome::Ignored(Some(reason)) => format!("ignored ({reason})"),
            CargoOutcome::Crashed(signal) => format!("crashed ({signal})"),
            CargoOutcome::Exited(code) => format!("exited ({code})"),
        }
    }
}

/// (binary id, test name)
pub type TestKey = (String, String);

/// A test binary as far as the comparison needs.
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
    /// Lib crate names that two packages share (`Doc-tests NAME` is then ambiguous).
    ambiguous: Vec<String>,
}

impl BinaryMap {
    /// Builds the map from `cargo test --no-run --message-format=json...` output.
    pub fn from_cargo_messages(json_lines: &str) -> BinaryMap {
        let mut map = BinaryMap::default();
        for line in json_lines.lines().filter(|l| l.starts_with('{')) {
            let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else { continue };
            if msg["reason"] != "compiler-artifact" {
                continue;
            }
            let package = package_name(msg["package_id"].as_str().unwrap_or_default());
            let target = &msg["target"];
            let name = target["name"].as_str().unwrap_or_default();
            let kind = target["kind"][0].as_str().unwrap_or_default();
            if matches!(kind, "lib" | "rlib" | "proc-macro") && target["doctest"] == true {
                map.insert_doc(name, &package);
            }
            let Some(exe) = msg["executable"].as_str() else { continue };
            if msg["profile"]["test"] != true {
                continue;
            }
            let file_name = Path::new(exe).file_name().map(|f| f.to_string_lossy().into_owned());
            map.insert_executable(&file_name.unwrap_or_default(), &binary_id(&package, kind, name), name);
        }
        map
    }

    /// Registers a test executable (file name `NAME-HASH`).
    pub fn insert_executable(&mut self, file_name: &str, id: &str, target_name: &str) {
        let info = BinaryInfo { id: id.to_owned(), target_name: target_name.to_owned() };
        self.by_file_name.insert(file_name.to_owned(), info);
    }

    /// Registers the doctests of library crate `crate_name` of `package`; a second package
    /// with a lib of the same name makes `Doc-tests NAME` ambiguous (a note).
    pub fn insert_doc(&mut self, crate_name: &str, package: &str) {
        let info = BinaryInfo { id: format!("{package}::doc"), target_name: crate_name.to_owned() };
        let previous = self.doc_by_crate.insert(crate_name.replace('-', "_"), info.clone());
        if let Some(previous) = previous.filter(|p| p.id != info.id) {
            self.ambiguous.push(format!(
                "`Doc-tests {crate_name}` is ambiguous: the lib of {} and of {}; read as {}",
                previous.id.trim_end_matches("::doc"),
                info.id.trim_end_matches("::doc"),
                info.id
            ));
        }
    }

    /// Test executables the build produced.
    pub fn executables(&self) -> usize {
        self.by_file_name.len()
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

/// Everything read from one `cargo test` run.
#[derive(Debug, Default)]
pub struct CargoResults {
    /// Every test reported, by (binary id, name).
    pub tests: BTreeMap<TestKey, CargoOutcome>,
    /// What could not be placed: unknown binaries, duplicate names, tests lost to a crash.
    pub notes: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
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
    /// Sum of the `running N tests` counts.
    announced: usize,
    /// Result lines seen.
    reported: usize,
    saw_running: bool,
    dangling: Option<String>,
    /// cargo said `error: test failed` for this binary.
    failed: bool,
}

/// Parses `cargo test` output (see the module doc).
pub fn parse(text: &str, map: &BinaryMap) -> CargoResults {
    let mut parser = Parser { map, out: CargoResults::default(), section: None, state: State::Outside };
    parser.out.notes.extend(map.ambiguous.iter().cloned());
    for line in text.lines() {
        parser.line(line);
    }
    parser.finish_section(None);
    parser.out
}

struct Parser<'a> {
    map: &'a BinaryMap,
    out: CargoResults,
    section: Option<Section>,
    state: State,
}

impl Parser<'_> {
    fn line(&mut self, line: &str) {
        if let Some(file_name) = running_executable(line) {
            let binary = self.map.by_file_name.get(file_name).cloned().unwrap_or_else(|| {
                self.out.notes.push(format!("cargo test ran `{file_name}`, which the build did not list"));
                BinaryInfo { id: format!("?{file_name}"), target_name: file_name.to_owned() }
            });
            self.start_section(binary);
        } else if let Some(krate) = line.trim_start().strip_prefix("Doc-tests ") {
            let krate = krate.trim();
            let binary = self.map.doc_by_crate.get(krate).cloned().unwrap_or_else(|| {
                self.out.notes.push(format!("doctests of unknown crate `{krate}`"));
                BinaryInfo { id: format!("?{krate}::doc"), target_name: krate.to_owned() }
            });
            self.start_section(binary);
        } else if let Some(death) = process_death(line) {
            self.finish_section(Some(death));
        } else if line.starts_with("error: test failed, to rerun pass ") {
            // Printed before `Caused by: process didn't exit successfully: ...`, which cargo
            // leaves out when the process exited with an error code of its own (a harness
            // rejecting an argument).
            if let Some(section) = &mut self.section {
                section.failed = true;
            }
        } else if let Some(count) = running_count(line) {
            self.state = State::Results;
            if let Some(section) = &mut self.section {
                section.saw_running = true;
                section.announced += count;
            }
        } else if line == "failures:" {
            self.state = State::Failures;
        } else if line.starts_with("test result: ") {
            self.state = State::Outside;
        } else if self.state == State::Results {
            match line.strip_prefix("test ") {
                Some(rest) => self.result_line(rest),
                None => self.other_line(line),
            }
        }
    }

    /// A line in the results part that is not a `test ` line: the verdict of a dangling
    /// `test NAME ... ` whose test printed past the capture (libtest2-mimic captures nothing:
    /// with one thread a panic message sits between the name and `FAILED`), or a result line
    /// another thread's output ran into (`thread 'test x ... ok`, parallel threads).
    fn other_line(&mut self, line: &str) {
        let Some(section) = &mut self.section else { return };
        if let Some(outcome) = verdict(line.trim_end())
            && let Some(name) = section.dangling.take()
        {
            self.record(name, outcome);
        } else if let Some(at) = line.find("test ")
            && line[at..].split_once(" ... ").is_some_and(|(_, v)| verdict(v.trim_end()).is_some())
        {
            self.result_line(&line[at + "test ".len()..]);
        }
    }

    fn result_line(&mut self, rest: &str) {
        let Some(section) = &mut self.section else { return };
        if rest.contains('\x1b') {
            // libtest prints no colours into a pipe; a coloured `test ... ` line is a test's
            // own output that escaped the capture (trybuild's).
            return;
        }
        // libtest2-mimic pads names to the longest one's width.
        let Some((name, v)) = rest.split_once(" ... ").map(|(n, v)| (n.trim_end(), v.trim_end())) else {
            // `test NAME ...` with nothing after: the process died mid-test (one thread).
            if let Some(name) = rest.strip_suffix(" ...") {
                section.dangling = Some(strip_mode(name).to_owned());
            }
            return;
        };
        if let Some(outcome) = verdict(v) {
            self.record(strip_mode(name).to_owned(), outcome);
        } else if v.is_empty() || v.contains("error: ") {
            // Nothing yet (the verdict may follow on a line of its own), or cargo's error
            // appended to the line: the process died (one thread).
            section.dangling = Some(strip_mode(name).to_owned());
        }
        // Otherwise a look-alike a test printed past libtest's capture (trybuild's
        // `test tests/ui/x.rs ... mismatch`): not a result.
    }

    fn record(&mut self, name: String, outcome: CargoOutcome) {
        let Some(section) = &mut self.section else { return };
        section.reported += 1;
        let key = (section.binary.id.clone(), name);
        if self.out.tests.insert(key.clone(), outcome).is_some() {
            self.out.notes.push(format!("cargo test reported {} `{}` twice", key.0, key.1));
        }
    }

    fn start_section(&mut self, binary: BinaryInfo) {
        self.finish_section(None);
        self.section = Some(Section {
            binary,
            announced: 0,
            reported: 0,
            saw_running: false,
            dangling: None,
            failed: false,
        });
        self.state = State::Outside;
    }

    /// Ends the current section; `death` is how cargo said its process ended, if it failed.
    fn finish_section(&mut self, death: Option<CargoOutcome>) {
        let Some(section) = self.section.take() else { return };
        self.state = State::Outside;
        let id = section.binary.id.clone();
        let death = death.or(section.failed.then_some(CargoOutcome::Failed));
        if let Some(name) = section.dangling {
            let outcome = death.unwrap_or(CargoOutcome::Failed);
            self.out.tests.insert((id, name), outcome);
        } else if !section.saw_running && !id.ends_with("::doc") {
            // A harness that does not speak libtest: one test named after its target.
            let outcome = match death {
                None | Some(CargoOutcome::Ok) => CargoOutcome::Ok,
                Some(CargoOutcome::Exited(_) | CargoOutcome::Failed) => CargoOutcome::Failed,
                Some(other) => other,
            };
            self.out.tests.insert((id, section.binary.target_name.clone()), outcome);
        } else if let Some(death @ (CargoOutcome::Crashed(_) | CargoOutcome::Exited(_))) = death
            && section.reported < section.announced
        {
            self.out.notes.push(format!(
                "{id}: the process ended ({}) after {} of {} results; the tests in flight have no line",
                death.label(),
                section.reported,
                section.announced
            ));
        }
        // Otherwise the process failed because tests failed: already recorded.
    }
}

/// A result word: `ok`, `FAILED`, `ignored`, `ignored, REASON`.
fn verdict(word: &str) -> Option<CargoOutcome> {
    match word {
        "ok" => Some(CargoOutcome::Ok),
        "FAILED" => Some(CargoOutcome::Failed),
        "ignored" => Some(CargoOutcome::Ignored(None)),
        _ => word.strip_prefix("ignored, ").map(|reason| CargoOutcome::Ignored(Some(reason.to_owned()))),
    }
}

/// `running 12 tests` / `running 1 test` (libtest2 prints the same).
fn running_count(line: &str) -> Option<usize> {
    let rest = line.strip_prefix("running ")?;
    let count = rest.strip_suffix(" tests").or_else(|| rest.strip_suffix(" test"))?;
    count.parse().ok()
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
    let (_, rest) = line.split_once("process didn't exit successfully: ")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> BinaryMap {
        let messages = [
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/geo#0.1.0","target":{"name":"geo","kind":["lib"],"doctest":true},"profile":{"test":true},"executable":"/t/debug/deps/geo-aaa"}"#,
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/geo#0.1.0","target":{"name":"compliance","kind":["test"],"doctest":false},"profile":{"test":true},"executable":"/t/debug/deps/compliance-bbb"}"#,
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/geo#0.1.0","target":{"name":"wpt","kind":["test"],"doctest":false},"profile":{"test":true},"executable":"/t/debug/deps/wpt-ddd"}"#,
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w#cli@0.2.0","target":{"name":"cli","kind":["bin"],"doctest":false},"profile":{"test":true},"executable":"/t/debug/deps/cli-ccc"}"#,
        ];
        BinaryMap::from_cargo_messages(&messages.join("\n"))
    }

    #[test]
    fn parallel_output_with_doctests_and_an_opaque_harness() {
        let text = "\
     Running unittests src/lib.rs (/t/debug/deps/geo-aaa)

running 3 tests
test b    ... ok
\x1b[1mtest tests/ui/x.rs\x1b[0m ... \x1b[32mok\x1b[0m
test tests/ui/y.rs ... mismatch
test a - should panic ... ok
test slow ... ignored, needs time
test slow has been running for over 60 seconds
test padded/one.toml     ... 
thread 'main' panicked at src/lib.rs:1:1:
expected
FAILED
thread 'test padded/two.toml     ... ok
padded/three.toml' panicked at src/lib.rs:1:1:

failures:

---- x stdout ----
test fake ... ok

test result: ok. 2 passed; 0 failed; 1 ignored
     Running tests/compliance.rs (/t/debug/deps/compliance-bbb)
whatever it prints
     Running tests/wpt.rs (/t/debug/deps/wpt-ddd)
error: The \"include-ignored\" flag is only accepted on the nightly compiler
error: test failed, to rerun pass `-p geo --test wpt`
     Running unittests src/main.rs (/t/debug/deps/cli-ccc)

running 2 tests
test one ... ok
error: test failed, to rerun pass `--bin cli`

Caused by:
  process didn't exit successfully: `/t/debug/deps/cli-ccc` (signal: 11, SIGSEGV: invalid memory reference)
   Doc-tests geo

running 1 test
test crates/geo/src/lib.rs - f (line 3) - compile fail ... FAILED
";
        let parsed = parse(text, &map());
        let got: Vec<(String, String, String)> =
            parsed.tests.iter().map(|((b, n), o)| (b.clone(), n.clone(), o.label())).collect();
        let want = [
            ("cli::bin/cli", "one", "ok"),
            ("geo", "a", "ok"),
            ("geo", "b", "ok"),
            ("geo", "padded/one.toml", "FAILED"),
            ("geo", "padded/two.toml", "ok"),
            ("geo", "slow", "ignored (needs time)"),
            ("geo::compliance", "compliance", "ok"),
            ("geo::doc", "crates/geo/src/lib.rs - f (line 3)", "FAILED"),
            ("geo::wpt", "wpt", "FAILED"),
        ];
        let want: Vec<(String, String, String)> =
            want.iter().map(|(b, n, o)| ((*b).to_owned(), (*n).to_owned(), (*o).to_owned())).collect();
        assert_eq!(got, want);
        assert_eq!(parsed.notes.len(), 1, "{:?}", parsed.notes);
        assert!(
            parsed.notes[0].starts_with("cli::bin/cli: the process ended (crashed (SIGSEGV)) after 1 of 2")
        );
    }

    #[test]
    fn unknown_binaries_become_notes() {
        let text = "     Running tests/x.rs (/t/debug/deps/x-zzz)\n\nrunning 1 test\ntest t ... ok\n";
        let parsed = parse(text, &map());
        assert_eq!(parsed.notes, ["cargo test ran `x-zzz`, which the build did not list"]);
        assert!(parsed.tests.contains_key(&("?x-zzz".to_owned(), "t".to_owned())));
    }
}
