//! The run-time environment cargo gives a test process, reproduced so results under
//! cargo-testplan agree with `cargo test`.
//!
//! What cargo 1.95 adds to its own environment when `cargo test` runs a test binary (found
//! by dumping `std::env::vars()` from unit, bin, integration, bench, example and
//! `harness = false` tests and diffing against the parent, and by reading cargo's
//! `Compilation::fill_env`), all reproduced here:
//!
//! - `CARGO`: cargo's own path (`$CARGO` when set, as cargo passes it through).
//! - `CARGO_MANIFEST_DIR`, `CARGO_MANIFEST_PATH`, `CARGO_PKG_NAME`, `CARGO_PKG_VERSION`
//!   (+ `_MAJOR`, `_MINOR`, `_PATCH`, `_PRE`), `CARGO_PKG_AUTHORS` (joined with `:`),
//!   `CARGO_PKG_DESCRIPTION`, `CARGO_PKG_HOMEPAGE`, `CARGO_PKG_REPOSITORY`,
//!   `CARGO_PKG_LICENSE`, `CARGO_PKG_LICENSE_FILE`, `CARGO_PKG_README`,
//!   `CARGO_PKG_RUST_VERSION` (as written: `1.80`, not `1.80.0`). Always set, empty
//!   when the manifest has no value.
//! - `OUT_DIR` and every `cargo::rustc-env` of the package's own build script.
//! - `CARGO_BIN_EXE_<name>` for every bin target of the package, for integration tests
//!   and benches only (`harness = false` ones included), pointing at
//!   `target/<profile>/<name>`.
//! - The dynamic library search path (`LD_LIBRARY_PATH` on Linux), prepended to the
//!   inherited value: the `rustc-link-search` directories of *every* build script of the
//!   build that lie inside the output directory (kind prefixes like `native=` removed),
//!   then `target/<profile>`, `target/<profile>/deps`, then the toolchain's target libdir
//!   (`rustc --print target-libdir`).
//! - `[env]` entries of the cargo config files (`.cargo/config.toml` or `.cargo/config`
//!   in the current directory and its ancestors, then `$CARGO_HOME/config.toml`; the
//!   nearer file wins), `KEY = "v"` and `KEY = { value, force, relative }`. Without
//!   `force = true` an entry does not override a variable already in the environment;
//!   it never overrides a variable cargo sets itself. `relative = true` resolves the
//!   value against the directory holding the `.cargo` directory.
//!
//! The working directory (the package root) is set by the caller from
//! [`crate::model::TestBinary::cwd`].
//!
//! Not set at run time, although the issue lists them: `CARGO_CRATE_NAME`,
//! `CARGO_PRIMARY_PACKAGE`, `CARGO_BIN_NAME`, `CARGO_TARGET_TMPDIR` are *compile-time*
//! variables (`env!`) only; cargo does not pass them to the test process, so neither do
//! we.
//!
//! Not reproduced: the exact order of several build-script directories inside the
//! search path (cargo sorts them by their raw `KIND=path` text, which the build messages
//! no longer carry once stripped; we sort by path), the macOS fallback defaults and
//! Windows `PATH` details beyond the variable name, `target.<triple>.runner`,
//! `--config` command-line overrides and config `include`s, deep merging of one `[env]`
//! key defined as a table in several files (the nearer definition wins whole), and the
//! jobserver cargo hands to tests when it was itself given one. Doctests get no
//! variables here: they run through `cargo test --doc`, which sets its own.

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use camino::{Utf8Path, Utf8PathBuf};

use crate::cargo::{BuildOutput, BuiltBinary, Workspace};
use crate::model::TargetKind;

/// What every binary's environment starts from, read once per run: the host environment,
/// cargo's `[env]` configuration and the `CARGO` value (reading them per binary showed in
/// profiles of suites with many binaries).
#[derive(Clone, Debug)]
pub struct HostEnv {
    vars: HashMap<String, String>,
    config: Vec<ConfigEnvEntry>,
    cargo: String,
}

impl HostEnv {
    /// Reads the runner's environment and cargo's configuration (found from the current
    /// directory, as cargo finds it).
    pub fn capture() -> Self {
        let vars: HashMap<String, String> = std::env::vars().collect();
        let config = load_config_env(&vars);
        let cargo = cargo_exe(&vars);
        Self { vars, config, cargo }
    }
}

