//! The doctest listing cache: `cargo test --doc -- --list` costs a cargo and a rustdoc
//! start (and, for edition-2024 crates, a compile of the merged doctests) on every run, and
//! it comes before anything can be planned. Its answer is kept under
//! `<target-dir>/testplan/list-cache/doctests-<hash of the command>.json` and reused while
//! nothing it could depend on has changed.
//!
//! Doctests come from the library's sources and from files only `cfg(doctest)` pulls in
//! (`#[doc = include_str!("../README.md")]`), which no build artifact records. So the key
//! covers, besides the listing's command line, cargo's path and the `CARGO*`/`RUST*`
//! environment:
//! - every file of the workspace tree (and of selected packages outside it): relative path,
//!   size, modification and change times, inode — target directories (those holding a
//!   `CACHEDIR.TAG`, and the run's target dir) and `.git` are skipped;
//! - the cargo configuration files of the current directory's ancestors and `$CARGO_HOME`;
//! - the stamps of the test executables the build produced (a dependency that changed
//!   relinks them).
//!
//! A listing is stored only when the key is the same after listing as before, and when no
//! file in the tree changed in the last 2 s (a rewrite within the same timestamp tick would
//! otherwise be invisible). A tree of more than [`MAX_ENTRIES`] entries is not keyed (the
//! walk would cost more than the listing); neither is one that cannot be read.

use std::fs;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use camino::{Utf8Path, Utf8PathBuf};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::cache::Stamp;
use crate::cargo::{self, BuildOutput, Workspace};

/// Bumped whenever the entry format or the key's meaning changes.
const FORMAT_VERSION: u32 = 2;
/// Files modified more recently than this make a listing unstorable.
const SETTLE: Duration = Duration::from_secs(2);
/// Trees larger than this are not keyed.
pub(crate) const MAX_ENTRIES: usize = 20_000;

/// The key of the current state, and whether a listing taken now may be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    hash: String,
    settled: bool,
}

/// The key of the workspace's current state (see the module docs), or `None` when it cannot
/// be computed.
pub(crate) fn key(ws: &Workspace, build: &BuildOutput) -> Option<Key> {
    let mut material = Material::default();
    material.line(&format!("format {FORMAT_VERSION} {}", env!("CARGO_PKG_VERSION")));
    add_environment(&mut material)?;
    let mut executables: Vec<&Utf8Path> = build.binaries.iter().map(|b| b.executable.as_path()).collect();
    executables.sort();
    for exe in executables {
        material.line(&format!("exe {exe} {:?}", Stamp::of(exe)));
    }
    let roots = source_roots(ws);
    add_trees(&mut material, &roots, &ws.target_dir, &|_| false)?;
    Some(Key { hash: material.finish(), settled: material.settled() })
}

/// cargo (path and stamp), the working directory, the `CARGO*`/`RUST*` variables and cargo's
/// configuration files: what both doctest keys share.
pub(super) fn add_environment(material: &mut Material) -> Option<()> {
    let cargo = cargo::cargo_program();
    material.line(&format!("cargo {cargo} {:?}", Stamp::of(&cargo)));
    let cwd = std::env::current_dir().ok()?;
    material.line(&format!("cwd {}", cwd.display()));
    let mut vars: Vec<(String, String)> =
        std::env::vars().filter(|(k, _)| k.starts_with("CARGO") || k.starts_with("RUST")).collect();
    vars.sort();
    for (k, v) in vars {
        material.line(&format!("env {k}={v}"));
    }
    for config in config_files(&cwd) {
        let stamp = fs::symlink_metadata(&config).ok().map(stamp_of);
        material.line(&format!("config {} {stamp:?}", config.display()));
    }
    Some(())
}

/// The workspace root and the selected packages outside it: the trees a key walks.
pub(super) fn source_roots(ws: &Workspace) -> Vec<Utf8PathBuf> {
    let mut roots: Vec<Utf8PathBuf> = vec![ws.root.clone()];
    for id in &ws.primary_packages {
        if let Some(package) = ws.packages.get(id).filter(|p| !p.root.starts_with(&ws.root)) {
            roots.push(package.root.clone());
        }
    }
    roots.sort();
    roots
}

/// Adds every file under `roots` (see [`walk`]) for which `skip` is false; `None` when a
/// tree cannot be keyed.
pub(super) fn add_trees(
    material: &mut Material,
    roots: &[Utf8PathBuf],
    target_dir: &Utf8Path,
    skip: &dyn Fn(&Utf8Path) -> bool,
) -> Option<()> {
    let mut entries = 0;
    for root in roots {
        material.line(&format!("root {root}"));
        walk(root, target_dir, material, &mut entries, skip)?;
    }
    Some(())
}

