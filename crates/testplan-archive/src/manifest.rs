//! The manifest, `testplan-archive.json`: the archive's first entry, in serde types of its
//! own so the format changes only when [`FORMAT_VERSION`] does, whatever the runner's
//! in-memory model becomes.

use std::sync::Arc;

use camino::Utf8PathBuf;
use serde::{Deserialize, Serialize};
use testplan_runner::cargo::CargoOptions;
use testplan_runner::model::{
    BinaryIdx, ListMethod, PackageInfo, SourceLocation, TargetKind, TestBinary, TestCase, TestList,
};

/// The manifest's entry name.
pub const MANIFEST_NAME: &str = "testplan-archive.json";

/// The manifest's `format`: what tells our archives from other tar.zst files.
pub const FORMAT_NAME: &str = "cargo-testplan-archive";

/// The version this crate writes, and the highest it reads. Bumped on any change a
/// version-1 reader would misread.
pub const FORMAT_VERSION: u32 = 1;

/// The directory, inside the archive, holding the target directory's files.
pub(crate) const TARGET_PREFIX: &str = "target";

/// What the archive holds besides the files: the test list and where it was built.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub version: u32,
    /// `cargo-testplan <version>`.
    pub created_by: String,
    /// `std::env::consts::ARCH` and `OS` of the build machine (`x86_64-linux`).
    pub platform: String,
    /// The build's workspace root: remapped to `--workspace-remap`.
    pub workspace_root: Utf8PathBuf,
    /// The build's target directory: remapped to where the archive is unpacked.
    pub target_dir: Utf8PathBuf,
    /// The dynamic library search path variable (`LD_LIBRARY_PATH`).
    pub dylib_path_var: String,
    /// Its value in the build's own environment, which the binaries' search paths end with
    /// and which the run machine's value replaces.
    pub inherited_dylib_path: Option<String>,
    /// The cargo options of the build, for doctests (run by cargo from the source checkout).
    pub cargo: CargoOptions,
    /// Packages that own test binaries.
    pub packages: Vec<ArchivedPackage>,
    /// Test binaries, in the test list's order.
    pub binaries: Vec<ArchivedBinary>,
    /// Test cases, in the test list's order.
    pub tests: Vec<ArchivedTest>,
    /// Discovery's notes (binaries run as one opaque test).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Every archived file, relative to the target directory, sorted.
    pub files: Vec<String>,
}

/// Just enough of a manifest to decide whether to read the rest.
#[derive(Debug, Deserialize)]
pub(crate) struct ManifestHeader {
    pub format: Option<String>,
    pub version: Option<u32>,
    #[serde(default)]
    pub created_by: Option<String>,
}

/// A package that owns test binaries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedPackage {
    /// Cargo's package id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Its `Cargo.toml`.
    pub manifest_path: Utf8PathBuf,
    /// Its directory.
    pub root: Utf8PathBuf,
}

/// A test binary, as discovery made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedBinary {
    /// nextest-style id.
    pub id: String,
    /// Index into [`Manifest::packages`].
    pub package: usize,
    /// Cargo target name.
    pub target_name: String,
    /// Target kind.
    pub kind: TargetKind,
    /// The executable (absent for doctests).
    pub executable: Option<Utf8PathBuf>,
    /// `harness = false`.
    pub custom_harness: bool,
    /// Working directory of its tests.
    pub cwd: Utf8PathBuf,
    /// The variables cargo adds to the environment.
    pub env: Vec<(String, String)>,
    /// How it was listed.
    pub list_method: ListMethod,
}

/// A test case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedTest {
    /// Index into [`Manifest::binaries`].
    pub binary: usize,
    /// Full name.
    pub name: String,
    /// `#[ignore]`d.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignored: bool,
    /// Reason of `#[ignore = "..."]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_reason: Option<String>,
    /// Source location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLocation>,
}

/// The list's packages (each once, in order of first use) and its binaries and tests.
pub(crate) fn list_parts(list: &TestList) -> (Vec<ArchivedPackage>, Vec<ArchivedBinary>, Vec<ArchivedTest>) {
    let mut packages: Vec<ArchivedPackage> = Vec::new();
    let mut binaries = Vec::with_capacity(list.binaries.len());
    for binary in &list.binaries {
        let package = match packages.iter().position(|p| p.id == binary.package.id) {
            Some(index) => index,
            None => {
                packages.push(archived_package(&binary.package));
                packages.len() - 1
            }
        };
        binaries.push(ArchivedBinary {
            id: binary.id.clone(),
            package,
            target_name: binary.target_name.clone(),
            kind: binary.kind,
            executable: binary.executable.clone(),
            custom_harness: binary.custom_harness,
            cwd: binary.cwd.clone(),
            env: binary.env.as_ref().clone(),
            list_method: binary.list_method,
        });
    }
    let tests = list.tests.iter().map(archived_test).collect();
    (packages, binaries, tests)
}

fn archived_package(p: &PackageInfo) -> ArchivedPackage {
    ArchivedPackage {
        id: p.id.clone(),
        name: p.name.clone(),
        version: p.version.clone(),
        manifest_path: p.manifest_path.clone(),
        root: p.root.clone(),
    }
}

fn archived_test(t: &TestCase) -> ArchivedTest {
    ArchivedTest {
        binary: t.binary.0,
        name: t.name.clone(),
        ignored: t.ignored,
        ignore_reason: t.ignore_reason.clone(),
        source: t.source.clone(),
    }
}

impl Manifest {
    /// The test list the manifest describes, paths as archived. `None` when an index points
    /// outside its list (a damaged manifest).
    // Field by field: fields the list gains later (set by discovery) keep their default.
    #[allow(clippy::field_reassign_with_default)]
    pub(crate) fn test_list(&self) -> Option<TestList> {
        let packages: Vec<Arc<PackageInfo>> = self
            .packages
            .iter()
            .map(|p| {
                Arc::new(PackageInfo {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    version: p.version.clone(),
                    manifest_path: p.manifest_path.clone(),
                    root: p.root.clone(),
                })
            })
            .collect();
        let binaries = self
            .binaries
            .iter()
            .map(|b| {
                Some(TestBinary {
                    id: b.id.clone(),
                    package: Arc::clone(packages.get(b.package)?),
                    target_name: b.target_name.clone(),
                    kind: b.kind,
                    executable: b.executable.clone(),
                    custom_harness: b.custom_harness,
                    cwd: b.cwd.clone(),
                    env: Arc::new(b.env.clone()),
                    list_method: b.list_method,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let tests = self
            .tests
            .iter()
            .map(|t| {
                (t.binary < binaries.len()).then(|| TestCase {
                    binary: BinaryIdx(t.binary),
                    name: t.name.clone(),
                    ignored: t.ignored,
                    ignore_reason: t.ignore_reason.clone(),
                    source: t.source.clone(),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let mut list = TestList::default();
        list.workspace_root = self.workspace_root.clone();
        list.target_dir = self.target_dir.clone();
        list.binaries = binaries;
        list.tests = tests;
        list.notes = self.notes.clone();
        Some(list)
    }
}
