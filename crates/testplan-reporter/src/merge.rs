//! `cargo testplan merge`: joins the reports of shards (and of phases run in separate CI
//! jobs) into one report, as if one machine had run them all.
//!
//! Tests are concatenated (a test reported by two inputs is kept once, from the later one,
//! with a warning); phases with the same name are joined (failed if any shard failed,
//! skipped only if every shard skipped it) and ordered by their position in the plan;
//! counts are recomputed from the tests. The merged run spans from the first input's start
//! to the last one's end. Tests of a phase left in shards that were not given are counted as
//! deselected by partition, with a warning.

use std::collections::{BTreeMap, HashMap};

use testplan_schema::{
    DeselectedCounts, MergedSource, PhaseReport, PhaseStatus, ReportCounts, RunReport, TestRef, TestReport,
};

/// A merged report and the warnings merging raised.
#[derive(Debug)]
pub struct Merged {
    /// The report.
    pub report: RunReport,
    /// Duplicated tests, missing shards.
    pub warnings: Vec<String>,
}

/// Merges `inputs` (file name, report), in the order given.
pub fn merge(inputs: &[(String, RunReport)], command_line: Vec<String>) -> Merged {
    let started = inputs.iter().map(|(_, r)| r.started_at_unix).fold(f64::INFINITY, f64::min);
    let started = if started.is_finite() { started } else { 0.0 };
    let mut report = RunReport::new(env!("CARGO_PKG_VERSION"), command_line, started);
    let mut warnings = Vec::new();
    report.tests = merged_tests(inputs, &mut warnings);
    report.phases = merged_phases(inputs, &report.tests, &mut warnings);
    report.counts = ReportCounts::of_tests(&report.tests);
    let end = inputs.iter().map(|(_, r)| r.started_at_unix + r.duration_secs).fold(started, f64::max);
    report.duration_secs = end - started;
    report.jobs = inputs.iter().map(|(_, r)| r.jobs).max().unwrap_or(0);
    report.profile = common(inputs.iter().map(|(_, r)| r.profile.clone()));
    report.jobs_reason = common(inputs.iter().map(|(_, r)| r.jobs_reason.clone()));
    report.resources = inputs.iter().find_map(|(_, r)| r.resources.clone());
    report.workspace_root = inputs.iter().find_map(|(_, r)| r.workspace_root.clone());
    report.stopped = inputs.iter().find_map(|(_, r)| r.stopped.clone());
    report.not_in_plan = not_in_plan(inputs);
    report.deselected = deselected(inputs, &report);
    report.merged_from = inputs.iter().map(|(file, r)| source(file, r)).collect();
    let mut all_warnings: Vec<String> = inputs.iter().flat_map(|(_, r)| r.warnings.clone()).collect();
    all_warnings.dedup();
    all_warnings.extend(warnings.iter().cloned());
    report.warnings = all_warnings;
    Merged { report, warnings }
}

fn merged_tests(inputs: &[(String, RunReport)], warnings: &mut Vec<String>) -> Vec<TestReport> {
    let mut tests: Vec<TestReport> = Vec::new();
    let mut seen: HashMap<(String, String), (usize, &str)> = HashMap::new();
    for (file, report) in inputs {
        for test in &report.tests {
            let key = (test.binary_id.clone(), test.name.clone());
            if let Some((at, first_file)) = seen.get(&key).copied() {
                warnings.push(format!(
                    "{} is in both {first_file} and {file}; keeping the result from {file}",
                    test.display_name()
                ));
                tests[at] = test.clone();
                seen.insert(key, (at, file));
            } else {
                seen.insert(key, (tests.len(), file));
                tests.push(test.clone());
            }
        }
    }
    tests
}

fn merged_phases(
    inputs: &[(String, RunReport)],
    tests: &[TestReport],
    warnings: &mut Vec<String>,
) -> Vec<PhaseReport> {
    let mut order: Vec<String> = Vec::new();
    let mut by_name: BTreeMap<String, Vec<&PhaseReport>> = BTreeMap::new();
    for phase in inputs.iter().flat_map(|(_, r)| &r.phases) {
        if !by_name.contains_key(&phase.name) {
            order.push(phase.name.clone());
        }
        by_name.entry(phase.name.clone()).or_default().push(phase);
    }
    let mut phases: Vec<PhaseReport> =
        order.iter().map(|name| merged_phase(name, &by_name[name], tests, warnings)).collect();
    // Plan order where known; first-seen order otherwise (the sort is stable).
    phases.sort_by_key(|p| p.position.unwrap_or(usize::MAX));
    phases
}

