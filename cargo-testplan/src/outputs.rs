//! The files a run (or a merge) leaves behind: `last-run.json` and the saved run of its
//! selection, `--report-json`, `--junit`, `--markdown` and `$GITHUB_STEP_SUMMARY`, each
//! written through the safe writer and independently of the others.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use camino::Utf8Path;
use testplan_reporter::baseline::{history_dir, history_path, last_run_path};
use testplan_reporter::github;
use testplan_runner::files::{self, Durability};
use testplan_schema::RunReport;

use crate::cli::{ColorChoice, ReportOutputArgs};
use crate::error::AppError;

/// Saved runs kept in `<target-dir>/testplan/runs/` (one per profile and selection, the
/// baselines of later runs): the oldest beyond this many are removed after each run.
pub const KEEP_SAVED_RUNS: usize = 50;

/// The outputs of a run or a merge that could not be written. Each failure is reported on
/// stderr (what, path and OS error) when it happens; the other outputs are still written.
#[derive(Debug, Default)]
pub struct OutputFailures {
    /// How many outputs failed.
    pub count: usize,
}

impl OutputFailures {
    /// Records the result of writing `what` to `path`.
    pub fn check(&mut self, what: &str, path: &Path, result: std::io::Result<()>) {
        if let Err(e) = result {
            self.count += 1;
            eprintln!("error: could not write {what} to {}: {e}", path.display());
        }
    }

    /// `Err(OutputsFailed)` when anything failed.
    pub fn into_result(self) -> Result<(), AppError> {
        match self.count {
            0 => Ok(()),
            count => Err(AppError::OutputsFailed(count)),
        }
    }
}

/// Writes what a run leaves behind: `last-run.json` and the profile's history file (always),
/// `--report-json`, `--junit`, `--markdown`, and the Markdown appended to
/// `$GITHUB_STEP_SUMMARY` on GitHub Actions. Each is independent of the others: one that
/// cannot be written is reported and counted, and the rest are still written.
/// `history_key` names the saved run of the selection (`None`: not saved as one).
pub fn write_run_outputs(
    report: &RunReport,
    target_dir: &Utf8Path,
    history_key: Option<&str>,
    report_json: Option<&Utf8Path>,
    reports: &ReportOutputArgs,
) -> OutputFailures {
    let mut failures = OutputFailures::default();
    let target = target_dir.as_std_path();
    let history = history_key.map(|key| history_path(target, key));
    // Serialized once, compact (megabytes for large suites; `cargo testplan report --format
    // json` pretty-prints). The two copies under the target dir are one file, hard-linked;
    // `--report-json` gets its own (a user may edit it in place).
    let bytes = serde_json::to_vec(report).map_err(std::io::Error::other);
    crate::timings::mark("report serialized");
    let mut copies = vec![last_run_path(target)];
    copies.extend(history.clone());
    match &bytes {
        Ok(bytes) => write_copies(&copies, bytes, &mut failures),
        Err(e) => failures.check("the run report", &copies[0], Err(std::io::Error::other(e.to_string()))),
    }
    if let (Some(path), Ok(bytes)) = (report_json.map(Utf8Path::as_std_path), &bytes) {
        failures.check("the run report", path, files::write_atomically(path, bytes, Durability::Durable));
    }
    if let Some(history) = &history {
        prune_saved_runs(&history_dir(target), history, KEEP_SAVED_RUNS);
    }
    crate::timings::mark("report written");
    write_summaries(report, reports.junit.as_deref(), reports.markdown.as_deref(), &mut failures);
    failures
}

/// Writes `bytes` atomically to every path: the first is written, the others are hard
/// links to it where the file system allows (each renamed into place), else written too.
/// A path that fails is reported; the others are still tried.
fn write_copies(paths: &[PathBuf], bytes: &[u8], failures: &mut OutputFailures) {
    let Some((first, others)) = paths.split_first() else { return };
    let first_written = files::write_atomically(first, bytes, Durability::Durable);
    let linkable = first_written.is_ok();
    failures.check("the run report", first, first_written);
    for path in others {
        if !(linkable && files::link_atomically(first, path).is_ok()) {
            failures.check("the run report", path, files::write_atomically(path, bytes, Durability::Durable));
        }
    }
}

/// Removes the oldest saved runs (by modification time) in `dir` beyond `keep`, never
/// `current`. Best effort: a run that cannot tidy up still succeeded.
pub fn prune_saved_runs(dir: &Path, current: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut saved: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p != current)
        .filter_map(|p| Some((std::fs::symlink_metadata(&p).and_then(|m| m.modified()).ok()?, p)))
        .collect();
    // Newest first; the current run counts as one of the kept.
    saved.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    for (_, path) in saved.iter().skip(keep.saturating_sub(1)) {
        let _ = std::fs::remove_file(path);
    }
}

/// `--junit`, `--markdown` and `$GITHUB_STEP_SUMMARY` of a report (runs and `merge`), each
/// written independently (failures reported and counted in `failures`).
pub fn write_summaries(
    report: &RunReport,
    junit: Option<&Utf8Path>,
    markdown: Option<&Utf8Path>,
    failures: &mut OutputFailures,
) {
    if let Some(path) = junit {
        let path = path.as_std_path();
        let written = testplan_reporter::junit::to_junit_string(report)
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|text| files::write_atomically(path, text.as_bytes(), Durability::Durable));
        failures.check("JUnit XML", path, written);
    }
    let wants_step_summary = github::on_github_actions();
    if markdown.is_some() || wants_step_summary {
        let text = testplan_reporter::markdown::to_markdown(report);
        if let Some(path) = markdown {
            let path = path.as_std_path();
            let written = files::write_atomically(path, text.as_bytes(), Durability::Durable);
            failures.check("the Markdown summary", path, written);
        }
        if let Some(path) = github::step_summary_path().filter(|_| wants_step_summary) {
            let written = github::append_step_summary(&path, &text);
            failures.check("the Markdown summary ($GITHUB_STEP_SUMMARY)", &path, written);
        }
    }
}

/// Whether `--color` asks for color on stdout.
pub fn stdout_color(color: ColorChoice) -> bool {
    color.enabled(std::io::stdout().is_terminal())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_runs_keep_the_newest_and_the_current_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = |name: &str, age_secs: u64| {
            let path = dir.path().join(name);
            std::fs::write(&path, "{}").expect("write");
            let mtime = std::time::SystemTime::now() - std::time::Duration::from_secs(age_secs);
            std::fs::File::options()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_modified(mtime))
                .expect("mtime");
            path
        };
        let current = file("current.json", 1000);
        for (name, age) in [("a.json", 10), ("b.json", 20), ("c.json", 30), ("d.json", 40)] {
            file(name, age);
        }
        file("notes.txt", 500);
        prune_saved_runs(dir.path(), &current, 3);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["a.json", "b.json", "current.json", "notes.txt"]);
    }
}
