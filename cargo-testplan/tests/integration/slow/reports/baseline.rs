//! Check 4 of the phase-summaries issue: between two runs of the same command, adding a
//! test and breaking another shows "1 added, 1 newly failing" with their names — the second
//! run compares with the first on its own (the previous run of the same profile).
//!
//! The copy gets a target directory of its own, so no other test's run of the fixture can
//! become the baseline in between.

use super::json_schema::{report_schema, validate};
use crate::support::fixture::{Fixture, run_output};

const ARGS: [&str; 5] = ["run", "--lib", "--no-fail-fast", "tests::passes", "tests::added_later"];

#[test]
fn second_run_names_added_and_newly_failing_tests() {
    let fixture = Fixture::copy("fixtures/faults");
    let target = fixture.scratch("target");
    let run = || {
        let mut cmd = fixture.testplan(&ARGS);
        cmd.env("CARGO_TARGET_DIR", &target);
        let out = run_output(&mut cmd);
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, first) = run();
    assert_eq!(code, Some(0), "{first}");
    assert!(!first.contains("Changes"), "the first run has nothing to compare with:\n{first}");

    let lib = fixture.root().join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).expect("read lib.rs");
    let broken = source.replace(
        "    fn passes() {\n        assert_eq!(sum(&[1, 2, 3]), 6);\n    }",
        "    fn passes() {\n        assert_eq!(sum(&[1, 2, 3]), 5);\n    }\n\n    #[test]\n    fn added_later() {}",
    );
    assert_ne!(broken, source, "the edit applies");
    std::fs::write(&lib, broken).expect("write lib.rs");

    let (code, second) = run();
    assert_eq!(code, Some(100), "{second}");
    let changes = second.lines().find(|l| l.trim_start().starts_with("Changes since")).unwrap_or_default();
    assert!(changes.ends_with(": 1 added, 1 newly failing"), "summary line {changes:?} in:\n{second}");
    for line in ["added: faults tests::added_later", "newly failing: faults tests::passes"] {
        assert!(second.lines().any(|l| l.trim() == line), "{line:?} not named in:\n{second}");
    }
    let text = std::fs::read_to_string(target.join("testplan/last-run.json")).expect("last-run.json");
    let report: serde_json::Value = serde_json::from_str(&text).expect("json");
    let problems = validate(&report_schema(), &report);
    assert!(problems.is_empty(), "the report does not match the schema:\n{}", problems.join("\n"));
    let names = |kind: &str| -> Vec<String> {
        let list = report["baseline"][kind].as_array().expect("baseline lists");
        list.iter().map(|t| t["name"].as_str().expect("name").to_owned()).collect()
    };
    assert_eq!(
        (names("added"), names("newly_failing")),
        (vec!["tests::added_later".to_owned()], vec!["tests::passes".to_owned()])
    );
}