fn merged_phase(
    name: &str,
    shards: &[&PhaseReport],
    tests: &[TestReport],
    warnings: &mut Vec<String>,
) -> PhaseReport {
    let status = if shards.iter().any(|p| p.status == PhaseStatus::Failed) {
        PhaseStatus::Failed
    } else if shards.iter().any(|p| p.status == PhaseStatus::Passed) {
        PhaseStatus::Passed
    } else {
        PhaseStatus::Skipped
    };
    // The reason of a shard that had tests says more than an empty shard's "no tests selected".
    let most_tests = shards.iter().max_by_key(|p| p.counts.total);
    let reason =
        if status == PhaseStatus::Skipped { most_tests.and_then(|p| p.reason.clone()) } else { None };
    let counts = ReportCounts::of_tests(tests.iter().filter(|t| t.phase.as_deref() == Some(name)));
    // Every shard saw the whole phase: its own tests plus those it left to other shards.
    let planned = shards.iter().map(|p| p.counts.total + p.deselected_by_partition).max().unwrap_or(0);
    let missing = planned.saturating_sub(counts.total);
    if missing > 0 {
        warnings.push(format!("phase {name}: {missing} tests are in shards that were not merged"));
    }
    PhaseReport {
        name: name.to_owned(),
        status,
        reason,
        duration_secs: shards.iter().map(|p| p.duration_secs).fold(0.0, f64::max),
        counts,
        position: shards.iter().find_map(|p| p.position),
        deselected_by_partition: missing,
    }
}

fn common(values: impl Iterator<Item = Option<String>>) -> Option<String> {
    let mut values = values.flatten();
    let first = values.next()?;
    values.all(|v| v == first).then_some(first)
}

fn not_in_plan(inputs: &[(String, RunReport)]) -> Vec<TestRef> {
    let mut refs: Vec<TestRef> = inputs.iter().flat_map(|(_, r)| r.not_in_plan.clone()).collect();
    refs.sort();
    refs.dedup();
    refs
}

/// Deselected counts of the merged run: each input discovered the same tests, so what no
/// input ran is left to the filters (as every input saw them), tests no phase selects,
/// missing shards and — the rest — phases no input ran.
fn deselected(inputs: &[(String, RunReport)], merged: &RunReport) -> DeselectedCounts {
    let discovered = inputs.iter().map(|(_, r)| r.tests.len() + r.deselected.total()).max().unwrap_or(0);
    let filters = inputs.iter().map(|(_, r)| r.deselected.filters).min().unwrap_or(0);
    let not_in_plan = merged.not_in_plan.len();
    let partition: usize = merged.phases.iter().map(|p| p.deselected_by_partition).sum();
    let accounted = merged.tests.len() + filters + not_in_plan + partition;
    DeselectedCounts { filters, other_phases: discovered.saturating_sub(accounted), not_in_plan, partition }
}

fn source(file: &str, report: &RunReport) -> MergedSource {
    MergedSource {
        file: file.to_owned(),
        partition: report.partition.clone(),
        phases: report.phases.iter().map(|p| p.name.clone()).collect(),
        tests: report.tests.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{report_of, test_report};
    use testplan_schema::ReportStatus;

    fn shard(names: &[&str], failed: bool, left: usize) -> RunReport {
        let status = if failed { ReportStatus::Failed } else { ReportStatus::Passed };
        let mut tests: Vec<TestReport> = names.iter().map(|n| test_report("a", n, status, 1.0)).collect();
        tests.iter_mut().for_each(|t| t.phase = Some("unit".to_owned()));
        let mut report = report_of(tests);
        report.phases = vec![PhaseReport {
            name: "unit".to_owned(),
            status: if failed { PhaseStatus::Failed } else { PhaseStatus::Passed },
            reason: None,
            duration_secs: 1.0,
            counts: ReportCounts::of_tests(&report.tests),
            position: Some(0),
            deselected_by_partition: left,
        }];
        report.deselected.partition = left;
        report
    }

    #[test]
    fn shards_join_into_one_phase() {
        let inputs = [
            ("1.json".to_owned(), shard(&["x", "y"], false, 1)),
            ("2.json".to_owned(), shard(&["z"], true, 2)),
        ];
        let merged = merge(&inputs, vec![]);
        assert!(merged.warnings.is_empty(), "{:?}", merged.warnings);
        let report = merged.report;
        assert_eq!(report.tests.len(), 3);
        assert_eq!((report.counts.passed, report.counts.failed), (2, 1));
        assert_eq!(report.phases.len(), 1);
        assert_eq!(report.phases[0].status, PhaseStatus::Failed);
        assert_eq!(report.phases[0].deselected_by_partition, 0);
        assert_eq!(report.deselected, DeselectedCounts::default());
    }

    #[test]
    fn missing_shards_and_duplicates_are_warned_about() {
        let inputs = [
            ("1.json".to_owned(), shard(&["x", "y"], false, 1)),
            ("again.json".to_owned(), shard(&["x", "y"], false, 1)),
        ];
        let merged = merge(&inputs, vec![]);
        assert_eq!(merged.report.tests.len(), 2);
        assert_eq!(
            merged.warnings,
            [
                "a x is in both 1.json and again.json; keeping the result from again.json",
                "a y is in both 1.json and again.json; keeping the result from again.json",
                "phase unit: 1 tests are in shards that were not merged",
            ]
        );
    }
}
