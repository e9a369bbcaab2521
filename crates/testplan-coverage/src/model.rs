//! The coverage figures and what they mean.
//!
//! Definitions (docs/coverage.md says the same to users):
//! - **Line.** A source line is *instrumented* when `llvm-cov export -format=lcov` gives it a
//!   `DA` record, and *covered* when that record's count is above zero. llvm-cov's `DA`
//!   records combine every instantiation of a function (a generic function whose `i32`
//!   instantiation runs one branch and whose `f64` instantiation runs the other covers both),
//!   so this is the line coverage lcov and Cobertura consumers (Codecov, GitLab, diff-cover)
//!   compute from the files we write. llvm-cov's own text summary (and lcov's `LH`) counts
//!   the best single instantiation instead, which can read lower; we never mix the two.
//! - **Function** and **region**: llvm-cov's own per-file summary (`llvm-cov export
//!   -summary-only`), where a function (all its instantiations together) counts as covered
//!   when any instantiation ran, and a region is a code region of the coverage mapping.
//! - **Percent** is `covered / total × 100`; a file or run with nothing instrumented has no
//!   percentage (`None`), never 0 % or 100 %.

use std::collections::BTreeMap;

use camino::Utf8PathBuf;
use serde::{Deserialize, Serialize};

/// Covered out of total, the pair every percentage comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// How many were covered.
    pub covered: u64,
    /// How many there are.
    pub total: u64,
}

impl Counts {
    /// `covered / total × 100`, or `None` when there is nothing to cover.
    pub fn percent(self) -> Option<f64> {
        (self.total > 0).then(|| self.covered as f64 * 100.0 / self.total as f64)
    }

    /// The sum of two counts.
    #[must_use]
    pub fn plus(self, other: Counts) -> Counts {
        Counts { covered: self.covered + other.covered, total: self.total + other.total }
    }

    /// Whether the percentage is at least `min_percent` (nothing to cover meets every
    /// minimum). Compared exactly, without rounding: 80 % of 41 lines is not met by 32.
    pub fn meets(self, min_percent: f64) -> bool {
        self.total == 0 || self.covered as f64 * 100.0 >= min_percent * self.total as f64
    }
}

/// One function (one instantiation) as llvm-cov's lcov export names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionRecord {
    /// The (mangled) symbol name.
    pub name: String,
    /// The line it starts on.
    pub line: u32,
    /// How often it was entered.
    pub count: u64,
}

/// One source file's coverage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileCoverage {
    /// Execution count of every instrumented line (all instantiations combined).
    pub lines: BTreeMap<u32, u64>,
    /// Functions as llvm-cov summarises them.
    pub functions: Counts,
    /// Regions as llvm-cov summarises them.
    pub regions: Counts,
    /// The lcov export's function records, kept for the lcov file we write.
    pub function_records: Vec<FunctionRecord>,
}

impl FileCoverage {
    /// Covered and instrumented lines.
    pub fn line_counts(&self) -> Counts {
        let covered = self.lines.values().filter(|&&count| count > 0).count() as u64;
        Counts { covered, total: self.lines.len() as u64 }
    }

    /// The lines that are instrumented but never ran.
    pub fn uncovered_lines(&self) -> impl Iterator<Item = u32> + '_ {
        self.lines.iter().filter(|&(_, &count)| count == 0).map(|(&line, _)| line)
    }

    /// Lines, functions and regions of this file.
    pub fn summary(&self) -> FileSummary {
        FileSummary { lines: self.line_counts(), functions: self.functions, regions: self.regions }
    }
}

/// Coverage of a set of source files, all under one root.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoverageData {
    /// The workspace root; `files` are relative to it.
    pub root: Utf8PathBuf,
    /// Every measured file, by its path relative to `root` (`/`-separated).
    pub files: BTreeMap<Utf8PathBuf, FileCoverage>,
}

impl CoverageData {
    /// Per-file figures and their total.
    pub fn summary(&self) -> CoverageSummary {
        let files: BTreeMap<String, FileSummary> =
            self.files.iter().map(|(path, file)| (path.to_string(), file.summary())).collect();
        let total = files.values().fold(FileSummary::default(), |sum, file| sum.plus(file));
        CoverageSummary { total, files }
    }

