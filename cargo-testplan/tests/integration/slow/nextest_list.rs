//! Check 3 of the walking-skeleton issue: `cargo testplan list --message-format nextest-json`
//! parses with nextest-metadata and names the same tests as `cargo nextest list
//! --message-format json` run on the same workspace copy and target dir: the same suites
//! (binary id, package, binary name, kind, executable, build platform, working directory),
//! the same test names with the same `ignored` flags, and the same build metadata where
//! cargo-testplan fills it in.
//!
//! Not compared:
//! - each test's `filter-match`: cargo-testplan's says what *its* plan runs (an
//!   `#[ignore = "slow"]` test matches, because the slow phase runs it), not what nextest
//!   would run;
//! - `build-script-info`, which cargo-testplan leaves absent (commands/list.rs says why).
//!
//! cargo-nextest fails outright on a custom harness that rejects `--format terse`
//! (fixtures/harnesses has two such binaries: "unknown option `--format`"). There nextest is
//! given a binary-only filterset (`-E 'not binary_id(...)'`), which it evaluates before
//! listing, so it reports those binaries as `skipped` and lists the rest; the comparison
//! covers the rest, and cargo-testplan must list the skipped ones itself.
//!
//! cargo-nextest must be installed (.ci/run installs it); without it these tests fail
//! saying so.

use std::collections::BTreeSet;
use std::fmt::Debug;

use nextest_metadata::{RustBinaryId, RustTestSuiteStatusSummary, RustTestSuiteSummary, TestListSummary};

use crate::support::compare::assert_no_problems;
use crate::support::fixture::{Fixture, run_output};

/// What each side printed, for failure messages.
struct Listing {
    summary: TestListSummary,
    stderr: String,
}

fn check(rel: &str, nextest_cannot_list: &[&str]) {
    let fixture = Fixture::copy(rel);
    require_nextest(&fixture);
    let ours = testplan_listing(&fixture);
    let theirs = nextest_listing(&fixture, nextest_cannot_list);
    let mut problems = compare_suites(&ours.summary, &theirs.summary, nextest_cannot_list);
    problems.extend(compare_build_meta(&ours.summary, &theirs.summary));
    let outputs =
        [("cargo testplan list stderr", ours.stderr.as_str()), ("cargo nextest list stderr", &theirs.stderr)];
    assert_no_problems(&format!("{rel}: nextest-json vs cargo nextest list"), &problems, &outputs);
}

/// Fails with instructions when `cargo nextest` is not installed.
fn require_nextest(fixture: &Fixture) {
    let found = fixture.cargo(&["nextest", "--version"]).output().is_ok_and(|out| out.status.success());
    assert!(
        found,
        "cargo-nextest is not installed (`cargo nextest --version` failed), and this test compares \
         against it: install it with `cargo install cargo-nextest --locked` (.ci/run does)"
    );
}

fn testplan_listing(fixture: &Fixture) -> Listing {
    let out = run_output(&mut fixture.testplan(&["list", "--message-format", "nextest-json"]));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{}: cargo testplan list failed\n{stderr}", fixture.name());
    let summary = TestListSummary::parse_json(&*stdout).unwrap_or_else(|e| {
        panic!("{}: nextest-metadata cannot parse our nextest-json: {e}\n{stdout}", fixture.name())
    });
    Listing { summary, stderr: stderr.into_owned() }
}

/// `cargo nextest list --message-format json`, leaving out the binaries it cannot list.
fn nextest_listing(fixture: &Fixture, cannot_list: &[&str]) -> Listing {
    let mut args = vec!["nextest", "list", "--message-format", "json"];
    let filterset = (!cannot_list.is_empty()).then(|| {
        let ids: Vec<String> = cannot_list.iter().map(|id| format!("binary_id({id})")).collect();
        format!("not ({})", ids.join(" | "))
    });
    if let Some(expr) = &filterset {
        args.extend(["-E", expr.as_str()]);
    }
    let out = run_output(&mut fixture.cargo(&args));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{}: cargo nextest list failed\n{stderr}", fixture.name());
    let summary = TestListSummary::parse_json(&*stdout)
        .unwrap_or_else(|e| panic!("{}: cargo nextest list JSON: {e}\n{stdout}", fixture.name()));
    Listing { summary, stderr: stderr.into_owned() }
}

