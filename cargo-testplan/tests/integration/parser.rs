//! The `cargo test` output parser on output captured from the fixtures (cargo 1.95,
//! `cargo test --no-fail-fast -- --include-ignored --test-threads=1`, stdout and stderr
//! merged; faults with `--skip hang_`), and on small hand-made cases.

use crate::support::cargo_test::{
    BinaryMap, CargoOutcome, CargoResults, binary_id, package_name, parse_cargo_test_output,
};

fn map(executables: &[(&str, &str, &str)], docs: &[(&str, &str)]) -> BinaryMap {
    let mut map = BinaryMap::default();
    for (file, id, target) in executables {
        map.insert_executable(file, id, target);
    }
    for (krate, package) in docs {
        map.insert_doc(krate, package);
    }
    map
}

fn outcome<'a>(results: &'a CargoResults, binary: &str, name: &str) -> &'a CargoOutcome {
    results
        .get(&(binary.to_owned(), name.to_owned()))
        .unwrap_or_else(|| panic!("no result for {binary} {name}; got {:#?}", results.keys()))
}

fn count(results: &CargoResults, binary: &str) -> usize {
    results.keys().filter(|(b, _)| b == binary).count()
}

#[test]
fn showcase_sample_all_ok_with_modes_stripped() {
    let map = map(
        &[
            ("geometry-9780f201bd17d3fe", "geometry", "geometry"),
            ("measures-ac05932d22d11ad2", "geometry::measures", "measures"),
            ("shapes_cli-2701f015a014ef68", "shapes-cli", "shapes_cli"),
            ("shapes-4a5266c9f6db09c0", "shapes-cli::bin/shapes", "shapes"),
            ("cli-2d52f7dd67e6891e", "shapes-cli::cli", "cli"),
            ("golden-c39cd95f005313ff", "shapes-cli::golden", "golden"),
        ],
        &[("geometry", "geometry"), ("shapes_cli", "shapes-cli")],
    );
    let results = parse_cargo_test_output(include_str!("samples/showcase.txt"), &map);
    assert_eq!(results.len(), 39);
    assert!(results.values().all(|o| *o == CargoOutcome::Ok), "{results:#?}");
    let counts: Vec<usize> = ["geometry", "geometry::measures", "shapes-cli", "shapes-cli::bin/shapes"]
        .iter()
        .chain(&["shapes-cli::cli", "shapes-cli::golden", "geometry::doc", "shapes-cli::doc"])
        .map(|b| count(&results, b))
        .collect();
    assert_eq!(counts, [14, 5, 5, 2, 3, 4, 5, 1]);
    // ` - should panic` and ` - compile` are modes, not part of the name.
    outcome(&results, "geometry", "point::tests::normalize_zero_vector_panics");
    outcome(&results, "geometry::doc", "crates/geometry/src/lib.rs - total_area_of_file (line 20)");
    outcome(&results, "shapes-cli::doc", "crates/shapes-cli/src/lib.rs - parse_shape (line 41)");
}

#[test]
fn faults_sample_crashes_exits_and_failures() {
    let map = map(
        &[
            ("faults-bd438f8e1643c0cd", "faults", "faults"),
            ("abort-6d32e74f98c7b57c", "faults::abort", "abort"),
            ("hang-f3b7f3cbfcaf1756", "faults::hang", "hang"),
            ("process_exit-040726952bf222cf", "faults::process_exit", "process_exit"),
        ],
        &[("faults", "faults")],
    );
    let results = parse_cargo_test_output(include_str!("samples/faults.txt"), &map);
    assert_eq!(results.len(), 16, "{results:#?}");
    assert_eq!(*outcome(&results, "faults", "tests::zz_segfaults"), CargoOutcome::Crashed("SIGSEGV".into()));
    assert_eq!(*outcome(&results, "faults::abort", "zz_aborts"), CargoOutcome::Crashed("SIGABRT".into()));
    assert_eq!(*outcome(&results, "faults::process_exit", "zz_exits_with_code_3"), CargoOutcome::Exited(3));
    assert_eq!(*outcome(&results, "faults", "tests::should_panic_but_does_not"), CargoOutcome::Failed);
    assert_eq!(*outcome(&results, "faults", "tests::should_panic_and_does"), CargoOutcome::Ok);
    assert_eq!(*outcome(&results, "faults::doc", "src/lib.rs - sum (line 15)"), CargoOutcome::Failed);
    assert_eq!(*outcome(&results, "faults::hang", "finishes_quickly"), CargoOutcome::Ok);
    let failed = results.values().filter(|o| **o == CargoOutcome::Failed).count();
    assert_eq!(failed, 5);
}

#[test]
fn harnesses_sample_opaque_harness_is_one_test() {
    let map = map(
        &[
            ("macros-b17a15da96c78780", "macros", "macros"),
            ("toolbox-8f8848d04588f077", "toolbox", "toolbox"),
            ("toolbox-18182c0d19a9c3cb", "toolbox::bin/toolbox", "toolbox"),
            ("cli-bd78a158c3d2876d", "toolbox::cli", "cli"),
            ("listing_harness-dc148775571eb7a2", "toolbox::listing_harness", "listing_harness"),
            ("opaque_harness-08caf5a6c74f7e47", "toolbox::opaque_harness", "opaque_harness"),
        ],
        &[("macros", "macros"), ("toolbox", "toolbox")],
    );
    let results = parse_cargo_test_output(include_str!("samples/harnesses.txt"), &map);
    assert_eq!(results.len(), 26, "{results:#?}");
    assert!(results.values().all(|o| *o == CargoOutcome::Ok), "{results:#?}");
    outcome(&results, "toolbox::opaque_harness", "opaque_harness");
    outcome(&results, "toolbox::listing_harness", "data/input.txt::has_nine_words");
    outcome(&results, "macros::doc", "crates/macros/src/lib.rs - shout (line 11)");
}

