//! Talking to Cargo: `cargo metadata` for the workspace, and `cargo test --no-run
//! --message-format=json-render-diagnostics` for the build, streamed so the compiler's
//! diagnostics show as cargo shows them. Honours `$CARGO`.
//!
//! Every cargo invocation this crate makes (metadata, build, doctest listing and doctest
//! runs) is built from one [`CargoOptions`], so they agree on profile, features, target and
//! target dir and cargo never rebuilds between them.

use std::collections::{HashMap, HashSet};
use std::process::Stdio;
use std::sync::Arc;

use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::{Metadata, MetadataCommand, Package};

use crate::error::{MetadataError, RunnerError};
use crate::model::{PackageInfo, TargetKind};

mod build;

pub use build::{BuildOutput, BuildProcess, BuildScriptInfo, BuildStderr, BuiltBinary, start_build};

/// Memory one cargo build job (rustc, and the linker after it) is allowed for: large crates
/// and their link steps take 1-2 GiB each.
pub const BUILD_JOB_MEMORY: u64 = 2 << 30;

/// A cap on cargo's build jobs because memory is small.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildJobsCap {
    /// Build jobs (cargo's `-j`), at least 1.
    pub jobs: usize,
    /// For the run header: `build jobs capped at 1: 1.9 GiB usable / 2 GiB per build job`.
    pub reason: String,
}

/// Caps cargo's build jobs at usable memory / [`BUILD_JOB_MEMORY`] (at least 1) when that is
/// fewer than the CPUs (cargo's default). No cap when the user set `CARGO_BUILD_JOBS`
/// (`env_build_jobs`), or when usable memory is unknown.
pub fn build_jobs_cap(
    cpus: usize,
    usable: Option<u64>,
    env_build_jobs: Option<&str>,
) -> Option<BuildJobsCap> {
    if env_build_jobs.is_some_and(|value| !value.trim().is_empty()) {
        return None;
    }
    let usable = usable?;
    let jobs = usize::try_from(usable / BUILD_JOB_MEMORY).unwrap_or(usize::MAX).max(1);
    (jobs < cpus).then(|| BuildJobsCap {
        jobs,
        reason: format!(
            "build jobs capped at {jobs}: {} usable / {} per build job",
            crate::resources::format_size(usable),
            crate::resources::format_size_compact(BUILD_JOB_MEMORY)
        ),
    })
}

/// Cargo's package and target selection and build options, with cargo's meaning. It
/// serialises (an archive keeps the build's options for the doctests of its shard runs)
/// without what belongs to one run: color, the build-jobs cap, the extra environment.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
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
    #[serde(skip)]
    pub color: Option<String>,
    /// Cargo build jobs (`-j` for cargo), when the runner caps them.
    #[serde(skip)]
    pub build_jobs: Option<usize>,
    /// Variables added to the environment of every cargo that builds, lists or runs tests
    /// (`--coverage`: the instrumented build's, testplan-coverage's `instrument`); never
    /// given to test processes.
    #[serde(skip)]
    pub env: Vec<(String, String)>,
}

impl CargoOptions {
    /// Whether this selection includes doctests, with cargo's rule: doctests run when no
    /// target-selection flag is given, or with `--doc`.
    pub fn includes_doctests(&self) -> bool {
        self.doc || !self.selects_targets()
    }

    /// Arguments for the `cargo test --doc` that runs doctest batches: the user's own
    /// package selection (`-p`/`--workspace`/`--exclude`, as given) with the profile,
    /// features, target and target dir of the build, and `--no-fail-fast` so one crate's
    /// failing doctests do not stop the next crate's. Not one `-p` per library: with
    /// resolver 2 features are unified over the *selected* packages, so a narrower
    /// selection can build a member without a feature another member turns on (its
    /// doctests then fail to compile, and dependencies are rebuilt). The caller appends
    /// `-- <libtest args>`, which must select the batch's doctests among every selected
    /// library's.
    pub fn doc_test_args(&self) -> Vec<String> {
        let mut args = vec!["test".to_owned(), "--doc".to_owned(), "--no-fail-fast".to_owned()];
        args.extend(self.package_args());
        args.extend(self.build_args());
        args.extend(self.manifest_args());
        args
    }

    /// Whether any target-selection flag (other than `--doc`) is given.
    fn selects_targets(&self) -> bool {
        self.lib
            || self.bins
            || !self.bin.is_empty()
            || self.tests
            || !self.test.is_empty()
            || self.examples
            || self.benches
            || self.all_targets
    }

