//! Check 4 of the markers-and-phases issue: `cargo testplan explain NAME` names the source
//! of each marker — target kind, ignore reason at file:line, name segment (test-tag's
//! `NAME::slow::test` shape included), rule N of testplan.toml — the test's phase, and
//! whether it would run now, and why not (GPU missing, plainly ignored, another phase,
//! deselected, not in plan). Source lines are looked up in the fixture's files, so editing a
//! fixture moves them without breaking these tests. Most calls narrow the build with cargo's
//! target selection (`--lib`, `--test NAME`, `--doc`): listing doctests takes a second or two.

use std::path::Path;

use super::configured::CONFIGURED;
use super::plan_support::run_plain;
use crate::support::fixture::Fixture;

/// 1-based number of the first line of `file` (in the fixture) that contains `needle`.
fn line_of(fixture: &Fixture, file: &str, needle: &str) -> usize {
    let path = fixture.root().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle:?} not in {file}")) + 1
}

/// `cargo testplan explain ARGS`: asserts success and returns stdout.
fn explain(fixture: &Fixture, args: &[&str]) -> String {
    let mut all = vec!["explain"];
    all.extend_from_slice(args);
    let ran = run_plain(fixture, &all);
    ran.assert_code(0);
    ran.stdout
}

fn assert_explains(fixture: &Fixture, args: &[&str], want: &str) {
    let got = explain(fixture, args);
    assert_eq!(got.trim_end(), want.trim_end(), "explain {args:?} in {}", fixture.name());
}

#[test]
fn explain_names_kind_ignore_reason_and_name_segment_sources() {
    let fixture = Fixture::copy("examples/showcase");
    let shape = Path::new("crates/geometry/src/shape.rs");
    let shape = shape.to_str().expect("utf-8");
    let gpu_line = line_of(&fixture, shape, "fn gpu_rasterized_area_matches(");
    let gpu = |verdict: &str| {
        format!(
            "geometry shape::tests::gpu_rasterized_area_matches
  package geometry, lib target `geometry`, src/shape.rs:{gpu_line}
  #[ignore = \"requires-gpu\"]: ignored for its markers — skipped by plain `cargo test`, run in its phase
  markers:
    requires-gpu  from ignore reason at src/shape.rs:{gpu_line}
    unit          from target kind 'lib'
  phase: gpu (select: requires-gpu)
  would run now: {verdict}"
        )
    };
    // Without a GPU the verdict names the missing GPU; how it was decided may vary.
    let no_gpu = explain(&fixture, &["gpu_rasterized_area_matches", "--gpu", "no"]);
    let prefix = gpu("no: phase gpu is skipped here: requires a GPU");
    assert!(
        no_gpu.starts_with(&prefix),
        "explain without a GPU:\n{no_gpu}\nexpected to start with:\n{prefix}"
    );
    assert_explains(
        &fixture,
        &["gpu_rasterized_area_matches", "--gpu", "yes", "-p", "geometry", "--lib"],
        &gpu("yes, in phase gpu (run with --ignored)"),
    );

    let line = line_of(&fixture, shape, "fn many_triangles_contain_their_centroid(");
    let want = format!(
        "geometry shape::tests::slow::many_triangles_contain_their_centroid
  package geometry, lib target `geometry`, src/shape.rs:{line}
  markers:
    slow  from name segment 'slow'
    unit  from target kind 'lib'
  phase: slow (select: slow and not (requires-gpu or requires-models))
  would run now: yes, in phase slow"
    );
    assert_explains(&fixture, &["many_triangles_contain_their_centroid", "-p", "geometry", "--lib"], &want);

    // Several markers from one reason, and the prose after the colon is not a marker.
    let line =
        line_of(&fixture, "crates/geometry/tests/measures.rs", "fn total_area_round_trip_through_a_file(");
    let want = format!(
        "geometry::measures total_area_round_trip_through_a_file
  package geometry, test target `measures`, tests/measures.rs:{line}
  #[ignore = \"e2e, slow: writes and reads back a shapes file\"]: ignored for its markers — skipped by plain `cargo test`, run in its phase
  markers:
    e2e          from ignore reason at tests/measures.rs:{line}
    integration  from target kind 'test'
    slow         from ignore reason at tests/measures.rs:{line}
  phase: slow (select: slow and not (requires-gpu or requires-models))
  would run now: yes, in phase slow (run with --ignored)"
    );
    assert_explains(
        &fixture,
        &["total_area_round_trip_through_a_file", "-p", "geometry", "--test", "measures"],
        &want,
    );

    let line = line_of(&fixture, shape, "fn scratch_unit_circle_perimeter(");
    let want = format!(
        "geometry shape::tests::scratch_unit_circle_perimeter
  package geometry, lib target `geometry`, src/shape.rs:{line}
  #[ignore]: plainly ignored — runs only with `full` or --run-ignored
  markers:
    unit  from target kind 'lib'
  phase: unit (select: unit and not (e2e or slow or requires-gpu or requires-models))
  would run now: no: plainly ignored; `cargo testplan full` or --run-ignored all runs it"
    );
    assert_explains(&fixture, &["scratch_unit_circle_perimeter", "-p", "geometry", "--lib"], &want);

    // An `ignore` doctest is plainly ignored too (and has no `#[ignore]` to show).
    let doctest = explain(&fixture, &["approximate_circle_area", "-p", "geometry", "--doc"]);
    let lines: Vec<&str> = doctest.lines().collect();
    let want = [
        "  `ignore` doctest: plainly ignored — runs only with `full` or --run-ignored",
        "  markers:",
        "    doc  from target kind 'doc'",
        "  phase: doc (select: doc and not (e2e or slow or requires-gpu or requires-models))",
        "  would run now: no: plainly ignored; `cargo testplan full` or --run-ignored all runs it",
    ];
    assert_eq!(lines.get(2..), Some(&want[..]), "{doctest}");
}

