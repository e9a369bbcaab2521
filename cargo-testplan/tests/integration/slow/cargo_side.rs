//! The fixtures' expected.toml against plain `cargo test`: keeps the data honest on its
//! own, independently of cargo-testplan. Two runs: with `--include-ignored` (outcomes) and
//! without (which tests are ignored, and why).

use crate::support::cargo_test::{build_binary_map, run_cargo_test};
use crate::support::compare::{
    assert_no_problems, cargo_ignores_vs_expected, cargo_vs_expected, expected_exit_code, tail,
};
use crate::support::expected::ExpectedFile;
use crate::support::fixture::Fixture;

fn check(rel: &str) {
    let fixture = Fixture::copy(rel);
    let expected = ExpectedFile::load(fixture.root());
    let map = build_binary_map(&fixture);

    let cargo = run_cargo_test(&fixture, &map, &expected.cargo_test_args(true));
    let problems = cargo_vs_expected(&expected, &cargo);
    assert_no_problems(
        &format!("{rel}: cargo test vs expected.toml"),
        &problems,
        &[("cargo test", &cargo.output)],
    );
    let want_exit = if expected_exit_code(&expected) == 0 { 0 } else { 101 };
    assert_eq!(cargo.exit_code, Some(want_exit), "{rel}: cargo test exit code\n{}", tail(&cargo.output, 60));

    let plain = run_cargo_test(&fixture, &map, &expected.cargo_test_args(false));
    let problems = cargo_ignores_vs_expected(&expected, &plain);
    assert_no_problems(
        &format!("{rel}: plain cargo test vs expected.toml"),
        &problems,
        &[("cargo test", &plain.output)],
    );
}

#[test]
fn showcase_expected_matches_cargo_test() {
    check("examples/showcase");
}

#[test]
fn faults_expected_matches_cargo_test() {
    check("fixtures/faults");
}

#[test]
fn harnesses_expected_matches_cargo_test() {
    check("fixtures/harnesses");
}

#[test]
fn mimics_expected_matches_cargo_test() {
    check("fixtures/mimics");
}

#[test]
fn unify_expected_matches_cargo_test() {
    check("fixtures/unify");
}
