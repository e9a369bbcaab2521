//! The reporters of a run: human output with progress on stdout, the report builder, the
//! comparison with a baseline (read in the background), and annotations on GitHub Actions,
//! all fed from the executor's events.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use camino::Utf8Path;
use testplan_markers::Config;
use testplan_reporter::baseline::history_path;
use testplan_reporter::github;
use testplan_reporter::human::{HeaderInfo, HumanReporter, Verbosity};
use testplan_reporter::json::{JsonReportBuilder, RunMeta, read_report};
use testplan_reporter::progress::{ProgressBars, ProgressMode};
use testplan_reporter::session::{Baseline, RunReporter};
use testplan_runner::model::{TestIdx, TestList};
use testplan_runner::partition::PartitionOutcome;
use testplan_runner::plan::TestPlan;
use testplan_schema::{DeselectedCounts, ResourcesReport, TestRef};

use crate::cli::{OutputArgs, ReportOutputArgs};
use crate::commands::report::load;
use crate::error::AppError;

/// Plain progress lines come at most this often when no bar is drawn.
const PLAIN_PROGRESS_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);

/// Everything about a run its reporters need.
#[derive(Debug)]
pub struct RunContext<'a> {
    /// The tests.
    pub list: &'a TestList,
    /// The plan (after the partition).
    pub test_plan: &'a TestPlan,
    /// The configuration (markers' time budgets, phase order).
    pub config: &'a Config,
    /// [`crate::settings::profile_name`].
    pub profile: String,
    /// [`crate::history_key::history_key`]; `None` for a run narrowed by `--lf` / `--sw`, which is not saved
    /// as the selection's last run.
    pub history_key: Option<String>,
    /// Why `jobs` has its value.
    pub jobs_reason: String,
    /// The machine, when probed.
    pub resources: Option<ResourcesReport>,
    /// The target directory (reports and history live under it).
    pub target_dir: &'a Utf8Path,
    /// The command line.
    pub argv: Vec<String>,
    /// `--durations N` and `--durations-min`.
    pub durations: Option<(usize, std::time::Duration)>,
    /// `--show-skipped`.
    pub show_skipped: bool,
    /// Recorded durations by test index (for the progress bar's ETA; empty without a bar).
    pub expected_secs: Vec<Option<f64>>,
}

/// The reporters of a run: human output with progress on stdout, the report builder, the
/// baseline comparison, and annotations on GitHub Actions.
pub fn run_reporter<'a>(
    ctx: &RunContext<'a>,
    output: &OutputArgs,
    no_progress: bool,
    baseline: Option<Baseline>,
) -> Result<RunReporter<'a>, AppError> {
    let stdout = std::io::stdout();
    let color = output.color.enabled(stdout.is_terminal());
    let verbosity = match (output.quiet, output.verbose) {
        (true, _) => Verbosity::Quiet,
        (_, true) => Verbosity::Verbose,
        _ => Verbosity::Normal,
    };
    let mode = ProgressMode::detect(no_progress);
    let mut human = HumanReporter::new(ctx.list, verbosity, color, header(ctx));
    if mode == ProgressMode::Plain {
        human = human.with_plain_progress(PLAIN_PROGRESS_INTERVAL);
    }
    if let Some((count, min)) = ctx.durations {
        human = human.with_durations(count, min);
    }
    if ctx.show_skipped {
        human = human.with_skipped_list();
    }
    let json = JsonReportBuilder::new(ctx.list, ctx.argv.clone())
        .with_plan(ctx.test_plan, &ctx.config.registry)
        .with_meta(meta(ctx));
    let mut bars = ProgressBars::new(mode == ProgressMode::Bar);
    if bars.enabled() {
        let names = (0..ctx.list.tests.len())
            .map(|i| testplan_reporter::sanitize::inline(&ctx.list.display_name(TestIdx(i))).into_owned())
            .collect();
        let phases =
            ctx.test_plan.phases.iter().map(|p| p.planned.iter().map(|t| t.test).collect()).collect();
        bars = bars.with_tests(names, ctx.expected_secs.clone(), phases);
    }
    let (list, test_plan) = (ctx.list, ctx.test_plan);
    let mut reporter = RunReporter::new(json, human, bars, Box::new(stdout))
        .with_baseline(baseline, move || planned_keys(list, test_plan));
    if github::on_github_actions() {
        reporter = reporter.with_annotations(std::env::var_os("GITHUB_WORKSPACE").map(PathBuf::from));
    }
    Ok(reporter)
}

