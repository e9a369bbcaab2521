//! `cargo testplan list`: build and list tests as text, as cargo-testplan's JSON schema, or
//! as cargo-nextest's `TestListSummary` (so tools built for nextest can read it).

use std::collections::BTreeMap;
use std::io::Write;

use nextest_metadata::{
    BuildPlatform, FilterMatch, MismatchReason, RustBinaryId, RustBuildMetaSummary, RustTestBinaryKind,
    RustTestBinarySummary, RustTestCaseSummary, RustTestKind, RustTestSuiteSummary, TestCaseName,
    TestListSummary,
};
use testplan_runner::RunnerError;
use testplan_runner::cancel::CancelToken;
use testplan_runner::filter::{Action, PlannedTest, TestFilter};
use testplan_runner::model::{BinaryIdx, TargetKind, TestBinary, TestList};
use testplan_schema::{BinaryEntry, LIST_FORMAT_VERSION, TestEntry, TestListDocument};

use crate::cli::{ListArgs, ListFormat};
use crate::error::AppError;
use crate::pipeline::{self, available_cpus};

/// Runs the command.
pub fn exec(args: ListArgs) -> Result<(), AppError> {
    let cancel = CancelToken::from_signals().map_err(|e| RunnerError::io("installing signal handlers", e))?;
    let cargo_opts = args.cargo.to_options(args.output.color);
    let jobs = args.jobs.unwrap_or_else(available_cpus).max(1);
    let prepared = pipeline::prepare(&cargo_opts, jobs, &cancel)?;
    let filter = args.filter.to_filter();
    let text = match args.message_format {
        ListFormat::Human => human(&prepared.list, &filter),
        ListFormat::Json => to_json(&document(&prepared.list, &filter)),
        ListFormat::NextestJson => to_json(&nextest_summary(&prepared.list, &filter)),
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|source| AppError::WriteOutput { what: "the list".to_owned(), source })
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    // Serializing plain data structures cannot fail.
    serde_json::to_string_pretty(value).map(|s| s + "\n").unwrap_or_default()
}

/// Selection per test index: `Some(action)` when selected, `None` when filtered out.
fn selection(list: &TestList, filter: &TestFilter) -> Vec<Option<Action>> {
    let mut selected = vec![None; list.tests.len()];
    for PlannedTest { test, action } in filter.plan(list) {
        selected[test.0] = Some(action);
    }
    selected
}

fn tests_of(
    list: &TestList,
    binary: BinaryIdx,
) -> impl Iterator<Item = (usize, &testplan_runner::model::TestCase)> {
    list.tests.iter().enumerate().filter(move |(_, t)| t.binary == binary)
}

fn human(list: &TestList, filter: &TestFilter) -> String {
    let selected = selection(list, filter);
    let mut out = String::new();
    let mut count = 0;
    for (b, binary) in list.binaries.iter().enumerate() {
        let tests: Vec<_> = tests_of(list, BinaryIdx(b)).filter(|(i, _)| selected[*i].is_some()).collect();
        if tests.is_empty() {
            continue;
        }
        out.push_str(&format!("{} ({}):\n", binary.id, binary.kind));
        for (_, test) in tests {
            count += 1;
            let ignored = match (&test.ignored, &test.ignore_reason) {
                (true, Some(reason)) if !reason.is_empty() => format!("  [ignored: {reason}]"),
                (true, _) => "  [ignored]".to_owned(),
                _ => String::new(),
            };
            out.push_str(&format!("    {}{ignored}\n", test.name));
        }
    }
    out.push_str(&format!("{count} tests in {} binaries\n", list.binaries.len()));
    out
}

fn document(list: &TestList, filter: &TestFilter) -> TestListDocument {
    let selected = selection(list, filter);
    let binaries = list
        .binaries
        .iter()
        .enumerate()
        .map(|(b, binary)| BinaryEntry {
            binary_id: binary.id.clone(),
            package: binary.package.name.clone(),
            target_name: binary.target_name.clone(),
            kind: binary.kind,
            executable: binary.executable.as_ref().map(|p| p.to_string()),
            list_method: binary.list_method,
            cwd: binary.cwd.to_string(),
            tests: tests_of(list, BinaryIdx(b))
                .map(|(i, t)| TestEntry {
                    name: t.name.clone(),
                    ignored: t.ignored,
                    ignore_reason: t.ignore_reason.clone(),
                    source: t.source.clone(),
                    selected: matches!(selected[i], Some(Action::Run { .. })),
                })
                .collect(),
        })
        .collect();
    TestListDocument {
        format_version: LIST_FORMAT_VERSION,
        workspace_root: list.workspace_root.to_string(),
        target_dir: list.target_dir.to_string(),
        binaries,
        test_count: selected.iter().filter(|s| matches!(s, Some(Action::Run { .. }))).count(),
    }
}

/// cargo-nextest's list format. Doctests are left out: nextest does not run them.
fn nextest_summary(list: &TestList, filter: &TestFilter) -> TestListSummary {
    let selected = selection(list, filter);
    let meta = RustBuildMetaSummary { target_directory: list.target_dir.clone(), ..Default::default() };
    let mut summary = TestListSummary::new(meta);
    for (b, binary) in list.binaries.iter().enumerate() {
        let Some(suite_binary) = nextest_binary(binary) else { continue };
        let mut cases = BTreeMap::new();
        for (i, test) in tests_of(list, BinaryIdx(b)) {
            let action = selected[i].as_ref();
            let name_matches = filter.matches_name(&test.name);
            cases.insert(TestCaseName::new(&test.name), nextest_case(test.ignored, action, name_matches));
        }
        summary.test_count += cases.len();
        let suite = RustTestSuiteSummary {
            package_name: binary.package.name.clone(),
            binary: suite_binary,
            cwd: binary.cwd.clone(),
            status: nextest_metadata::RustTestSuiteStatusSummary::LISTED,
            test_cases: cases,
        };
        summary.rust_suites.insert(RustBinaryId::new(&binary.id), suite);
    }
    summary
}

fn nextest_binary(binary: &TestBinary) -> Option<RustTestBinarySummary> {
    let kind = match binary.kind {
        TargetKind::Lib => RustTestBinaryKind::LIB,
        TargetKind::Bin => RustTestBinaryKind::BIN,
        TargetKind::ProcMacro => RustTestBinaryKind::PROC_MACRO,
        TargetKind::Test => RustTestBinaryKind::TEST,
        TargetKind::Bench => RustTestBinaryKind::BENCH,
        TargetKind::Example => RustTestBinaryKind::EXAMPLE,
        TargetKind::Doc => return None,
    };
    let build_platform =
        if binary.kind == TargetKind::ProcMacro { BuildPlatform::Host } else { BuildPlatform::Target };
    Some(RustTestBinarySummary {
        binary_id: RustBinaryId::new(&binary.id),
        binary_name: binary.target_name.clone(),
        package_id: binary.package.id.clone(),
        kind,
        binary_path: binary.executable.clone()?,
        build_platform,
    })
}

fn nextest_case(ignored: bool, action: Option<&Action>, name_matches: bool) -> RustTestCaseSummary {
    let filter_match = match action {
        Some(Action::Run { .. }) => FilterMatch::Matches,
        Some(Action::Skip { .. }) => FilterMatch::Mismatch { reason: MismatchReason::Ignored },
        None if name_matches => FilterMatch::Mismatch { reason: MismatchReason::Ignored },
        None => FilterMatch::Mismatch { reason: MismatchReason::String },
    };
    RustTestCaseSummary { kind: Some(RustTestKind::TEST), ignored, filter_match }
}
