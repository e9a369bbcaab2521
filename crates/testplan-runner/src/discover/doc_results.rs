//! The doctest result cache: a doctest batch whose inputs have not changed since a run in
//! which every one of its doctests passed (or was ignored) need not be compiled and run
//! again; its results are reported as `passed (cached)`. A false "cached" is worse than a
//! slow run, so the key is conservative: anything that could change what rustdoc compiles
//! or what the doctests do changes it.
//!
//! The key covers:
//! - the batch's command line (package selection, features, profile, target, filters) and
//!   the runner's version;
//! - the toolchain: `rustc -vV` (version and commit; a `rustup default` switch leaves the
//!   artifacts of both toolchains in the target dir, so their stamps alone would not tell),
//!   cargo's path and stamp, and the `CARGO*`/`RUST*` environment (`RUSTDOCFLAGS`,
//!   `RUSTFLAGS`, `RUSTUP_TOOLCHAIN`, ...);
//! - the cargo configuration files of the current directory's ancestors and `$CARGO_HOME`;
//! - every file of the workspace tree (and of selected packages outside it) — sources,
//!   manifests, `Cargo.lock`, READMEs pulled in with `include_str!` — except the sources of
//!   integration tests, benches and examples: files that rustc's dep-info (`.d`) lists for
//!   such a target's test executable and not for any library's or binary's;
//! - the compiled libraries in the build's `deps` directories (`.rlib`, `.rmeta`, `.so`,
//!   ...): a dependency whose code changed is rebuilt, and its stamp with it.
//!
//! So editing an integration test keeps the doctests cached; editing a doctest, the
//! documented code, a dependency, a feature, `RUSTDOCFLAGS` or the toolchain does not.
//! A result is stored only when every doctest of the batch passed or was ignored, when the
//! key is the same after the batch as before it, and when no file changed in the last 2 s.

use std::collections::BTreeSet;
use std::fs;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use super::doc_cache::{
    Material, add_environment, add_trees, command_file, read_stored, source_roots, stamp_of, write_stored,
};
use crate::cargo::{BuildOutput, Workspace};
use crate::model::{TargetKind, TestIdx, TestList};

/// Bumped whenever the entry format or the key's meaning changes.
const FORMAT_VERSION: u32 = 2;

/// The key of the current state, and whether results taken now may be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultKey {
    hash: String,
    settled: bool,
}

/// One doctest's cached outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedDoctest {
    /// The doctest's key in its batch (`"{crate}: {name}"`).
    pub name: String,
    /// Ignored (not run) rather than passed.
    pub ignored: bool,
}

/// The key of the workspace's current state for doctest results (see the module docs), or
/// `None` when it cannot be computed (then nothing is cached).
pub fn key(ws: &Workspace, build: &BuildOutput) -> Option<ResultKey> {
    let mut material = Material::default();
    material.line(&format!("results {FORMAT_VERSION} {}", env!("CARGO_PKG_VERSION")));
    material.line(&format!("rustc {}", rustc_version()?));
    add_environment(&mut material)?;
    for dir in deps_dirs(build) {
        add_libraries(&mut material, &dir);
    }
    let test_only = test_only_sources(ws, build);
    let skip = |path: &Utf8Path| test_only.contains(path);
    add_trees(&mut material, &source_roots(ws), &ws.target_dir, &skip)?;
    Some(ResultKey { hash: material.finish(), settled: material.settled() })
}

/// The name a doctest's result is stored under: `"{crate}: {name}"`, the key its batch
/// reports it by (`cargo test --doc` runs every selected library's doctests at once).
pub fn doctest_name(list: &TestList, test: TestIdx) -> String {
    let crate_name = crate::execute::doc_crate_name(list.binary_of(test));
    crate::execute::doc_member_key(&crate_name, &list.test(test).name)
}

/// The results stored for `command`, if its key is `key`.
pub fn lookup(dir: &Utf8Path, command: &[String], key: &ResultKey) -> Option<Vec<CachedDoctest>> {
    read_stored(&entry_path(dir, command), FORMAT_VERSION, command, &key.hash)
}