fn header(ctx: &RunContext<'_>) -> HeaderInfo {
    HeaderInfo {
        filtered_out: ctx.test_plan.deselected,
        other_phases: ctx.test_plan.other_phases,
        not_in_plan: ctx.test_plan.not_in_plan.iter().map(|t| ctx.list.display_name(*t)).collect(),
        jobs_reason: ctx.jobs_reason.clone(),
        partition: ctx.test_plan.partition.as_ref().map(|p| p.applied.to_string()),
        partition_deselected: ctx.test_plan.partition.as_ref().map_or(0, PartitionOutcome::total_deselected),
    }
}

fn meta(ctx: &RunContext<'_>) -> RunMeta {
    let plan = ctx.test_plan;
    let phase_positions =
        ctx.config.plan.phases().iter().enumerate().map(|(i, p)| (p.name.clone(), i)).collect();
    let partition_deselected = match &ctx.test_plan.partition {
        Some(outcome) => {
            plan.phases.iter().map(|p| p.name.clone()).zip(outcome.deselected.iter().copied()).collect()
        }
        None => Default::default(),
    };
    let not_in_plan = plan
        .not_in_plan
        .iter()
        .map(|t| TestRef {
            binary_id: ctx.list.binary_of(*t).id.clone(),
            name: ctx.list.test(*t).name.clone(),
            phase: None,
        })
        .collect();
    RunMeta {
        profile: Some(ctx.profile.clone()),
        jobs_reason: Some(ctx.jobs_reason.clone()).filter(|r| !r.is_empty()),
        resources: ctx.resources.clone(),
        partition: ctx.test_plan.partition.as_ref().map(|p| p.applied.to_string()),
        deselected: DeselectedCounts {
            filters: plan.deselected,
            other_phases: plan.other_phases,
            not_in_plan: plan.not_in_plan.len(),
            partition: ctx.test_plan.partition.as_ref().map_or(0, PartitionOutcome::total_deselected),
        },
        not_in_plan,
        warnings: ctx.test_plan.partition.iter().filter_map(|p| p.warning.clone()).collect(),
        phase_positions,
        partition_deselected,
    }
}

fn planned_keys<'a>(list: &'a TestList, test_plan: &TestPlan) -> HashSet<(&'a str, &'a str)> {
    let planned = test_plan.phases.iter().flat_map(|p| &p.planned);
    planned.map(|p| (list.binary_of(p.test).id.as_str(), list.test(p.test).name.as_str())).collect()
}

/// `--baseline FILE` (an error when unreadable), else the previous run of the same profile
/// (ignored when unreadable: it is only a convenience).
/// The baseline a run is compared with, read in the background: parsing the previous
/// report of a large suite takes milliseconds the build and the listing can hide.
/// `skip`: compare with nothing (`--no-baseline`, a narrowed run).
pub fn read_baseline_in_background(
    target_dir: &Utf8Path,
    history_key: &str,
    reports: &ReportOutputArgs,
    skip: bool,
) -> std::thread::JoinHandle<Result<Option<Baseline>, AppError>> {
    let path = history_path(target_dir.as_std_path(), history_key);
    let file = reports.baseline.clone();
    std::thread::spawn(move || baseline(skip, file.as_deref(), &path))
}

fn baseline(skip: bool, file: Option<&Utf8Path>, history: &Path) -> Result<Option<Baseline>, AppError> {
    if skip {
        return Ok(None);
    }
    if let Some(file) = file {
        let report = load(file.as_std_path())?;
        return Ok(Some(Baseline::new(report, file.to_string())));
    }
    Ok(read_report(history)
        .ok()
        .map(|report| Baseline::new(report, crate::setup::display_path(&utf8(history)))))
}

fn utf8(path: &Path) -> camino::Utf8PathBuf {
    camino::Utf8PathBuf::from(path.to_string_lossy().into_owned())
}