/// Every suite nextest listed, against ours; the ones it could not list must be ours only.
fn compare_suites(ours: &TestListSummary, theirs: &TestListSummary, cannot_list: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    let unlistable: BTreeSet<RustBinaryId> = cannot_list.iter().map(|id| RustBinaryId::new(id)).collect();
    let ids: BTreeSet<&RustBinaryId> = ours.rust_suites.keys().chain(theirs.rust_suites.keys()).collect();
    for id in ids {
        match (ours.rust_suites.get(id), theirs.rust_suites.get(id)) {
            (Some(our), Some(their)) if their.status == RustTestSuiteStatusSummary::LISTED => {
                problems.extend(compare_suite(id, our, their));
            }
            (Some(our), Some(their)) if unlistable.contains(id) => {
                if their.status != RustTestSuiteStatusSummary::SKIPPED {
                    problems.push(format!("{id}: nextest status {:?}, expected skipped", their.status.0));
                }
                if our.status != RustTestSuiteStatusSummary::LISTED || our.test_cases.is_empty() {
                    problems.push(format!("{id}: cargo-testplan should list the tests nextest cannot"));
                }
            }
            (Some(_), Some(their)) => {
                problems.push(format!("{id}: nextest did not list it ({:?})", their.status.0))
            }
            (None, Some(_)) => problems.push(format!("{id}: only nextest has this binary")),
            (Some(_), None) => problems.push(format!("{id}: only cargo-testplan has this binary")),
            (None, None) => {}
        }
    }
    let ours_only: usize =
        unlistable.iter().filter_map(|id| ours.rust_suites.get(id)).map(|s| s.test_cases.len()).sum();
    if ours.test_count != theirs.test_count + ours_only {
        problems.push(format!(
            "test-count {} (of which {ours_only} in binaries nextest cannot list), nextest {}",
            ours.test_count, theirs.test_count
        ));
    }
    problems
}

fn compare_suite(
    id: &RustBinaryId,
    ours: &RustTestSuiteSummary,
    theirs: &RustTestSuiteSummary,
) -> Vec<String> {
    let mut problems = Vec::new();
    same(&mut problems, &format!("{id}: package-name"), &ours.package_name, &theirs.package_name);
    same(
        &mut problems,
        &format!("{id}: binary (id, name, package id, kind, path, platform)"),
        &ours.binary,
        &theirs.binary,
    );
    same(&mut problems, &format!("{id}: cwd"), &ours.cwd, &theirs.cwd);
    same(&mut problems, &format!("{id}: status"), &ours.status, &theirs.status);
    for (name, their) in &theirs.test_cases {
        match ours.test_cases.get(name) {
            None => problems.push(format!("{id}: only nextest lists `{name}`")),
            Some(our) if our.ignored != their.ignored => problems.push(format!(
                "{id}: `{name}` ignored={} for cargo-testplan, {} for nextest",
                our.ignored, their.ignored
            )),
            Some(our) => same(&mut problems, &format!("{id}: `{name}` kind"), &our.kind, &their.kind),
        }
    }
    for name in ours.test_cases.keys().filter(|name| !theirs.test_cases.contains_key(*name)) {
        problems.push(format!("{id}: only cargo-testplan lists `{name}`"));
    }
    problems
}

/// The build metadata cargo-testplan fills in (all but `build-script-info`).
fn compare_build_meta(ours: &TestListSummary, theirs: &TestListSummary) -> Vec<String> {
    let (our, their) = (&ours.rust_build_meta, &theirs.rust_build_meta);
    let mut problems = Vec::new();
    same(&mut problems, "target-directory", &our.target_directory, &their.target_directory);
    same(&mut problems, "build-directory", &our.build_directory, &their.build_directory);
    same(
        &mut problems,
        "base-output-directories",
        &our.base_output_directories,
        &their.base_output_directories,
    );
    same(&mut problems, "non-test-binaries", &our.non_test_binaries, &their.non_test_binaries);
    same(&mut problems, "build-script-out-dirs", &our.build_script_out_dirs, &their.build_script_out_dirs);
    same(&mut problems, "linked-paths", &our.linked_paths, &their.linked_paths);
    same(&mut problems, "platforms", &our.platforms, &their.platforms);
    same(&mut problems, "target-platforms", &our.target_platforms, &their.target_platforms);
    problems
}

fn same<T: PartialEq + Debug>(problems: &mut Vec<String>, what: &str, ours: &T, theirs: &T) {
    if ours != theirs {
        problems.push(format!("{what}: cargo-testplan {ours:?}, nextest {theirs:?}"));
    }
}

#[test]
fn showcase_nextest_json_names_the_same_tests_as_cargo_nextest() {
    check("examples/showcase", &[]);
}

#[test]
fn faults_nextest_json_names_the_same_tests_as_cargo_nextest() {
    check("fixtures/faults", &[]);
}

#[test]
fn harnesses_nextest_json_names_the_same_tests_as_cargo_nextest() {
    // Both reject `--list --format terse`, on which nextest gives up.
    check("fixtures/harnesses", &["toolbox::listing_harness", "toolbox::opaque_harness"]);
}