/// The variables to add to the inherited environment when running `binary`.
pub fn test_env(
    host: &HostEnv,
    ws: &Workspace,
    build: &BuildOutput,
    binary: &BuiltBinary,
) -> Vec<(String, String)> {
    let mut env = EnvVars::default();
    let dirs = OutputDirs::of(&binary.executable);

    if let Some(dirs) = &dirs {
        let libdir = target_libdir(dirs.triple(&ws.target_dir).as_deref());
        let native = native_dirs(build, &dirs.root);
        let existing = host.vars.get(dylib_path_var()).map(String::as_str);
        env.set(dylib_path_var(), &dylib_search_path(&native, dirs, libdir.as_deref(), existing));
    }
    if let Some(script) = build.build_scripts.get(&binary.package_id) {
        env.set("OUT_DIR", script.out_dir.as_str());
        for (key, value) in &script.env {
            env.set(key, value);
        }
    }
    env.set("CARGO", &host.cargo);
    if let Some(pkg) = ws.package_metadata(&binary.package_id) {
        let rust_version = ws.rust_versions.get(&binary.package_id).map(String::as_str);
        for (key, value) in package_vars(pkg, rust_version) {
            env.set(&key, &value);
        }
        if let (Some(dirs), TargetKind::Test | TargetKind::Bench) = (&dirs, binary.kind) {
            for (key, value) in bin_exe_vars(pkg, &dirs.root) {
                env.set(&key, &value);
            }
        }
    }
    apply_config_env(&mut env, &host.config, &|key| host.vars.contains_key(key));
    env.into_vec()
}

/// An ordered set of variables where setting a key again replaces its value in place,
/// like successive `Command::env` calls.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct EnvVars {
    vars: Vec<(String, String)>,
}

impl EnvVars {
    fn set(&mut self, key: &str, value: &str) {
        match self.vars.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value.to_owned(),
            None => self.vars.push((key.to_owned(), value.to_owned())),
        }
    }

    fn contains(&self, key: &str) -> bool {
        self.vars.iter().any(|(k, _)| k == key)
    }

    fn into_vec(self) -> Vec<(String, String)> {
        self.vars
    }
}

/// The output directories a test executable lives in: `root` is `target/<profile>` (or
/// `target/<triple>/<profile>`), the parent of the `deps` or `examples` directory.
#[derive(Clone, Debug, PartialEq, Eq)]
struct OutputDirs {
    root: Utf8PathBuf,
    deps: Utf8PathBuf,
}

impl OutputDirs {
    fn of(executable: &Utf8Path) -> Option<Self> {
        let root = executable.parent()?.parent()?.to_path_buf();
        Some(OutputDirs { deps: root.join("deps"), root })
    }

    /// The `--target` triple, read back from `target/<triple>/<profile>`. A directory
    /// without a `-` is no triple: a build in a target directory of its own (`--coverage`'s
    /// `<target>/testplan/coverage/target/<profile>`).
    fn triple(&self, target_dir: &Utf8Path) -> Option<String> {
        let profile_parent = self.root.parent()?;
        if profile_parent == target_dir {
            return None;
        }
        profile_parent.file_name().filter(|name| name.contains('-')).map(str::to_owned)
    }
}

/// Name of the dynamic library search path variable on this platform.
fn dylib_path_var() -> &'static str {
    if cfg!(windows) {
        "PATH"
    } else if cfg!(target_os = "macos") {
        "DYLD_FALLBACK_LIBRARY_PATH"
    } else {
        "LD_LIBRARY_PATH"
    }
}

fn path_separator() -> &'static str {
    if cfg!(windows) { ";" } else { ":" }
}

