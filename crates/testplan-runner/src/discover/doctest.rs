//! Doctest discovery through cargo itself.
//!
//! Doctests have no executable to ask: rustdoc compiles them when they run. So we ask
//! cargo, with one invocation for every selected library:
//!
//! ```text
//! cargo test --doc <the user's -p/--workspace/--exclude> <build options> -- --list --format terse
//! ```
//!
//! and, at the same time, once more with `--ignored` (unless the run never runs ignored
//! tests: [`IgnoredDoctests::FromResults`]). stdout and stderr share one pipe, so the `Doc-tests
//! <crate>` line cargo prints on stderr before running rustdoc for a crate precedes that
//! crate's `NAME: test` lines. The package selection is the user's own (not one `-p` per
//! library), so feature unification, and therefore every fingerprint, is the same as in
//! the build and nothing is rebuilt; cargo skips packages without a doctestable library
//! by itself. `RUSTC_BOOTSTRAP` is deliberately not set (cargo tracks it), which is why
//! the terse format is used: it gives no ignore reasons or source files, but the names
//! carry the file and line (`src/lib.rs - add (line 8)`).

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::process::Command;
use std::sync::Arc;

use crate::cancel::CancelToken;
use camino::Utf8Path;

use crate::cargo::{self, BuildOutput, CargoOptions, Workspace};
use crate::error::RunnerError;
use crate::model::{ListMethod, PackageInfo, SourceLocation, TargetKind, TestBinary};
use crate::text::strip_ansi;

use super::libtest::{ListedTest, terse_test_name};
use super::process::{Capture, Ending, run_listing};
use super::{IgnoredDoctests, doc_cache};

/// A library whose doctests `cargo test` runs.
#[derive(Clone, Debug)]
struct DocLib {
    package: Arc<PackageInfo>,
    /// The lib target's name.
    target_name: String,
    /// The crate name rustdoc and cargo's `Doc-tests` line use.
    crate_name: String,
}

/// The doctest "binaries" (one per library with doctests) and their tests.
pub(super) fn discover_doctests(
    ws: &Workspace,
    build: &BuildOutput,
    opts: &CargoOptions,
    ignored_doctests: IgnoredDoctests,
    cache: Option<&Utf8Path>,
    cancel: &CancelToken,
) -> Result<Vec<(TestBinary, Vec<ListedTest>)>, RunnerError> {
    let libs = doc_libs(ws);
    if libs.is_empty() {
        return Ok(Vec::new());
    }
    let cache = cache.and_then(|dir| Some((dir, doc_cache::key(ws, build)?)));
    // The two listings run side by side: cargo holds its lock only while it checks
    // fingerprints, and each is mostly rustdoc collecting doctests.
    let (all, ignored) = std::thread::scope(|scope| {
        let ignored = (ignored_doctests == IgnoredDoctests::Listed)
            .then(|| scope.spawn(|| list_doctests_cached(opts, true, cache.as_ref(), cancel)));
        let all = list_doctests_cached(opts, false, cache.as_ref(), cancel);
        let ignored =
            ignored.map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        (all, ignored.unwrap_or_else(|| Ok(Listed::default())))
    });
    let (all, ignored) = (all?, ignored?);
    if let Some((dir, before)) = &cache
        && (all.fresh || ignored.fresh)
    {
        // Stored only if nothing changed while listing (see doc_cache).
        let after = doc_cache::key(ws, build);
        for listed in [&all, &ignored].into_iter().filter(|listed| listed.fresh) {
            doc_cache::store(dir, &listed.command, before, after.as_ref(), &listed.tests);
        }
    }
    let all = all.tests;
    let ignored: HashSet<(String, String)> = ignored.tests.into_iter().collect();
    let mut by_crate: HashMap<String, Vec<ListedTest>> = HashMap::new();
    for (crate_name, name) in all {
        let is_ignored = ignored.contains(&(crate_name.clone(), name.clone()));
        by_crate.entry(crate_name).or_default().push(doctest(name, is_ignored));
    }
    Ok(libs
        .into_iter()
        .filter_map(|lib| {
            let tests = by_crate.remove(&lib.crate_name)?;
            Some((doc_binary(&lib), tests))
        })
        .collect())
}