    /// `-p`/`--workspace`/`--exclude`, exactly as given.
    pub(crate) fn package_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for spec in &self.packages {
            args.extend(["-p".to_owned(), spec.clone()]);
        }
        if self.workspace {
            args.push("--workspace".to_owned());
        }
        for spec in &self.exclude {
            args.extend(["--exclude".to_owned(), spec.clone()]);
        }
        args
    }

    /// Target-selection flags (`--lib`, `--bin X`, ...), exactly as given.
    fn target_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        let flags = [
            (self.lib, "--lib"),
            (self.bins, "--bins"),
            (self.tests, "--tests"),
            (self.examples, "--examples"),
            (self.benches, "--benches"),
            (self.all_targets, "--all-targets"),
        ];
        args.extend(flags.iter().filter(|(on, _)| *on).map(|(_, flag)| (*flag).to_owned()));
        for name in &self.bin {
            args.extend(["--bin".to_owned(), name.clone()]);
        }
        for name in &self.test {
            args.extend(["--test".to_owned(), name.clone()]);
        }
        args
    }

    /// Feature flags, as `cargo metadata` and the build need them.
    fn feature_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if !self.features.is_empty() {
            args.extend(["--features".to_owned(), self.features.join(",")]);
        }
        if self.all_features {
            args.push("--all-features".to_owned());
        }
        if self.no_default_features {
            args.push("--no-default-features".to_owned());
        }
        args
    }

    /// `--locked`/`--offline`/`--frozen`.
    fn lock_args(&self) -> Vec<String> {
        [(self.locked, "--locked"), (self.offline, "--offline"), (self.frozen, "--frozen")]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, flag)| (*flag).to_owned())
            .collect()
    }

    /// Everything that decides what is built and where, except the package and target
    /// selection and the manifest path: features, profile, target, target dir, lock
    /// flags, colour and build jobs. Shared by the build, the doctest listing and the
    /// doctest runs so their fingerprints agree.
    pub(crate) fn build_args(&self) -> Vec<String> {
        let mut args = self.feature_args();
        if self.release {
            args.push("--release".to_owned());
        }
        if let Some(profile) = &self.cargo_profile {
            args.extend(["--profile".to_owned(), profile.clone()]);
        }
        if let Some(target) = &self.target {
            args.extend(["--target".to_owned(), target.clone()]);
        }
        if let Some(dir) = &self.target_dir {
            args.extend(["--target-dir".to_owned(), dir.to_string()]);
        }
        args.extend(self.lock_args());
        if let Some(color) = &self.color {
            args.extend(["--color".to_owned(), color.clone()]);
        }
        if let Some(jobs) = self.build_jobs {
            args.extend(["-j".to_owned(), jobs.to_string()]);
        }
        args
    }

    /// `--manifest-path`, when given.
    pub(crate) fn manifest_args(&self) -> Vec<String> {
        match &self.manifest_path {
            Some(path) => vec!["--manifest-path".to_owned(), path.to_string()],
            None => Vec::new(),
        }
    }

    /// The arguments of `cargo test --no-run` for this selection.
    fn no_run_args(&self) -> Vec<String> {
        let mut args = vec![
            "test".to_owned(),
            "--no-run".to_owned(),
            "--message-format=json-render-diagnostics".to_owned(),
        ];
        args.extend(self.package_args());
        args.extend(self.target_args());
        args.extend(self.build_args());
        args.extend(self.manifest_args());
        args
    }
}

/// The `cargo` to run: `$CARGO` when set (cargo sets it for subcommands), else `cargo`.
pub fn cargo_program() -> Utf8PathBuf {
    match std::env::var("CARGO") {
        Ok(cargo) if !cargo.is_empty() => Utf8PathBuf::from(cargo),
        _ => Utf8PathBuf::from("cargo"),
    }
}

