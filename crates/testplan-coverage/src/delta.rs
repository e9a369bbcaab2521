//! Coverage against the previous run of the same selection: the total and each file whose
//! line coverage changed, the largest changes first.

use crate::model::{Counts, CoverageSummary, FileSummary};

/// One file's lines before and after (`None`: not measured in that run).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDelta {
    /// Workspace-relative path.
    pub path: String,
    /// Lines in the previous run.
    pub before: Option<Counts>,
    /// Lines in this run.
    pub after: Option<Counts>,
}

impl FileDelta {
    /// Percentage points gained (negative: lost), counting a missing side as 0 %.
    pub fn points(&self) -> f64 {
        let pct = |c: Option<Counts>| c.and_then(Counts::percent).unwrap_or(0.0);
        pct(self.after) - pct(self.before)
    }
}

/// The whole comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoverageDelta {
    /// Total lines in the previous run.
    pub before: Counts,
    /// Total lines in this run.
    pub after: Counts,
    /// Files whose covered or instrumented line counts changed, added and removed files
    /// included; largest change first, then by path.
    pub files: Vec<FileDelta>,
}

impl CoverageDelta {
    /// Percentage points the total gained (`None` when either side has nothing to cover).
    pub fn points(&self) -> Option<f64> {
        Some(self.after.percent()? - self.before.percent()?)
    }
}

/// Compares `after` (this run) with `before` (the previous run).
pub fn delta(before: &CoverageSummary, after: &CoverageSummary) -> CoverageDelta {
    let mut paths: Vec<&String> = before.files.keys().chain(after.files.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut files: Vec<FileDelta> = paths
        .into_iter()
        .filter_map(|path| {
            let (old, new) = (before.files.get(path), after.files.get(path));
            (old.map(lines) != new.map(lines)).then(|| FileDelta {
                path: path.clone(),
                before: old.map(|f| f.lines),
                after: new.map(|f| f.lines),
            })
        })
        .collect();
    files.sort_by(|a, b| b.points().abs().total_cmp(&a.points().abs()).then_with(|| a.path.cmp(&b.path)));
    CoverageDelta { before: before.total.lines, after: after.total.lines, files }
}

fn lines(file: &FileSummary) -> (u64, u64) {
    (file.lines.covered, file.lines.total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Counts;

    fn summary(files: &[(&str, u64, u64)]) -> CoverageSummary {
        let files: std::collections::BTreeMap<String, FileSummary> = files
            .iter()
            .map(|&(path, covered, total)| {
                (path.to_owned(), FileSummary { lines: Counts { covered, total }, ..FileSummary::default() })
            })
            .collect();
        let total = files.values().fold(FileSummary::default(), |sum, f| sum.plus(f));
        CoverageSummary { total, files }
    }

    #[test]
    fn lists_changed_added_and_removed_files_largest_change_first() {
        let before = summary(&[
            ("src/a.rs", 9, 10),
            ("src/b.rs", 5, 10),
            ("src/gone.rs", 1, 4),
            ("src/same.rs", 1, 2),
        ]);
        let after =
            summary(&[("src/a.rs", 8, 10), ("src/b.rs", 9, 10), ("src/new.rs", 3, 3), ("src/same.rs", 1, 2)]);
        let d = delta(&before, &after);
        let c = |covered, total| Some(Counts { covered, total });
        let shown: Vec<(&str, Option<Counts>, Option<Counts>, f64)> =
            d.files.iter().map(|f| (f.path.as_str(), f.before, f.after, f.points())).collect();
        assert_eq!(
            shown,
            [
                ("src/new.rs", None, c(3, 3), 100.0),
                ("src/b.rs", c(5, 10), c(9, 10), 40.0),
                ("src/gone.rs", c(1, 4), None, -25.0),
                ("src/a.rs", c(9, 10), c(8, 10), -10.0),
            ]
        );
        assert_eq!(
            (d.before, d.after),
            (Counts { covered: 16, total: 26 }, Counts { covered: 21, total: 25 })
        );
        assert_eq!(d.points(), Some(2100.0 / 25.0 - 1600.0 / 26.0));
    }

    #[test]
    fn a_file_with_more_lines_but_the_same_percent_is_listed() {
        let d = delta(&summary(&[("a.rs", 1, 2)]), &summary(&[("a.rs", 2, 4)]));
        assert_eq!(d.files.len(), 1);
        assert_eq!(d.files[0].points(), 0.0);
        assert_eq!(d.points(), Some(0.0));
    }

    #[test]
    fn nothing_to_cover_has_no_total_change() {
        assert_eq!(delta(&summary(&[]), &summary(&[("a.rs", 1, 2)])).points(), None);
    }
}
