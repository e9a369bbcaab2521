//! `cargo testplan report FILE --format human|markdown|junit|json`: re-renders a saved run
//! report. Also the reporting side of run commands, kept here so `run.rs` stays about
//! running: the partition of the plan, the reporters of a run (progress, summaries,
//! baseline, annotations), and the files written after it (`last-run.json`, the profile's
//! history, `--report-json`, `--junit`, `--markdown`, `$GITHUB_STEP_SUMMARY`).

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use camino::Utf8Path;
use testplan_markers::Config;
use testplan_reporter::baseline::{history_dir, history_path, last_run_path};
use testplan_reporter::github;
use testplan_reporter::human::{HeaderInfo, HumanReporter, Style, Verbosity, render_report};
use testplan_reporter::json::{JsonReportBuilder, RunMeta, read_report};
use testplan_reporter::progress::{ProgressBars, ProgressMode};
use testplan_reporter::session::{Baseline, RunReporter};
use testplan_runner::files::{self, Durability};
use testplan_runner::model::{TestIdx, TestList};
use testplan_runner::partition::{self, PartitionOutcome, Timings};
use testplan_runner::plan::TestPlan;
use testplan_schema::{DeselectedCounts, ResourcesReport, RunReport, TestRef};

use crate::cli::{
    ColorChoice, OutputArgs, PartitionArgs, ReportArgs, ReportFormat, ReportOutputArgs, RunArgs,
};
use crate::error::AppError;
use crate::setup::Mode;

/// Plain progress lines come at most this often when no bar is drawn.
const PLAIN_PROGRESS_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);

/// Runs `cargo testplan report`.
pub fn exec(args: ReportArgs) -> Result<(), AppError> {
    let report = load(args.file.as_std_path())?;
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let text = render(&report, args.format, args.color.enabled(to_terminal))?;
    match &args.output {
        Some(path) => write_file(path.as_std_path(), text.as_bytes(), "the report"),
        None => print(&text),
    }
}

/// `report` in one of its formats.
pub fn render(report: &RunReport, format: ReportFormat, color: bool) -> Result<String, AppError> {
    Ok(match format {
        ReportFormat::Human => render_report(report, Style { color }),
        ReportFormat::Markdown => testplan_reporter::markdown::to_markdown(report),
        ReportFormat::Junit => junit_text(report)?,
        ReportFormat::Json => {
            let mut text = serde_json::to_string_pretty(report).map_err(|e| write_error("the report", e))?;
            text.push('\n');
            text
        }
    })
}

fn junit_text(report: &RunReport) -> Result<String, AppError> {
    testplan_reporter::junit::to_junit_string(report).map_err(|e| write_error("JUnit XML", e))
}

/// Reads a run report given on the command line.
pub fn load(path: &Path) -> Result<RunReport, AppError> {
    read_report(path).map_err(|e| AppError::Config(e.to_string()))
}

fn print(text: &str) -> Result<(), AppError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| write_error("to stdout", e))
}

fn write_error(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::WriteOutput { what: what.to_owned(), source: std::io::Error::other(e.to_string()) }
}

fn write_file(path: &Path, bytes: &[u8], what: &str) -> Result<(), AppError> {
    files::write_atomically(path, bytes, Durability::Durable)
        .map_err(|source| AppError::WriteOutput { what: format!("{what} to {}", path.display()), source })
}

/// The profile a run reports: `run`, `fast`, `full`, `--profile NAME`, or `phase:NAME`.
pub fn profile_name(mode: &Mode, profile: Option<&str>) -> String {
    match mode {
        Mode::Profile(name) => profile.unwrap_or(name).to_owned(),
        Mode::Phase(name) => format!("phase:{name}"),
    }
}