/// The stored listing for `command`, if its key is `key`.
pub(crate) fn lookup(dir: &Utf8Path, command: &[String], key: &Key) -> Option<Vec<(String, String)>> {
    read_stored(&command_file(dir, "doctests", command), FORMAT_VERSION, command, &key.hash)
}

/// Stores the listing of `command` taken between the keys `before` and `after` (see the
/// module docs for when it is not stored). Errors are ignored: the cache is an optimisation.
pub(crate) fn store(
    dir: &Utf8Path,
    command: &[String],
    before: &Key,
    after: Option<&Key>,
    tests: &[(String, String)],
) {
    if after != Some(before) || !before.settled {
        return;
    }
    write_stored(&command_file(dir, "doctests", command), FORMAT_VERSION, command, &before.hash, tests);
}

/// What a cache of this kind stores for a command under a key (the doctest listing here,
/// the doctest results in `doc_results`): valid only for the same format, runner version,
/// command and key.
#[derive(Debug, Serialize, Deserialize)]
struct Stored<T> {
    format: u32,
    runner_version: String,
    command: Vec<String>,
    key: String,
    value: T,
}

/// The value stored in `path`, if it was stored in `format` by this runner version for
/// `command` under `key`.
pub(super) fn read_stored<T: DeserializeOwned>(
    path: &Utf8Path,
    format: u32,
    command: &[String],
    key: &str,
) -> Option<T> {
    let text = fs::read_to_string(path).ok()?;
    let stored: Stored<T> = serde_json::from_str(&text).ok()?;
    let valid = stored.format == format
        && stored.runner_version == env!("CARGO_PKG_VERSION")
        && stored.command == command
        && stored.key == key;
    valid.then_some(stored.value)
}

/// Stores `value` for `command` under `key` in `path`. Errors are ignored: a cache is an
/// optimisation.
pub(super) fn write_stored<T: Serialize>(
    path: &Utf8Path,
    format: u32,
    command: &[String],
    key: &str,
    value: T,
) {
    let stored = Stored {
        format,
        runner_version: env!("CARGO_PKG_VERSION").to_owned(),
        command: command.to_vec(),
        key: key.to_owned(),
        value,
    };
    let Ok(text) = serde_json::to_string(&stored) else { return };
    let _ =
        crate::files::write_atomically(path.as_std_path(), text.as_bytes(), crate::files::Durability::Cache);
}

/// `<dir>/<prefix>-<hash of the command>.json`.
pub(super) fn command_file(dir: &Utf8Path, prefix: &str, command: &[String]) -> Utf8PathBuf {
    dir.join(format!(
        "{prefix}-{:016x}.json",
        fnv1a(0xcbf2_9ce4_8422_2325, command.join("\u{1f}").as_bytes())
    ))
}

/// `.cargo/config.toml` and `.cargo/config` of every ancestor of `cwd`, and of `$CARGO_HOME`.
pub(super) fn config_files(cwd: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<std::path::PathBuf> = cwd.ancestors().map(|d| d.join(".cargo")).collect();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(home.into());
    }
    dirs.iter().flat_map(|d| [d.join("config.toml"), d.join("config")]).collect()
}

/// Adds every entry under `dir` to `material`, in a stable order; `None` past
/// [`MAX_ENTRIES`] or on an unreadable directory. Files for which `skip` is true are counted
/// but not hashed.
fn walk(
    dir: &Utf8Path,
    target_dir: &Utf8Path,
    material: &mut Material,
    entries: &mut usize,
    skip: &dyn Fn(&Utf8Path) -> bool,
) -> Option<()> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        if current == target_dir || current.join("CACHEDIR.TAG").exists() {
            continue;
        }
        let mut children: Vec<(String, fs::Metadata)> = Vec::new();
        for item in fs::read_dir(&current).ok()? {
            let item = item.ok()?;
            let name = item.file_name().into_string().ok()?;
            if name == ".git" {
                continue;
            }
            children.push((name, item.metadata().ok()?));
        }
        children.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, meta) in children {
            *entries += 1;
            if *entries > MAX_ENTRIES {
                return None;
            }
            let path = current.join(&name);
            if meta.is_dir() {
                stack.push(path);
            } else if !skip(&path) {
                material.saw_modified(meta.modified().ok());
                material.line(&format!("file {path} {}", stamp_of(meta)));
            }
        }
    }
    Some(())
}

/// A file's size, modification and change times and inode, as text.
pub(super) fn stamp_of(meta: fs::Metadata) -> String {
    let modified = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok());
    let id = crate::platform::file_identity(&meta);
    format!("{} {modified:?} {}.{} {}", meta.len(), id.changed.0, id.changed.1, id.inode)
}

/// What the key hashes (two FNV-1a streams with different seeds: 128 bits), and the newest
/// modification time seen.
pub(super) struct Material {
    hashes: (u64, u64),
    newest: Option<SystemTime>,
}

impl Default for Material {
    fn default() -> Self {
        Material { hashes: (0xcbf2_9ce4_8422_2325, 0x8422_2325_cbf2_9ce4), newest: None }
    }
}