    /// The same files and lines with every count zero: what a phase whose tests left no
    /// profile covers.
    pub fn zeroed(&self) -> CoverageData {
        let files = self.files.iter().map(|(path, file)| (path.clone(), zeroed_file(file))).collect();
        CoverageData { root: self.root.clone(), files }
    }
}

fn zeroed_file(file: &FileCoverage) -> FileCoverage {
    FileCoverage {
        lines: file.lines.keys().map(|&line| (line, 0)).collect(),
        functions: Counts { covered: 0, total: file.functions.total },
        regions: Counts { covered: 0, total: file.regions.total },
        function_records: file
            .function_records
            .iter()
            .map(|f| FunctionRecord { count: 0, ..f.clone() })
            .collect(),
    }
}

/// Lines, functions and regions of one file (or of all files).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSummary {
    /// Lines (the definition in the module docs).
    pub lines: Counts,
    /// Functions (llvm-cov's summary).
    pub functions: Counts,
    /// Regions (llvm-cov's summary).
    pub regions: Counts,
}

impl FileSummary {
    /// The sum of two summaries.
    #[must_use]
    pub fn plus(self, other: &FileSummary) -> FileSummary {
        FileSummary {
            lines: self.lines.plus(other.lines),
            functions: self.functions.plus(other.functions),
            regions: self.regions.plus(other.regions),
        }
    }
}

/// The figures of a whole run (or phase): total and per file (paths relative to the
/// workspace root). This is what reports store and what deltas and gates compare.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageSummary {
    /// All files together.
    pub total: FileSummary,
    /// Each file by its workspace-relative path.
    pub files: BTreeMap<String, FileSummary>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(lines: &[(u32, u64)]) -> FileCoverage {
        FileCoverage {
            lines: lines.iter().copied().collect(),
            functions: Counts { covered: 1, total: 2 },
            regions: Counts { covered: 3, total: 5 },
            function_records: Vec::new(),
        }
    }

    #[test]
    fn percent_is_none_without_anything_to_cover() {
        assert_eq!(Counts { covered: 0, total: 0 }.percent(), None);
        assert_eq!(Counts { covered: 33, total: 41 }.percent(), Some(3300.0 / 41.0));
    }

    #[test]
    fn meets_compares_exactly() {
        let c = Counts { covered: 32, total: 40 };
        assert!(c.meets(80.0));
        assert!(!c.meets(80.01));
        assert!(!Counts { covered: 32, total: 41 }.meets(80.0));
        assert!(Counts::default().meets(100.0));
    }

    #[test]
    fn summary_counts_lines_with_a_count_as_covered_and_sums_files() {
        let data = CoverageData {
            root: "/ws".into(),
            files: [
                ("src/a.rs".into(), file(&[(1, 2), (2, 0), (3, 1)])),
                ("src/b.rs".into(), file(&[(7, 0)])),
            ]
            .into_iter()
            .collect(),
        };
        let summary = data.summary();
        assert_eq!(summary.files["src/a.rs"].lines, Counts { covered: 2, total: 3 });
        assert_eq!(summary.files["src/b.rs"].lines, Counts { covered: 0, total: 1 });
        assert_eq!(summary.total.lines, Counts { covered: 2, total: 4 });
        assert_eq!(summary.total.functions, Counts { covered: 2, total: 4 });
        assert_eq!(summary.total.regions, Counts { covered: 6, total: 10 });
        assert_eq!(data.files[&Utf8PathBuf::from("src/a.rs")].uncovered_lines().collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn zeroed_keeps_the_lines_and_totals() {
        let data =
            CoverageData { root: "/ws".into(), files: [("a.rs".into(), file(&[(1, 4), (2, 0)]))].into() };
        let zero = data.zeroed().summary();
        assert_eq!(zero.total.lines, Counts { covered: 0, total: 2 });
        assert_eq!(zero.total.functions, Counts { covered: 0, total: 2 });
        assert_eq!(zero.total.regions, Counts { covered: 0, total: 5 });
    }
}