/// The name of a run's history file: the profile, the partition, and a short hash of the
/// selection options when there are any, so a run compares with the previous run that
/// selected the same way.
pub fn history_key(profile: &str, args: &RunArgs) -> String {
    let mut key = profile.to_owned();
    if let Some(partition) = &args.partition.partition {
        key.push_str(&format!("+{partition}"));
    }
    let options = [
        ("m", args.plan.markers.clone().unwrap_or_default()),
        ("k", args.plan.keyword.clone().unwrap_or_default()),
        ("phase", args.plan.phase.join(",")),
        ("filter", args.filter.filters.join("\u{1}")),
        ("skip", args.filter.skip.join("\u{1}")),
        ("exact", if args.filter.exact { "yes".to_owned() } else { String::new() }),
        ("ignored", args.filter.run_ignored.map(|r| format!("{r:?}")).unwrap_or_default()),
        ("p", args.cargo.packages.join(",")),
        ("exclude", args.cargo.exclude.join(",")),
        ("workspace", flag(args.cargo.workspace)),
        ("targets", target_selection(&args.cargo)),
        ("features", args.cargo.features.join(",")),
        ("all-features", flag(args.cargo.all_features)),
        ("no-default-features", flag(args.cargo.no_default_features)),
        ("release", flag(args.cargo.release)),
        ("cargo-profile", args.cargo.cargo_profile.clone().unwrap_or_default()),
        ("target", args.cargo.target.clone().unwrap_or_default()),
        ("manifest", args.cargo.manifest_path.as_ref().map(ToString::to_string).unwrap_or_default()),
    ];
    let given: Vec<String> =
        options.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={v}")).collect();
    if !given.is_empty() {
        let hash = partition::stable_hash(&given.join("\u{0}"), "");
        key.push_str(&format!("+{:08x}", hash as u32));
    }
    key
}

fn flag(on: bool) -> String {
    if on { "yes".to_owned() } else { String::new() }
}

/// `--lib`, `--bins`, `--bin NAME`, `--tests`, `--test NAME`, ... as one key part.
fn target_selection(cargo: &crate::cli::CargoArgs) -> String {
    let flags = [
        ("lib", cargo.lib),
        ("bins", cargo.bins),
        ("tests", cargo.tests),
        ("examples", cargo.examples),
        ("benches", cargo.benches),
        ("all-targets", cargo.all_targets),
        ("doc", cargo.doc),
    ];
    let mut parts: Vec<String> =
        flags.iter().filter(|(_, on)| *on).map(|(name, _)| (*name).to_owned()).collect();
    parts.extend(cargo.bin.iter().map(|b| format!("bin:{b}")));
    parts.extend(cargo.test.iter().map(|t| format!("test:{t}")));
    parts.join(",")
}

/// Applies `--partition` to the plan (after `plan::build`), printing the fallback warning.
pub fn apply_partition(
    test_plan: &mut TestPlan,
    list: &TestList,
    args: &PartitionArgs,
    target_dir: &Utf8Path,
) -> Result<Option<PartitionOutcome>, AppError> {
    let Some(partition) = args.partition else {
        if args.timings.is_some() {
            return Err(AppError::Usage("--timings needs --partition duration:K/N".to_owned()));
        }
        return Ok(None);
    };
    let timings = match (&args.timings, partition.strategy) {
        (Some(file), _) => load_timings(file.as_std_path())?,
        (None, partition::Strategy::Duration) => local_timings(target_dir.as_std_path()),
        (None, _) => Timings::new(),
    };
    let outcome = partition::apply(test_plan, list, partition, &timings);
    if let Some(warning) = &outcome.warning {
        eprintln!("warning: {warning}");
    }
    Ok(Some(outcome))
}

/// Durations from a run report given with `--timings`.
pub fn load_timings(path: &Path) -> Result<Timings, AppError> {
    Ok(Timings::from_report(&load(path)?))
}

