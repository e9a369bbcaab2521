//! Published crates' sources, for comparing the runners on real test suites.
//!
//! A crate is found in cargo's registry cache (`$CARGO_HOME/registry/src/<index>/NAME-VERSION`,
//! where cargo unpacks every `.crate` it downloads). When it is not there it is fetched the
//! way cargo fetches any dependency: a throwaway package depending on `NAME = "=VERSION"`
//! (or `"*"` for the newest), then `cargo fetch`. A copy then gets an empty `[workspace]`
//! table (published manifests have none), so it builds on its own wherever it is copied.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::fixture::{cargo_program, run_output};

/// A crate's unpacked sources.
#[derive(Clone, Debug)]
pub struct CrateSource {
    /// Package name.
    pub name: String,
    /// Package version (`?` when its manifest does not say).
    pub version: String,
    /// Directory holding its `Cargo.toml`.
    pub dir: PathBuf,
}

/// Resolves `spec`: an existing crate directory, `NAME@VERSION`, or `NAME` (the newest
/// version on the registry). The last two are fetched when not in the cache.
pub fn resolve(spec: &str) -> CrateSource {
    let path = Path::new(spec);
    if path.join("Cargo.toml").is_file() {
        return from_dir(path);
    }
    match spec.split_once('@') {
        Some((name, version)) => fetch(name, Some(version)),
        None => fetch(spec, None),
    }
}

/// `$CARGO_HOME`, else `~/.cargo`.
pub fn cargo_home() -> PathBuf {
    match std::env::var_os("CARGO_HOME") {
        Some(home) if !home.is_empty() => PathBuf::from(home),
        _ => PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cargo"),
    }
}

/// `NAME-VERSION` unpacked under any registry index of the cache.
pub fn find_cached(name: &str, version: &str) -> Option<PathBuf> {
    let indexes = std::fs::read_dir(cargo_home().join("registry").join("src")).ok()?;
    indexes
        .filter_map(Result::ok)
        .map(|index| index.path().join(format!("{name}-{version}")))
        .find(|dir| dir.join("Cargo.toml").is_file())
}

/// Finds the crate in the cache, fetching it first when it is missing (network).
pub fn fetch(name: &str, version: Option<&str>) -> CrateSource {
    if let Some(dir) = version.and_then(|v| find_cached(name, v)) {
        return from_dir(&dir);
    }
    let project = tempfile::Builder::new().prefix("testplan-fetch-").tempdir().expect("temp dir");
    let requirement = version.map_or_else(|| "*".to_owned(), |v| format!("={v}"));
    let manifest = format!(
        "[package]\nname = \"fetch-helper\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
         [dependencies]\n{name} = \"{requirement}\"\n\n[workspace]\n"
    );
    std::fs::write(project.path().join("Cargo.toml"), manifest).expect("write Cargo.toml");
    std::fs::create_dir(project.path().join("src")).expect("create src");
    std::fs::write(project.path().join("src/lib.rs"), "").expect("write lib.rs");
    let out = run_output(
        std::process::Command::new(cargo_program())
            .arg("fetch")
            .current_dir(project.path())
            .stdin(Stdio::null()),
    );
    assert!(
        out.status.success(),
        "cargo fetch of {name} {requirement} failed (network needed):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let version = version.map_or_else(|| locked_version(project.path(), name), str::to_owned);
    let dir = find_cached(name, &version).unwrap_or_else(|| {
        panic!("cargo fetched {name} {version} but it is not under {}", cargo_home().display())
    });
    from_dir(&dir)
}

/// The version of `name` in the lock file `cargo fetch` wrote.
fn locked_version(project: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(project.join("Cargo.lock")).expect("cargo fetch writes Cargo.lock");
    let lock: toml::Table = toml::from_str(&text).expect("Cargo.lock is TOML");
    let packages = lock.get("package").and_then(toml::Value::as_array).expect("Cargo.lock lists packages");
    let versions: Vec<&str> = packages
        .iter()
        .filter(|p| p.get("name").and_then(toml::Value::as_str) == Some(name))
        .filter_map(|p| p.get("version").and_then(toml::Value::as_str))
        .collect();
    match versions.as_slice() {
        [version] => (*version).to_owned(),
        other => panic!("Cargo.lock has {} versions of {name}: {other:?}; name one", other.len()),
    }
}

/// Name and version from the `[package]` table of `dir/Cargo.toml`.
fn from_dir(dir: &Path) -> CrateSource {
    let manifest = read_manifest(dir);
    let field = |key: &str| {
        manifest.get("package").and_then(|p| p.get(key)).and_then(toml::Value::as_str).map(str::to_owned)
    };
    let name = field("name").unwrap_or_else(|| panic!("{}: no [package] name", dir.display()));
    let dir = dir.canonicalize().expect("canonical crate dir");
    CrateSource { name, version: field("version").unwrap_or_else(|| "?".to_owned()), dir }
}

fn read_manifest(dir: &Path) -> toml::Table {
    let path = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Appends an empty `[workspace]` to `root/Cargo.toml` unless it has one, keeping the file's
/// modification time (the shared target dir's freshness records compare it).
pub fn ensure_own_workspace(root: &Path) {
    if read_manifest(root).contains_key("workspace") {
        return;
    }
    let path = root.join("Cargo.toml");
    let mtime = std::fs::metadata(&path).and_then(|m| m.modified()).expect("Cargo.toml mtime");
    let mut text = std::fs::read_to_string(&path).expect("read Cargo.toml");
    text.push_str("\n[workspace]\n");
    std::fs::write(&path, text).expect("write Cargo.toml");
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(mtime))
        .expect("restore Cargo.toml mtime");
}
