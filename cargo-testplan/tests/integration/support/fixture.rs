//! Fixture workspaces: copied to a temporary directory per test (tests may write there and
//! run concurrently), built in one target directory per fixture shared by every test and
//! every run, so each fixture compiles once.
//!
//! Sharing works because the copy keeps the sources' modification times and cargo hashes
//! workspace members by their path relative to the workspace root: a second copy finds its
//! artifacts fresh. (The flip side: a compiled-in absolute path such as
//! `env!("CARGO_MANIFEST_DIR")` names whichever copy built it first.)

use std::fs;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// The cargo-testplan repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("cargo-testplan/ has a parent").to_path_buf()
}

/// The `cargo` to run: `$CARGO` as cargo-testplan honours it, else `cargo` from `PATH`.
pub fn cargo_program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// The cargo-testplan binary under test.
pub fn testplan_program() -> &'static Path {
    assert_cmd::cargo::cargo_bin!("cargo-testplan")
}

/// A fixture workspace copied into a fresh temporary directory.
#[derive(Debug)]
pub struct Fixture {
    name: String,
    _dir: TempDir,
    root: PathBuf,
    target_dir: PathBuf,
}

impl Fixture {
    /// Copies `rel` (a workspace directory relative to the repository root, e.g.
    /// `fixtures/faults` or `examples/showcase`), without its `target/`.
    pub fn copy(rel: &str) -> Fixture {
        Fixture::copy_from(&repo_root().join(rel), &rel.replace('/', "-"))
    }

    /// Copies the workspace at `source` (any directory, e.g. a crate unpacked in cargo's
    /// registry cache), without its `target/`; `name` names its shared target dir.
    pub fn copy_from(source: &Path, name: &str) -> Fixture {
        assert!(source.join("Cargo.toml").is_file(), "no workspace at {}", source.display());
        let dir = tempfile::Builder::new().prefix(&format!("testplan-{name}-")).tempdir().expect("temp dir");
        let root = dir.path().join(source.file_name().expect("workspace dir name"));
        copy_tree(source, &root);
        let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixtures").join(name);
        Fixture { name: name.to_owned(), _dir: dir, root, target_dir }
    }

    /// The fixture's name (`fixtures-faults`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The target directory this fixture's copies share.
    pub fn target_dir(&self) -> &Path {
        &self.target_dir
    }

    /// Root of the copied workspace.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A scratch directory inside this fixture's temporary directory.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let dir = self.root.parent().expect("root has a parent").join(name);
        fs::create_dir_all(&dir).expect("create scratch dir");
        dir
    }

    /// `cargo ARGS` in the fixture root, with the shared target dir and plain output.
    pub fn cargo(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(cargo_program());
        cmd.args(args);
        self.configure(&mut cmd);
        cmd
    }

    /// `cargo-testplan testplan ARGS` (as cargo invokes subcommands) in the fixture root.
    pub fn testplan(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(testplan_program());
        cmd.arg("testplan").args(args);
        self.configure(&mut cmd);
        cmd
    }

    fn configure(&self, cmd: &mut Command) {
        for (key, _) in std::env::vars_os() {
            if key.to_str().is_some_and(is_outer_test_var) {
                cmd.env_remove(&key);
            }
        }
        cmd.current_dir(&self.root)
            .env("CARGO_TARGET_DIR", &self.target_dir)
            .env("CARGO_TERM_COLOR", "never")
            // Runs must not depend on whether the host has a GPU.
            .env("CARGO_TESTPLAN_GPU", "no")
            .env("CARGO_TERM_PROGRESS_WHEN", "never")
            .stdin(Stdio::null());
    }
}

/// Whether `key` is one of the variables the runner of *this* suite (`cargo test`, or
/// cargo-testplan, or nextest) set for it. Fixture commands must not inherit them: they would
/// mask what cargo and cargo-testplan set for the fixture's tests, and no user's shell has
/// them. `CARGO` stays: cargo sets it for `cargo testplan` too, and both sides use it.
fn is_outer_test_var(key: &str) -> bool {
    const EXACT: &[&str] = &[
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_CRATE_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "OUT_DIR",
        "LD_LIBRARY_PATH",
        "RUST_TEST_THREADS",
    ];
    const PREFIXES: &[&str] = &["CARGO_PKG_", "CARGO_BIN_EXE_", "NEXTEST"];
    EXACT.contains(&key) || PREFIXES.iter().any(|p| key.starts_with(p))
}

/// Runs `cmd` with stdout and stderr going to one file (so their interleaving is the one a
/// terminal shows), returning the exit code and the merged text.
pub fn run_merged(cmd: &mut Command) -> (Option<i32>, String) {
    let mut file = tempfile::tempfile().expect("temp file");
    let out = file.try_clone().expect("clone file");
    let err = file.try_clone().expect("clone file");
    let status = cmd.stdout(out).stderr(err).status().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    file.rewind().expect("rewind");
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).expect("read merged output");
    (status.code(), String::from_utf8_lossy(&bytes).into_owned())
}

/// Runs `cmd` capturing stdout and stderr separately.
pub fn run_output(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"))
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create dir");
    for entry in fs::read_dir(from).expect("read fixture dir") {
        let entry = entry.expect("dir entry");
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            if entry.file_name() != "target" {
                copy_tree(&src, &dst);
            }
        } else if kind.is_file() {
            fs::copy(&src, &dst).expect("copy file");
            // Keep the modification time: cargo's freshness check compares it with the
            // shared target dir's records.
            let mtime = entry.metadata().and_then(|m| m.modified()).expect("mtime");
            fs::File::options()
                .write(true)
                .open(&dst)
                .and_then(|f| f.set_modified(mtime))
                .expect("set mtime");
        }
    }
}