/// The workspace as `cargo metadata` describes it, reduced to what later stages need.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// Workspace root.
    pub root: Utf8PathBuf,
    /// Target directory (from `--target-dir`, or cargo's own resolution).
    pub target_dir: Utf8PathBuf,
    /// Every package of the resolved graph that is a workspace member, by package id
    /// (plus any non-member package selected with `-p`, since it owns test binaries too).
    pub packages: HashMap<String, Arc<PackageInfo>>,
    /// `(package id, target name)` of targets declared `harness = false`.
    pub custom_harness: HashSet<(String, String)>,
    /// Package ids selected by `-p`/`--workspace`/default members (`CARGO_PRIMARY_PACKAGE`).
    pub primary_packages: HashSet<String>,
    /// The full metadata, for stages that need more.
    pub metadata: Arc<cargo_metadata::Metadata>,
    /// `rust-version` of each package, by package id, exactly as written (`1.80`):
    /// `cargo_metadata` normalises it to `1.80.0`, but cargo passes the text as written
    /// in `CARGO_PKG_RUST_VERSION`.
    pub rust_versions: HashMap<String, String>,
}

impl Workspace {
    /// Whether a selected package has a target whose doctests `cargo test` runs (a library).
    pub fn has_doctests(&self) -> bool {
        self.metadata
            .packages
            .iter()
            .filter(|pkg| self.primary_packages.contains(&pkg.id.repr))
            .any(|pkg| pkg.targets.iter().any(|target| target.doctest))
    }

    /// The `cargo metadata` package with this id.
    pub fn package_metadata(&self, id: &str) -> Option<&Package> {
        self.metadata.packages.iter().find(|pkg| pkg.id.repr == id)
    }
}

/// Runs `cargo metadata` with the options' manifest path and features.
///
/// Only the workspace's own packages are asked for (`--no-deps`): resolving the dependency
/// graph takes most of `cargo metadata`'s time on a workspace with dependencies (0.09 s
/// against 0.02 s on this repository) and holds cargo's package-cache lock, which the
/// build started beside it then waits for. The full graph is read only when `-p` names a
/// package that is not a member (`cargo test -p some-dependency` tests that dependency).
pub fn load_workspace(opts: &CargoOptions) -> Result<Workspace, RunnerError> {
    let (raw, metadata) = read_metadata(opts, true)?;
    let names_a_non_member = |spec: &String| !metadata.packages.iter().any(|pkg| spec_matches(spec, pkg));
    let (raw, metadata) = if opts.packages.iter().any(names_a_non_member) {
        read_metadata(opts, false)?
    } else {
        (raw, metadata)
    };
    let rust_versions = raw_rust_versions(&raw);
    let primary_packages = select_primary(&metadata, opts);
    let packages = package_infos(&metadata, &primary_packages);
    let custom_harness = custom_harness_targets(&metadata)?;
    let target_dir = opts.target_dir.clone().unwrap_or_else(|| metadata.target_directory.clone());
    Ok(Workspace {
        root: metadata.workspace_root.clone(),
        target_dir,
        packages,
        custom_harness,
        primary_packages,
        metadata: Arc::new(metadata),
        rust_versions,
    })
}

/// Runs `cargo metadata` and parses it; `no_deps`: the workspace's packages only.
fn read_metadata(opts: &CargoOptions, no_deps: bool) -> Result<(String, Metadata), RunnerError> {
    let raw = run_metadata(opts, no_deps)?;
    let metadata = MetadataCommand::parse(&raw)
        .map_err(|err| RunnerError::Metadata { cause: MetadataError::Unreadable(err) })?;
    Ok((raw, metadata))
}

/// Runs `cargo metadata --format-version 1 [--no-deps]` and returns its stdout.
fn run_metadata(opts: &CargoOptions, no_deps: bool) -> Result<String, RunnerError> {
    let mut command = MetadataCommand::new();
    command.cargo_path(cargo_program());
    if no_deps {
        command.no_deps();
    }
    if let Some(path) = &opts.manifest_path {
        command.manifest_path(path);
    }
    if !opts.features.is_empty() {
        command.features(cargo_metadata::CargoOpt::SomeFeatures(opts.features.clone()));
    }
    if opts.all_features {
        command.features(cargo_metadata::CargoOpt::AllFeatures);
    }
    if opts.no_default_features {
        command.features(cargo_metadata::CargoOpt::NoDefaultFeatures);
    }
    command.other_options(opts.lock_args());
    let output = command
        .cargo_command()
        .stdin(Stdio::null())
        .output()
        .map_err(|err| RunnerError::io(format!("running `{} metadata`", cargo_program()), err))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(RunnerError::Metadata {
            cause: MetadataError::Failed { stderr: stderr.trim().to_owned() },
        });
    }
    String::from_utf8(output.stdout)
        .map_err(|err| RunnerError::Metadata { cause: MetadataError::InvalidUtf8(err) })
}

