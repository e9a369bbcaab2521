//! Finding `llvm-profdata` and `llvm-cov` that read this rustc's profiles.
//!
//! Candidates, in order (the first pair that passes the check wins):
//! 1. `LLVM_PROFDATA` / `LLVM_COV` from the environment: when both are set, only that pair;
//!    when one is set, it replaces that tool in every pair below;
//! 2. rustup's `llvm-tools` component: `$(rustc --print sysroot)/lib/rustlib/<host>/bin/`
//!    (`rustup component add llvm-tools-preview`), made from rustc's own LLVM;
//! 3. versioned system tools on `PATH` (`llvm-profdata-NN` beside `llvm-cov-NN`, Debian's and
//!    Ubuntu's `llvm-NN` packages), newest first;
//! 4. unversioned `llvm-profdata` / `llvm-cov` on `PATH`.
//!
//! A version number cannot tell whether a tool reads rustc's profile format (LLVM 19 reads
//! the version 10 profiles LLVM 22 writes; LLVM 14 does not), so each candidate is checked
//! once against a real profile: an empty `main` built with `-C instrument-coverage` and run.
//! The choice is cached in `tools.json` beside the probe, keyed by `rustc -vV` and every
//! candidate's path, size and modification time, so later runs pay nothing until the
//! toolchain or the installed tools change.

use std::path::Path;
use std::process::Command;
use std::time::UNIX_EPOCH;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};
use testplan_runner::files::{self, Durability};

use crate::command::stdout_of;
use crate::error::{CoverageError, Rejected};

/// A pair of LLVM tools that read this rustc's profiles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlvmTools {
    /// `llvm-profdata`: merges raw profiles.
    pub profdata: Utf8PathBuf,
    /// `llvm-cov`: exports coverage from merged profiles and binaries.
    pub cov: Utf8PathBuf,
}

/// What rustc says about itself: all that tool finding depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RustcInfo {
    /// The rustc to build the probe with (`$RUSTC`, else `rustc`).
    pub rustc: Utf8PathBuf,
    /// `rustc -vV`, whole (the cache key).
    pub verbose_version: String,
    /// The host triple.
    pub host: String,
    /// `rustc --print sysroot`.
    pub sysroot: Utf8PathBuf,
}

impl RustcInfo {
    /// Asks `rustc` (run in `dir`, so a `rust-toolchain` file there picks the toolchain).
    pub fn query(rustc: &Utf8Path, dir: &Utf8Path) -> Result<RustcInfo, CoverageError> {
        let text = |args: &[&str]| -> Result<String, CoverageError> {
            let out = stdout_of(Command::new(rustc).args(args).current_dir(dir))?;
            Ok(String::from_utf8_lossy(&out).trim().to_owned())
        };
        let verbose_version = text(&["-vV"])?;
        let host =
            verbose_version.lines().find_map(|l| l.strip_prefix("host: ")).map(str::to_owned).ok_or_else(
                || CoverageError::Parse {
                    what: "rustc -vV".to_owned(),
                    message: "no `host:` line".to_owned(),
                },
            )?;
        let sysroot = Utf8PathBuf::from(text(&["--print", "sysroot"])?);
        Ok(RustcInfo { rustc: rustc.to_owned(), verbose_version, host, sysroot })
    }
}

/// Where tools are looked for (see the module docs); a value, so tests can fake it.
#[derive(Clone, Debug, Default)]
pub struct ToolSearch {
    /// `$LLVM_PROFDATA`.
    pub env_profdata: Option<Utf8PathBuf>,
    /// `$LLVM_COV`.
    pub env_cov: Option<Utf8PathBuf>,
    /// rustup's `llvm-tools` directory in the sysroot.
    pub sysroot_bin: Option<Utf8PathBuf>,
    /// The directories of `$PATH`, in order.
    pub path: Vec<Utf8PathBuf>,
}

