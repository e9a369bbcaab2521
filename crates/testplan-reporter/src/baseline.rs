//! The baseline: the previous run of the same profile (kept under
//! `<target-dir>/testplan/runs/`) or `--baseline FILE`, and what changed since —
//! tests added, removed, newly failing, fixed, notably slower.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use testplan_schema::{BaselineDiff, ReportStatus, RunReport, SlowerTest, TestRef, TestReport};

/// A test is "notably slower" when it takes at least this factor longer ...
pub const SLOWER_FACTOR: f64 = 1.5;
/// ... and at least this many seconds more.
pub const SLOWER_MIN_SECS: f64 = 0.5;

/// `<target-dir>/testplan/runs/<key>.json`: the last report of a profile.
pub fn history_path(target_dir: &Path, key: &str) -> PathBuf {
    history_dir(target_dir).join(format!("{}.json", sanitize(key)))
}

/// `<target-dir>/testplan/runs`.
pub fn history_dir(target_dir: &Path) -> PathBuf {
    target_dir.join("testplan").join("runs")
}

/// `<target-dir>/testplan/last-run.json`.
pub fn last_run_path(target_dir: &Path) -> PathBuf {
    target_dir.join("testplan").join("last-run.json")
}

/// A key made safe as a file name: `[A-Za-z0-9._-]`, anything else becomes `-`.
pub fn sanitize(key: &str) -> String {
    key.chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
        .collect()
}

/// A baseline's tests by `(binary_id, name)`, built once: the diff is taken after every
/// phase, and rebuilding maps of a large suite each time showed in profiles.
#[derive(Clone, Debug, Default)]
pub struct BaselineIndex {
    by_binary: HashMap<String, HashMap<String, usize>>,
}

impl BaselineIndex {
    /// Indexes `baseline`'s tests (the first of duplicate keys wins).
    pub fn new(baseline: &RunReport) -> Self {
        let mut by_binary: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for (i, test) in baseline.tests.iter().enumerate() {
            let names = by_binary.entry(test.binary_id.clone()).or_default();
            names.entry(test.name.clone()).or_insert(i);
        }
        Self { by_binary }
    }

    fn get(&self, test: &TestReport) -> Option<usize> {
        self.by_binary.get(&test.binary_id)?.get(&test.name).copied()
    }
}

/// What changed from `baseline` to `current` (`source` names the baseline).
pub fn diff(current: &RunReport, baseline: &RunReport, source: &str) -> BaselineDiff {
    diff_indexed(current, baseline, &BaselineIndex::new(baseline), source)
}

/// [`diff`] with the baseline's index built beforehand.
pub fn diff_indexed(
    current: &RunReport,
    baseline: &RunReport,
    index: &BaselineIndex,
    source: &str,
) -> BaselineDiff {
    let mut seen = vec![false; baseline.tests.len()];
    let mut diff = BaselineDiff {
        source: source.to_owned(),
        baseline_started_at_unix: baseline.started_at_unix,
        ..BaselineDiff::default()
    };
    for test in &current.tests {
        match index.get(test).and_then(|i| Some((i, baseline.tests.get(i)?))) {
            None => diff.added.push(test.to_ref()),
            Some((i, old)) => {
                seen[i] = true;
                compare(old, test, &mut diff);
            }
        }
    }
    // Duplicate keys share their first entry's flag, as they share a key.
    let unseen = |test: &&TestReport| index.get(test).is_none_or(|i| !seen.get(i).copied().unwrap_or(false));
    diff.removed = baseline.tests.iter().filter(unseen).map(TestReport::to_ref).collect();
    sort(&mut diff);
    diff
}

fn compare(old: &TestReport, new: &TestReport, diff: &mut BaselineDiff) {
    if new.is_failure() && !old.is_failure() {
        diff.newly_failing.push(new.to_ref());
    } else if old.is_failure() && new.status == ReportStatus::Passed {
        diff.fixed.push(new.to_ref());
    } else if old.status == ReportStatus::Passed
        && new.status == ReportStatus::Passed
        // A cached result took no time: there is nothing to compare.
        && !old.cached
        && !new.cached
        && new.duration_secs >= old.duration_secs * SLOWER_FACTOR
        && new.duration_secs - old.duration_secs >= SLOWER_MIN_SECS
    {
        diff.slower.push(SlowerTest {
            test: new.to_ref(),
            before_secs: old.duration_secs,
            after_secs: new.duration_secs,
        });
    }
}

