//! The doctest result cache (issue 17, docs/running.md#doctest-result-cache) on
//! `fixtures/doccache`: a second run with nothing changed reports the doctests cached and
//! never starts rustdoc for them; editing the integration test keeps them cached; each
//! input that can change a doctest's outcome — the doctest, the documented function, the
//! path dependency's code, a feature, `RUSTDOCFLAGS`, the toolchain — makes them run
//! again; a failing doctest is never cached.
//!
//! Each test builds into a target dir of its own, in its temporary directory (not the
//! fixtures' shared one): its edits must not reach another build, and the cache lives in
//! the target dir — engineers running the suite at the same time would otherwise share
//! both. Every file of the copy is dated a minute back first, older than the 2 s the store
//! waits for files to settle. rustdoc runs through a wrapper that logs its arguments, so
//! "not compiled" is read from the log, not from timings.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::support::fixture::{Fixture, run_merged};
use crate::support::report::RunReport;

/// The fixture's doctests: 4 pass, `nothing` is an `ignore` doctest.
const DOCTESTS: usize = 5;
const PASSING: usize = 4;

/// A copy of fixtures/doccache with its own target dir, files settled, rustdoc logged.
struct DocCache {
    fixture: Fixture,
    rustdoc_log: PathBuf,
    rustdoc: PathBuf,
    target_dir: PathBuf,
    runs: usize,
}

/// What one run reported.
struct Outcome {
    code: Option<i32>,
    output: String,
    report: RunReport,
    /// rustdoc invocations that compiled doctests to run them (not `--list`).
    rustdoc_runs: usize,
}

impl Outcome {
    /// The doctests' results: (cached, status) of each.
    fn doctests(&self) -> Vec<(bool, String)> {
        let doc = self.report.tests.iter().filter(|t| t.binary_id == "doccache::doc");
        doc.map(|t| (t.cached, t.status.as_str().to_owned())).collect()
    }

    fn cached(&self) -> usize {
        self.doctests().iter().filter(|(cached, _)| *cached).count()
    }

    fn assert_all_cached(&self, context: &str) {
        assert_eq!(self.code, Some(0), "{context}:\n{}", self.output);
        assert_eq!(self.doctests().len(), DOCTESTS, "{context}:\n{}", self.output);
        assert_eq!(self.cached(), DOCTESTS, "{context}: {:?}\n{}", self.doctests(), self.output);
        assert_eq!(self.report.counts.cached, DOCTESTS, "{context}: the report's count");
        assert_eq!(self.rustdoc_runs, 0, "{context}: rustdoc ran doctests\n{}", self.output);
        let doc_phase = self.report.phases.iter().find(|p| p.name == "doc").expect("doc phase");
        assert_eq!((doc_phase.counts.passed, doc_phase.counts.cached), (PASSING, DOCTESTS));
    }

    fn assert_ran(&self, context: &str) {
        assert_eq!(self.doctests().len(), DOCTESTS, "{context}:\n{}", self.output);
        assert_eq!(self.cached(), 0, "{context}: {:?}\n{}", self.doctests(), self.output);
        assert_eq!(self.report.counts.cached, 0, "{context}");
        assert!(self.rustdoc_runs > 0, "{context}: rustdoc did not run doctests\n{}", self.output);
    }

    fn status_of(&self, doctest: &str) -> String {
        let test = self.report.tests.iter().find(|t| t.name.contains(doctest));
        test.unwrap_or_else(|| panic!("no doctest {doctest}")).status.as_str().to_owned()
    }
}

impl DocCache {
    fn new(case: &str) -> DocCache {
        let fixture = Fixture::copy("fixtures/doccache");
        settle(fixture.root());
        let target_dir = fixture.scratch(&format!("target-{case}"));
        let dir = fixture.scratch("tools");
        let rustdoc_log = dir.join("rustdoc.log");
        let rustdoc = dir.join("logged-rustdoc");
        write_script(&rustdoc, &format!("echo \"$*\" >> '{}'\nexec rustdoc \"$@\"", rustdoc_log.display()));
        DocCache { fixture, rustdoc_log, rustdoc, target_dir, runs: 0 }
    }

    /// `cargo testplan run ARGS` with `env`, and its report.
    fn run(&mut self, args: &[&str], env: &[(&str, &Path)]) -> Outcome {
        self.runs += 1;
        let report = self.fixture.scratch("reports").join(format!("run-{}.json", self.runs));
        let before = self.rustdoc_runs();
        let mut cmd: Command = self.fixture.testplan(&["run", "-v", "--report-json"]);
        cmd.arg(&report).args(args).env("RUSTDOC", &self.rustdoc).env("CARGO_TARGET_DIR", &self.target_dir);
        for (key, value) in env {
            cmd.env(key, value);
        }
        let (code, output) = run_merged(&mut cmd);
        let report = RunReport::load(&report);
        Outcome { code, output, report, rustdoc_runs: self.rustdoc_runs() - before }
    }

    /// A first run (the doctests run and pass, their results are stored) and a second one
    /// (all cached): the state each invalidation test starts from.
    fn cached(&mut self, env: &[(&str, &Path)]) {
        let first = self.run(&[], env);
        assert_eq!(first.code, Some(0), "first run:\n{}", first.output);
        first.assert_ran("first run");
        self.run(&[], env).assert_all_cached("second run, nothing changed");
    }

    fn rustdoc_runs(&self) -> usize {
        let log = fs::read_to_string(&self.rustdoc_log).unwrap_or_default();
        log.lines().filter(|line| line.contains("--test ") && !line.contains("--list")).count()
    }