/// Every build script's link-search directory inside `root` (cargo leaves outside
/// directories to the system), sorted and without duplicates.
fn native_dirs(build: &BuildOutput, root: &Utf8Path) -> Vec<Utf8PathBuf> {
    let mut dirs: Vec<Utf8PathBuf> = build
        .build_scripts
        .values()
        .flat_map(|script| script.linked_paths.iter())
        .filter(|dir| dir.starts_with(root))
        .cloned()
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// The search path cargo gives a test: build-script dirs, the profile dir, its `deps`,
/// the toolchain's target libdir, then whatever was already set.
fn dylib_search_path(
    native: &[Utf8PathBuf],
    dirs: &OutputDirs,
    target_libdir: Option<&Utf8Path>,
    existing: Option<&str>,
) -> String {
    let mut parts: Vec<&str> = native.iter().map(|dir| dir.as_str()).collect();
    parts.push(dirs.root.as_str());
    parts.push(dirs.deps.as_str());
    parts.extend(target_libdir.map(Utf8Path::as_str));
    parts.extend(existing.filter(|value| !value.is_empty()));
    parts.join(path_separator())
}

/// Starts `rustc --print target-libdir` for the host in the background, so that the answer
/// is there when the first test binary's environment needs it: the build runs meanwhile
/// (the query takes tens of milliseconds, more through a rustup proxy).
pub fn prefetch_host_libdir() {
    let _ = std::thread::Builder::new().name("testplan-libdir".to_owned()).spawn(|| {
        target_libdir(None);
    });
}

/// `rustc --print target-libdir [--target T]`, once per target per process (a second
/// caller waits for the first's answer).
fn target_libdir(triple: Option<&str>) -> Option<Utf8PathBuf> {
    type Slot = Arc<OnceLock<Option<Utf8PathBuf>>>;
    static CACHE: OnceLock<Mutex<HashMap<Option<String>, Slot>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = triple.map(str::to_owned);
    let slot: Slot = match cache.lock() {
        Ok(mut map) => Arc::clone(map.entry(key).or_default()),
        Err(_) => return query_target_libdir(triple),
    };
    slot.get_or_init(|| query_target_libdir(triple)).clone()
}

fn query_target_libdir(triple: Option<&str>) -> Option<Utf8PathBuf> {
    let mut command = Command::new(rustc_program());
    command.args(["--print", "target-libdir"]);
    if let Some(triple) = triple {
        command.args(["--target", triple]);
    }
    let output = command.output().ok().filter(|output| output.status.success())?;
    let text = String::from_utf8(output.stdout).ok()?;
    let dir = text.trim();
    (!dir.is_empty()).then(|| Utf8PathBuf::from(dir))
}

/// The rustc to ask: `$RUSTC`; else the `rustc` beside `$CARGO` when running under rustup
/// (`RUSTUP_TOOLCHAIN` set: the proxy would pick that toolchain's rustc, and asking it
/// directly spares the proxy's start-up, a third of the query's CPU time); else `rustc`.
fn rustc_program() -> std::ffi::OsString {
    if let Some(rustc) = std::env::var_os("RUSTC").filter(|value| !value.is_empty()) {
        return rustc;
    }
    let beside_cargo = std::env::var_os("RUSTUP_TOOLCHAIN")
        .and(std::env::var_os("CARGO"))
        .map(|cargo| {
            std::path::PathBuf::from(cargo).with_file_name(format!("rustc{}", std::env::consts::EXE_SUFFIX))
        })
        .filter(|rustc| rustc.is_file());
    beside_cargo.map_or_else(|| "rustc".into(), std::path::PathBuf::into_os_string)
}

/// `$CARGO`, else the `cargo` found on `PATH`, else plain `cargo`.
fn cargo_exe(host: &HashMap<String, String>) -> String {
    if let Some(cargo) = host.get("CARGO").filter(|value| !value.is_empty()) {
        return cargo.clone();
    }
    let exe = format!("cargo{}", std::env::consts::EXE_SUFFIX);
    host.get("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(path).collect::<Vec<_>>())
        .map(|dir| dir.join(&exe))
        .find(|candidate| candidate.is_file())
        .and_then(|found| found.to_str().map(str::to_owned))
        .unwrap_or(exe)
}

/// The `CARGO_MANIFEST_*` and `CARGO_PKG_*` variables of a package.
fn package_vars(pkg: &cargo_metadata::Package, rust_version: Option<&str>) -> Vec<(String, String)> {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let path = |value: &Option<Utf8PathBuf>| value.as_ref().map(ToString::to_string).unwrap_or_default();
    let root = pkg.manifest_path.parent().map(ToString::to_string).unwrap_or_default();
    let version = &pkg.version;
    let fallback_rust_version = pkg.rust_version.as_ref().map(ToString::to_string);
    let vars = [
        ("CARGO_MANIFEST_DIR", root),
        ("CARGO_MANIFEST_PATH", pkg.manifest_path.to_string()),
        ("CARGO_PKG_VERSION_MAJOR", version.major.to_string()),
        ("CARGO_PKG_VERSION_MINOR", version.minor.to_string()),
        ("CARGO_PKG_VERSION_PATCH", version.patch.to_string()),
        ("CARGO_PKG_VERSION_PRE", version.pre.to_string()),
        ("CARGO_PKG_VERSION", version.to_string()),
        ("CARGO_PKG_NAME", pkg.name.to_string()),
        ("CARGO_PKG_DESCRIPTION", text(&pkg.description)),
        ("CARGO_PKG_HOMEPAGE", text(&pkg.homepage)),
        ("CARGO_PKG_REPOSITORY", text(&pkg.repository)),
        ("CARGO_PKG_LICENSE", text(&pkg.license)),
        ("CARGO_PKG_LICENSE_FILE", path(&pkg.license_file)),
        ("CARGO_PKG_AUTHORS", pkg.authors.join(":")),
        (
            "CARGO_PKG_RUST_VERSION",
            rust_version.map(str::to_owned).or(fallback_rust_version).unwrap_or_default(),
        ),
        ("CARGO_PKG_README", path(&pkg.readme)),
    ];
    vars.into_iter().map(|(key, value)| (key.to_owned(), value)).collect()
}

/// `CARGO_BIN_EXE_<name>` for every bin target of the package.
fn bin_exe_vars(pkg: &cargo_metadata::Package, root: &Utf8Path) -> Vec<(String, String)> {
    pkg.targets
        .iter()
        .filter(|target| target.is_bin())
        .map(|target| {
            let exe = root.join(format!("{}{}", target.name, std::env::consts::EXE_SUFFIX));
            (format!("CARGO_BIN_EXE_{}", target.name), exe.to_string())
        })
        .collect()
}

/// One `[env]` entry of a cargo config file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ConfigEnvEntry {
    key: String,
    value: String,
    force: bool,
}

/// Why a cargo config file's `[env]` table cannot be read (such a file is skipped: cargo
/// has rejected it already).
#[derive(Debug, PartialEq, thiserror::Error)]
enum ConfigEnvError {
    /// The file is not TOML.
    #[error(transparent)]
    Toml(#[from] toml::de::Error),
    /// `env` is something other than a table.
    #[error("`env` is not a table")]
    NotATable,
    /// An entry is neither a string nor a table.
    #[error("env.{key}: expected a string or a table")]
    Entry {
        /// The variable.
        key: String,
    },
    /// A table entry has no string `value`.
    #[error("env.{key}.value: expected a string")]
    Value {
        /// The variable.
        key: String,
    },
}

/// The `[env]` table of one config file. `base` is the directory `relative = true` values
/// are resolved against (the parent of the `.cargo` directory).
fn parse_config_env(text: &str, base: &Utf8Path) -> Result<Vec<ConfigEnvEntry>, ConfigEnvError> {
    let table: toml::Table = toml::from_str(text)?;
    let Some(env) = table.get("env") else {
        return Ok(Vec::new());
    };
    let env = env.as_table().ok_or(ConfigEnvError::NotATable)?;
    env.iter().map(|(key, value)| config_env_entry(key, value, base)).collect()
}

fn config_env_entry(
    key: &str,
    value: &toml::Value,
    base: &Utf8Path,
) -> Result<ConfigEnvEntry, ConfigEnvError> {
    let entry = |value: String, force| ConfigEnvEntry { key: key.to_owned(), value, force };
    if let Some(text) = value.as_str() {
        return Ok(entry(text.to_owned(), false));
    }
    let table = value.as_table().ok_or_else(|| ConfigEnvError::Entry { key: key.to_owned() })?;
    let text = table
        .get("value")
        .and_then(toml::Value::as_str)
        .ok_or_else(|| ConfigEnvError::Value { key: key.to_owned() })?;
    let flag = |name: &str| table.get(name).and_then(toml::Value::as_bool).unwrap_or(false);
    let value = if flag("relative") { base.join(text).to_string() } else { text.to_owned() };
    Ok(entry(value, flag("force")))
}

/// Config files in cargo's order of precedence: the current directory's `.cargo`, its
/// ancestors', then `$CARGO_HOME`'s (unless already visited).
fn config_files(cwd: &Utf8Path, cargo_home: Option<&Utf8Path>) -> Vec<Utf8PathBuf> {
    let mut dirs: Vec<Utf8PathBuf> = cwd.ancestors().map(|dir| dir.join(".cargo")).collect();
    if let Some(home) = cargo_home.filter(|home| !dirs.iter().any(|dir| dir == home)) {
        dirs.push(home.to_path_buf());
    }
    dirs.iter().filter_map(|dir| config_file_in(dir)).collect()
}

/// `config` (which cargo prefers when both exist) or `config.toml` in a directory.
fn config_file_in(dir: &Utf8Path) -> Option<Utf8PathBuf> {
    ["config", "config.toml"].iter().map(|name| dir.join(name)).find(|path| path.is_file())
}

/// `[env]` entries of every config file, the nearest definition of each key first.
/// Unreadable or malformed files are skipped: cargo has already rejected them by the
/// time tests run.
fn load_config_env(host: &HashMap<String, String>) -> Vec<ConfigEnvEntry> {
    let Some(cwd) = std::env::current_dir().ok().and_then(|dir| Utf8PathBuf::from_path_buf(dir).ok()) else {
        return Vec::new();
    };
    let home = host
        .get("CARGO_HOME")
        .map(Utf8PathBuf::from)
        .or_else(|| host.get("HOME").map(|home| Utf8PathBuf::from(home).join(".cargo")));
    let mut entries: Vec<ConfigEnvEntry> = Vec::new();
    for file in config_files(&cwd, home.as_deref()) {
        let base = file.parent().and_then(Utf8Path::parent).unwrap_or(&cwd);
        let Some(parsed) = std::fs::read_to_string(&file).ok().and_then(|t| parse_config_env(&t, base).ok())
        else {
            continue;
        };
        for entry in parsed {
            if !entries.iter().any(|known| known.key == entry.key) {
                entries.push(entry);
            }
        }
    }
    entries
}

/// Adds config entries that cargo would add: never over a variable cargo set itself,
/// and without `force` never over one already in the environment. `CARGO_HOME` cannot
/// be set this way (cargo rejects it).
fn apply_config_env(env: &mut EnvVars, entries: &[ConfigEnvEntry], in_host_env: &dyn Fn(&str) -> bool) {
    for entry in entries {
        let blocked = env.contains(&entry.key) || (!entry.force && in_host_env(&entry.key));
        if !blocked && entry.key != "CARGO_HOME" {
            env.set(&entry.key, &entry.value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(json_fields: &str) -> cargo_metadata::Package {
        let json = format!(
            r#"{{"name":"env-probe","version":"1.2.3-beta.1","id":"path+file:///w#env-probe@1.2.3-beta.1",
            "dependencies":[],"features":{{}},"manifest_path":"/w/Cargo.toml",
            "targets":[
              {{"name":"env_probe","kind":["lib"],"src_path":"/w/src/lib.rs"}},
              {{"name":"probe-bin","kind":["bin"],"src_path":"/w/src/main.rs"}},
              {{"name":"it","kind":["test"],"src_path":"/w/tests/it.rs"}}
            ]{json_fields}}}"#
        );
        serde_json::from_str(&json).expect("package json")
    }

    fn vars(pairs: Vec<(String, String)>) -> HashMap<String, String> {
        pairs.into_iter().collect()
    }

    #[test]
    fn a_prefetched_libdir_is_the_one_rustc_prints_and_is_asked_once() {
        prefetch_host_libdir();
        // The second caller waits for the prefetch's answer instead of asking again.
        let first = target_libdir(None);
        assert_eq!(first, query_target_libdir(None));
        assert_eq!(target_libdir(None), first);
    }

    #[test]
    fn package_vars_match_what_cargo_sets() {
        let pkg = package(
            r#","authors":["Alice <a@x>","Bob"],"description":"probe","homepage":"https://h.example",
            "repository":"https://r.example","license":"MIT","readme":"README.md","rust_version":"1.80""#,
        );
        let got = vars(package_vars(&pkg, Some("1.80")));
        let expected = [
            ("CARGO_MANIFEST_DIR", "/w"),
            ("CARGO_MANIFEST_PATH", "/w/Cargo.toml"),
            ("CARGO_PKG_VERSION_MAJOR", "1"),
            ("CARGO_PKG_VERSION_MINOR", "2"),
            ("CARGO_PKG_VERSION_PATCH", "3"),
            ("CARGO_PKG_VERSION_PRE", "beta.1"),
            ("CARGO_PKG_VERSION", "1.2.3-beta.1"),
            ("CARGO_PKG_NAME", "env-probe"),
            ("CARGO_PKG_DESCRIPTION", "probe"),
            ("CARGO_PKG_HOMEPAGE", "https://h.example"),
            ("CARGO_PKG_REPOSITORY", "https://r.example"),
            ("CARGO_PKG_LICENSE", "MIT"),
            ("CARGO_PKG_LICENSE_FILE", ""),
            ("CARGO_PKG_AUTHORS", "Alice <a@x>:Bob"),
            ("CARGO_PKG_RUST_VERSION", "1.80"),
            ("CARGO_PKG_README", "README.md"),
        ];
        assert_eq!(got.len(), expected.len());
        for (key, value) in expected {
            assert_eq!(got.get(key).map(String::as_str), Some(value), "{key}");
        }
        let bare = vars(package_vars(&package(""), None));
        assert_eq!(bare["CARGO_PKG_RUST_VERSION"], "");
        assert_eq!(bare["CARGO_PKG_AUTHORS"], "");
    }

    #[test]
    fn bin_exe_vars_point_into_the_profile_dir() {
        let got = bin_exe_vars(&package(""), Utf8Path::new("/w/target/debug"));
        let exe = format!("/w/target/debug/probe-bin{}", std::env::consts::EXE_SUFFIX);
        assert_eq!(got, [("CARGO_BIN_EXE_probe-bin".to_owned(), exe)]);
    }

    #[test]
    fn output_dirs_come_from_the_executable() {
        let dirs = OutputDirs::of(Utf8Path::new("/w/target/debug/deps/it-0123")).expect("dirs");
        assert_eq!(dirs.root, "/w/target/debug");
        assert_eq!(dirs.deps, "/w/target/debug/deps");
        assert_eq!(dirs.triple(Utf8Path::new("/w/target")), None);
        let coverage = OutputDirs::of(Utf8Path::new("/w/target/testplan/coverage/target/debug/deps/it-0123"));
        assert_eq!(coverage.expect("dirs").triple(Utf8Path::new("/w/target")), None);
        let dirs = OutputDirs::of(Utf8Path::new("/w/target/aarch64-apple-darwin/release/examples/ex-1"))
            .expect("dirs");
        assert_eq!(dirs.root, "/w/target/aarch64-apple-darwin/release");
        assert_eq!(dirs.triple(Utf8Path::new("/w/target")).as_deref(), Some("aarch64-apple-darwin"));
    }

    #[test]
    fn search_path_orders_like_cargo() {
        let dirs = OutputDirs::of(Utf8Path::new("/t/debug/deps/x-1")).expect("dirs");
        let native = vec![Utf8PathBuf::from("/t/debug/build/a/out")];
        let sep = path_separator();
        let got = dylib_search_path(&native, &dirs, Some(Utf8Path::new("/sys/lib")), Some("/old"));
        assert_eq!(got, ["/t/debug/build/a/out", "/t/debug", "/t/debug/deps", "/sys/lib", "/old"].join(sep));
        let got = dylib_search_path(&[], &dirs, None, Some(""));
        assert_eq!(got, ["/t/debug", "/t/debug/deps"].join(sep));
    }

    #[test]
    fn native_dirs_keep_only_paths_inside_the_output_dir() {
        let mut build = BuildOutput::default();
        for (id, paths) in
            [("b", vec!["/t/debug/build/b/out/z", "/usr/lib"]), ("a", vec!["/t/debug/build/a/out"])]
        {
            let script = crate::cargo::BuildScriptInfo {
                linked_paths: paths.into_iter().map(Utf8PathBuf::from).collect(),
                ..Default::default()
            };
            build.build_scripts.insert(id.to_owned(), script);
        }
        let got = native_dirs(&build, Utf8Path::new("/t/debug"));
        assert_eq!(got, [Utf8PathBuf::from("/t/debug/build/a/out"), "/t/debug/build/b/out/z".into()]);
    }

    #[test]
    fn config_env_entries_parse_every_form() {
        let text = r#"
            [build]
            jobs = 2
            [env]
            PLAIN = "plain"
            FORCED = { value = "forced", force = true }
            NOTFORCED = { value = "notforced" }
            REL = { value = "some/dir", relative = true }
            ABS = { value = "/abs", relative = false }
        "#;
        let got = parse_config_env(text, Utf8Path::new("/proj")).expect("parses");
        let entry =
            |key: &str, value: &str, force| ConfigEnvEntry { key: key.into(), value: value.into(), force };
        assert_eq!(
            got,
            [
                entry("ABS", "/abs", false),
                entry("FORCED", "forced", true),
                entry("NOTFORCED", "notforced", false),
                entry("PLAIN", "plain", false),
                entry("REL", "/proj/some/dir", false),
            ]
        );
        assert_eq!(parse_config_env("[build]\njobs = 1\n", Utf8Path::new("/")), Ok(Vec::new()));
        assert!(parse_config_env("[env]\nX = 1\n", Utf8Path::new("/")).is_err());
        assert!(parse_config_env("[env]\nX = { force = true }\n", Utf8Path::new("/")).is_err());
    }

    #[test]
    fn config_env_respects_force_and_cargos_own_variables() {
        let entry = |key: &str, force| ConfigEnvEntry { key: key.into(), value: "config".into(), force };
        let entries = [
            entry("PLAIN", false),
            entry("INHERITED", false),
            entry("FORCED", true),
            entry("CARGO_PKG_NAME", true),
            entry("CARGO_HOME", true),
        ];
        let mut env = EnvVars::default();
        env.set("CARGO_PKG_NAME", "cargo");
        let host = |key: &str| key == "INHERITED" || key == "FORCED";
        apply_config_env(&mut env, &entries, &host);
        let got = vars(env.into_vec());
        assert_eq!(got.get("PLAIN").map(String::as_str), Some("config"));
        assert_eq!(got.get("INHERITED"), None);
        assert_eq!(got.get("FORCED").map(String::as_str), Some("config"));
        assert_eq!(got.get("CARGO_PKG_NAME").map(String::as_str), Some("cargo"));
        assert_eq!(got.get("CARGO_HOME"), None);
    }

    #[test]
    fn config_files_are_found_nearest_first_then_cargo_home() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("utf8");
        let sub = root.join("ws/member");
        std::fs::create_dir_all(sub.join(".cargo")).expect("mkdir");
        std::fs::create_dir_all(root.join(".cargo")).expect("mkdir");
        std::fs::create_dir_all(root.join("home")).expect("mkdir");
        std::fs::write(sub.join(".cargo/config.toml"), "").expect("write");
        std::fs::write(root.join(".cargo/config"), "").expect("write");
        std::fs::write(root.join(".cargo/config.toml"), "").expect("write");
        std::fs::write(root.join("home/config.toml"), "").expect("write");
        let got = config_files(&sub, Some(&root.join("home")));
        let want =
            [sub.join(".cargo/config.toml"), root.join(".cargo/config"), root.join("home/config.toml")];
        assert_eq!(
            got.iter().filter(|f| f.starts_with(&root)).collect::<Vec<_>>(),
            want.iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn setting_a_variable_twice_replaces_it_in_place() {
        let mut env = EnvVars::default();
        env.set("A", "1");
        env.set("B", "2");
        env.set("A", "3");
        assert_eq!(env.into_vec(), [("A".to_owned(), "3".to_owned()), ("B".to_owned(), "2".to_owned())]);
    }
}
