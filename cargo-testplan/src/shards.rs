//! `--partition` and `--timings` of run commands: the recorded durations a
//! `duration:K/N` shard is balanced by (a report given with `--timings`, else what this
//! machine recorded), for the planner to split every phase with
//! (`testplan_runner::partition`).

use std::path::Path;

use camino::Utf8Path;
use testplan_reporter::baseline::{history_dir, last_run_path};
use testplan_reporter::json::read_report;
use testplan_runner::history::History;
use testplan_runner::partition::{PartitionOutcome, Strategy, Timings};
use testplan_schema::RunReport;

use crate::commands::report::load;
use crate::error::AppError;
use crate::settings::Shard;

/// The recorded durations `--partition` balances by: the `--timings` report, else (for
/// `duration:K/N`) what this machine recorded (`history`, then its saved reports); none
/// for `count` and `hash`.
pub fn timings(shard: &Shard, target_dir: &Utf8Path, history: &History) -> Result<Timings, AppError> {
    Ok(match (&shard.timings, shard.partition.strategy) {
        (Some(file), _) => load_timings(file.as_std_path())?,
        (None, Strategy::Duration) => local_timings(target_dir.as_std_path(), history),
        (None, _) => Timings::new(),
    })
}

/// Says why `--partition duration:K/N` fell back to `count`, when it did.
pub fn warn(outcome: Option<&PartitionOutcome>) {
    if let Some(warning) = outcome.and_then(|o| o.warning.as_ref()) {
        eprintln!("warning: {warning}");
    }
}

/// Durations from a run report given with `--timings`.
pub fn load_timings(path: &Path) -> Result<Timings, AppError> {
    Ok(Timings::from_report(&load(path)?))
}

/// Durations this machine recorded: the runner's history (as read at the start), then the saved reports under
/// `<target-dir>/testplan/` (newest last, so it wins).
pub fn local_timings(target_dir: &Path, history: &History) -> Timings {
    let mut timings = Timings::from_history(history);
    let mut reports: Vec<RunReport> = saved_reports(target_dir);
    reports.sort_by(|a, b| a.started_at_unix.total_cmp(&b.started_at_unix));
    reports.iter().for_each(|r| timings.add_report(r));
    timings
}

fn saved_reports(target_dir: &Path) -> Vec<RunReport> {
    let mut paths = vec![last_run_path(target_dir)];
    if let Ok(entries) = std::fs::read_dir(history_dir(target_dir)) {
        paths.extend(
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")),
        );
    }
    paths.iter().filter_map(|p| read_report(p).ok()).collect()
}
