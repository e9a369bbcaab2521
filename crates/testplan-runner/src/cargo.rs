//! Talking to Cargo: `cargo metadata` for the workspace, and `cargo test --no-run
//! --message-format=json-render-diagnostics` for the build, streamed so the compiler's
//! diagnostics show as cargo shows them. Honours `$CARGO`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use camino::Utf8PathBuf;

use crate::error::RunnerError;
use crate::model::{PackageInfo, TargetKind};

/// Cargo's package and target selection and build options, with cargo's meaning.
#[derive(Clone, Debug, Default)]
pub struct CargoOptions {
    /// `--manifest-path`.
    pub manifest_path: Option<Utf8PathBuf>,
    /// `-p/--package` (repeatable).
    pub packages: Vec<String>,
    /// `--workspace`.
    pub workspace: bool,
    /// `--exclude` (repeatable).
    pub exclude: Vec<String>,
    /// `--lib`.
    pub lib: bool,
    /// `--bins`.
    pub bins: bool,
    /// `--bin NAME` (repeatable).
    pub bin: Vec<String>,
    /// `--tests`.
    pub tests: bool,
    /// `--test NAME` (repeatable).
    pub test: Vec<String>,
    /// `--examples`.
    pub examples: bool,
    /// `--benches`.
    pub benches: bool,
    /// `--all-targets` (like cargo, excludes doctests).
    pub all_targets: bool,
    /// `--doc`: only doctests.
    pub doc: bool,
    /// `--features` (each entry may hold several, comma or space separated).
    pub features: Vec<String>,
    /// `--all-features`.
    pub all_features: bool,
    /// `--no-default-features`.
    pub no_default_features: bool,
    /// `--release`.
    pub release: bool,
    /// `--cargo-profile` (cargo's `--profile`).
    pub cargo_profile: Option<String>,
    /// `--target`.
    pub target: Option<String>,
    /// `--target-dir`.
    pub target_dir: Option<Utf8PathBuf>,
    /// `--locked`.
    pub locked: bool,
    /// `--offline`.
    pub offline: bool,
    /// `--frozen`.
    pub frozen: bool,
    /// `--color` passed on to cargo (`auto`, `always`, `never`).
    pub color: Option<String>,
    /// Cargo build jobs (`-j` for cargo), when the runner caps them.
    pub build_jobs: Option<usize>,
}

impl CargoOptions {
    /// Whether this selection includes doctests, with cargo's rule: doctests run when no
    /// target-selection flag is given, or with `--doc`.
    pub fn includes_doctests(&self) -> bool {
        todo!("helper A")
    }

    /// Arguments for `cargo test --doc` of one package, with the same profile, features,
    /// target and target dir as the build (so nothing is rebuilt). The caller appends
    /// `-- <libtest args>`.
    pub fn doc_test_args(&self, package: &PackageInfo) -> Vec<String> {
        let _ = package;
        todo!("helper A")
    }
}

/// The `cargo` to run: `$CARGO` when set (cargo sets it for subcommands), else `cargo`.
pub fn cargo_program() -> Utf8PathBuf {
    todo!("helper A")
}

/// The workspace as `cargo metadata` describes it, reduced to what later stages need.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// Workspace root.
    pub root: Utf8PathBuf,
    /// Target directory (from `--target-dir`, or cargo's own resolution).
    pub target_dir: Utf8PathBuf,
    /// Every package of the resolved graph that is a workspace member, by package id.
    pub packages: HashMap<String, Arc<PackageInfo>>,
    /// `(package id, target name)` of targets declared `harness = false`.
    pub custom_harness: HashSet<(String, String)>,
    /// Package ids selected by `-p`/`--workspace`/default members (`CARGO_PRIMARY_PACKAGE`).
    pub primary_packages: HashSet<String>,
    /// The full metadata, for stages that need more.
    pub metadata: Arc<cargo_metadata::Metadata>,
}

/// Runs `cargo metadata` with the options' manifest path and features.
pub fn load_workspace(opts: &CargoOptions) -> Result<Workspace, RunnerError> {
    let _ = opts;
    todo!("helper A")
}

/// One test executable the build produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltBinary {
    /// Cargo package id.
    pub package_id: String,
    /// Target name.
    pub target_name: String,
    /// Target kind.
    pub kind: TargetKind,
    /// The executable.
    pub executable: Utf8PathBuf,
    /// The target's source file (from the artifact's target).
    pub src_path: Utf8PathBuf,
}

/// What a package's build script reported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildScriptInfo {
    /// `OUT_DIR`.
    pub out_dir: Utf8PathBuf,
    /// `cargo::rustc-link-search` paths (for the dynamic library search path).
    pub linked_paths: Vec<Utf8PathBuf>,
    /// `cargo::rustc-env` variables (cargo sets them for running tests, too).
    pub env: Vec<(String, String)>,
}

/// Everything the build produced.
#[derive(Clone, Debug, Default)]
pub struct BuildOutput {
    /// Test executables (artifacts with `profile.test == true`), in cargo's order.
    pub binaries: Vec<BuiltBinary>,
    /// Build script results by package id.
    pub build_scripts: HashMap<String, BuildScriptInfo>,
}

/// Runs `cargo test --no-run --message-format=json-render-diagnostics`, letting cargo's
/// stderr (progress and rendered diagnostics) through, and collects the test executables.
/// A failed build is [`RunnerError::Build`].
pub fn build(ws: &Workspace, opts: &CargoOptions) -> Result<BuildOutput, RunnerError> {
    let _ = (ws, opts);
    todo!("helper A")
}