impl ToolSearch {
    /// The search this process's environment and `rustc` describe.
    pub fn from_environment(rustc: &RustcInfo) -> ToolSearch {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty()).map(Utf8PathBuf::from);
        let path = std::env::var_os("PATH").unwrap_or_default();
        ToolSearch {
            env_profdata: var("LLVM_PROFDATA"),
            env_cov: var("LLVM_COV"),
            sysroot_bin: Some(rustc.sysroot.join("lib/rustlib").join(&rustc.host).join("bin")),
            path: std::env::split_paths(&path).filter_map(|p| Utf8PathBuf::from_path_buf(p).ok()).collect(),
        }
    }

    /// Every candidate pair, best first (see the module docs).
    pub fn candidates(&self) -> Vec<LlvmTools> {
        if let (Some(profdata), Some(cov)) = (&self.env_profdata, &self.env_cov) {
            return vec![LlvmTools { profdata: profdata.clone(), cov: cov.clone() }];
        }
        let mut pairs: Vec<LlvmTools> = Vec::new();
        if let Some(bin) = &self.sysroot_bin {
            pairs.extend(pair_in(bin, ""));
        }
        pairs.extend(self.versioned_pairs());
        pairs.extend(self.path.iter().find_map(|dir| pair_in(dir, "")));
        pairs.dedup();
        pairs.into_iter().map(|pair| self.with_env_override(pair)).collect()
    }

    fn with_env_override(&self, pair: LlvmTools) -> LlvmTools {
        LlvmTools {
            profdata: self.env_profdata.clone().unwrap_or(pair.profdata),
            cov: self.env_cov.clone().unwrap_or(pair.cov),
        }
    }

    /// `llvm-profdata-NN` with `llvm-cov-NN` beside it, newest `NN` first; for one `NN`,
    /// the first `PATH` directory that has both.
    fn versioned_pairs(&self) -> Vec<LlvmTools> {
        let mut found: Vec<(u32, LlvmTools)> = Vec::new();
        for dir in &self.path {
            for version in versions_in(dir) {
                if found.iter().any(|(v, _)| *v == version) {
                    continue;
                }
                if let Some(pair) = pair_in(dir, &format!("-{version}")) {
                    found.push((version, pair));
                }
            }
        }
        found.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
        found.into_iter().map(|(_, pair)| pair).collect()
    }
}

/// The `NN` of every `llvm-profdata-NN` in `dir`.
fn versions_in(dir: &Utf8Path) -> Vec<u32> {
    let Ok(entries) = dir.read_dir_utf8() else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().strip_prefix("llvm-profdata-")?.parse().ok())
        .collect()
}

fn pair_in(dir: &Utf8Path, suffix: &str) -> Option<LlvmTools> {
    let profdata = dir.join(format!("llvm-profdata{suffix}"));
    let cov = dir.join(format!("llvm-cov{suffix}"));
    (is_file(&profdata) && is_file(&cov)).then_some(LlvmTools { profdata, cov })
}

fn is_file(path: &Utf8Path) -> bool {
    path.is_file()
}

/// The first candidate that reads a real profile of this rustc's (see the module docs),
/// from the cache in `dir` when nothing changed since it was chosen.
pub fn find(rustc: &RustcInfo, search: &ToolSearch, dir: &Utf8Path) -> Result<LlvmTools, CoverageError> {
    let candidates = search.candidates();
    if candidates.is_empty() {
        return Err(CoverageError::ToolsNotFound { tried: Vec::new() });
    }
    let key = CacheKey::new(rustc, &candidates);
    let cache = dir.join("tools.json");
    if let Some(tools) = cached(&cache, &key) {
        return Ok(tools);
    }
    let probe = Probe::build(rustc, dir)?;
    let mut tried = Vec::new();
    for (index, pair) in candidates.into_iter().enumerate() {
        match probe.check(&pair, index) {
            Ok(()) => {
                store(&cache, key, &pair);
                return Ok(pair);
            }
            Err(rejected) => tried.push(rejected),
        }
    }
    Err(CoverageError::ToolsNotFound { tried })
}

/// rustc and every candidate, each file by path, size and modification time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct CacheKey {
    rustc: String,
    candidates: Vec<String>,
}

impl CacheKey {
    fn new(rustc: &RustcInfo, candidates: &[LlvmTools]) -> CacheKey {
        let candidates =
            candidates.iter().flat_map(|pair| [identity(&pair.profdata), identity(&pair.cov)]).collect();
        CacheKey { rustc: rustc.verbose_version.clone(), candidates }
    }
}