/// Durations this machine recorded: the runner's history, then the saved reports under
/// `<target-dir>/testplan/` (newest last, so it wins).
pub fn local_timings(target_dir: &Path) -> Timings {
    let history = testplan_runner::history::History::path_in(&utf8(target_dir));
    let mut timings = testplan_runner::history::History::load(history.as_std_path())
        .map(|h| Timings::from_history(&h))
        .unwrap_or_default();
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

/// Everything about a run its reporters need.
#[derive(Debug)]
pub struct RunContext<'a> {
    /// The tests.
    pub list: &'a TestList,
    /// The plan (after the partition).
    pub test_plan: &'a TestPlan,
    /// The configuration (markers' time budgets, phase order).
    pub config: &'a Config,
    /// [`profile_name`].
    pub profile: String,
    /// [`history_key`]; `None` for a run narrowed by `--lf` / `--sw`, which is not saved
    /// as the selection's last run.
    pub history_key: Option<String>,
    /// Why `jobs` has its value.
    pub jobs_reason: String,
    /// The machine, when probed.
    pub resources: Option<ResourcesReport>,
    /// What `--partition` did.
    pub partition: Option<PartitionOutcome>,
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
    reports: &ReportOutputArgs,
    baseline: Option<Baseline>,
) -> Result<RunReporter<'a>, AppError> {
    let stdout = std::io::stdout();
    let color = output.color.enabled(stdout.is_terminal());
    let verbosity = match (output.quiet, output.verbose) {
        (true, _) => Verbosity::Quiet,
        (_, true) => Verbosity::Verbose,
        _ => Verbosity::Normal,
    };
    let mode = ProgressMode::detect(reports.no_progress);
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
        partition: ctx.partition.as_ref().map(|p| p.applied.to_string()),
        partition_deselected: ctx.partition.as_ref().map_or(0, PartitionOutcome::total_deselected),
    }
}

fn meta(ctx: &RunContext<'_>) -> RunMeta {
    let plan = ctx.test_plan;
    let phase_positions =
        ctx.config.plan.phases().iter().enumerate().map(|(i, p)| (p.name.clone(), i)).collect();
    let partition_deselected = match &ctx.partition {
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
        partition: ctx.partition.as_ref().map(|p| p.applied.to_string()),
        deselected: DeselectedCounts {
            filters: plan.deselected,
            other_phases: plan.other_phases,
            not_in_plan: plan.not_in_plan.len(),
            partition: ctx.partition.as_ref().map_or(0, PartitionOutcome::total_deselected),
        },
        not_in_plan,
        warnings: ctx.partition.iter().filter_map(|p| p.warning.clone()).collect(),
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
pub fn write_run_outputs(
    report: &RunReport,
    ctx: &RunContext<'_>,
    report_json: Option<&Utf8Path>,
    reports: &ReportOutputArgs,
) -> OutputFailures {
    let mut failures = OutputFailures::default();
    let target = ctx.target_dir.as_std_path();
    let history = ctx.history_key.as_deref().map(|key| history_path(target, key));
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
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn key(extra: &[&str]) -> String {
        let argv = ["cargo-testplan", "run"].iter().chain(extra).copied();
        let Command::Run(args) = Cli::try_parse_from(argv).expect("parse").command else {
            panic!("not run");
        };
        history_key(&profile_name(&Mode::Profile("run".to_owned()), args.plan.profile.as_deref()), &args)
    }

    #[test]
    fn runs_compare_with_the_last_run_that_selected_alike() {
        assert_eq!(key(&[]), "run");
        assert_eq!(key(&["--profile", "nightly"]), "nightly");
        assert_eq!(key(&["--partition", "hash:1/2"]), "run+hash:1/2");
        assert_eq!(key(&["--no-fail-fast", "-j", "3"]), "run", "options that select nothing keep the key");
        for narrowing in [
            &["--test", "extra"][..],
            &["--lib"],
            &["--bin", "app"],
            &["--doc"],
            &["-F", "gpu"],
            &["--all-features"],
            &["--release"],
            &["--target", "x86_64-unknown-linux-musl"],
            &["-p", "app"],
        ] {
            assert_ne!(key(narrowing), "run", "{narrowing:?} selects other tests: its own key");
        }
        assert_ne!(key(&["--test", "a"]), key(&["--test", "b"]));
        assert_eq!(key(&["--lf", "--ff", "--sw", "--durations", "3"]), "run", "the daily loop keeps the key");
        let (slow, unit) = (key(&["-m", "slow"]), key(&["-m", "unit"]));
        assert!(slow.starts_with("run+") && slow != unit, "{slow} {unit}");
        assert_eq!(profile_name(&Mode::Phase("unit".to_owned()), None), "phase:unit");
    }

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
