//! Coverage of changed lines (diff-cover's question: did the change come with tests?).
//!
//! The changed lines are those `git diff -U0 BASE` shows as added or changed in the working
//! tree (staged or not) relative to `BASE`, paths relative to the workspace root
//! (`--relative`: a workspace inside a larger repository sees its own files), plus every
//! line of an untracked, not ignored file (a new file not yet added is a change too).
//! Of those, the instrumented lines count; each uncovered one is listed as `file:line`.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};

use crate::command::stdout_of;
use crate::error::CoverageError;
use crate::model::{Counts, CoverageData};

const WHAT: &str = "git diff";

/// Lines added or changed since a base revision, by workspace-relative file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangedLines {
    /// The changed lines of each file.
    pub files: BTreeMap<Utf8PathBuf, BTreeSet<u32>>,
    /// Files that are new and untracked: all their lines changed.
    pub whole_files: BTreeSet<Utf8PathBuf>,
}

/// Asks git, in `root`, what changed since `base`.
pub fn git_changed_lines(root: &Utf8Path, base: &str) -> Result<ChangedLines, CoverageError> {
    let mut diff = Command::new("git");
    diff.current_dir(root).args(["-c", "core.quotePath=false", "diff", "-U0", "--no-color", "--no-ext-diff"]);
    diff.args(["--no-prefix", "--relative", base, "--"]);
    let mut changed = parse_diff(&String::from_utf8_lossy(&stdout_of(&mut diff)?))?;
    let mut untracked = Command::new("git");
    untracked.current_dir(root).args(["ls-files", "--others", "--exclude-standard", "-z"]);
    let listed = stdout_of(&mut untracked)?;
    changed.whole_files = String::from_utf8_lossy(&listed)
        .split('\0')
        .filter(|name| !name.is_empty())
        .map(Utf8PathBuf::from)
        .collect();
    Ok(changed)
}

/// Parses `git diff -U0 --no-prefix` output: `+++ PATH` names the new side of each file
/// (`/dev/null` for a deleted one), `@@ -a,b +c,d @@` adds lines `c..c+d` (`d` defaults to
/// 1; 0 is a pure deletion).
pub fn parse_diff(text: &str) -> Result<ChangedLines, CoverageError> {
    let mut changed = ChangedLines::default();
    let mut current: Option<Utf8PathBuf> = None;
    for (index, line) in text.lines().enumerate() {
        if line.starts_with("diff ") {
            current = None;
        } else if let Some(path) = line.strip_prefix("+++ ") {
            current = (path != "/dev/null").then(|| Utf8PathBuf::from(unquote(path)));
        } else if line.starts_with("@@ ") {
            let Some(path) = &current else { continue };
            let (start, count) =
                new_side(line).ok_or_else(|| CoverageError::parse_at(WHAT, index + 1, "bad hunk header"))?;
            changed.files.entry(path.clone()).or_default().extend(start..start + count);
        }
    }
    changed.files.retain(|_, lines| !lines.is_empty());
    Ok(changed)
}

/// `(c, d)` of `@@ -a,b +c,d @@ ...`.
fn new_side(header: &str) -> Option<(u32, u32)> {
    let new = header.split(' ').nth(2)?.strip_prefix('+')?;
    match new.split_once(',') {
        Some((start, count)) => Some((start.parse().ok()?, count.parse().ok()?)),
        None => Some((new.parse().ok()?, 1)),
    }
}

/// git's C-style quoting of unusual paths (`"a\tb"`, octal bytes); other paths as they are.
fn unquote(path: &str) -> String {
    let Some(inner) = path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) else {
        return path.to_owned();
    };
    let mut bytes = Vec::new();
    let mut chars = inner.bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match chars.next() {
            Some(b't') => bytes.push(b'\t'),
            Some(b'n') => bytes.push(b'\n'),
            Some(d @ b'0'..=b'7') => {
                let mut value = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(&next @ b'0'..=b'7') = chars.peek() {
                        value = value * 8 + u32::from(next - b'0');
                        chars.next();
                    }
                }
                bytes.push(u8::try_from(value).unwrap_or(b'?'));
            }
            Some(other) => bytes.push(other),
            None => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The coverage of the changed lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangedCoverage {
    /// Changed lines that are instrumented, and how many of them ran.
    pub lines: Counts,
    /// The changed lines that never ran, by file and line.
    pub uncovered: Vec<(Utf8PathBuf, u32)>,
}

/// Which of the `changed` lines `data` covers.
pub fn changed_coverage(changed: &ChangedLines, data: &CoverageData) -> ChangedCoverage {
    let mut result = ChangedCoverage::default();
    for (path, file) in &data.files {
        let whole = changed.whole_files.contains(path);
        let lines = changed.files.get(path);
        for (&line, &count) in &file.lines {
            if !whole && !lines.is_some_and(|set| set.contains(&line)) {
                continue;
            }
            result.lines.total += 1;
            if count > 0 {
                result.lines.covered += 1;
            } else {
                result.uncovered.push((path.clone(), line));
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FileCoverage;

    const DIFF: &str = "diff --git src/lib.rs src/lib.rs\nindex 1..2 100644\n--- src/lib.rs\n+++ src/lib.rs\n\
        @@ -4,0 +5,2 @@ pub fn a() {\n+    let x = 1;\n+    x\n@@ -10 +12 @@\n-old\n+new\n@@ -20,3 +23,0 @@\n-gone\n\
        diff --git src/old.rs src/old.rs\ndeleted file mode 100644\n--- src/old.rs\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n\
        diff --git \"src/t\\303\\251st\\tx.rs\" \"src/t\\303\\251st\\tx.rs\"\n--- \"src/t\\303\\251st\\tx.rs\"\n\
        +++ \"src/t\\303\\251st\\tx.rs\"\n@@ -1 +1 @@\n-a\n+b\n";

    #[test]
    fn added_and_changed_lines_of_each_file() {
        let changed = parse_diff(DIFF).expect("parses");
        let files: Vec<(&str, Vec<u32>)> =
            changed.files.iter().map(|(p, l)| (p.as_str(), l.iter().copied().collect())).collect();
        assert_eq!(files, [("src/lib.rs", vec![5, 6, 12]), ("src/tést\tx.rs", vec![1])]);
    }

    #[test]
    fn a_bad_hunk_header_names_its_line() {
        let error = parse_diff("+++ a.rs\n@@ -1 +x @@\n").expect_err("fails");
        assert_eq!(error.to_string(), "reading git diff: line 2: bad hunk header");
    }

    #[test]
    fn counts_instrumented_changed_lines_and_lists_the_uncovered() {
        let file = |lines: &[(u32, u64)]| FileCoverage {
            lines: lines.iter().copied().collect(),
            ..FileCoverage::default()
        };
        let data = CoverageData {
            root: "/ws".into(),
            files: [
                ("src/lib.rs".into(), file(&[(4, 1), (5, 1), (6, 0), (12, 0), (30, 0)])),
                ("src/new.rs".into(), file(&[(1, 0), (2, 3)])),
                ("src/other.rs".into(), file(&[(1, 0)])),
            ]
            .into(),
        };
        let changed = ChangedLines {
            files: [("src/lib.rs".into(), [5, 6, 7, 12].into())].into(),
            whole_files: ["src/new.rs".into()].into(),
        };
        let result = changed_coverage(&changed, &data);
        assert_eq!(result.lines, Counts { covered: 2, total: 5 });
        assert_eq!(
            result.uncovered,
            [("src/lib.rs".into(), 6), ("src/lib.rs".into(), 12), ("src/new.rs".into(), 1)]
        );
    }
}
