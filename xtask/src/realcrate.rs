//! The real-crate shape: a published crate's sources from cargo's registry cache, copied to
//! `target/bench/crate-NAME-VERSION/` with an empty `[workspace]` table so it builds on its
//! own. A crate missing from the cache is fetched the way cargo fetches any dependency: a
//! throwaway package depending on `NAME = "=VERSION"`, then `cargo fetch`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Result;
use crate::shapes::write_if_changed;

/// The crates benchmarked when `--crate` is not given: semver (no dependencies; unit,
/// integration and a few doc tests) and serde_json (doctests dominate `cargo test`).
pub const DEFAULT_CRATES: [&str; 2] = ["semver@1.0.28", "serde_json@1.0.149"];

/// The crate `cargo xtask profile` measures doctests on.
pub const PROFILE_CRATE: &str = "serde_json@1.0.149";

/// `NAME@VERSION`, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrateRef {
    /// Package name.
    pub name: String,
    /// Exact version.
    pub version: String,
}

impl CrateRef {
    /// Parses `NAME@VERSION`.
    pub fn parse(spec: &str) -> Result<CrateRef> {
        match spec.split_once('@') {
            Some((name, version)) if !name.is_empty() && !version.is_empty() => {
                Ok(CrateRef { name: name.to_owned(), version: version.to_owned() })
            }
            _ => Err(format!("`--crate {spec}`: expected NAME@VERSION, e.g. semver@1.0.28").into()),
        }
    }

    /// The shape's directory name.
    pub fn dir_name(&self) -> String {
        format!("crate-{}-{}", self.name, self.version)
    }
}

/// Copies the crate under `bench_root` (once) and returns the copy's directory.
pub fn prepare(krate: &CrateRef, bench_root: &Path) -> Result<PathBuf> {
    let dest = bench_root.join(krate.dir_name());
    let marker = dest.join(".xtask-copied");
    if marker.is_file() {
        return Ok(dest);
    }
    let source = match find_cached(krate) {
        Some(dir) => dir,
        None => fetch(krate, bench_root)?,
    };
    copy_dir(&source, &dest)?;
    let manifest = dest.join("Cargo.toml");
    let text =
        std::fs::read_to_string(&manifest).map_err(|e| format!("reading {}: {e}", manifest.display()))?;
    if !text.lines().any(|line| line.trim() == "[workspace]") {
        write_if_changed(&manifest, &format!("{text}\n[workspace]\n"))?;
    }
    write_if_changed(&marker, &format!("copied from {}\n", source.display()))?;
    Ok(dest)
}

/// `$CARGO_HOME`, else `~/.cargo`.
fn cargo_home() -> Option<PathBuf> {
    match std::env::var_os("CARGO_HOME") {
        Some(home) if !home.is_empty() => Some(PathBuf::from(home)),
        _ => std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")),
    }
}

/// `NAME-VERSION` unpacked under any registry index of the cache.
fn find_cached(krate: &CrateRef) -> Option<PathBuf> {
    let indexes = std::fs::read_dir(cargo_home()?.join("registry").join("src")).ok()?;
    indexes
        .filter_map(|entry| entry.ok())
        .map(|index| index.path().join(format!("{}-{}", krate.name, krate.version)))
        .find(|dir| dir.join("Cargo.toml").is_file())
}

/// Fetches the crate into cargo's cache through a throwaway package.
fn fetch(krate: &CrateRef, bench_root: &Path) -> Result<PathBuf> {
    let helper = bench_root.join(format!("fetch-{}", krate.dir_name()));
    let manifest = format!(
        "[package]\nname = \"fetch-helper\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
         [dependencies]\n{} = \"={}\"\n\n[workspace]\n",
        krate.name, krate.version
    );
    write_if_changed(&helper.join("Cargo.toml"), &manifest)?;
    write_if_changed(&helper.join("src").join("lib.rs"), "")?;
    eprintln!("fetching {}@{} (not in the registry cache)", krate.name, krate.version);
    let status = Command::new("cargo")
        .arg("fetch")
        .current_dir(&helper)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("running cargo fetch: {e}"))?;
    if !status.success() {
        return Err(format!("cargo fetch of {}@{} failed: {status}", krate.name, krate.version).into());
    }
    find_cached(krate).ok_or_else(|| {
        format!("{}@{} is not in the registry cache after cargo fetch", krate.name, krate.version).into()
    })
}

/// Copies a directory tree (regular files and directories; symlinks are followed).
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| format!("creating {}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("reading {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("reading {}: {e}", from.display()))?;
        let (source, dest) = (entry.path(), to.join(entry.file_name()));
        if source.is_dir() {
            copy_dir(&source, &dest)?;
        } else {
            std::fs::copy(&source, &dest).map_err(|e| format!("copying {}: {e}", source.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_specs_are_name_at_version() {
        let parsed = CrateRef::parse("serde_json@1.0.149").expect("parses");
        assert_eq!(parsed, CrateRef { name: "serde_json".into(), version: "1.0.149".into() });
        assert_eq!(parsed.dir_name(), "crate-serde_json-1.0.149");
        for bad in ["semver", "@1.0", "semver@", ""] {
            let err = CrateRef::parse(bad).expect_err(bad).to_string();
            assert!(err.contains("expected NAME@VERSION"), "{err}");
        }
    }

    #[test]
    fn a_crate_tree_is_copied() {
        let temp = tempfile::tempdir().expect("temp dir");
        let src = temp.path().join("src-crate");
        write_if_changed(&src.join("Cargo.toml"), "[package]\nname = \"x\"\n").expect("write");
        write_if_changed(&src.join("src/lib.rs"), "").expect("write");
        let dest = temp.path().join("copy");
        copy_dir(&src, &dest).expect("copy");
        assert!(dest.join("src/lib.rs").is_file());
    }
}