/// Primary packages with a library cargo would doctest (`doctest = true` and a crate type
/// rustdoc can test: lib, rlib or proc-macro).
fn doc_libs(ws: &Workspace) -> Vec<DocLib> {
    let mut libs = Vec::new();
    for id in &ws.primary_packages {
        let (Some(meta), Some(package)) = (ws.package_metadata(id), ws.packages.get(id)) else {
            continue;
        };
        let Some(target) = meta.targets.iter().find(|target| cargo::is_lib_kind(target)) else {
            continue;
        };
        if target.doctest && is_doctestable(target) {
            let crate_name = target.name.replace('-', "_");
            libs.push(DocLib { package: Arc::clone(package), target_name: target.name.clone(), crate_name });
        }
    }
    libs
}

fn is_doctestable(target: &cargo_metadata::Target) -> bool {
    use cargo_metadata::TargetKind as K;
    target.kind.iter().any(|kind| matches!(kind, K::Lib | K::RLib | K::ProcMacro))
}

fn doc_binary(lib: &DocLib) -> TestBinary {
    TestBinary {
        id: TestBinary::make_id(&lib.package.name, TargetKind::Doc, &lib.target_name),
        package: Arc::clone(&lib.package),
        target_name: lib.target_name.clone(),
        kind: TargetKind::Doc,
        executable: None,
        custom_harness: false,
        cwd: lib.package.root.clone(),
        env: Arc::new(Vec::new()),
        list_method: ListMethod::Rustdoc,
    }
}

/// A doctest, with the file and line its name carries.
fn doctest(name: String, ignored: bool) -> ListedTest {
    let source = doctest_location(&name);
    ListedTest { name, ignored, ignore_reason: None, source }
}

/// `src/lib.rs - add (line 8)` → `src/lib.rs`, line 8.
pub(super) fn doctest_location(name: &str) -> Option<SourceLocation> {
    let (file, _) = name.split_once(" - ")?;
    let digits = name.strip_suffix(')')?.rsplit_once("(line ")?.1;
    let line = digits.parse().ok()?;
    Some(SourceLocation { file: file.to_owned(), line })
}

/// The arguments of the listing invocation.
fn list_args(opts: &CargoOptions, ignored: bool) -> Vec<String> {
    // Plain output keeps `Doc-tests` parseable; colour does not affect fingerprints.
    let plain = CargoOptions { color: Some("never".to_owned()), ..opts.clone() };
    let mut args = vec!["test".to_owned(), "--doc".to_owned()];
    args.extend(plain.package_args());
    args.extend(plain.build_args());
    args.extend(plain.manifest_args());
    args.extend(["--", "--list", "--format", "terse"].map(str::to_owned));
    if ignored {
        args.push("--ignored".to_owned());
    }
    args
}

/// A listing, and whether it was just taken (not from the cache).
#[derive(Debug, Default)]
struct Listed {
    tests: Vec<(String, String)>,
    fresh: bool,
    /// The listing's cargo arguments (the cache's entry name).
    command: Vec<String>,
}

/// One listing, from the doctest cache when its key matches, else taken.
fn list_doctests_cached(
    opts: &CargoOptions,
    ignored: bool,
    cache: Option<&(&Utf8Path, doc_cache::Key)>,
    cancel: &CancelToken,
) -> Result<Listed, RunnerError> {
    let command = list_args(opts, ignored);
    if let Some(tests) = cache.and_then(|(dir, key)| doc_cache::lookup(dir, &command, key)) {
        return Ok(Listed { tests, fresh: false, command });
    }
    Ok(Listed { tests: list_doctests(&command, &opts.env, cancel)?, fresh: true, command })
}

