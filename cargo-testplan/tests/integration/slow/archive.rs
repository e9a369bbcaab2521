//! Build once, run shards anywhere (issue 16, check 1): the showcase is built and archived
//! in one copy; its build directory is then removed, and every phase × shard of `matrix
//! --shards 2` runs from the archive in another copy of the sources, at another path, with
//! no cargo on the `PATH` (a stand-in `cargo` and `rustc` that record any call) except for
//! the doc phase, whose doctests rustdoc compiles when they run. The merged shard reports
//! must list exactly the unsharded run's tests with exactly its outcomes.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::support::fixture::{Fixture, run_merged, run_output, testplan_program};
use crate::support::report::{ReportTest, RunReport};

/// One job of `matrix --format github`.
#[derive(Debug, Deserialize)]
struct Job {
    phase: String,
    partition: String,
}

#[derive(Debug, Deserialize)]
struct Matrix {
    include: Vec<Job>,
}

/// `(binary id, name) -> (status, skip reason, phase)` of a report.
type Outcomes = BTreeMap<(String, String), (&'static str, Option<String>, Option<String>)>;

fn outcomes(path: &Path) -> Outcomes {
    let report = RunReport::load(path);
    let outcome = |t: &ReportTest| (t.status.as_str(), t.skip_reason.clone(), t.phase.clone());
    report.tests.iter().map(|t| ((t.binary_id.clone(), t.name.clone()), outcome(t))).collect()
}

/// A directory holding stand-ins for `cargo` and `rustc` that record their call in
/// `called` and fail loudly: put first on the `PATH`, they catch any compilation.
fn fake_toolchain(dir: &Path, called: &Path) -> PathBuf {
    let bin = dir.join("no-toolchain");
    fs::create_dir_all(&bin).expect("mkdir");
    for tool in ["cargo", "rustc", "rustdoc"] {
        let script = format!(
            "#!/bin/sh\necho \"{tool} $*\" >> '{}'\necho 'error: {tool} was called in a shard run' >&2\nexit 97\n",
            called.display()
        );
        let path = bin.join(tool);
        fs::write(&path, script).expect("write stand-in");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    bin
}

/// `PATH` without any directory holding a real cargo, the stand-ins first.
fn path_without_cargo(stand_ins: &Path) -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let kept = std::env::split_paths(&path).filter(|dir| !dir.join("cargo").exists());
    let dirs: Vec<PathBuf> = std::iter::once(stand_ins.to_path_buf()).chain(kept).collect();
    std::env::join_paths(dirs).expect("join PATH").to_string_lossy().into_owned()
}

/// `cargo-testplan ARGS` in `dir`, as a shard job runs it (no cargo: called directly).
fn shard_command(dir: &Path, args: &[&str], path: Option<&str>) -> Command {
    let mut cmd = Command::new(testplan_program());
    cmd.args(args).current_dir(dir).env("CARGO_TESTPLAN_GPU", "no").env("CARGO_TERM_COLOR", "never");
    for var in ["CARGO", "RUSTC", "RUSTDOC", "CARGO_TARGET_DIR", "CARGO_MANIFEST_DIR", "LD_LIBRARY_PATH"] {
        cmd.env_remove(var);
    }
    if let Some(path) = path {
        cmd.env("PATH", path);
    }
    cmd
}

#[test]
fn shards_run_from_an_archive_elsewhere_without_cargo_and_merge_to_the_unsharded_run() {
    let built = Fixture::copy("examples/showcase");
    // A target directory of the copy's own, removed below: nothing of the build may remain.
    let target = built.root().join("target");
    let scratch = built.scratch("out");
    let full = scratch.join("full.json");
    let archive = scratch.join("tests.tar.zst");
    let (code, text) = run_merged(
        built
            .testplan(&["run", "--report-json", full.to_str().expect("utf-8")])
            .env("CARGO_TARGET_DIR", &target),
    );
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = run_merged(
        built.testplan(&["archive", "-o", archive.to_str().expect("utf-8")]).env("CARGO_TARGET_DIR", &target),
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("Archived "), "{text}");
    let output = run_output(&mut built.testplan(&["matrix", "--shards", "2", "--format", "github"]));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let matrix: Matrix = serde_json::from_str(&stdout).expect("matrix JSON");
    fs::remove_dir_all(&target).expect("remove the build");

    // A fresh copy of the sources somewhere else, and a PATH without cargo.
    let checkout = Fixture::copy("examples/showcase");
    assert_ne!(checkout.root(), built.root());
    let called = scratch.join("toolchain-calls.txt");
    let no_cargo = path_without_cargo(&fake_toolchain(&scratch, &called));
    let mut reports = Vec::new();
    for (index, job) in matrix.include.iter().enumerate() {
        let report = scratch.join(format!("shard-{index}.json"));
        let args = [
            job.phase.as_str(),
            "--archive",
            archive.to_str().expect("utf-8"),
            "--partition",
            &job.partition,
            "--no-tests",
            "pass",
            "--report-json",
            report.to_str().expect("utf-8"),
        ];
        // rustdoc compiles doctests when they run: the doc phase keeps the real cargo.
        let path = (job.phase != "doc").then_some(no_cargo.as_str());
        let (code, text) = run_merged(&mut shard_command(checkout.root(), &args, path));
        assert_eq!(code, Some(0), "{} {}: {text}", job.phase, job.partition);
        if job.phase != "doc" {
            assert!(!text.contains("Compiling"), "{} {}: {text}", job.phase, job.partition);
        }
        reports.push(report);
    }
    let calls = fs::read_to_string(&called).unwrap_or_default();
    assert!(calls.is_empty(), "a shard run called the toolchain:\n{calls}");
    let phases: Vec<&str> = matrix.include.iter().map(|job| job.phase.as_str()).collect();
    assert!(
        phases.contains(&"unit") && phases.contains(&"integration") && phases.contains(&"doc"),
        "{phases:?}"
    );
    assert_eq!(matrix.include.len(), 2 * phases.iter().collect::<std::collections::BTreeSet<_>>().len());

    let merged = scratch.join("merged.json");
    let mut args = vec!["merge".to_owned()];
    args.extend(reports.iter().map(|r| r.to_string_lossy().into_owned()));
    args.extend(["-o".to_owned(), merged.to_string_lossy().into_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, text) = run_merged(&mut shard_command(checkout.root(), &args, Some(&no_cargo)));
    assert_eq!(code, Some(0), "{text}");
    let (sharded, unsharded) = (outcomes(&merged), outcomes(&full));
    assert!(unsharded.values().filter(|(status, ..)| *status == "passed").count() >= 20, "{unsharded:#?}");
    assert_eq!(sharded, unsharded, "merged shards differ from the unsharded run");
}

#[test]
fn a_doctest_run_without_cargo_stops_before_running_anything() {
    let built = Fixture::copy("examples/showcase");
    let scratch = built.scratch("out");
    let archive = scratch.join("tests.tar.zst");
    let (code, text) = run_merged(&mut built.testplan(&["archive", "-o", archive.to_str().expect("utf-8")]));
    assert_eq!(code, Some(0), "{text}");
    // No stand-ins here: cargo is simply absent.
    let no_cargo = path_without_cargo(&scratch.join("empty-bin"));
    let args = ["doc", "--archive", archive.to_str().expect("utf-8")];
    let (code, text) = run_merged(&mut shard_command(built.root(), &args, Some(&no_cargo)));
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("doctests need cargo and the Rust toolchain"), "{text}");
    assert!(!text.contains("PASS") && !text.contains("passed"), "nothing ran: {text}");
}

#[test]
fn a_damaged_archive_is_a_clear_error() {
    let built = Fixture::copy("examples/showcase");
    let scratch = built.scratch("out");
    let bogus = scratch.join("bogus.tar.zst");
    fs::write(&bogus, "not an archive").expect("write");
    let args = ["run", "--archive", bogus.to_str().expect("utf-8")];
    let (code, text) = run_merged(&mut shard_command(built.root(), &args, None));
    assert_ne!(code, Some(0), "{text}");
    assert!(text.contains("is not a cargo-testplan archive (not a zstd-compressed tar"), "{text}");
}

#[test]
fn workspace_remap_and_extract_to_place_the_run_anywhere() {
    let built = Fixture::copy("examples/showcase");
    let scratch = built.scratch("out");
    let archive = scratch.join("tests.tar.zst");
    let (code, text) = run_merged(&mut built.testplan(&["archive", "-o", archive.to_str().expect("utf-8")]));
    assert_eq!(code, Some(0), "{text}");
    let checkout = Fixture::copy("examples/showcase");
    let unpacked = scratch.join("unpacked");
    let report = scratch.join("unit.json");
    let args = [
        "unit",
        "--archive",
        archive.to_str().expect("utf-8"),
        "--workspace-remap",
        checkout.root().to_str().expect("utf-8"),
        "--extract-to",
        unpacked.to_str().expect("utf-8"),
        "--report-json",
        report.to_str().expect("utf-8"),
    ];
    // Run from a directory that is not the checkout.
    let (code, text) = run_merged(&mut shard_command(&scratch, &args, None));
    assert_eq!(code, Some(0), "{text}");
    let passed = outcomes(&report).values().filter(|(status, ..)| *status == "passed").count();
    assert!(passed >= 10, "{text}");
    assert!(unpacked.join("debug/deps").is_dir(), "unpacked where --extract-to says");
    assert!(!checkout.root().join("target").exists(), "nothing unpacked into the checkout");
}