/// Stores the results of a batch that ran between the keys `before` and `after`, each of
/// its doctests passed or ignored (see the module docs for when nothing is stored). Errors
/// are ignored: the cache is an optimisation.
pub fn store(
    dir: &Utf8Path,
    command: &[String],
    before: &ResultKey,
    after: Option<&ResultKey>,
    results: &[CachedDoctest],
) {
    if after != Some(before) || !before.settled || results.is_empty() {
        return;
    }
    write_stored(&entry_path(dir, command), FORMAT_VERSION, command, &before.hash, results);
}

/// Forgets the results stored for `command` (a batch that failed, or `--no-cache`).
pub fn forget(dir: &Utf8Path, command: &[String]) {
    let _ = fs::remove_file(entry_path(dir, command));
}

fn entry_path(dir: &Utf8Path, command: &[String]) -> Utf8PathBuf {
    command_file(dir, "doctest-results", command)
}

/// The answer of a `rustc -vV` started by [`prefetch_toolchain`], not used yet.
static PREFETCHED: std::sync::Mutex<Option<std::thread::JoinHandle<Option<String>>>> =
    std::sync::Mutex::new(None);

/// Starts `rustc -vV` in the background, so that the first key of the run (see [`key`])
/// need not wait for it: through a rustup proxy it takes ~40 ms here, while the build's
/// fingerprint check runs meanwhile. Only that first key uses the answer; a later key (the
/// one taken after the doctests ran, to see that nothing changed) asks again.
pub fn prefetch_toolchain() {
    let Ok(handle) =
        std::thread::Builder::new().name("testplan-rustc-vv".to_owned()).spawn(query_rustc_version)
    else {
        return;
    };
    if let Ok(mut slot) = PREFETCHED.lock() {
        *slot = Some(handle);
    }
}

/// `rustc -vV` of the toolchain cargo would use: the prefetched answer once, else asked now.
fn rustc_version() -> Option<String> {
    let prefetched = PREFETCHED.lock().ok().and_then(|mut slot| slot.take());
    match prefetched {
        Some(handle) => handle.join().ok().flatten(),
        None => query_rustc_version(),
    }
}

/// `rustc -vV` of the toolchain cargo would use (`$RUSTC`, else `rustc`).
fn query_rustc_version() -> Option<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = std::process::Command::new(rustc).arg("-vV").output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The directories holding the build's test executables (cargo's `deps`).
fn deps_dirs(build: &BuildOutput) -> BTreeSet<Utf8PathBuf> {
    build.binaries.iter().filter_map(|b| b.executable.parent().map(Utf8Path::to_path_buf)).collect()
}

/// Every compiled library in `dir`, with its stamp.
fn add_libraries(material: &mut Material, dir: &Utf8Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        material.line(&format!("deps {dir} unreadable"));
        return;
    };
    let mut libraries: Vec<(String, String)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e)))
        .filter(|(name, _)| is_library(name))
        .filter_map(|(name, e)| Some((name, stamp_of(e.metadata().ok()?))))
        .collect();
    libraries.sort();
    material.line(&format!("deps {dir}"));
    for (name, stamp) in libraries {
        material.line(&format!("lib {name} {stamp}"));
    }
}

fn is_library(name: &str) -> bool {
    [".rlib", ".rmeta", ".so", ".dylib", ".dll", ".a"].iter().any(|ext| name.ends_with(ext))
}

/// Source files only integration tests, benches and examples compile: listed in the
/// dep-info of such a target's test executable, and in no other executable's dep-info.
/// (Relative paths are the workspace root's; `join` keeps absolute ones as they are.)
fn test_only_sources(ws: &Workspace, build: &BuildOutput) -> BTreeSet<Utf8PathBuf> {
    let mut test_only = BTreeSet::new();
    let mut shared = BTreeSet::new();
    for binary in &build.binaries {
        let Some(sources) = dep_info(&binary.executable) else { continue };
        // cargo runs rustc in the workspace root with the members' paths relative to it:
        // rustc's dep-info names their sources relative to the root too.
        let sources = sources.into_iter().map(|path| ws.root.join(path));
        match binary.kind {
            TargetKind::Test | TargetKind::Bench | TargetKind::Example => test_only.extend(sources),
            _ => shared.extend(sources),
        }
    }
    let roots = source_roots(ws);
    test_only
        .into_iter()
        .filter(|path| !shared.contains(path) && roots.iter().any(|root| path.starts_with(root)))
        .collect()
}

