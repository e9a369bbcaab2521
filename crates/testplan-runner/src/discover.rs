//! Discovery: list the tests of every built binary, in parallel, and, at the same time, the
//! doctests of every library. Prefers libtest's JSON listing (ignore reasons, source
//! locations), parsed tolerantly; falls back to the terse listing; understands
//! `harness = false` binaries that list like libtest, and runs the ones that do not list as
//! one test each.
//!
//! Every binary is listed the way its tests will run: in the package directory, with
//! cargo's run-time environment ([`crate::env`]). Nothing is dropped: a libtest binary
//! that cannot be listed at all is an error naming it, and a `harness = false` binary
//! that does not answer `--list` (or runs past [`LIST_TIMEOUT`] doing something else)
//! becomes one test named after its target, which is how `cargo test` runs it.
//!
//! Source locations are made relative to the package root (the compiler reports them
//! relative to the workspace root, `member/src/lib.rs`).
//!
//! libtest listings are cached per executable under `<target-dir>/testplan/list-cache/`
//! ([`cache`]), so an unchanged binary is not run again to be listed.

pub mod cache;
mod doc_cache;
pub mod doc_results;
mod doctest;
mod libtest;
mod process;

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use camino::{Utf8Path, Utf8PathBuf};

use crate::cancel::CancelToken;
use crate::cargo::{BuildOutput, BuiltBinary, CargoOptions, Workspace};
use crate::error::{ListError, RunnerError};
use crate::model::{
    BinaryIdx, ListMethod, PackageInfo, RunCommand, SourceLocation, TestBinary, TestCase, TestList,
};

use self::cache::{ListCache, Stamp};
use self::libtest::{CustomList, ListedTest};
use self::process::{Capture, Ending, Listing, run_listing};

/// How a binary was listed and what it holds.
type ListResult = Result<(ListMethod, Vec<ListedTest>), RunnerError>;

/// A listed binary and its tests.
type BinaryListing = (TestBinary, Vec<ListedTest>);

/// A binary's listing, and a note for the user when it was not understood.
#[derive(Debug)]
struct Listed {
    method: ListMethod,
    tests: Vec<ListedTest>,
    /// One line naming the binary and why it runs as one opaque test.
    note: Option<String>,
}

impl Listed {
    fn understood((method, tests): (ListMethod, Vec<ListedTest>)) -> Listed {
        Listed { method, tests, note: None }
    }
}

/// How long one listing command may run. A `harness = false` binary that ignores
/// `--list` and runs its tests for longer is treated as opaque (one test).
pub const LIST_TIMEOUT: Duration = Duration::from_secs(60);

/// How the ignored doctests are told apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IgnoredDoctests {
    /// A second listing (`-- --list --ignored`) marks them, for commands that show or select
    /// ignored tests (`list`, `explain`, `--run-ignored`).
    #[default]
    Listed,
    /// Not listed: they are planned like the others and their batch, which runs without
    /// `--include-ignored`, reports them skipped (`ignored`), which is what the plan would
    /// have said. For runs that never run ignored tests: the second listing costs as much
    /// as the first, and for edition-2024 crates that means compiling the merged doctests
    /// once more.
    FromResults,
}

/// Lists every test. `jobs` bounds how many binaries are listed at once.
pub fn discover(
    ws: &Workspace,
    build: &BuildOutput,
    opts: &CargoOptions,
    (jobs, ignored_doctests): (usize, IgnoredDoctests),
    cancel: &CancelToken,
) -> Result<TestList, RunnerError> {
    check_cancel(cancel)?;
    let host = crate::env::HostEnv::capture();
    let binaries = build
        .binaries
        .iter()
        .map(|built| test_binary(&host, ws, build, built))
        .collect::<Result<Vec<_>, _>>()?;
    let cache = ListCache::from_env(&ws.target_dir);
    // Doctests are listed through cargo and rustdoc while the binaries list themselves.
    let (listed, doctests) = std::thread::scope(|scope| {
        let doctests = opts.includes_doctests().then(|| {
            let dir = cache.as_ref().map(ListCache::dir);
            scope.spawn(move || doctest::discover_doctests(ws, build, opts, ignored_doctests, dir, cancel))
        });
        let listed = list_in_parallel(binaries, jobs, cache.as_ref(), cancel);
        let doctests =
            doctests.map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        (listed, doctests)
    });
    let (mut listed, notes) = listed?;
    check_cancel(cancel)?;
    if let Some(doctests) = doctests {
        listed.extend(doctests?);
        check_cancel(cancel)?;
    }
    let doctest_command = opts.includes_doctests().then(|| doctest_command(opts));
    Ok(TestList { notes, doctest_command, ..assemble(ws, listed) })
}