/// `rust-version` strings as cargo wrote them, by package id.
fn raw_rust_versions(raw: &str) -> HashMap<String, String> {
    #[derive(serde::Deserialize)]
    struct RawMetadata {
        packages: Vec<RawPackage>,
    }
    #[derive(serde::Deserialize)]
    struct RawPackage {
        id: String,
        rust_version: Option<String>,
    }
    let Ok(parsed) = serde_json::from_str::<RawMetadata>(raw) else {
        return HashMap::new();
    };
    parsed.packages.into_iter().filter_map(|pkg| Some((pkg.id, pkg.rust_version?))).collect()
}

/// The package ids `cargo test` with these options selects.
fn select_primary(metadata: &Metadata, opts: &CargoOptions) -> HashSet<String> {
    let members = metadata.workspace_packages();
    let selected: Vec<&Package> = if opts.workspace {
        let excluded = |pkg: &&Package| opts.exclude.iter().any(|spec| spec_matches(spec, pkg));
        members.into_iter().filter(|pkg| !excluded(pkg)).collect()
    } else if !opts.packages.is_empty() {
        let wanted = |pkg: &&Package| opts.packages.iter().any(|spec| spec_matches(spec, pkg));
        metadata.packages.iter().filter(wanted).collect()
    } else if metadata.workspace_default_members.is_available() {
        metadata.workspace_default_packages()
    } else if let Some(root) = metadata.root_package() {
        vec![root]
    } else {
        members
    };
    selected.into_iter().map(|pkg| pkg.id.repr.clone()).collect()
}

/// Whether a `-p`/`--exclude` spec names this package: `name`, `name@version` (a version
/// prefix such as `1.2` is allowed), a glob over the name (`foo-*`), or a full package id.
pub(crate) fn spec_matches(spec: &str, pkg: &Package) -> bool {
    if spec == pkg.id.repr {
        return true;
    }
    let (name, version) = match spec.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (spec, None),
    };
    glob_matches(name, &pkg.name) && version.is_none_or(|v| version_matches(v, &pkg.version.to_string()))
}

/// Whether `version` equals `prefix` or extends it by more components (`1.2` ≤ `1.2.3`).
fn version_matches(prefix: &str, version: &str) -> bool {
    match version.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with(['.', '-', '+']),
        None => false,
    }
}

/// Shell-style glob with `*` and `?` (what cargo accepts in `-p` and `--exclude`).
fn glob_matches(pattern: &str, text: &str) -> bool {
    fn matches(pattern: &[char], text: &[char]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some(('*', rest)) => (0..=text.len()).any(|skip| matches(rest, &text[skip..])),
            Some(('?', rest)) => !text.is_empty() && matches(rest, &text[1..]),
            Some((c, rest)) => text.first() == Some(c) && matches(rest, &text[1..]),
        }
    }
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    matches(&pattern, &text)
}

/// [`PackageInfo`] for every workspace member and every primary package.
fn package_infos(metadata: &Metadata, primary: &HashSet<String>) -> HashMap<String, Arc<PackageInfo>> {
    let members: HashSet<&str> = metadata.workspace_members.iter().map(|id| id.repr.as_str()).collect();
    metadata
        .packages
        .iter()
        .filter(|pkg| members.contains(pkg.id.repr.as_str()) || primary.contains(&pkg.id.repr))
        .map(|pkg| (pkg.id.repr.clone(), Arc::new(package_info(pkg))))
        .collect()
}

fn package_info(pkg: &Package) -> PackageInfo {
    let root = pkg.manifest_path.parent().map(Utf8Path::to_path_buf).unwrap_or_default();
    PackageInfo {
        id: pkg.id.repr.clone(),
        name: pkg.name.to_string(),
        version: pkg.version.to_string(),
        manifest_path: pkg.manifest_path.clone(),
        root,
    }
}

/// `(package id, target name)` of every workspace target declared `harness = false`.
/// `cargo metadata` does not say, so each member's `Cargo.toml` is read.
fn custom_harness_targets(metadata: &Metadata) -> Result<HashSet<(String, String)>, RunnerError> {
    let mut targets = HashSet::new();
    for pkg in metadata.workspace_packages() {
        let text = std::fs::read_to_string(&pkg.manifest_path)
            .map_err(|err| RunnerError::io(format!("reading {}", pkg.manifest_path), err))?;
        let names = harness_false_targets(&text, &lib_target_name(pkg))
            .map_err(|source| RunnerError::Manifest { path: pkg.manifest_path.clone(), source })?;
        targets.extend(names.into_iter().map(|name| (pkg.id.repr.clone(), name)));
    }
    Ok(targets)
}