#[test]
fn explain_names_configuration_rules_and_why_a_test_would_not_run() {
    let fixture = Fixture::copy(CONFIGURED);
    let network_rule = line_of(&fixture, "testplan.toml", "[[markers.network.rules]]");
    let slow_rule = line_of(&fixture, "testplan.toml", "[[markers.slow.rules]]");

    let line = line_of(&fixture, "tests/soak.rs", "fn checksum_is_stable(");
    let want = format!(
        "netkit::soak checksum_is_stable
  package netkit, test target `soak`, tests/soak.rs:{line}
  markers:
    integration  from target kind 'test'
    slow         from rule markers.slow.rules[0] at testplan.toml:{slow_rule}:1
  phase: slow (select: slow and not requires-gpu)
  would run now: yes, in phase slow"
    );
    assert_explains(&fixture, &["checksum_is_stable"], &want);

    // `BINARY-ID NAME` picks one test.
    let line = line_of(&fixture, "tests/api.rs", "fn echo_over_loopback(");
    let want = format!(
        "netkit::api net::echo_over_loopback
  package netkit, test target `api`, tests/api.rs:{line}
  markers:
    integration  from target kind 'test'
    network      from rule markers.network.rules[0] at testplan.toml:{network_rule}:1
  phase: network (select: network and not slow)
  would run now: yes, in phase network"
    );
    assert_explains(&fixture, &["netkit::api", "net::echo_over_loopback", "--test", "api"], &want);

    // The name shape of tagging crates (test-tag): `big_checksum::slow::test`.
    let line = line_of(&fixture, "src/lib.rs", "fn test(");
    let want = format!(
        "netkit tests::big_checksum::slow::test
  package netkit, lib target `netkit`, src/lib.rs:{line}
  markers:
    slow  from name segment 'slow'
    unit  from target kind 'lib'
  phase: slow (select: slow and not requires-gpu)
  would run now: yes, in phase slow"
    );
    assert_explains(&fixture, &["tests::big_checksum::slow::test", "--lib"], &want);

    let line = line_of(&fixture, "src/lib.rs", "fn gpu_checksum(");
    let want = format!(
        "netkit tests::gpu_checksum
  package netkit, lib target `netkit`, src/lib.rs:{line}
  #[ignore = \"requires-gpu\"]: ignored for its markers — skipped by plain `cargo test`, run in its phase
  markers:
    requires-gpu  from ignore reason at src/lib.rs:{line}
    unit          from target kind 'lib'
  phase: none — no phase's select matches its markers (not in plan)
  would run now: no: not in plan"
    );
    assert_explains(&fixture, &["gpu_checksum", "--lib"], &want);

    // A prose reason is a plain ignore.
    let line = line_of(&fixture, "src/lib.rs", "fn parses_ipv6(");
    let head = format!(
        "netkit tests::parses_ipv6
  package netkit, lib target `netkit`, src/lib.rs:{line}
  #[ignore = \"not yet implemented\"]: plainly ignored — runs only with `full` or --run-ignored
  markers:
    unit  from target kind 'lib'
  phase: unit (select: unit and not (network or slow or requires-gpu))
  would run now: "
    );
    let plain = "no: plainly ignored; `cargo testplan full` or --run-ignored all runs it";
    assert_explains(&fixture, &["parses_ipv6", "--lib"], &format!("{head}{plain}"));
    assert_explains(
        &fixture,
        &["parses_ipv6", "--run-ignored", "all", "--lib"],
        &format!("{head}yes, in phase unit (run with --ignored)"),
    );

    // Why not: another phase is selected, or the test is filtered out.
    let verdict = |args: &[&str]| {
        let text = explain(&fixture, args);
        text.lines().last().unwrap_or_default().to_owned()
    };
    assert_eq!(
        verdict(&["loopback_is_local", "--phase", "unit", "--lib"]),
        "  would run now: no: it belongs to phase network, which this selection does not include"
    );
    assert_eq!(
        verdict(&["loopback_is_local", "-m", "not network", "--lib"]),
        "  would run now: no: deselected by -m, -k, the profile or --run-ignored"
    );

    // A name matching several tests lists them instead of guessing.
    let ambiguous = run_plain(&fixture, &["explain", "loopback"]);
    ambiguous.assert_code(2);
    let want = "error: `loopback` matches 3 tests; give the full name (or BINARY-ID NAME):
  netkit net::tests::loopback_is_local
  netkit net::tests::loopback_keeps_port
  netkit::api net::echo_over_loopback
";
    assert!(ambiguous.stderr.ends_with(want), "{ambiguous}");
}