/// How doctests run: one `cargo test --doc` with the build's selection and options (so
/// features unify as in the build and nothing is rebuilt). cargo gives doctests their
/// run-time environment and working directory itself; adding a binary's variables would
/// only leak one package's `CARGO_PKG_*` into cargo's own process. cargo runs where the
/// runner runs, like the build and the doctest listing: a relative `--manifest-path` is
/// relative to it.
pub fn doctest_command(opts: &CargoOptions) -> RunCommand {
    RunCommand {
        program: crate::cargo::cargo_program(),
        args: opts.doc_test_args(),
        cwd: runner_dir(),
        env: Arc::new(opts.env.clone()),
    }
}

/// The runner's working directory (`.` when it cannot be named).
fn runner_dir() -> Utf8PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|dir| Utf8PathBuf::from_path_buf(dir).ok())
        .unwrap_or_else(|| Utf8PathBuf::from("."))
}

fn check_cancel(cancel: &CancelToken) -> Result<(), RunnerError> {
    if cancel.is_cancelled() { Err(RunnerError::Interrupted) } else { Ok(()) }
}

/// The [`TestBinary`] of a built executable, before listing (its `list_method` is set by
/// [`list_binary`]).
fn test_binary(
    host: &crate::env::HostEnv,
    ws: &Workspace,
    build: &BuildOutput,
    built: &BuiltBinary,
) -> Result<TestBinary, RunnerError> {
    let package = package_of(ws, &built.package_id).ok_or_else(|| RunnerError::List {
        binary: built.executable.to_string(),
        cause: ListError::UnknownPackage { package_id: built.package_id.clone() },
    })?;
    let custom_harness = ws.custom_harness.contains(&(built.package_id.clone(), built.target_name.clone()));
    Ok(TestBinary {
        id: TestBinary::make_id(&package.name, built.kind, &built.target_name),
        target_name: built.target_name.clone(),
        kind: built.kind,
        executable: Some(built.executable.clone()),
        custom_harness,
        cwd: package.root.clone(),
        env: Arc::new(crate::env::test_env(host, ws, build, built)),
        list_method: if custom_harness { ListMethod::CustomList } else { ListMethod::LibtestJson },
        package,
    })
}

fn package_of(ws: &Workspace, id: &str) -> Option<Arc<PackageInfo>> {
    if let Some(package) = ws.packages.get(id) {
        return Some(Arc::clone(package));
    }
    let meta = ws.package_metadata(id)?;
    Some(Arc::new(PackageInfo {
        id: id.to_owned(),
        name: meta.name.to_string(),
        version: meta.version.to_string(),
        manifest_path: meta.manifest_path.clone(),
        root: meta.manifest_path.parent().map(Utf8Path::to_path_buf).unwrap_or_default(),
    }))
}

/// Lists every binary, at most `jobs` at once, keeping the input order. The first
/// failure (in that order) wins; cancellation wins over everything.
fn list_in_parallel(
    binaries: Vec<TestBinary>,
    jobs: usize,
    cache: Option<&ListCache>,
    cancel: &CancelToken,
) -> Result<(Vec<BinaryListing>, Vec<String>), RunnerError> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Listed, RunnerError>>>> =
        Mutex::new(binaries.iter().map(|_| None).collect());
    let workers = jobs.clamp(1, binaries.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(binary) = binaries.get(index) else {
                        break;
                    };
                    let result = if cancel.is_cancelled() {
                        Err(RunnerError::Interrupted)
                    } else {
                        list_binary(binary, cache, cancel)
                    };
                    results.lock().unwrap_or_else(PoisonError::into_inner)[index] = Some(result);
                }
            });
        }
    });
    check_cancel(cancel)?;
    let results = results.into_inner().unwrap_or_else(PoisonError::into_inner);
    let mut notes = Vec::new();
    let mut listed = Vec::with_capacity(binaries.len());
    for (mut binary, result) in binaries.into_iter().zip(results) {
        let Listed { method, tests, note } = result.unwrap_or(Err(RunnerError::Interrupted))?;
        binary.list_method = method;
        notes.extend(note);
        listed.push((binary, tests));
    }
    Ok((listed, notes))
}

