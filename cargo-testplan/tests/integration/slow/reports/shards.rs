//! Check 2 of the phase-summaries issue: `matrix --shards 2` on the showcase lists every
//! phase × shard; running every job of the matrix and merging the reports gives exactly
//! the tests of an unsharded run, each once, with the same statuses.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::json_schema::{report_schema, validate};
use crate::support::fixture::{Fixture, run_output};

const SHOWCASE: &str = "examples/showcase";
const PHASES: [&str; 6] = ["unit", "integration", "doc", "slow", "models", "gpu"];

fn json_file(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// (binary id, name) → status of every test of a report; a test listed twice fails.
fn statuses(report: &Value) -> BTreeMap<(String, String), String> {
    let mut map = BTreeMap::new();
    for test in report["tests"].as_array().expect("tests") {
        let key = (
            test["binary_id"].as_str().expect("id").to_owned(),
            test["name"].as_str().expect("name").to_owned(),
        );
        let status = test["status"].as_str().expect("status").to_owned();
        assert!(map.insert(key.clone(), status).is_none(), "{key:?} is reported twice");
    }
    map
}

fn run(fixture: &Fixture, args: &[&str]) -> String {
    let out = run_output(&mut fixture.testplan(args));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "cargo testplan {args:?}:\n{text}");
    text
}

#[test]
fn matrix_shards_merge_into_the_unsharded_run() {
    let fixture = Fixture::copy(SHOWCASE);
    let out = fixture.scratch("out");
    let matrix_text = run(&fixture, &["matrix", "--shards", "2"]);
    let matrix: Value =
        serde_json::from_str(matrix_text.lines().next().expect("a line")).expect("matrix JSON");
    let jobs = matrix["include"].as_array().expect("include");
    let listed: Vec<(String, String)> = jobs
        .iter()
        .map(|j| {
            (
                j["phase"].as_str().expect("phase").to_owned(),
                j["partition"].as_str().expect("partition").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> =
        PHASES.iter().flat_map(|p| (1..=2).map(move |k| ((*p).to_owned(), format!("count:{k}/2")))).collect();
    assert_eq!(listed, expected, "matrix --shards 2:\n{matrix_text}");
    assert!(jobs.iter().all(|j| j["runs-on"].as_str().is_some()), "{matrix_text}");

    let whole = out.join("whole.json");
    run(
        &fixture,
        &["run", "--no-baseline", "--no-progress", "--report-json", whole.to_str().expect("utf-8")],
    );
    let mut shard_files = Vec::new();
    for (phase, partition) in &listed {
        let file = out.join(format!("{phase}-{}.json", partition.replace([':', '/'], "-")));
        let path = file.to_str().expect("utf-8").to_owned();
        run(
            &fixture,
            &[phase, "--partition", partition, "--no-tests", "pass", "--no-baseline", "--report-json", &path],
        );
        shard_files.push(path);
    }
    let merged = out.join("merged.json");
    let mut args = vec!["merge", "-o", merged.to_str().expect("utf-8")];
    args.extend(shard_files.iter().map(String::as_str));
    let merge_text = run(&fixture, &args);
    assert!(!merge_text.contains("warning:"), "merging warned:\n{merge_text}");

    let (whole, merged) = (json_file(&whole), json_file(&merged));
    let problems = validate(&report_schema(), &merged);
    assert!(problems.is_empty(), "the merged report does not match the schema:\n{}", problems.join("\n"));
    assert_eq!(statuses(&merged), statuses(&whole), "merged shards differ from the unsharded run");
    let phase_names = |r: &Value| -> Vec<String> {
        r["phases"]
            .as_array()
            .expect("phases")
            .iter()
            .map(|p| p["name"].as_str().expect("name").to_owned())
            .collect()
    };
    assert_eq!(phase_names(&merged), phase_names(&whole));
    assert_eq!(merged["counts"], whole["counts"], "merged counts");
}
