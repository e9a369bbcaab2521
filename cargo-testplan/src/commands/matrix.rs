//! `cargo testplan matrix [--shards N | --max-shard-time DURATION] --format github`: the CI
//! job matrix, one job per phase and shard, for GitHub Actions' `strategy.matrix`:
//!
//! ```json
//! {"include":[{"phase":"unit","partition":"count:1/2","runs-on":"ubuntu-latest","name":"unit 1/2"}]}
//! ```
//!
//! It reads only the configuration (no build): the phases of the profile, each phase's
//! `runs-on` label (GPU phases on GPU runners), and — for `--max-shard-time` — recorded
//! durations grouped by phase (`--timings FILE`, else the reports saved under the target
//! directory). Each job then runs `cargo testplan PHASE --partition PARTITION`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use testplan_markers::Config;
use testplan_markers::plan::Requirement;
use testplan_runner::partition::{self, Partition, Strategy};
use testplan_schema::RunReport;

use crate::cli::{CargoArgs, ColorChoice, FilterArgs, MatrixArgs, MatrixFormat, PlanArgs, StrategyArg};
use crate::commands::report::load;
use crate::error::AppError;
use crate::pipeline;
use crate::setup::{self, Mode};

/// One job of the matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MatrixJob {
    /// The phase: the job runs `cargo testplan PHASE`.
    pub phase: String,
    /// `--partition` of the job.
    pub partition: String,
    /// The runner label.
    #[serde(rename = "runs-on")]
    pub runs_on: String,
    /// A display name: `unit 1/2`.
    pub name: String,
}

#[derive(Serialize)]
struct GithubMatrix<'a> {
    include: &'a [MatrixJob],
}

/// A phase as the matrix sees it.
#[derive(Clone, Debug)]
struct PhaseInfo {
    name: String,
    runs_on: Option<String>,
    needs_gpu: bool,
}

/// Runs the command.
pub fn exec(args: MatrixArgs) -> Result<(), AppError> {
    let cargo = CargoArgs { manifest_path: args.manifest_path.clone(), ..CargoArgs::default() };
    let loaded = pipeline::load(&cargo.to_options(ColorChoice::Never))?;
    let phases = phases(&args, &loaded.plan.config)?;
    let durations = match (&args.max_shard_time, &args.timings) {
        (_, Some(file)) => durations_by_phase(&[load(file.as_std_path())?]),
        (Some(_), None) => durations_by_phase(&local_reports(&loaded)),
        (None, None) => BTreeMap::new(),
    };
    let mut jobs = Vec::new();
    for phase in &phases {
        let recorded = durations.get(&phase.name).map(Vec::as_slice).unwrap_or(&[]);
        let shards = shard_count(&args, &phase.name, recorded);
        jobs.extend(phase_jobs(phase, shards, strategy(&args), &args.runs_on));
        if phase.needs_gpu && phase.runs_on.is_none() {
            eprintln!(
                "warning: phase {} requires a GPU but has no `runs-on` in the configuration; its jobs get `{}`",
                phase.name, args.runs_on
            );
        }
    }
    if args.format == MatrixFormat::GithubWorkflow {
        print!("{}", crate::commands::workflow::github_workflow(&args));
        return Ok(());
    }
    print!("{}", render(&jobs, args.format)?);
    Ok(())
}

fn render(jobs: &[MatrixJob], format: MatrixFormat) -> Result<String, AppError> {
    Ok(match format {
        MatrixFormat::Github | MatrixFormat::GithubWorkflow => {
            let json = serde_json::to_string(&GithubMatrix { include: jobs }).map_err(|e| {
                AppError::WriteOutput { what: "the matrix".to_owned(), source: std::io::Error::other(e) }
            })?;
            format!("{json}\n")
        }
        MatrixFormat::Human => {
            let width = jobs.iter().map(|j| j.phase.len()).max().unwrap_or(0);
            jobs.iter()
                .map(|j| format!("{:<width$}  {:<14}  {}\n", j.phase, j.partition, j.runs_on))
                .collect()
        }
    })
}

fn strategy(args: &MatrixArgs) -> Strategy {
    match (args.strategy, args.max_shard_time) {
        (Some(StrategyArg::Count), _) => Strategy::Count,
        (Some(StrategyArg::Hash), _) => Strategy::Hash,
        (Some(StrategyArg::Duration), _) | (None, Some(_)) => Strategy::Duration,
        (None, None) => Strategy::Count,
    }
}

/// The phases of the profile (and `--phase`), in plan order.
fn phases(args: &MatrixArgs, config: &Config) -> Result<Vec<PhaseInfo>, AppError> {
    let plan_args =
        PlanArgs { profile: args.profile.clone(), phase: args.phase.clone(), ..PlanArgs::default() };
    let filter = FilterArgs::default();
    let selection = setup::selection(config, &Mode::Profile("run".to_owned()), &plan_args, &filter)?;
    Ok(selection
        .phases
        .iter()
        .map(|&idx| {
            let phase = config.plan.phase(idx);
            PhaseInfo {
                name: phase.name.clone(),
                runs_on: phase.runs_on.clone(),
                needs_gpu: phase.requires.contains(&Requirement::Gpu),
            }
        })
        .collect())
}

