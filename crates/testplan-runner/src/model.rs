//! Typed values shared by every stage after the build: packages, test binaries, test cases.
//!
//! A [`TestList`] owns all binaries and tests; later stages refer to them by index
//! ([`BinaryIdx`], [`TestIdx`]) so events stay small and cheap to copy.

use std::sync::Arc;

use camino::Utf8PathBuf;
pub use testplan_schema::{ListMethod, SourceLocation, TargetKind};

/// Index of a binary in [`TestList::binaries`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BinaryIdx(pub usize);

/// Index of a test in [`TestList::tests`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TestIdx(pub usize);

/// A workspace package that owns test binaries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageInfo {
    /// Cargo's package id (opaque string).
    pub id: String,
    /// Package name.
    pub name: String,
    /// Package version.
    pub version: String,
    /// Path of its `Cargo.toml`.
    pub manifest_path: Utf8PathBuf,
    /// Directory of its `Cargo.toml`: the working directory of its tests.
    pub root: Utf8PathBuf,
}

/// One test executable (or one library's doctests), ready to list and run.
#[derive(Clone, Debug)]
pub struct TestBinary {
    /// nextest-style id: `pkg`, `pkg::bin/name`, `pkg::test_name`, `pkg::doc`, ...
    pub id: String,
    /// The package it belongs to.
    pub package: Arc<PackageInfo>,
    /// Cargo target name (for doctests, the library target's name).
    pub target_name: String,
    /// Target kind.
    pub kind: TargetKind,
    /// The executable; `None` for doctests, which run through `cargo test --doc`.
    pub executable: Option<Utf8PathBuf>,
    /// Whether the target was declared `harness = false`.
    pub custom_harness: bool,
    /// Working directory its tests run in (the package root, like `cargo test`).
    pub cwd: Utf8PathBuf,
    /// Environment variables cargo sets when it runs this binary (added to the inherited
    /// environment; see [`crate::env`]).
    pub env: Arc<Vec<(String, String)>>,
    /// How its tests were listed (set by discovery).
    pub list_method: ListMethod,
}

impl TestBinary {
    /// How its tests run: its executable, in its directory, with its environment (the
    /// executor adds the test selection). `None` for doctests, which run through
    /// [`TestList::doctest_command`].
    pub fn run_command(&self) -> Option<RunCommand> {
        Some(RunCommand {
            program: self.executable.clone()?,
            args: Vec::new(),
            cwd: self.cwd.clone(),
            env: Arc::clone(&self.env),
        })
    }

    /// Builds the nextest-style binary id for a target.
    pub fn make_id(package: &str, kind: TargetKind, target_name: &str) -> String {
        match kind {
            TargetKind::Lib | TargetKind::ProcMacro => package.to_owned(),
            TargetKind::Bin => format!("{package}::bin/{target_name}"),
            TargetKind::Test => format!("{package}::{target_name}"),
            TargetKind::Bench => format!("{package}::bench/{target_name}"),
            TargetKind::Example => format!("{package}::example/{target_name}"),
            TargetKind::Doc => format!("{package}::doc"),
        }
    }
}

/// A process to start: how discovery says a binary's tests run. The executor adds only the
/// test selection (names, thread count) to `args`, so it never needs to know how the
/// binary was built (cargo, or an unpacked archive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunCommand {
    /// The executable.
    pub program: Utf8PathBuf,
    /// Its arguments before the test selection.
    pub args: Vec<String>,
    /// Working directory.
    pub cwd: Utf8PathBuf,
    /// Variables added to the inherited environment.
    pub env: Arc<Vec<(String, String)>>,
}

/// One test case: what `cargo test` reports as one `test NAME ... ok` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCase {
    /// The binary it lives in.
    pub binary: BinaryIdx,
    /// Full name as libtest (or rustdoc) lists it.
    pub name: String,
    /// `#[ignore]`d (or an `ignore` doctest).
    pub ignored: bool,
    /// The reason of `#[ignore = "..."]`, when the listing gives it.
    pub ignore_reason: Option<String>,
    /// Source location, when the listing gives it.
    pub source: Option<SourceLocation>,
}

/// Everything discovery found: binaries and their tests, in a stable order
/// (binaries sorted by id, tests by name within a binary).
#[derive(Clone, Debug, Default)]
pub struct TestList {
    /// Workspace root directory.
    pub workspace_root: Utf8PathBuf,
    /// The target directory of the build.
    pub target_dir: Utf8PathBuf,
    /// Test binaries.
    pub binaries: Vec<TestBinary>,
    /// Test cases.
    pub tests: Vec<TestCase>,
    /// One line per binary whose listing discovery could not understand (a `harness =
    /// false` target run as one opaque test, and why), for the user's stderr.
    pub notes: Vec<String>,
    /// How the doctests of every library run: one `cargo test --doc` with the build's
    /// package selection and options, before `--` (set by discovery when it lists
    /// doctests; the executor adds the filters and thread count).
    pub doctest_command: Option<RunCommand>,
}

impl TestList {
    /// The binary of a test.
    pub fn binary_of(&self, test: TestIdx) -> &TestBinary {
        &self.binaries[self.tests[test.0].binary.0]
    }

    /// A test by index.
    pub fn test(&self, test: TestIdx) -> &TestCase {
        &self.tests[test.0]
    }

    /// `binary-id name`, the way tests are named in human output.
    pub fn display_name(&self, test: TestIdx) -> String {
        format!("{} {}", self.binary_of(test).id, self.test(test).name)
    }
}