    /// Replaces `from` by `to` in the copy's `file` (exactly once).
    fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.fixture.root().join(file);
        let text = fs::read_to_string(&path).expect("read fixture file");
        assert_eq!(text.matches(from).count(), 1, "{file}: {from:?}");
        fs::write(&path, text.replace(from, to)).expect("edit fixture file");
    }
}

/// Dates every file of `root` a minute back (see the module docs).
fn settle(root: &Path) {
    let at = SystemTime::now() - Duration::from_secs(60);
    for entry in fs::read_dir(root).expect("read dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            settle(&path);
        } else {
            let file = fs::File::options().write(true).open(&path).expect("open");
            file.set_modified(at).expect("set mtime");
        }
    }
}

fn write_script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn unchanged_and_after_an_integration_test_edit_the_doctests_are_cached() {
    let mut fx = DocCache::new("unchanged");
    fx.cached(&[]);
    let verbose = fx.run(&[], &[]);
    verbose.assert_all_cached("third run");
    assert!(verbose.output.contains("doccache::doc crates/docs/src/lib.rs - add (line 9) (cached)"));
    assert!(
        verbose.output.contains(&format!("4/4 passed, 1 skipped; {DOCTESTS} cached")),
        "{}",
        verbose.output
    );

    fx.edit("crates/docs/tests/it.rs", "quadruple(2), 8", "quadruple(5), 20");
    let edited = fx.run(&[], &[]);
    edited.assert_all_cached("after editing tests/it.rs");
    let it = edited.report.tests.iter().find(|t| t.name == "quadruples").expect("integration test");
    assert!(!it.cached && it.status.as_str() == "passed", "the integration test itself ran");

    let forced = fx.run(&["--no-cache"], &[]);
    assert_eq!(forced.code, Some(0), "{}", forced.output);
    forced.assert_ran("--no-cache");
}

#[test]
fn changing_a_doctest_runs_the_doctests_again() {
    let mut fx = DocCache::new("doctest");
    fx.cached(&[]);
    fx.edit("crates/docs/src/lib.rs", "add(2, 3), 5", "add(2, 3), 6");
    let edited = fx.run(&[], &[]);
    edited.assert_ran("after editing a doctest");
    assert_eq!(edited.code, Some(100), "{}", edited.output);
    assert_eq!(edited.status_of("add (line 9)"), "failed");
}

#[test]
fn changing_the_documented_function_runs_the_doctests_again_and_a_failure_is_never_cached() {
    let mut fx = DocCache::new("function");
    fx.cached(&[]);
    fx.edit("crates/docs/src/lib.rs", "    a + b\n", "    a + b + 1\n");
    // The unit test of `add` fails too: the doc phase runs all the same.
    let edited = fx.run(&["--no-fail-fast"], &[]);
    edited.assert_ran("after editing the documented function");
    assert_eq!(edited.code, Some(100), "{}", edited.output);
    assert_eq!(edited.status_of("add (line 9)"), "failed");
    // The edited file is too fresh for anything to be stored; once it has settled, a run
    // could store its results — but a failing batch's never are: it runs (and fails) again.
    settle(fx.fixture.root());
    for run in ["settled", "after the settled run"] {
        let again = fx.run(&["--no-fail-fast"], &[]);
        again.assert_ran(&format!("the failing doctests, {run}"));
        assert_eq!(again.status_of("add (line 9)"), "failed");
    }
}

#[test]
fn changing_the_path_dependency_runs_the_doctests_again() {
    let mut fx = DocCache::new("dependency");
    fx.cached(&[]);
    fx.edit("crates/helper/src/lib.rs", "x * 2", "x + x");
    let edited = fx.run(&[], &[]);
    assert_eq!(edited.code, Some(0), "{}", edited.output);
    edited.assert_ran("after editing the path dependency");
}

#[test]
fn a_feature_runs_the_doctests_again() {
    let mut fx = DocCache::new("feature");
    fx.cached(&[]);
    let loud = fx.run(&["--features", "doccache/loud"], &[]);
    loud.assert_ran("with --features doccache/loud");
    assert_eq!(loud.code, Some(100), "{}", loud.output);
    assert_eq!(loud.status_of("greeting (line 27)"), "failed");
}

#[test]
fn rustdocflags_run_the_doctests_again() {
    let mut fx = DocCache::new("rustdocflags");
    fx.cached(&[]);
    let cfg = Path::new("--cfg=doccache_probe");
    let flagged = fx.run(&[], &[("RUSTDOCFLAGS", cfg)]);
    assert_eq!(flagged.code, Some(0), "{}", flagged.output);
    flagged.assert_ran("with RUSTDOCFLAGS");
}

/// The same `$RUSTC` path whose `rustc -vV` changes (as after `rustup update` behind a
/// stable path): a script that runs the real rustc for everything, and for `-vV` adds a
/// line when the file `other` exists beside it.
#[test]
fn another_toolchain_runs_the_doctests_again() {
    let mut fx = DocCache::new("toolchain");
    let dir = fx.fixture.scratch("tools");
    let rustc = dir.join("fake-rustc");
    let other = dir.join("other");
    write_script(
        &rustc,
        &format!(
            "if [ \"$1\" = -vV ] && [ -e '{}' ]; then rustc -vV; echo 'testplan-fixture: another toolchain'; \
             exit; fi\nexec rustc \"$@\"",
            other.display()
        ),
    );
    fx.cached(&[("RUSTC", &rustc)]);
    fs::write(&other, "").expect("switch toolchain");
    let switched = fx.run(&[], &[("RUSTC", &rustc)]);
    assert_eq!(switched.code, Some(0), "{}", switched.output);
    switched.assert_ran("after the toolchain changed");
}