/// Runs one listing invocation and returns `(crate name, test name)` pairs. A failure is
/// a build failure: cargo's output is passed on to stderr (where cargo would have
/// written it) and [`RunnerError::Build`] returned.
fn list_doctests(
    args: &[String],
    env: &[(String, String)],
    cancel: &CancelToken,
) -> Result<Vec<(String, String)>, RunnerError> {
    let mut command = Command::new(cargo::cargo_program());
    command.args(args).envs(env.iter().map(|(k, v)| (k, v)));
    let listing = run_listing(command, Capture::Merged, None, cancel)?;
    if !listing.succeeded() {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(listing.stdout.as_bytes());
        let status = match &listing.ending {
            Ending::Exited(status) => status.to_string(),
            Ending::TimedOut => "timed out".to_owned(),
        };
        return Err(RunnerError::Build { status: format!("doctest listing: {status}") });
    }
    Ok(parse_doc_list(&listing.stdout))
}

/// Reads the merged output of the listing: each `Doc-tests <crate>` line opens a crate,
/// whose `NAME: test` lines follow.
pub(super) fn parse_doc_list(output: &str) -> Vec<(String, String)> {
    let mut current: Option<String> = None;
    let mut tests = Vec::new();
    for line in output.lines().map(strip_ansi) {
        if let Some(crate_name) = line.trim().strip_prefix("Doc-tests ") {
            current = Some(crate_name.trim().to_owned());
        } else if let (Some(crate_name), Some(name)) = (&current, terse_test_name(&line)) {
            tests.push((crate_name.clone(), name.to_owned()));
        }
    }
    tests
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_list_output_is_split_by_crate() {
        let output = "\
warning: unused variable: `x`
 --> src/lib.rs:3:9
    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.01s
   Doc-tests alpha
src/lib.rs - (line 3): test
src/lib.rs - add (line 8): test
   \u{1b}[1m\u{1b}[32mDoc-tests\u{1b}[0m beta_crate
b/src/lib.rs - S::m (line 27): test
   Doc-tests empty
";
        let got = parse_doc_list(output);
        let pair = |c: &str, n: &str| (c.to_owned(), n.to_owned());
        assert_eq!(
            got,
            [
                pair("alpha", "src/lib.rs - (line 3)"),
                pair("alpha", "src/lib.rs - add (line 8)"),
                pair("beta_crate", "b/src/lib.rs - S::m (line 27)"),
            ]
        );
        assert!(parse_doc_list("unused: test\n").is_empty(), "no test before a Doc-tests line");
    }

    #[test]
    fn doctest_names_give_file_and_line() {
        let cases = [
            ("src/lib.rs - add (line 8)", Some(("src/lib.rs", 8))),
            ("src/lib.rs - (line 3)", Some(("src/lib.rs", 3))),
            ("a/src/lib.rs - S::m (line 27)", Some(("a/src/lib.rs", 27))),
            ("README.md - (line 1)", Some(("README.md", 1))),
            ("src/lib.rs - add", None),
            ("no location", None),
        ];
        for (name, expected) in cases {
            let expected = expected.map(|(file, line)| SourceLocation { file: file.to_owned(), line });
            assert_eq!(doctest_location(name), expected, "{name}");
        }
    }

    #[test]
    fn list_args_mirror_the_build_selection() {
        let opts = CargoOptions {
            packages: vec!["a".into()],
            features: vec!["f".into()],
            release: true,
            color: Some("always".into()),
            manifest_path: Some("/w/Cargo.toml".into()),
            ..CargoOptions::default()
        };
        assert_eq!(
            list_args(&opts, true).join(" "),
            "test --doc -p a --features f --release --color never --manifest-path /w/Cargo.toml \
             -- --list --format terse --ignored"
        );
    }

    #[test]
    fn ansi_sequences_are_removed() {
        assert_eq!(strip_ansi("\u{1b}[1m\u{1b}[32mDoc-tests\u{1b}[0m x"), "Doc-tests x");
        assert_eq!(strip_ansi("plain"), "plain");
    }
}
