//! `cargo testplan list --message-format json` against expected.toml: every test listed,
//! with its ignore flag and reason (including a reason with `"` in it, which libtest's JSON
//! listing writes unescaped), and non-listing custom harnesses listed as opaque. (Custom
//! harnesses that list in libtest's `NAME: test` format give no reasons.)

use std::collections::BTreeMap;

use crate::support::compare::assert_no_problems;
use crate::support::expected::ExpectedFile;
use crate::support::fixture::{Fixture, run_output};
use crate::support::report::ListDocument;

fn check(rel: &str) {
    let fixture = Fixture::copy(rel);
    let expected = ExpectedFile::load(fixture.root());
    let out = run_output(&mut fixture.testplan(&["list", "--message-format", "json"]));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{rel}: list failed\n{stderr}");
    let doc: ListDocument =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{rel}: list JSON: {e}\n{stdout}"));

    let mut listed = BTreeMap::new();
    for binary in &doc.binaries {
        for test in &binary.tests {
            listed.insert((binary.binary_id.clone(), test.name.clone()), (binary, test));
        }
    }
    let mut problems = Vec::new();
    for want in &expected.test {
        let Some((binary, test)) = listed.remove(&want.key()) else {
            problems.push(format!("not listed: {:?}", want.key()));
            continue;
        };
        // A custom harness's `NAME: test` listing carries no ignore reasons (only its run
        // output does: `ignored, REASON`), so for those an absent reason is accepted.
        let reason_unknowable = binary.list_method == "custom-list" && test.ignore_reason.is_none();
        let reason_ok = test.ignore_reason == want.ignore_reason || reason_unknowable;
        let listed_ignored = want.ignored && !want.ignored_at_run_time;
        if test.ignored != listed_ignored || !reason_ok {
            problems.push(format!(
                "{:?}: listed ignored={} reason={:?}, expected ignored={} reason={:?}",
                want.key(),
                test.ignored,
                test.ignore_reason,
                listed_ignored,
                want.ignore_reason
            ));
        }
        if want.opaque != (binary.list_method == "opaque") {
            problems.push(format!(
                "{:?}: list method {}, expected opaque={}",
                want.key(),
                binary.list_method,
                want.opaque
            ));
        }
    }
    problems.extend(listed.keys().map(|key| format!("listed but not expected: {key:?}")));
    assert_no_problems(&format!("{rel}: list vs expected.toml"), &problems, &[("list stderr", &stderr)]);
}

#[test]
fn showcase_list_matches_expected() {
    check("examples/showcase");
}

#[test]
fn faults_list_matches_expected() {
    check("fixtures/faults");
}

#[test]
fn harnesses_list_matches_expected() {
    check("fixtures/harnesses");
}

#[test]
fn mimics_list_matches_expected() {
    check("fixtures/mimics");
}