/// The source files rustc read for `executable`, from its `.d` file beside it.
fn dep_info(executable: &Utf8Path) -> Option<Vec<Utf8PathBuf>> {
    let text = fs::read_to_string(executable.with_extension("d")).ok()?;
    Some(parse_dep_info(&text))
}

/// The prerequisites of a makefile-style dep-info file's first rule (`target: a b\ c`).
fn parse_dep_info(text: &str) -> Vec<Utf8PathBuf> {
    let Some(first) = text.lines().find(|line| !line.trim().is_empty()) else { return Vec::new() };
    let Some((_, prerequisites)) = split_rule(first) else { return Vec::new() };
    let mut paths = Vec::new();
    let mut current = String::new();
    let mut chars = prerequisites.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            ' ' | '\t' => {
                if !current.is_empty() {
                    paths.push(Utf8PathBuf::from(std::mem::take(&mut current)));
                }
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        paths.push(Utf8PathBuf::from(current));
    }
    paths
}

/// Splits a rule at its first unescaped `: ` (a Windows drive's `C:` is not one).
fn split_rule(line: &str) -> Option<(&str, &str)> {
    let bytes = line.as_bytes();
    (0..bytes.len()).find_map(|i| {
        let separator = bytes[i] == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' ');
        let escaped = i > 0 && bytes[i - 1] == b'\\';
        (separator && !escaped).then(|| (&line[..i], &line[i + 1..]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefetched_toolchain_serves_one_key_and_later_keys_ask_again() {
        prefetch_toolchain();
        let asked = query_rustc_version();
        assert!(asked.as_deref().is_some_and(|v| v.contains("host: ")), "{asked:?}");
        assert_eq!(rustc_version(), asked);
        assert!(PREFETCHED.lock().expect("lock").is_none(), "the prefetched answer is used once");
        assert_eq!(rustc_version(), asked);
    }

    #[test]
    fn dep_info_lists_the_first_rules_prerequisites() {
        let text = "/t/deps/it-1: /w/tests/it.rs /w/tests/common/mod.rs /w/a\\ b.txt\n\n\
                    /t/deps/it-1.d: /w/tests/it.rs\n\n/w/tests/it.rs:\n";
        assert_eq!(
            parse_dep_info(text),
            [
                Utf8PathBuf::from("/w/tests/it.rs"),
                Utf8PathBuf::from("/w/tests/common/mod.rs"),
                Utf8PathBuf::from("/w/a b.txt")
            ]
        );
        assert_eq!(parse_dep_info("C:\\t\\x.exe: C:\\w\\src\\lib.rs\n").len(), 1);
        assert!(parse_dep_info("").is_empty());
    }

    #[test]
    fn results_are_served_only_for_their_command_and_key_and_stored_only_when_stable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let dir = Utf8PathBuf::from_path_buf(dir.path().join("cache")).expect("utf-8");
        let key = ResultKey { hash: "k1".into(), settled: true };
        let other = ResultKey { hash: "k2".into(), settled: true };
        let command = vec!["test".to_owned(), "--doc".to_owned()];
        let results = vec![CachedDoctest { name: "a: src/lib.rs - f (line 3)".into(), ignored: false }];

        store(&dir, &command, &key, Some(&other), &results);
        assert_eq!(lookup(&dir, &command, &key), None, "changed while running: not stored");
        store(&dir, &command, &ResultKey { settled: false, ..key.clone() }, Some(&key), &results);
        assert_eq!(lookup(&dir, &command, &key), None, "too fresh: not stored");
        store(&dir, &command, &key, Some(&key), &[]);
        assert_eq!(lookup(&dir, &command, &key), None, "nothing to store");

        store(&dir, &command, &key, Some(&key), &results);
        assert_eq!(lookup(&dir, &command, &key), Some(results));
        assert_eq!(lookup(&dir, &command, &other), None, "another key");
        assert_eq!(lookup(&dir, &["test".to_owned()], &key), None, "another command");
        forget(&dir, &command);
        assert_eq!(lookup(&dir, &command, &key), None, "forgotten");
    }

    #[test]
    fn libraries_are_the_compiled_crates() {
        for name in ["libfoo-1a2b.rlib", "libfoo-1a2b.rmeta", "libm-9.so", "foo.dll"] {
            assert!(is_library(name), "{name}");
        }
        for name in ["foo-1a2b", "foo-1a2b.d", "it-77.d"] {
            assert!(!is_library(name), "{name}");
        }
    }
}