/// The name of the package's library target (`my_crate` for package `my-crate`).
pub(crate) fn lib_target_name(pkg: &Package) -> String {
    pkg.targets
        .iter()
        .find(|target| is_lib_kind(target))
        .map(|target| target.name.clone())
        .unwrap_or_else(|| pkg.name.replace('-', "_"))
}

/// Whether a target is the package's library (any crate type, proc-macro included).
pub(crate) fn is_lib_kind(target: &cargo_metadata::Target) -> bool {
    target.kind.iter().any(|kind| {
        use cargo_metadata::TargetKind as K;
        matches!(kind, K::Lib | K::RLib | K::DyLib | K::CDyLib | K::StaticLib | K::ProcMacro)
    })
}

/// Names of the targets a manifest declares with `harness = false`. `lib_name` is the
/// library target's name, used when `[lib]` has no `name`.
fn harness_false_targets(manifest: &str, lib_name: &str) -> Result<Vec<String>, toml::de::Error> {
    let table: toml::Table = toml::from_str(manifest)?;
    let mut names = Vec::new();
    if table.get("lib").is_some_and(declares_no_harness) {
        names.push(lib_name.to_owned());
    }
    for section in ["bin", "test", "bench", "example"] {
        let Some(entries) = table.get(section).and_then(toml::Value::as_array) else {
            continue;
        };
        names.extend(entries.iter().filter(|entry| declares_no_harness(entry)).filter_map(target_entry_name));
    }
    Ok(names)
}

fn declares_no_harness(entry: &toml::Value) -> bool {
    entry.get("harness").and_then(toml::Value::as_bool) == Some(false)
}

/// A `[[test]]`-style entry's name: `name`, else the stem of `path` (cargo requires a
/// name, so the fallback only matters for manifests cargo would reject anyway).
fn target_entry_name(entry: &toml::Value) -> Option<String> {
    if let Some(name) = entry.get("name").and_then(toml::Value::as_str) {
        return Some(name.to_owned());
    }
    let path = Utf8Path::new(entry.get("path")?.as_str()?);
    path.file_stem().map(str::to_owned)
}