impl Material {
    pub(super) fn line(&mut self, text: &str) {
        for bytes in [text.as_bytes(), b"\n"] {
            self.hashes = (fnv1a(self.hashes.0, bytes), fnv1a(self.hashes.1, bytes));
        }
    }

    fn saw_modified(&mut self, at: Option<SystemTime>) {
        if let Some(at) = at {
            self.newest = Some(self.newest.map_or(at, |n| n.max(at)));
        }
    }

    pub(super) fn settled(&self) -> bool {
        self.newest
            .is_none_or(|newest| SystemTime::now().duration_since(newest).is_ok_and(|age| age >= SETTLE))
    }

    pub(super) fn finish(&self) -> String {
        format!("{:016x}{:016x}", self.hashes.0, self.hashes.1)
    }
}

pub(super) fn fnv1a(seed: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(seed, |hash, &byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A workspace-like tree in a temporary directory, its files aged past [`SETTLE`].
    fn tree() -> (tempfile::TempDir, Utf8PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).expect("utf-8");
        for (path, text) in
            [("Cargo.toml", "[workspace]"), ("src/lib.rs", "//! ```\n//! ```\n"), ("README.md", "hi")]
        {
            let path = root.join(path);
            fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
            fs::write(&path, text).expect("write");
        }
        fs::create_dir_all(root.join("target/debug")).expect("target");
        fs::write(root.join("target/CACHEDIR.TAG"), "Signature: 8a477f597d28d172789f06886806bc55")
            .expect("tag");
        fs::create_dir_all(root.join(".git")).expect("git");
        age_all(&root);
        (dir, root)
    }

    fn age_all(root: &Utf8Path) {
        let old = SystemTime::now() - Duration::from_secs(60);
        for path in ["Cargo.toml", "src/lib.rs", "README.md"] {
            let file = fs::File::options().write(true).open(root.join(path)).expect("open");
            file.set_modified(old).expect("set mtime");
        }
    }

    fn tree_key(root: &Utf8Path) -> Key {
        let mut material = Material::default();
        add_trees(&mut material, &[root.to_path_buf()], &root.join("target"), &|_| false).expect("keyed");
        Key { hash: material.finish(), settled: material.settled() }
    }

    #[test]
    fn the_key_follows_every_source_file_but_not_the_target_dir_or_git() {
        let (_dir, root) = tree();
        let first = tree_key(&root);
        assert!(first.settled);
        assert_eq!(tree_key(&root), first, "nothing changed");

        fs::write(root.join("target/debug/out.rlib"), "x").expect("write");
        fs::write(root.join(".git/index"), "x").expect("write");
        assert_eq!(tree_key(&root).hash, first.hash, "target/ and .git/ are not inputs");

        fs::write(root.join("README.md"), "hi!").expect("write");
        let changed = tree_key(&root);
        assert_ne!(changed.hash, first.hash, "an included README changes the key");
        assert!(!changed.settled, "a file modified just now cannot be trusted yet");

        age_all(&root);
        let aged = tree_key(&root);
        fs::write(root.join("src/new.rs"), "").expect("write");
        assert_ne!(tree_key(&root).hash, aged.hash, "a new file changes the key");
    }

    #[test]
    fn a_listing_is_served_only_for_its_command_and_key_and_stored_only_when_stable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let dir = Utf8PathBuf::from_path_buf(dir.path().join("cache")).expect("utf-8");
        let key = Key { hash: "k1".into(), settled: true };
        let command = vec!["test".to_owned(), "--doc".to_owned()];
        let tests = vec![("alpha".to_owned(), "src/lib.rs - (line 3)".to_owned())];

        store(&dir, &command, &key, Some(&Key { hash: "k2".into(), settled: true }), &tests);
        assert_eq!(lookup(&dir, &command, &key), None, "changed while listing: not stored");
        store(&dir, &command, &Key { settled: false, ..key.clone() }, Some(&key), &tests);
        assert_eq!(lookup(&dir, &command, &key), None, "too fresh: not stored");

        store(&dir, &command, &key, Some(&key), &tests);
        assert_eq!(lookup(&dir, &command, &key), Some(tests));
        assert_eq!(lookup(&dir, &command, &Key { hash: "k2".into(), settled: true }), None, "another key");
        assert_eq!(lookup(&dir, &["test".to_owned()], &key), None, "another command");
    }

    #[test]
    fn a_tree_too_large_is_not_keyed() {
        let (_dir, root) = tree();
        for i in 0..=MAX_ENTRIES {
            fs::write(root.join(format!("src/f{i}")), "").expect("write");
        }
        let mut material = Material::default();
        assert_eq!(
            add_trees(&mut material, std::slice::from_ref(&root), &root.join("target"), &|_| false),
            None
        );
    }
}
