//! Tests of classification: each source, and ignore-reason parsing as a table.

use super::*;
use crate::marker::Marker;

fn name(text: &str) -> MarkerName {
    MarkerName::new(text).unwrap_or_else(|e| panic!("{e}"))
}

fn facts(kind: TestKind, test_name: &'static str) -> TestFacts<'static> {
    TestFacts {
        package: "core",
        binary: "core",
        kind,
        name: test_name,
        ignored: false,
        ignore_reason: None,
        source_file: Some("src/lib.rs"),
        source_line: Some(42),
    }
}

fn registry() -> MarkerRegistry {
    let mut registry = MarkerRegistry::builtin();
    registry.add(Marker::new(name("gpu-heavy"), "big kernels")).unwrap_or_else(|e| panic!("{e}"));
    registry
}

fn markers_of(classification: &Classification) -> String {
    classification.markers.to_string()
}

#[test]
fn kind_markers() {
    let cases = [
        (TestKind::Lib, "unit"),
        (TestKind::Bin, "unit"),
        (TestKind::ProcMacro, "unit"),
        (TestKind::Bench, "unit"),
        (TestKind::Example, "unit"),
        (TestKind::Test, "integration"),
        (TestKind::Doc, "doc"),
    ];
    for (kind, marker) in cases {
        let classification = classify(&registry(), &[], &facts(kind, "t"));
        assert_eq!(markers_of(&classification), marker);
        assert_eq!(classification.assignments[0].source, MarkerSource::Kind(kind));
        assert_eq!(classification.ignore, IgnoreStatus::NotIgnored);
    }
}

#[test]
fn ignore_reasons() {
    let cases: [(&str, Option<&str>); 16] = [
        ("slow", Some("slow")),
        ("requires-gpu: needs CUDA 12", Some("requires-gpu")),
        ("requires_gpu: needs CUDA 12", Some("requires-gpu")),
        ("e2e, slow", Some("e2e, slow")),
        ("e2e slow", Some("e2e, slow")),
        ("requires-gpu, slow: needs CUDA 12", Some("requires-gpu, slow")),
        ("gpu-heavy", Some("gpu-heavy")),
        ("slow:", Some("slow")),
        ("not yet implemented", None),
        ("requires nightly", None),
        ("slow network", None),
        ("Slow", None),
        ("unit", None),
        ("", None),
        (": slow", None),
        ("flaky: see #12", None),
    ];
    for (reason, expected) in cases {
        let found =
            ignore_reason_markers(&registry(), reason).map(|names| names.into_iter().collect::<MarkerSet>());
        assert_eq!(found.map(|set| set.to_string()).as_deref(), expected, "{reason:?}");
    }
}

#[test]
fn ignored_for_markers_vs_plainly() {
    let mut test = facts(TestKind::Lib, "kernels::matmul");
    test.ignored = true;
    test.ignore_reason = Some("requires-gpu, slow: needs CUDA 12");
    let classification = classify(&registry(), &[], &test);
    assert_eq!(classification.ignore, IgnoreStatus::ForMarkers);
    assert_eq!(markers_of(&classification), "requires-gpu, slow, unit");
    let sources: Vec<String> = classification.sources_of(&name("slow")).map(ToString::to_string).collect();
    assert_eq!(sources, ["ignore reason at src/lib.rs:42"]);

    test.ignore_reason = Some("not yet implemented");
    let plain = classify(&registry(), &[], &test);
    assert_eq!((plain.ignore, markers_of(&plain)), (IgnoreStatus::Plain, "unit".to_owned()));

    test.ignore_reason = None;
    assert_eq!(classify(&registry(), &[], &test).ignore, IgnoreStatus::Plain);

    let mut not_ignored = test;
    not_ignored.ignored = false;
    not_ignored.ignore_reason = Some("slow");
    assert_eq!(markers_of(&classify(&registry(), &[], &not_ignored)), "unit");
}

#[test]
fn name_segments() {
    let cases = [
        ("tests::slow::deep", TestKind::Lib, "slow, unit"),
        ("requires_gpu::kernel", TestKind::Lib, "requires-gpu, unit"),
        ("my_test::slow::test", TestKind::Test, "integration, slow"),
        ("a::e2e::gpu_heavy::t", TestKind::Test, "e2e, gpu-heavy, integration"),
        ("tests::slow", TestKind::Lib, "unit"),
        ("serial", TestKind::Lib, "unit"),
        ("integration::unit::doc::t", TestKind::Lib, "unit"),
        ("slowly::t", TestKind::Lib, "unit"),
        ("src/lib.rs - slow::f (line 3)", TestKind::Doc, "doc, slow"),
        ("src/lib.rs - f (line 3)", TestKind::Doc, "doc"),
        ("src/lib.rs - (line 1)", TestKind::Doc, "doc"),
    ];
    for (test_name, kind, expected) in cases {
        assert_eq!(markers_of(&classify(&registry(), &[], &facts(kind, test_name))), expected, "{test_name}");
    }
    let classification = classify(&registry(), &[], &facts(TestKind::Lib, "requires_gpu::kernel"));
    let sources: Vec<String> =
        classification.sources_of(&name("requires-gpu")).map(ToString::to_string).collect();
    assert_eq!(sources, ["name segment 'requires_gpu'"]);
}

fn rule(marker: &str, patterns: [Option<&str>; 5]) -> Rule {
    let compile = |p: Option<&str>| p.map(|p| Regex::new(p).unwrap_or_else(|e| panic!("{e}")));
    let [name_re, package, binary, kind, file] = patterns.map(compile);
    let origin = RuleOrigin {
        file: "testplan.toml".into(),
        key_path: format!("markers.{marker}.rules[0]"),
        line: 7,
        column: 1,
    };
    Rule { marker: name(marker), name: name_re, package, binary, kind, file, origin }
}

#[test]
fn rules_need_every_pattern() {
    let rules = [
        rule("gpu-heavy", [Some("^kernels::"), None, None, None, None]),
        rule("slow", [Some("big"), Some("^core$"), None, Some("^lib$"), None]),
        rule("e2e", [None, None, None, None, Some("^tests/e2e")]),
    ];
    let cases = [
        ("kernels::matmul", TestKind::Lib, "gpu-heavy, unit"),
        ("other::kernels::x", TestKind::Lib, "unit"),
        ("big_case", TestKind::Lib, "slow, unit"),
        ("big_case", TestKind::Test, "integration"),
    ];
    for (test_name, kind, expected) in cases {
        assert_eq!(
            markers_of(&classify(&registry(), &rules, &facts(kind, test_name))),
            expected,
            "{test_name}"
        );
    }
    let mut in_e2e = facts(TestKind::Test, "flow");
    in_e2e.source_file = Some("tests/e2e/flow.rs");
    assert_eq!(markers_of(&classify(&registry(), &rules, &in_e2e)), "e2e, integration");
    in_e2e.source_file = None;
    assert_eq!(markers_of(&classify(&registry(), &rules, &in_e2e)), "integration");

    let classification = classify(&registry(), &rules, &facts(TestKind::Lib, "kernels::x"));
    let sources: Vec<String> =
        classification.sources_of(&name("gpu-heavy")).map(ToString::to_string).collect();
    assert_eq!(sources, ["rule markers.gpu-heavy.rules[0] at testplan.toml:7:1"]);
}

#[test]
fn all_sources_recorded_in_order() {
    let rules = [rule("slow", [Some("slow"), None, None, None, None])];
    let mut test = facts(TestKind::Lib, "slow::case");
    test.ignored = true;
    test.ignore_reason = Some("slow");
    let classification = classify(&registry(), &rules, &test);
    let sources: Vec<String> = classification.sources_of(&name("slow")).map(ToString::to_string).collect();
    assert_eq!(
        sources,
        [
            "ignore reason at src/lib.rs:42",
            "name segment 'slow'",
            "rule markers.slow.rules[0] at testplan.toml:7:1"
        ]
    );
    assert_eq!(classification.sources_of(&name("unit")).next(), Some(&MarkerSource::Kind(TestKind::Lib)));
}
