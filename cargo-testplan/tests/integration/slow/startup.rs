//! Start-up (docs/running.md#build): `cargo metadata --no-deps` with the full graph read
//! only when `-p` names a package outside the workspace, and the build started before the
//! configuration is read when stderr is not a terminal — stopped, process group and all,
//! when the configuration is invalid, with only the error shown.

use std::path::Path;
use std::time::Duration;

use crate::support::fixture::{Fixture, run_output};
use crate::support::procs::{survivors_after, unique_marker};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("create dirs");
    std::fs::write(path, text).expect("write");
}

/// A workspace `ws` with one member, `app`, in a temporary source directory.
fn workspace_source(dir: &Path, app_manifest_extra: &str, build_rs: Option<&str>) -> std::path::PathBuf {
    let ws = dir.join("ws");
    write(&ws.join("Cargo.toml"), "[workspace]\nresolver = \"2\"\nmembers = [\"app\"]\n");
    let build = if build_rs.is_some() { "build = \"build.rs\"\n" } else { "" };
    write(
        &ws.join("app/Cargo.toml"),
        &format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n{build}\n{app_manifest_extra}"
        ),
    );
    write(&ws.join("app/src/lib.rs"), "#[test]\nfn app_works() {}\n");
    if let Some(script) = build_rs {
        write(&ws.join("app/build.rs"), script);
    }
    ws
}

/// `-p helper`, a path dependency outside the workspace, is tested like `cargo test -p
/// helper` does: `cargo metadata --no-deps` does not know it, so the full graph is read.
#[test]
fn dash_p_names_a_path_dependency_outside_the_workspace() {
    let source = tempfile::tempdir().expect("temp dir");
    let ws = workspace_source(source.path(), "[dependencies]\nhelper = { path = \"../../helper\" }\n", None);
    let fixture = Fixture::copy_from(&ws, "startup-path-dependency");
    let helper = fixture.scratch("helper");
    write(
        &helper.join("Cargo.toml"),
        "[package]\nname = \"helper\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(&helper.join("src/lib.rs"), "#[test]\nfn helper_works() {}\n");

    let list = run_output(&mut fixture.testplan(&["list", "-p", "helper"]));
    let listed = String::from_utf8_lossy(&list.stdout);
    assert_eq!(list.status.code(), Some(0), "{listed}\n{}", String::from_utf8_lossy(&list.stderr));
    assert!(listed.contains("helper_works"), "{listed}");
    assert!(!listed.contains("app_works"), "only the dependency's tests: {listed}");

    let out = run_output(&mut fixture.testplan(&["run", "-p", "helper"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stdout.lines().last(), Some("1 passed, 0 failed, 0 skipped"), "{stdout}");
}

/// An invalid testplan.toml found while the build already runs (stderr is a pipe here, so
/// the build starts first): exit 96, only the error on stderr, and no process of the build
/// left — its build script would otherwise sleep for a minute.
#[test]
fn an_invalid_configuration_stops_the_build_started_beside_it() {
    let source = tempfile::tempdir().expect("temp dir");
    let script = "fn main() {\n    if std::env::var_os(\"TESTPLAN_SLOW_BUILD\").is_some() {\n        \
                  std::thread::sleep(std::time::Duration::from_secs(60));\n    }\n}\n";
    let ws = workspace_source(source.path(), "", Some(script));
    let fixture = Fixture::copy_from(&ws, "startup-early-build");
    write(
        &fixture.root().join("testplan.toml"),
        "[[phases]]\nname = \"unit\"\nselect = \"unit and not slwo\"\n",
    );
    let marker = unique_marker("testplan-early-build-");

    let out = run_output(fixture.testplan(&["run"]).env("TESTPLAN_SLOW_BUILD", &marker));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(96), "stderr:\n{stderr}");
    assert_eq!(
        stderr,
        "error: testplan.toml:3:24: phases[0].select: unknown marker 'slwo' (did you mean 'slow'?)\n"
    );
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    let survivors = survivors_after(&marker, Duration::from_secs(5));
    assert!(survivors.is_empty(), "the build's processes survived: {survivors:?}");
}

/// Sets every file's modification time a minute back, so listings taken now may be cached
/// (a file modified in the last 2 s is not trusted).
fn age_tree(dir: &Path) {
    let old = std::time::SystemTime::now() - Duration::from_secs(60);
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            age_tree(&path);
        } else if let Ok(file) = std::fs::File::options().write(true).open(&path) {
            let _ = file.set_modified(old);
        }
    }
}

fn listed_doctests(fixture: &Fixture) -> Vec<String> {
    let out = run_output(&mut fixture.testplan(&["list", "--message-format", "json"]));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("list JSON");
    let mut names: Vec<String> = list["binaries"]
        .as_array()
        .expect("binaries")
        .iter()
        .filter(|b| b["kind"] == "doc")
        .flat_map(|b| b["tests"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// The doctest listing is cached (docs/performance.md), and a doctest added to the sources
/// is listed on the next run all the same. (Its own small workspace and target dir: the
/// sources are edited, which a fixture sharing its target dir with other tests must not be.)
#[test]
fn the_doctest_listing_cache_follows_the_sources() {
    let source = tempfile::tempdir().expect("temp dir");
    let ws = workspace_source(source.path(), "", None);
    write(
        &ws.join("app/src/lib.rs"),
        "/// One.\n///\n/// ```\n/// assert_eq!(app::one(), 1);\n/// ```\npub fn one() -> u32 {\n    1\n}\n\n/// Two.\npub fn two() -> u32 {\n    2\n}\n",
    );
    let fixture = Fixture::copy_from(&ws, "startup-doctest-cache");
    // The first run writes Cargo.lock, a file of the tree: nothing is stored while it is new.
    listed_doctests(&fixture);
    age_tree(fixture.root());
    let first = listed_doctests(&fixture);
    assert_eq!(first, ["app/src/lib.rs - one (line 3)"]);
    let cache =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixtures/startup-doctest-cache/testplan/list-cache");
    let stored = std::fs::read_dir(&cache)
        .expect("cache dir")
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("doctests-"));
    assert!(stored, "the listing was stored in {}", cache.display());
    assert_eq!(listed_doctests(&fixture), first, "served from the cache");

    let lib = fixture.root().join("app/src/lib.rs");
    let text = std::fs::read_to_string(&lib).expect("lib.rs");
    let added = "/// Two.\n///\n/// ```\n/// assert_eq!(app::two(), 2);\n/// ```\n";
    std::fs::write(&lib, text.replace("/// Two.\n", added)).expect("write");
    let after = listed_doctests(&fixture);
    assert_eq!(after, ["app/src/lib.rs - one (line 3)", "app/src/lib.rs - two (line 12)"]);
}