/// Lists one binary with the method its harness calls for.
fn list_binary(
    binary: &TestBinary,
    cache: Option<&ListCache>,
    cancel: &CancelToken,
) -> Result<Listed, RunnerError> {
    let Some(executable) = &binary.executable else {
        return Ok(Listed::understood((binary.list_method, Vec::new())));
    };
    if binary.custom_harness {
        list_custom_harness(binary, executable, cancel)
    } else {
        list_libtest_cached(binary, executable, cache, cancel).map(Listed::understood)
    }
}

/// A libtest binary's listing from the cache, else listed and stored. The file is stamped
/// before and after listing, so a binary rebuilt meanwhile is not stored.
fn list_libtest_cached(
    binary: &TestBinary,
    executable: &Utf8Path,
    cache: Option<&ListCache>,
    cancel: &CancelToken,
) -> ListResult {
    let Some((cache, before)) = cache.zip(Stamp::of(executable)) else {
        return list_libtest(binary, executable, cancel);
    };
    if let Some(hit) = cache.lookup(executable, &before) {
        return Ok(hit);
    }
    let (method, tests) = list_libtest(binary, executable, cancel)?;
    cache.store(executable, &before, Stamp::of(executable).as_ref(), method, &tests);
    Ok((method, tests))
}

/// Runs the executable with `args` in its test environment.
fn run_binary(
    binary: &TestBinary,
    executable: &Utf8Path,
    args: &[&str],
    extra_env: &[(&str, &str)],
    cancel: &CancelToken,
) -> Result<Listing, RunnerError> {
    let mut command = Command::new(executable);
    command.args(args).current_dir(&binary.cwd);
    command.envs(binary.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    command.envs(extra_env.iter().copied());
    run_listing(command, Capture::Separate, Some(LIST_TIMEOUT), cancel)
}

/// libtest: the JSON listing, else the terse one; an error if neither works.
fn list_libtest(binary: &TestBinary, executable: &Utf8Path, cancel: &CancelToken) -> ListResult {
    let json_args = ["-Z", "unstable-options", "--list", "--format", "json"];
    let json = run_binary(binary, executable, &json_args, &[("RUSTC_BOOTSTRAP", "1")], cancel)?;
    let json_problem = if json.succeeded() {
        match libtest::parse_json_listing(&json.stdout) {
            Ok(tests) => return Ok((ListMethod::LibtestJson, tests)),
            Err(problem) => problem.to_string(),
        }
    } else {
        json.failure_summary()
    };
    let all = run_binary(binary, executable, &["--list", "--format", "terse"], &[], cancel)?;
    let ignored = run_binary(binary, executable, &["--list", "--format", "terse", "--ignored"], &[], cancel)?;
    for listing in [&all, &ignored] {
        if !listing.succeeded() {
            return Err(RunnerError::List {
                binary: binary.id.clone(),
                cause: ListError::Libtest {
                    command: format!("{executable} --list --format terse"),
                    failure: listing.failure_summary(),
                    json_problem,
                },
            });
        }
    }
    let ignored: HashSet<String> = libtest::parse_terse(&ignored.stdout).into_iter().collect();
    let tests = libtest::parse_terse(&all.stdout)
        .into_iter()
        .map(|name| {
            let is_ignored = ignored.contains(&name);
            ListedTest::named(name, is_ignored)
        })
        .collect();
    Ok((ListMethod::LibtestTerse, tests))
}

/// `harness = false`: a libtest-like `--list` answer, else one opaque test and a note
/// saying why.
fn list_custom_harness(
    binary: &TestBinary,
    executable: &Utf8Path,
    cancel: &CancelToken,
) -> Result<Listed, RunnerError> {
    let all = run_binary(binary, executable, &["--list"], &[], cancel)?;
    let names = match custom_listing(&all) {
        Ok(names) => names,
        Err(why) => {
            let note = format!(
                "`{}` (harness = false): {why}; it runs as one test, as `cargo test` runs it",
                binary.id
            );
            let opaque = vec![ListedTest::named(binary.target_name.clone(), false)];
            return Ok(Listed { method: ListMethod::Opaque, tests: opaque, note: Some(note) });
        }
    };
    let ignored = if names.is_empty() {
        HashSet::new()
    } else {
        let ignored = run_binary(binary, executable, &["--list", "--ignored"], &[], cancel)?;
        custom_ignored_set(&all, &ignored, names.len())
    };
    let tests = names
        .into_iter()
        .map(|name| {
            let is_ignored = ignored.contains(&name);
            ListedTest::named(name, is_ignored)
        })
        .collect();
    Ok(Listed { method: ListMethod::CustomList, tests, note: None })
}

/// Why a custom harness's `--list` answer gives no test names (the note's reason).
#[derive(Debug, thiserror::Error)]
enum NoCustomListing {
    /// `--list` did not exit successfully; how it ended.
    #[error("`--list` {0}")]
    Failed(String),
    /// `--list` printed nothing.
    #[error("`--list` printed nothing")]
    Silent,
    /// `--list` printed something else; why it was not read as a listing.
    #[error("its `--list` output is not a test listing ({0})")]
    NotUnderstood(String),
}

/// The names in a custom harness's `--list` answer, or why it has none.
fn custom_listing(all: &Listing) -> Result<Vec<String>, NoCustomListing> {
    if !all.succeeded() {
        return Err(NoCustomListing::Failed(all.ending_summary()));
    }
    match libtest::parse_custom_list(&all.stdout) {
        CustomList::Tests(names) => Ok(names),
        CustomList::Silent => Err(NoCustomListing::Silent),
        CustomList::NotUnderstood(why) => Err(NoCustomListing::NotUnderstood(why)),
    }
}

/// The ignored tests of a custom harness. A harness that does not understand
/// `--ignored`, or decides ignores only at run time (libtest2-mimic), answers it with the
/// full list again; when `--list --ignored` repeats `--list` exactly, nothing is taken as
/// ignored (a test ignored at run time is reported skipped from its run's `test NAME ...
/// ignored` line; wrongly skipping would hide tests `cargo test` runs).
fn custom_ignored_set(all: &Listing, ignored: &Listing, total: usize) -> HashSet<String> {
    if !ignored.succeeded() || !matches!(ignored.ending, Ending::Exited(_)) {
        return HashSet::new();
    }
    let CustomList::Tests(names) = libtest::parse_custom_list(&ignored.stdout) else {
        return HashSet::new();
    };
    if names.len() == total && ignored.stdout == all.stdout {
        return HashSet::new();
    }
    names.into_iter().collect()
}

/// Sorts binaries by id and tests by name, and flattens them into a [`TestList`].
fn assemble(ws: &Workspace, mut listed: Vec<(TestBinary, Vec<ListedTest>)>) -> TestList {
    listed.sort_by(|(a, _), (b, _)| a.id.cmp(&b.id));
    let mut list = TestList {
        workspace_root: ws.root.clone(),
        target_dir: ws.target_dir.clone(),
        ..TestList::default()
    };
    for (index, (binary, mut tests)) in listed.into_iter().enumerate() {
        tests.sort_by(|a, b| a.name.cmp(&b.name));
        tests.dedup_by(|a, b| a.name == b.name);
        // A binary's tests share a few source files: each file is rewritten once (path
        // joins and prefix checks for thousands of tests showed in profiles).
        let mut relative: HashMap<String, String> = HashMap::new();
        for test in tests {
            let source = test.source.map(|source| {
                let file = relative.entry(source.file.clone()).or_insert_with_key(|file| {
                    package_relative(
                        SourceLocation { file: file.clone(), line: 0 },
                        &ws.root,
                        &binary.package.root,
                    )
                    .file
                });
                SourceLocation { file: file.clone(), line: source.line }
            });
            list.tests.push(TestCase {
                binary: BinaryIdx(index),
                name: test.name,
                ignored: test.ignored,
                ignore_reason: test.ignore_reason,
                source,
            });
        }
        list.binaries.push(binary);
    }
    list
}

/// Rewrites a compiler-reported path (relative to the workspace root, or absolute) to be
/// relative to the package root when it lies inside it.
fn package_relative(source: SourceLocation, ws_root: &Utf8Path, pkg_root: &Utf8Path) -> SourceLocation {
    let path = Utf8Path::new(&source.file);
    let absolute: Utf8PathBuf = if path.is_absolute() { path.to_path_buf() } else { ws_root.join(path) };
    match absolute.strip_prefix(pkg_root) {
        Ok(relative) if !relative.as_str().is_empty() => {
            SourceLocation { file: relative.to_string(), ..source }
        }
        _ => source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(file: &str) -> SourceLocation {
        SourceLocation { file: file.to_owned(), line: 3 }
    }

    #[test]
    fn doctests_run_through_cargo_where_the_runner_runs() {
        let opts = CargoOptions { workspace: true, ..CargoOptions::default() };
        let command = doctest_command(&opts);
        assert_eq!(command.args, ["test", "--doc", "--no-fail-fast", "--workspace"]);
        assert!(command.env.is_empty(), "cargo sets the doctests' environment itself");
        let here = std::env::current_dir().expect("cwd");
        assert_eq!(command.cwd.as_std_path(), here, "cargo runs where the runner runs");
    }

    #[test]
    fn source_paths_become_package_relative() {
        let ws = Utf8Path::new("/w");
        let cases = [
            ("src/lib.rs", "/w", "src/lib.rs"),
            ("member/src/lib.rs", "/w/member", "src/lib.rs"),
            ("crates/a/tests/it.rs", "/w/crates/a", "tests/it.rs"),
            ("/registry/dep-1.0/src/lib.rs", "/registry/dep-1.0", "src/lib.rs"),
            ("other/src/lib.rs", "/w/member", "other/src/lib.rs"),
            ("/elsewhere/x.rs", "/w/member", "/elsewhere/x.rs"),
        ];
        for (file, pkg_root, expected) in cases {
            let got = package_relative(location(file), ws, Utf8Path::new(pkg_root));
            assert_eq!(got, location(expected), "{file} in {pkg_root}");
        }
    }

    /// A fake libtest binary: a script that prints a JSON listing of `names` and counts
    /// its runs in `runs`, with its mtime set into the past so the cache trusts it.
    #[cfg(unix)]
    fn fake_libtest_binary(dir: &Utf8Path, names: &[&str]) -> TestBinary {
        use std::os::unix::fs::PermissionsExt;
        let mut listing = String::from("echo run >> runs\n");
        for name in names {
            listing.push_str(&format!(
                "echo '{{ \"type\": \"test\", \"event\": \"discovered\", \"name\": \"{name}\", \
                 \"ignore\": false, \"ignore_message\": \"\", \"source_path\": \"src/lib.rs\", \
                 \"start_line\": 1, \"start_col\": 1, \"end_line\": 1, \"end_col\": 2 }}'\n"
            ));
        }
        listing.push_str(&format!(
            "echo '{{ \"type\": \"suite\", \"event\": \"completed\", \"tests\": {0}, \"benchmarks\": 0, \
             \"total\": {0}, \"ignored\": 0 }}'\n",
            names.len()
        ));
        let exe = dir.join("deps").join("fake-0123");
        std::fs::create_dir_all(dir.join("deps")).expect("mkdir");
        let temp = exe.with_extension("tmp");
        std::fs::write(&temp, format!("#!/bin/sh\n{listing}")).expect("write script");
        std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let file = std::fs::File::options().write(true).open(&temp).expect("open");
        file.set_modified(std::time::SystemTime::now() - Duration::from_secs(60)).expect("mtime");
        drop(file);
        std::fs::rename(&temp, &exe).expect("rename");
        let package = Arc::new(PackageInfo {
            id: "fake 0.1.0".to_owned(),
            name: "fake".to_owned(),
            version: "0.1.0".to_owned(),
            manifest_path: dir.join("Cargo.toml"),
            root: dir.to_owned(),
        });
        TestBinary {
            id: "fake".to_owned(),
            package,
            target_name: "fake".to_owned(),
            kind: crate::model::TargetKind::Lib,
            executable: Some(exe),
            custom_harness: false,
            cwd: dir.to_owned(),
            env: Arc::new(Vec::new()),
            list_method: ListMethod::LibtestJson,
        }
    }

    #[cfg(unix)]
    fn names(result: Result<Listed, RunnerError>) -> Vec<String> {
        let listed = result.expect("listed");
        assert_eq!((listed.method, listed.note), (ListMethod::LibtestJson, None));
        listed.tests.into_iter().map(|test| test.name).collect()
    }

    #[cfg(unix)]
    #[test]
    fn unchanged_binaries_are_listed_from_the_cache_and_rebuilt_ones_again() {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = Utf8PathBuf::from_path_buf(temp.path().to_path_buf()).expect("utf-8");
        let cache = ListCache::at(cache::cache_dir(&dir.join("target")));
        let runs = || std::fs::read_to_string(dir.join("runs")).unwrap_or_default().lines().count();
        let cancel = CancelToken::new();

        let binary = fake_libtest_binary(&dir, &["a", "b"]);
        assert_eq!(names(list_binary(&binary, Some(&cache), &cancel)), ["a", "b"]);
        assert_eq!(names(list_binary(&binary, Some(&cache), &cancel)), ["a", "b"]);
        assert_eq!(runs(), 1, "the second listing came from the cache");

        let rebuilt = fake_libtest_binary(&dir, &["a", "b", "c"]);
        assert_eq!(names(list_binary(&rebuilt, Some(&cache), &cancel)), ["a", "b", "c"]);
        assert_eq!(runs(), 2, "a rebuilt binary is listed again");
        assert_eq!(names(list_binary(&rebuilt, None, &cancel)), ["a", "b", "c"]);
        assert_eq!(runs(), 3, "without a cache every listing runs the binary");
    }

    /// A `harness = false` binary: a script answering `--list` and `--list --ignored`.
    #[cfg(unix)]
    fn fake_custom_harness(dir: &Utf8Path, name: &str, script: &str) -> TestBinary {
        use std::os::unix::fs::PermissionsExt;
        let exe = dir.join(name);
        std::fs::write(&exe, format!("#!/bin/sh\n{script}")).expect("write script");
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let base = fake_libtest_binary(dir, &[]);
        TestBinary {
            id: format!("fake::{name}"),
            target_name: name.to_owned(),
            kind: crate::model::TargetKind::Test,
            executable: Some(exe),
            custom_harness: true,
            list_method: ListMethod::CustomList,
            ..base
        }
    }

    #[cfg(unix)]
    #[test]
    fn custom_harnesses_list_or_run_as_one_test_with_a_note() {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = Utf8PathBuf::from_path_buf(temp.path().to_path_buf()).expect("utf-8");
        let cancel = CancelToken::new();
        let listed = |name: &str, script: &str| {
            let listed =
                list_binary(&fake_custom_harness(&dir, name, script), None, &cancel).expect("listed");
            let tests: Vec<(String, bool)> = listed.tests.into_iter().map(|t| (t.name, t.ignored)).collect();
            (listed.method, tests, listed.note)
        };
        let test = |name: &str, ignored: bool| (name.to_owned(), ignored);

        // libtest2-mimic 0.0.4: `--list --ignored` repeats `--list`, so nothing is ignored.
        let libtest2 = r#"printf 'adds: test\nignored_then_fails: test\n\n2 tests\n\n'"#;
        assert_eq!(
            listed("libtest2", libtest2),
            (ListMethod::CustomList, vec![test("adds", false), test("ignored_then_fails", false)], None)
        );
        // libtest-mimic 0.8.2: no footer; `--list --ignored` names the ignored ones.
        let mimic = r#"if [ "$2" = --ignored ]; then printf 'b: test\n'; else printf 'a: test\nb: test\nc: bench\n'; fi"#;
        assert_eq!(
            listed("mimic", mimic),
            (ListMethod::CustomList, vec![test("a", false), test("b", true), test("c", false)], None)
        );

        let opaque = |name: &str| vec![test(name, false)];
        let note = |name: &str, why: &str| {
            Some(format!(
                "`fake::{name}` (harness = false): {why}; it runs as one test, as `cargo test` runs it"
            ))
        };
        assert_eq!(
            listed("chatty", "echo 'checking everything'; echo done"),
            (
                ListMethod::Opaque,
                opaque("chatty"),
                note("chatty", "its `--list` output is not a test listing (line 1: `checking everything`)")
            )
        );
        assert_eq!(
            listed("refuses", "echo 'unknown option --list' >&2; exit 2"),
            (ListMethod::Opaque, opaque("refuses"), note("refuses", "`--list` exited with exit status: 2"))
        );
        assert_eq!(
            listed("silent", "exit 0"),
            (ListMethod::Opaque, opaque("silent"), note("silent", "`--list` printed nothing"))
        );
    }
}
