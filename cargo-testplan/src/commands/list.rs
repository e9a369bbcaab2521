//! `cargo testplan list`: build and list tests as text, as cargo-testplan's JSON schema, or
//! as cargo-nextest's `TestListSummary` (so tools built for nextest can read it).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use camino::{Utf8Path, Utf8PathBuf};
use nextest_metadata::{
    BuildPlatform, FilterMatch, MismatchReason, RustBinaryId, RustBuildMetaSummary, RustNonTestBinaryKind,
    RustNonTestBinarySummary, RustTestBinaryKind, RustTestBinarySummary, RustTestCaseSummary, RustTestKind,
    RustTestSuiteSummary, TestCaseName, TestListSummary,
};
use testplan_markers::Decision;
use testplan_runner::filter::TestFilter;
use testplan_runner::model::{BinaryIdx, TargetKind, TestBinary, TestList};
use testplan_schema::{BinaryEntry, LIST_FORMAT_VERSION, TestEntry, TestListDocument};

use crate::cli::{ListArgs, ListFormat};
use crate::commands::common::{Planned, phase_name, plan_only};
use crate::error::AppError;

/// Runs the command.
pub fn exec(args: ListArgs) -> Result<(), AppError> {
    let planned = plan_only(&args.cargo, &args.plan, &args.filter, args.output.color, args.jobs)?;
    let filter = args.filter.to_filter();
    let text = match args.message_format {
        ListFormat::Human => human(&planned),
        ListFormat::Json => to_json(&document(&planned)),
        ListFormat::NextestJson => to_json(&nextest_summary(&planned.list, &filter, &planned.plan.decisions)),
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

fn tests_of(
    list: &TestList,
    binary: BinaryIdx,
) -> impl Iterator<Item = (usize, &testplan_runner::model::TestCase)> {
    list.tests.iter().enumerate().filter(move |(_, t)| t.binary == binary)
}

/// Whether `list` shows the test: everything the selection does not filter out, in the
/// phases it runs (`--phase`, a profile's phases); skipped ignored tests are shown.
fn shown(decision: &Decision) -> bool {
    !matches!(decision, Decision::Deselected | Decision::OtherPhase { .. })
}

fn human(planned: &Planned) -> String {
    let list = &planned.list;
    let mut out = String::new();
    let (mut count, mut binaries) = (0, 0);
    for (b, binary) in list.binaries.iter().enumerate() {
        let tests: Vec<_> =
            tests_of(list, BinaryIdx(b)).filter(|(i, _)| shown(&planned.plan.decisions[*i])).collect();
        if tests.is_empty() {
            continue;
        }
        binaries += 1;
        out.push_str(&format!("{} ({}):\n", binary.id, binary.kind));
        for (i, test) in tests {
            count += 1;
            out.push_str(&format!("    {}{}\n", test.name, annotations(planned, i)));
        }
    }
    let tests = if count == 1 { "test" } else { "tests" };
    let binary_word = if binaries == 1 { "binary" } else { "binaries" };
    out.push_str(&format!("{count} {tests} in {binaries} {binary_word}\n"));
    // Names and ignore reasons are the tests' own text: no escape sequence of theirs acts.
    testplan_reporter::sanitize::block(&out).into_owned()
}

/// `  [slow, unit] → slow (ignored: slow)`.
fn annotations(planned: &Planned, i: usize) -> String {
    let test = &planned.list.tests[i];
    let markers = planned.plan.classifications[i].markers.to_string();
    let phase = phase_name(planned, i).unwrap_or_else(|| "not in plan".to_owned());
    let ignored = match (&test.ignored, &test.ignore_reason) {
        (true, Some(reason)) if !reason.is_empty() => format!(" (ignored: {reason})"),
        (true, _) => " (ignored)".to_owned(),
        _ => String::new(),
    };
    format!("  [{markers}] → {phase}{ignored}")
}

fn document(planned: &Planned) -> TestListDocument {
    let list = &planned.list;
    let decisions = &planned.plan.decisions;
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
                    selected: matches!(decisions[i], Decision::Run { .. }),
                    markers: planned.plan.classifications[i]
                        .markers
                        .iter()
                        .map(|m| m.as_str().to_owned())
                        .collect(),
                    phase: phase_name(planned, i),
                })
                .collect(),
        })
        .collect();
    TestListDocument {
        format_version: LIST_FORMAT_VERSION,
        workspace_root: list.workspace_root.to_string(),
        target_dir: list.target_dir.to_string(),
        binaries,
        test_count: decisions.iter().filter(|d| matches!(d, Decision::Run { .. })).count(),
    }
}