const ONE_BINARY: &[(&str, &str, &str)] = &[("t-0123", "p::t", "t"), ("h-0123", "p::h", "h")];

#[test]
fn ignored_reasons_and_captured_output_that_looks_like_results() {
    let text = "\
     Running tests/t.rs (/tmp/x/target/debug/deps/t-0123)

running 3 tests
test a ... ignored, reason with \"quotes\", commas: and colons
test b ... FAILED
test c ... ignored

failures:

---- b stdout ----
test not_a_test ... ok

failures:
    b

test result: FAILED. 0 passed; 1 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.00s

error: test failed, to rerun pass `--test t`

Caused by:
  process didn't exit successfully: `/tmp/x/target/debug/deps/t-0123` (exit status: 101)
";
    let results = parse_cargo_test_output(text, &map(ONE_BINARY, &[]));
    assert_eq!(results.len(), 3, "{results:#?}");
    let reason = "reason with \"quotes\", commas: and colons".to_owned();
    assert_eq!(*outcome(&results, "p::t", "a"), CargoOutcome::Ignored(Some(reason)));
    assert_eq!(*outcome(&results, "p::t", "b"), CargoOutcome::Failed);
    assert_eq!(*outcome(&results, "p::t", "c"), CargoOutcome::Ignored(None));
}

#[test]
fn dangling_line_without_merged_stderr_is_a_crash() {
    // stdout and stderr not interleaved on one line: the result line ends after `...`.
    let text = "\
     Running tests/t.rs (target/debug/deps/t-0123)

running 2 tests
test a ... ok
test b ...\x20
error: test failed, to rerun pass `--test t`

Caused by:
  process didn't exit successfully: `target/debug/deps/t-0123 --include-ignored` (signal: 6, SIGABRT: process abort signal)
     Running tests/h.rs (target/debug/deps/h-0123)
";
    let results = parse_cargo_test_output(text, &map(ONE_BINARY, &[]));
    assert_eq!(*outcome(&results, "p::t", "b"), CargoOutcome::Crashed("SIGABRT".into()));
    // `h` printed no `running N tests`: an opaque harness, one test named after its target.
    assert_eq!(*outcome(&results, "p::h", "h"), CargoOutcome::Ok);
}

#[test]
fn failing_opaque_harness_is_failed() {
    let text = "\
     Running tests/h.rs (target/debug/deps/h-0123)
check failed
error: test failed, to rerun pass `--test h`

Caused by:
  process didn't exit successfully: `target/debug/deps/h-0123` (exit status: 1)
";
    let results = parse_cargo_test_output(text, &map(ONE_BINARY, &[]));
    assert_eq!(*outcome(&results, "p::h", "h"), CargoOutcome::Failed);
}

#[test]
fn binary_map_from_cargo_messages() {
    let messages = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/shapes-cli#0.1.0","manifest_path":"/w/crates/shapes-cli/Cargo.toml","target":{"kind":["lib"],"crate_types":["lib"],"name":"shapes_cli","src_path":"/w/crates/shapes-cli/src/lib.rs","edition":"2024","doctest":true,"test":true},"profile":{"test":true},"executable":"/w/target/debug/deps/shapes_cli-2701f015a014ef68","fresh":true}
{"reason":"compiler-artifact","package_id":"path+file:///w/crates/cli-dir#shapes-cli@0.1.0","target":{"kind":["bin"],"crate_types":["bin"],"name":"shapes","doctest":false,"test":true},"profile":{"test":true},"executable":"/w/target/debug/deps/shapes-4a5266c9f6db09c0","fresh":true}
{"reason":"compiler-artifact","package_id":"path+file:///w/crates/shapes-cli#0.1.0","target":{"kind":["bin"],"crate_types":["bin"],"name":"shapes","doctest":false,"test":true},"profile":{"test":false},"executable":"/w/target/debug/shapes","fresh":true}
{"reason":"build-finished","success":true}"#;
    let map = BinaryMap::from_cargo_messages(messages);
    let text = "     Running unittests src/main.rs (target/debug/deps/shapes-4a5266c9f6db09c0)\n\
                \nrunning 1 test\ntest t ... ok\n\
                   Doc-tests shapes_cli\n\nrunning 1 test\ntest src/lib.rs - (line 1) ... ok\n";
    let results = parse_cargo_test_output(text, &map);
    outcome(&results, "shapes-cli::bin/shapes", "t");
    outcome(&results, "shapes-cli::doc", "src/lib.rs - (line 1)");
}

#[test]
fn package_names_and_binary_ids() {
    assert_eq!(package_name("path+file:///a/b/geometry#0.1.0"), "geometry");
    assert_eq!(package_name("path+file:///a/b/dir#geo-metry@0.1.0"), "geo-metry");
    assert_eq!(package_name("registry+https://github.com/rust-lang/crates.io-index#serde@1.0.0"), "serde");
    assert_eq!(binary_id("geometry", "lib", "geometry"), "geometry");
    assert_eq!(binary_id("macros", "proc-macro", "macros"), "macros");
    assert_eq!(binary_id("shapes-cli", "bin", "shapes"), "shapes-cli::bin/shapes");
    assert_eq!(binary_id("shapes-cli", "test", "golden"), "shapes-cli::golden");
    assert_eq!(binary_id("p", "bench", "b"), "p::bench/b");
}