/// Maps cargo's target kinds to ours. An unknown kind (a future cargo) is treated as an
/// integration test rather than dropped.
pub(crate) fn target_kind(kinds: &[cargo_metadata::TargetKind]) -> TargetKind {
    use cargo_metadata::TargetKind as K;
    for kind in kinds {
        match kind {
            K::Lib | K::RLib | K::DyLib | K::CDyLib | K::StaticLib => return TargetKind::Lib,
            K::ProcMacro => return TargetKind::ProcMacro,
            K::Bin => return TargetKind::Bin,
            K::Test => return TargetKind::Test,
            K::Bench => return TargetKind::Bench,
            K::Example => return TargetKind::Example,
            _ => {}
        }
    }
    TargetKind::Test
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doctests_follow_cargos_target_selection_rule() {
        type Case = (fn(&mut CargoOptions), bool);
        let cases: &[Case] = &[
            (|_| {}, true),
            (|o| o.doc = true, true),
            (|o| o.lib = true, false),
            (|o| o.bins = true, false),
            (|o| o.bin.push("x".into()), false),
            (|o| o.tests = true, false),
            (|o| o.test.push("x".into()), false),
            (|o| o.examples = true, false),
            (|o| o.benches = true, false),
            (|o| o.all_targets = true, false),
            (|o| o.release = true, true),
            (|o| o.packages.push("a".into()), true),
        ];
        for (i, (set, expected)) in cases.iter().enumerate() {
            let mut opts = CargoOptions::default();
            set(&mut opts);
            assert_eq!(opts.includes_doctests(), *expected, "case {i}: {opts:?}");
        }
    }

    #[test]
    fn build_jobs_are_capped_by_memory_unless_the_user_chose() {
        const GIB: u64 = 1 << 30;
        let cap = |cpus, usable, env| build_jobs_cap(cpus, usable, env).map(|c| (c.jobs, c.reason));
        assert_eq!(
            cap(2, Some(3 * GIB), None),
            Some((1, "build jobs capped at 1: 3.0 GiB usable / 2 GiB per build job".into()))
        );
        assert_eq!(
            cap(8, Some(GIB), None),
            Some((1, "build jobs capped at 1: 1.0 GiB usable / 2 GiB per build job".into()))
        );
        assert_eq!(cap(8, Some(9 * GIB), None).map(|c| c.0), Some(4));
        assert_eq!(cap(2, Some(4 * GIB), None), None, "2 GiB per CPU: no cap");
        assert_eq!(cap(64, Some(256 * GIB), None), None);
        assert_eq!(cap(8, Some(GIB), Some("8")), None, "CARGO_BUILD_JOBS wins");
        assert_eq!(cap(8, Some(GIB), Some("")).map(|c| c.0), Some(1), "an empty variable is unset");
        assert_eq!(cap(8, None, None), None);
    }

    #[test]
    fn no_run_args_carry_every_option() {
        let opts = CargoOptions {
            manifest_path: Some("/w/Cargo.toml".into()),
            packages: vec!["a".into(), "b@1.0.0".into()],
            workspace: true,
            exclude: vec!["c".into()],
            lib: true,
            bin: vec!["tool".into()],
            test: vec!["it".into()],
            features: vec!["f1".into(), "f2 f3".into()],
            no_default_features: true,
            release: true,
            cargo_profile: Some("ci".into()),
            target: Some("x86_64-unknown-linux-gnu".into()),
            target_dir: Some("/t".into()),
            locked: true,
            offline: true,
            color: Some("never".into()),
            build_jobs: Some(2),
            ..CargoOptions::default()
        };
        let expected = "test --no-run --message-format=json-render-diagnostics -p a -p b@1.0.0 \
            --workspace --exclude c --lib --bin tool --test it --features f1,f2 f3 \
            --no-default-features --release --profile ci --target x86_64-unknown-linux-gnu \
            --target-dir /t --locked --offline --color never -j 2 --manifest-path /w/Cargo.toml";
        assert_eq!(opts.no_run_args().join(" "), expected);
    }

    #[test]
    fn doc_test_args_keep_the_users_selection_and_match_the_build() {
        let opts = CargoOptions {
            packages: vec!["other".into(), "app@0.2.0".into()],
            workspace: true,
            exclude: vec!["big".into()],
            doc: true,
            features: vec!["f".into()],
            release: true,
            target_dir: Some("/t".into()),
            frozen: true,
            manifest_path: Some("/w/Cargo.toml".into()),
            ..CargoOptions::default()
        };
        let expected = "test --doc --no-fail-fast -p other -p app@0.2.0 --workspace --exclude big \
            --features f --release --target-dir /t --frozen --manifest-path /w/Cargo.toml";
        assert_eq!(opts.doc_test_args().join(" "), expected);
        assert_eq!(CargoOptions::default().doc_test_args().join(" "), "test --doc --no-fail-fast");
    }

    #[test]
    fn harness_false_targets_are_found_in_every_section() {
        let manifest = r#"
            [package]
            name = "my-crate"
            [lib]
            harness = false
            [[bin]]
            name = "tool"
            [[bin]]
            name = "tool2"
            harness = false
            [[test]]
            name = "custom"
            harness = false
            [[test]]
            name = "normal"
            harness = true
            [[bench]]
            name = "speed"
            harness = false
            [[example]]
            path = "examples/demo.rs"
            harness = false
        "#;
        let names = harness_false_targets(manifest, "my_crate").expect("parses");
        assert_eq!(names, ["my_crate", "tool2", "custom", "speed", "demo"]);
        assert!(harness_false_targets("[package]\nname = \"x\"\n", "x").expect("parses").is_empty());
        assert!(harness_false_targets("not toml [", "x").is_err());
    }

    #[test]
    fn package_specs_match_like_cargo() {
        let cases = [
            ("my-crate", true),
            ("my-crate@1.2.3", true),
            ("my-crate@1.2", true),
            ("my-crate@1", true),
            ("my-crate@1.3", false),
            ("my-crate@1.2.30", false),
            ("my-*", true),
            ("my-crat?", true),
            ("*-x", false),
            ("other", false),
            ("path+file:///w/my-crate#1.2.3", true),
        ];
        let json = r#"{"name":"my-crate","version":"1.2.3","id":"path+file:///w/my-crate#1.2.3",
            "dependencies":[],"targets":[],"features":{},"manifest_path":"/w/my-crate/Cargo.toml"}"#;
        let pkg: Package = serde_json::from_str(json).expect("package json");
        for (spec, expected) in cases {
            assert_eq!(spec_matches(spec, &pkg), expected, "{spec}");
        }
    }
}