/// cargo-nextest's list format. Doctests are left out: nextest does not run them.
fn nextest_summary(list: &TestList, filter: &TestFilter, decisions: &[Decision]) -> TestListSummary {
    let mut summary = TestListSummary::new(build_meta(list));
    for (b, binary) in list.binaries.iter().enumerate() {
        let Some(suite_binary) = nextest_binary(binary) else { continue };
        let mut cases = BTreeMap::new();
        for (i, test) in tests_of(list, BinaryIdx(b)) {
            let name_matches = filter.matches_name(&test.name);
            cases.insert(
                TestCaseName::new(&test.name),
                nextest_case(test.ignored, &decisions[i], name_matches),
            );
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

/// What nextest records about the build, as far as the discovered binaries tell it: the
/// output directories, the bin executables integration tests get as `CARGO_BIN_EXE_*`, the
/// build scripts' `OUT_DIR`s and the platforms (paths relative to the target directory, as
/// nextest writes them). Build scripts' `rustc-env` values and link search paths reach us
/// folded into each binary's environment and cannot be told apart from the rest there, so
/// `build-script-info` stays absent (nextest's "unknown") and `linked-paths` empty.
fn build_meta(list: &TestList) -> RustBuildMetaSummary {
    let target_dir = &list.target_dir;
    let mut meta = RustBuildMetaSummary {
        target_directory: target_dir.clone(),
        build_directory: Some(target_dir.clone()),
        ..Default::default()
    };
    for binary in &list.binaries {
        let output_dir = binary.executable.as_deref().and_then(Utf8Path::parent).and_then(Utf8Path::parent);
        if let Some(base) = output_dir.and_then(|dir| relative_to(dir, target_dir)) {
            meta.base_output_directories.insert(base);
        }
        for (key, value) in binary.env.iter() {
            let Some(path) = relative_to(Utf8Path::new(value), target_dir) else { continue };
            if let Some(name) = key.strip_prefix("CARGO_BIN_EXE_") {
                let exe = RustNonTestBinarySummary {
                    name: name.to_owned(),
                    kind: RustNonTestBinaryKind::BIN_EXE,
                    path,
                    build_platform: Some(BuildPlatform::Target),
                };
                meta.non_test_binaries.entry(binary.package.id.clone()).or_default().insert(exe);
            } else if key == "OUT_DIR" {
                meta.build_script_out_dirs.insert(binary.package.id.clone(), path);
            }
        }
    }
    set_platforms(&mut meta);
    meta
}

fn relative_to(path: &Utf8Path, base: &Utf8Path) -> Option<Utf8PathBuf> {
    path.strip_prefix(base).ok().filter(|rel| !rel.as_str().is_empty()).map(Utf8Path::to_owned)
}

/// The host platform and the target platforms: `--target` builds live in
/// `<target-dir>/<triple>/<profile>`, host builds in `<target-dir>/<profile>`. Left unset when
/// `rustc -vV` cannot say what the host is.
fn set_platforms(meta: &mut RustBuildMetaSummary) {
    let Some(host) = rustc_host() else { return };
    let cross: BTreeSet<&str> = meta
        .base_output_directories
        .iter()
        .filter_map(|base| base.parent().map(Utf8Path::as_str).filter(|triple| !triple.is_empty()))
        .collect();
    let targets: Vec<serde_json::Value> = cross
        .iter()
        .map(|triple| serde_json::json!({ "platform": platform_json(triple), "libdir": libdir_json(Some(triple)) }))
        .collect();
    let target_triples: Vec<&str> =
        if cross.is_empty() { vec![host.as_str()] } else { cross.into_iter().collect() };
    let platforms = serde_json::json!({
        "host": { "platform": platform_json(&host), "libdir": libdir_json(None) },
        "targets": targets,
    });
    // nextest-metadata takes platforms in target-spec's types; its JSON form is the stable
    // part, so they are built from that.
    meta.platforms = serde_json::from_value(platforms).ok();
    let target_platforms: Vec<serde_json::Value> = target_triples.into_iter().map(platform_json).collect();
    meta.target_platforms =
        serde_json::from_value(serde_json::Value::Array(target_platforms)).unwrap_or_default();
}

fn platform_json(triple: &str) -> serde_json::Value {
    serde_json::json!({ "triple": triple, "target-features": "unknown" })
}

fn libdir_json(triple: Option<&str>) -> serde_json::Value {
    let mut args = vec!["--print", "target-libdir"];
    args.extend(triple.iter().flat_map(|t| ["--target", t]));
    match rustc_output(&args) {
        Some(path) => serde_json::json!({ "status": "available", "path": path }),
        None => serde_json::json!({ "status": "unavailable", "reason": "rustc-failed" }),
    }
}

/// The host triple, from `rustc -vV`'s `host:` line.
fn rustc_host() -> Option<String> {
    let text = rustc_output(&["-vV"])?;
    text.lines().find_map(|line| line.strip_prefix("host: ")).map(|host| host.trim().to_owned())
}

/// The trimmed stdout of `$RUSTC ARGS` (or `rustc ARGS`), if it succeeds.
fn rustc_output(args: &[&str]) -> Option<String> {
    let rustc = std::env::var("RUSTC").ok().filter(|value| !value.is_empty());
    let output = std::process::Command::new(rustc.as_deref().unwrap_or("rustc")).args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok().filter(|_| output.status.success())?;
    Some(text.trim().to_owned()).filter(|text| !text.is_empty())
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

fn nextest_case(ignored: bool, decision: &Decision, name_matches: bool) -> RustTestCaseSummary {
    let filter_match = match decision {
        Decision::Run { .. } => FilterMatch::Matches,
        Decision::SkipIgnored { .. } => FilterMatch::Mismatch { reason: MismatchReason::Ignored },
        _ if !name_matches => FilterMatch::Mismatch { reason: MismatchReason::String },
        _ => FilterMatch::Mismatch { reason: MismatchReason::Expression },
    };
    RustTestCaseSummary { kind: Some(RustTestKind::TEST), ignored, filter_match }
}