/// Saved reports under the workspace's target directory (for `--max-shard-time` without
/// `--timings`).
fn local_reports(loaded: &pipeline::Loaded) -> Vec<RunReport> {
    let target = loaded.target_dir.as_std_path();
    let mut paths = vec![testplan_reporter::baseline::last_run_path(target)];
    if let Ok(entries) = std::fs::read_dir(testplan_reporter::baseline::history_dir(target)) {
        paths.extend(entries.flatten().map(|e| e.path()));
    }
    let mut reports: Vec<RunReport> =
        paths.iter().filter_map(|p| testplan_reporter::json::read_report(p).ok()).collect();
    reports.sort_by(|a, b| a.started_at_unix.total_cmp(&b.started_at_unix));
    reports
}

/// Recorded durations of the tests that ran, by phase; a later report's record of a test
/// replaces an earlier one.
fn durations_by_phase(reports: &[RunReport]) -> BTreeMap<String, Vec<f64>> {
    let mut latest: BTreeMap<(String, String), (String, f64)> = BTreeMap::new();
    for test in reports.iter().flat_map(|r| &r.tests).filter(|t| t.status.ran()) {
        if let Some(phase) = &test.phase {
            latest.insert((test.binary_id.clone(), test.name.clone()), (phase.clone(), test.duration_secs));
        }
    }
    let mut by_phase: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (phase, secs) in latest.into_values() {
        by_phase.entry(phase).or_default().push(secs);
    }
    by_phase
}

fn shard_count(args: &MatrixArgs, phase: &str, recorded: &[f64]) -> usize {
    if let Some(n) = args.shards {
        return n;
    }
    let Some(max) = args.max_shard_time else {
        return 1;
    };
    if recorded.is_empty() {
        eprintln!(
            "warning: no recorded durations for phase {phase}; giving it one shard (pass --timings FILE)"
        );
        return 1;
    }
    shards_within(recorded, max)
}

/// The fewest shards whose largest longest-first split of `durations` fits in `max` (one per
/// test at most: a single test longer than `max` cannot be split).
pub fn shards_within(durations: &[f64], max: Duration) -> usize {
    let max = max.as_secs_f64();
    let total: f64 = durations.iter().sum();
    let start = ((total / max).ceil() as usize).clamp(1, durations.len().max(1));
    (start..=durations.len().max(1))
        .find(|&n| {
            let split = partition::longest_first(durations, n);
            partition::loads(durations, &split, n).iter().all(|load| *load <= max)
        })
        .unwrap_or(durations.len().max(1))
}

fn phase_jobs(phase: &PhaseInfo, shards: usize, strategy: Strategy, default_runs_on: &str) -> Vec<MatrixJob> {
    (1..=shards)
        .map(|index| MatrixJob {
            phase: phase.name.clone(),
            partition: Partition { strategy, index, total: shards }.to_string(),
            runs_on: phase.runs_on.clone().unwrap_or_else(|| default_runs_on.to_owned()),
            name: format!("{} {index}/{shards}", phase.name),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_count_fits_the_longest_shard_under_the_limit() {
        let durations = [50.0, 40.0, 30.0, 20.0, 10.0];
        assert_eq!(shards_within(&durations, Duration::from_secs(150)), 1);
        // 150 s in all, but no split into two reaches 75 s each: the best is 80 + 70.
        assert_eq!(shards_within(&durations, Duration::from_secs(80)), 2);
        assert_eq!(shards_within(&durations, Duration::from_secs(75)), 3);
        assert_eq!(shards_within(&durations, Duration::from_secs(50)), 3);
        // One test longer than the limit: as many shards as tests, no more.
        assert_eq!(shards_within(&[100.0, 1.0], Duration::from_secs(10)), 2);
    }

    #[test]
    fn github_matrix_lists_phase_shard_and_runner() {
        let gpu = PhaseInfo { name: "gpu".to_owned(), runs_on: Some("gpu-box".to_owned()), needs_gpu: true };
        let jobs = phase_jobs(&gpu, 2, Strategy::Hash, "ubuntu-latest");
        let text = render(&jobs, MatrixFormat::Github).expect("render");
        assert_eq!(
            text,
            "{\"include\":[{\"phase\":\"gpu\",\"partition\":\"hash:1/2\",\"runs-on\":\"gpu-box\",\"name\":\"gpu 1/2\"},\
             {\"phase\":\"gpu\",\"partition\":\"hash:2/2\",\"runs-on\":\"gpu-box\",\"name\":\"gpu 2/2\"}]}\n"
        );
    }
}
