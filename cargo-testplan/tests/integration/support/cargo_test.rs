//! What `cargo test` ran and how each test ended, read from its human output by the one
//! parser of that output, xtask's (`xtask/src/cargo_output.rs`, included by path), held
//! strict here: anything it could not place (its notes) fails the test.
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

use std::collections::BTreeMap;

#[path = "../../../../xtask/src/cargo_output.rs"]
#[allow(dead_code)] // `cargo xtask diff`'s own helpers, which these tests do not call
mod cargo_output;

pub use cargo_output::{BinaryMap, CargoOutcome, TestKey, binary_id, package_name};

/// Every test `cargo test` reported, by (binary id, name).
pub type CargoResults = BTreeMap<TestKey, CargoOutcome>;

/// Parses `cargo test` output (see the module doc); panics on anything the parser could not
/// place (an unknown binary, a test reported twice, a crash whose test has no line).
pub fn parse_cargo_test_output(text: &str, map: &BinaryMap) -> CargoResults {
    let parsed = cargo_output::parse(text, map);
    assert!(parsed.notes.is_empty(), "cargo test output not understood:\n{}", parsed.notes.join("\n"));
    parsed.tests
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