fn identity(path: &Utf8Path) -> String {
    let meta = std::fs::metadata(path).ok();
    let size = meta.as_ref().map_or(0, std::fs::Metadata::len);
    let mtime = meta
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("{path} {size} {mtime}")
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheEntry {
    key: CacheKey,
    tools: LlvmTools,
}

fn cached(path: &Utf8Path, key: &CacheKey) -> Option<LlvmTools> {
    let text = std::fs::read(path).ok()?;
    let entry: CacheEntry = serde_json::from_slice(&text).ok()?;
    (entry.key == *key).then_some(entry.tools)
}

/// A lost cache entry only costs the next run a probe, so a failure to store it is ignored.
fn store(path: &Utf8Path, key: CacheKey, tools: &LlvmTools) {
    let entry = CacheEntry { key, tools: tools.clone() };
    if let Ok(bytes) = serde_json::to_vec_pretty(&entry) {
        let _ = files::write_atomically(path.as_std_path(), &bytes, Durability::Cache);
    }
}

/// An instrumented empty program and the profile it wrote.
struct Probe {
    binary: Utf8PathBuf,
    profile: Utf8PathBuf,
}

impl Probe {
    fn build(rustc: &RustcInfo, dir: &Utf8Path) -> Result<Probe, CoverageError> {
        let source = dir.join("probe.rs");
        files::write_atomically(source.as_std_path(), b"fn main() {}\n", Durability::Cache)
            .map_err(|e| CoverageError::io(format!("writing {source}"), e))?;
        let binary = dir.join("probe");
        let profile = dir.join("probe.profraw");
        let _ = std::fs::remove_file(&profile);
        let mut compile = Command::new(&rustc.rustc);
        compile.args(["--edition", "2021", "-C", "instrument-coverage", "-o"]).arg(&binary).arg(&source);
        stdout_of(compile.current_dir(dir)).map_err(probe_error)?;
        stdout_of(Command::new(&binary).env("LLVM_PROFILE_FILE", &profile)).map_err(probe_error)?;
        if !profile.is_file() {
            return Err(CoverageError::Probe { message: format!("the probe wrote no {profile}") });
        }
        Ok(Probe { binary, profile })
    }

    /// Merges the probe's profile with `pair` and exports it; why the pair is rejected when
    /// that fails.
    fn check(&self, pair: &LlvmTools, index: usize) -> Result<(), Rejected> {
        let rejected = |reason: String| Rejected { profdata: pair.profdata.clone(), reason };
        let merged = self.profile.with_file_name(format!("probe-{index}.profdata"));
        let mut merge = Command::new(&pair.profdata);
        merge.args(["merge", "-sparse"]).arg(&self.profile).arg("-o").arg(&merged);
        stdout_of(&mut merge).map_err(|e| rejected(reason(&e)))?;
        let mut export = Command::new(&pair.cov);
        export.args(["export", "-summary-only", "-instr-profile"]).arg(&merged).arg(&self.binary);
        let out = stdout_of(&mut export).map_err(|e| rejected(reason(&e)))?;
        let _ = std::fs::remove_file(&merged);
        let exported = String::from_utf8_lossy(&out);
        if exported.contains("probe.rs") {
            Ok(())
        } else {
            Err(rejected("its export does not name the probe's source".to_owned()))
        }
    }
}

fn reason(error: &CoverageError) -> String {
    match error {
        CoverageError::Tool { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

fn probe_error(error: CoverageError) -> CoverageError {
    CoverageError::Probe { message: reason(&error) }
}

/// `LLVM_PROFDATA`/`LLVM_COV` named as such in messages; paths otherwise.
pub fn describe(tools: &LlvmTools) -> String {
    format!("{} and {}", display(&tools.profdata), display(&tools.cov))
}

fn display(path: &Utf8Path) -> &str {
    Path::new(path.as_str()).file_name().and_then(|n| n.to_str()).unwrap_or(path.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Rejected;

    fn touch(dir: &Utf8Path, names: &[&str]) {
        for name in names {
            std::fs::write(dir.join(name), b"").expect("write");
        }
    }

    fn utf8(dir: &tempfile::TempDir) -> Utf8PathBuf {
        Utf8PathBuf::from_path_buf(dir.path().to_owned()).expect("utf-8 temp dir")
    }

    #[test]
    fn rustup_first_then_versioned_newest_first_then_unversioned() {
        let (sys, a, b) = (
            tempfile::tempdir().expect("dir"),
            tempfile::tempdir().expect("dir"),
            tempfile::tempdir().expect("dir"),
        );
        let (sys, a, b) = (utf8(&sys), utf8(&a), utf8(&b));
        touch(&sys, &["llvm-profdata", "llvm-cov"]);
        touch(
            &a,
            &["llvm-profdata-14", "llvm-cov-14", "llvm-profdata-19", "llvm-cov-19", "llvm-profdata-22"],
        );
        touch(&b, &["llvm-profdata-19", "llvm-cov-19", "llvm-profdata", "llvm-cov", "llvm-profdata-x"]);
        let search = ToolSearch {
            sysroot_bin: Some(sys.clone()),
            path: vec![a.clone(), b.clone()],
            ..ToolSearch::default()
        };
        let profdata: Vec<Utf8PathBuf> = search.candidates().into_iter().map(|p| p.profdata).collect();
        assert_eq!(
            profdata,
            [
                sys.join("llvm-profdata"),
                a.join("llvm-profdata-19"),
                a.join("llvm-profdata-14"),
                b.join("llvm-profdata")
            ]
        );
    }

    #[test]
    fn environment_variables_come_first() {
        let dir = tempfile::tempdir().expect("dir");
        let dir = utf8(&dir);
        touch(&dir, &["llvm-profdata-19", "llvm-cov-19"]);
        let both = ToolSearch {
            env_profdata: Some("/opt/p".into()),
            env_cov: Some("/opt/c".into()),
            path: vec![dir.clone()],
            ..ToolSearch::default()
        };
        assert_eq!(both.candidates(), [LlvmTools { profdata: "/opt/p".into(), cov: "/opt/c".into() }]);
        let one =
            ToolSearch { env_cov: Some("/opt/c".into()), path: vec![dir.clone()], ..ToolSearch::default() };
        assert_eq!(
            one.candidates(),
            [LlvmTools { profdata: dir.join("llvm-profdata-19"), cov: "/opt/c".into() }]
        );
    }

    #[test]
    fn nothing_found_is_no_candidate() {
        assert!(ToolSearch::default().candidates().is_empty());
    }

    /// A fake tool: a shell script.
    fn script(path: &Utf8Path, body: &str) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("write script");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    fn this_rustc(dir: &Utf8Path) -> RustcInfo {
        RustcInfo::query(Utf8Path::new("rustc"), dir).expect("rustc answers")
    }

    #[test]
    fn the_first_pair_that_reads_the_probe_wins_and_is_cached() {
        let dir = tempfile::tempdir().expect("dir");
        let dir = utf8(&dir);
        let (bad, good) = (dir.join("bad"), dir.join("good"));
        std::fs::create_dir_all(&bad).expect("mkdir");
        std::fs::create_dir_all(&good).expect("mkdir");
        script(
            &bad.join("llvm-profdata-22"),
            "echo 'unsupported instrumentation profile format version' >&2; exit 1",
        );
        script(&bad.join("llvm-cov-22"), "exit 1");
        // merge: writes the -o file; export: names the probe's source.
        script(&good.join("llvm-profdata-19"), "while [ $# -gt 1 ]; do shift; done; : > \"$1\"");
        script(&good.join("llvm-cov-19"), "echo '{\"data\":[{\"files\":[{\"filename\":\"/x/probe.rs\"}]}]}'");
        let search = ToolSearch { path: vec![bad.clone(), good.clone()], ..ToolSearch::default() };
        let rustc = this_rustc(&dir);
        let found = find(&rustc, &search, &dir).expect("the good pair");
        assert_eq!(
            found,
            LlvmTools { profdata: good.join("llvm-profdata-19"), cov: good.join("llvm-cov-19") }
        );
        // Cached: found again without building the probe (this rustc does not exist).
        let gone = RustcInfo { rustc: "/nonexistent/rustc".into(), ..rustc.clone() };
        assert_eq!(find(&gone, &search, &dir).expect("cached"), found);
        // Only the bad pair: rejected with its reason, and the install hint.
        let only_bad = ToolSearch { path: vec![bad.clone()], ..ToolSearch::default() };
        let error = find(&rustc, &only_bad, &dir).expect_err("no usable pair");
        let CoverageError::ToolsNotFound { tried } = &error else { panic!("{error}") };
        assert_eq!(
            tried,
            &[Rejected {
                profdata: bad.join("llvm-profdata-22"),
                reason: "unsupported instrumentation profile format version".to_owned()
            }]
        );
    }

    #[test]
    fn describe_names_the_programs() {
        let tools =
            LlvmTools { profdata: "/usr/bin/llvm-profdata-19".into(), cov: "/usr/bin/llvm-cov-19".into() };
        assert_eq!(describe(&tools), "llvm-profdata-19 and llvm-cov-19");
    }
}