fn sort(diff: &mut BaselineDiff) {
    for list in [&mut diff.added, &mut diff.removed, &mut diff.newly_failing, &mut diff.fixed] {
        list.sort();
    }
    diff.slower.sort_by(|a, b| (b.after_secs - b.before_secs).total_cmp(&(a.after_secs - a.before_secs)));
}

/// The part of `diff` about one phase's tests.
pub fn restrict(diff: &BaselineDiff, phase: &str) -> BaselineDiff {
    let keep =
        |list: &[TestRef]| list.iter().filter(|t| t.phase.as_deref() == Some(phase)).cloned().collect();
    BaselineDiff {
        source: diff.source.clone(),
        baseline_started_at_unix: diff.baseline_started_at_unix,
        added: keep(&diff.added),
        removed: keep(&diff.removed),
        newly_failing: keep(&diff.newly_failing),
        fixed: keep(&diff.fixed),
        slower: diff.slower.iter().filter(|s| s.test.phase.as_deref() == Some(phase)).cloned().collect(),
    }
}

/// `1 added, 1 newly failing`: the counts of what changed, or `no changes`.
pub fn headline(diff: &BaselineDiff) -> String {
    let parts: Vec<String> = groups(diff)
        .iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(label, names)| format!("{} {label}", names.len()))
        .collect();
    if parts.is_empty() { "no changes".to_owned() } else { parts.join(", ") }
}

/// Each kind of change with the names of its tests (`slower` ones with their durations).
pub fn groups(diff: &BaselineDiff) -> Vec<(&'static str, Vec<String>)> {
    let names = |list: &[TestRef]| list.iter().map(ToString::to_string).collect();
    let slower = diff
        .slower
        .iter()
        .map(|s| format!("{} ({:.3}s → {:.3}s)", s.test, s.before_secs, s.after_secs))
        .collect();
    vec![
        ("added", names(&diff.added)),
        ("removed", names(&diff.removed)),
        ("newly failing", names(&diff.newly_failing)),
        ("fixed", names(&diff.fixed)),
        ("slower", slower),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{report_of, test_report};

    #[test]
    fn diff_names_added_removed_failing_fixed_and_slower() {
        let baseline = report_of(vec![
            test_report("a", "keeps_passing", ReportStatus::Passed, 0.1),
            test_report("a", "breaks", ReportStatus::Passed, 0.1),
            test_report("a", "gets_fixed", ReportStatus::Failed, 0.1),
            test_report("a", "goes_away", ReportStatus::Passed, 0.1),
            test_report("a", "slows_down", ReportStatus::Passed, 1.0),
            test_report("a", "jitters", ReportStatus::Passed, 0.1),
        ]);
        let current = report_of(vec![
            test_report("a", "keeps_passing", ReportStatus::Passed, 0.1),
            test_report("a", "breaks", ReportStatus::Crashed, 0.1),
            test_report("a", "gets_fixed", ReportStatus::Passed, 0.1),
            test_report("a", "slows_down", ReportStatus::Passed, 2.0),
            test_report("a", "jitters", ReportStatus::Passed, 0.3),
            test_report("a", "is_new", ReportStatus::Passed, 0.1),
        ]);
        let diff = diff(&current, &baseline, "last.json");
        assert_eq!(headline(&diff), "1 added, 1 removed, 1 newly failing, 1 fixed, 1 slower");
        let named: Vec<(&str, Vec<String>)> = groups(&diff);
        assert_eq!(
            named,
            [
                ("added", vec!["a is_new".to_owned()]),
                ("removed", vec!["a goes_away".to_owned()]),
                ("newly failing", vec!["a breaks".to_owned()]),
                ("fixed", vec!["a gets_fixed".to_owned()]),
                ("slower", vec!["a slows_down (1.000s → 2.000s)".to_owned()]),
            ]
        );
    }

    #[test]
    fn restrict_keeps_one_phase() {
        let mut unit = test_report("a", "u", ReportStatus::Passed, 0.1);
        unit.phase = Some("unit".to_owned());
        let mut slow = test_report("a", "s", ReportStatus::Passed, 0.1);
        slow.phase = Some("slow".to_owned());
        let diff = diff(&report_of(vec![unit, slow]), &report_of(vec![]), "x");
        assert_eq!(headline(&restrict(&diff, "unit")), "1 added");
        assert_eq!(headline(&restrict(&diff, "doc")), "no changes");
    }

    #[test]
    fn keys_become_file_names() {
        assert_eq!(sanitize("phase:unit+hash:1/2"), "phase-unit-hash-1-2");
    }
}
