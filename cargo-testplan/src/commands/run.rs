//! `cargo testplan run | fast | full | PHASE`: the pipeline's steps — settings, build and
//! discover, plan, execute phase by phase with the reporters listening, save what the next
//! run needs, exit code.

use std::io::Write;

use clap::Parser;

use testplan_reporter::session::Baseline;
use testplan_runner::cancel::CancelToken;
use testplan_runner::events::{Event, RunStats};
use testplan_runner::execute::{DEFAULT_KILL_GRACE, ExecuteOptions, execute_phases};
use testplan_runner::history::{History, RecordedHistory};
use testplan_runner::model::TestList;
use testplan_runner::output::{DEFAULT_HEAD_BYTES, DEFAULT_TAIL_BYTES};
use testplan_runner::plan::TestPlan;
use testplan_runner::platform::containment::Containment;
use testplan_schema::{ResourcesReport, RunReport};

use crate::cli::{NoTests, RunArgs};
use crate::commands::{archive, daily};
use crate::coverage::RunCoverage;
use crate::doctest_cache::{DoctestCache, Lookup};
use crate::earlier::Earlier;
use crate::error::AppError;
use crate::outputs::{self, OutputFailures};
use crate::pipeline::{Pipeline, RunInputs};
use crate::run_reporter::{self, RunContext};
use crate::settings::{Invocation, RunSettings};
use crate::setup::Mode;
use crate::shards;

/// `--durations` leaves out tests faster than this by default (pytest's 0.005 s).
const DURATIONS_MIN: std::time::Duration = std::time::Duration::from_millis(5);

/// Runs the command.
pub fn exec(mode: Mode, mut args: RunArgs, argv: Vec<String>) -> Result<(), AppError> {
    args.take_libtest_args()?;
    let mut pipeline = Pipeline::start(&Invocation::run(&mode, &args))?;
    let prepared = crate::coverage::prepare(&mut pipeline, &args.coverage)?;
    let target_dir = pipeline.loaded.target_dir.clone();
    let mut earlier = Earlier::start_loading(&target_dir, &pipeline.settings.profile, &args);
    let (list, build) = pipeline.build_and_list()?;
    let history = earlier.history();
    let mut planned = plan_run(&pipeline, &list, &earlier, &history.history)?;
    // A cached doctest would cover nothing: --coverage runs them all.
    let lookup = if args.runner.no_cache { Lookup::Skip } else { Lookup::Serve };
    let mut doc_cache = prepared
        .is_none()
        .then(|| DoctestCache::for_run(&pipeline, build.as_ref(), &list, &mut planned.plan, lookup))
        .flatten();
    let mut opts = execute_options(&pipeline.settings, args.output.verbose)?;
    let ctx = run_context(&pipeline, &list, &planned, &earlier, &history.history, &args, argv);
    let baseline = earlier.baseline()?;
    let mut coverage = match prepared {
        Some(prepared) => {
            let built = (&list, pipeline.libraries.as_slice());
            let previous = baseline.as_ref().map(|b| &b.report);
            Some(RunCoverage::start(prepared, &args.coverage, built, previous)?)
        }
        None => None,
    };
    if let Some(coverage) = &coverage {
        opts.phase_env = coverage.phase_env(&planned.plan);
    }
    crate::timings::mark("ready to execute");
    let (report, stats) = run_and_report(
        &ctx,
        &opts,
        (&pipeline.settings, &pipeline.cancel),
        &args,
        (baseline, coverage.as_mut(), doc_cache.as_mut()),
    )?;
    crate::timings::mark("executed");
    if let Some(doc_cache) = doc_cache {
        doc_cache.finish();
    }
    let mut written = save_run(&report, &ctx, &args, earlier, history);
    if let Some(coverage) = &coverage {
        coverage.write_files(&mut written);
    }
    crate::timings::mark("wrote reports and history");
    crate::timings::mark_cpu();
    outcome(&stats, planned.to_run(), args.runner.no_tests, &pipeline.cancel, written)?;
    match coverage.map_or(0, |c| c.failed_gates()) {
        0 => Ok(()),
        failed => Err(AppError::CoverageGate(failed)),
    }
}

/// `cargo testplan PHASE [OPTIONS]`: the options of `run`, for one phase. (clap gives an
/// external subcommand at least its name.)
pub fn exec_phase(words: Vec<String>, argv: Vec<String>) -> Result<(), AppError> {
    let (phase, rest) = words.split_first().map_or(("", &[][..]), |(phase, rest)| (phase.as_str(), rest));
    let bin = format!("cargo testplan {phase}");
    let cli = crate::cli::PhaseCli::try_parse_from(std::iter::once(bin).chain(rest.iter().cloned()))?;
    exec(Mode::Phase(phase.to_owned()), cli.args, argv)
}

/// The plan of a run, with the run header's reason for its jobs.
#[derive(Debug)]
struct RunPlan {
    plan: TestPlan,
    jobs_reason: String,
}

impl RunPlan {
    /// Tests the run starts or takes from the doctest result cache (not skipped).
    fn to_run(&self) -> usize {
        self.plan.phases.iter().flat_map(|p| &p.planned).filter(|p| p.is_run() || p.is_cached()).count()
    }
}

/// The plan, made once from the settings and what earlier runs left.
fn plan_run(
    pipeline: &Pipeline,
    list: &TestList,
    earlier: &Earlier,
    history: &History,
) -> Result<RunPlan, AppError> {
    let settings = &pipeline.settings;
    let target_dir = &pipeline.loaded.target_dir;
    let timings = match &settings.partition {
        Some(shard) => Some(shards::timings(shard, target_dir, history)?),
        None => None,
    };
    let inputs = RunInputs { history, focus: earlier.focus.as_ref(), timings: timings.as_ref() };
    let plan = pipeline.plan_run(list, inputs);
    if pipeline.runs_from_archive() {
        let will_run = plan.phases.iter().flat_map(|phase| &phase.planned).filter(|p| p.is_run());
        archive::check_doctests_runnable(list, will_run.map(|p| p.test.0))?;
    }
    shards::warn(plan.partition.as_ref());
    let jobs_reason = settings.jobs_reason(plan.jobs.as_ref().map(|choice| choice.reason.as_str()));
    Ok(RunPlan { plan, jobs_reason })
}

/// The executor's options: the settings, with the run's containment set up.
fn execute_options(settings: &RunSettings, verbose: bool) -> Result<ExecuteOptions, AppError> {
    let containment = Containment::setup(settings.execution.containment, &settings.machine.resources.memory)?;
    if verbose {
        eprintln!("Containment: {containment}");
    }
    Ok(ExecuteOptions {
        fail_fast: settings.failure.fail_fast,
        max_fail: settings.failure.max_fail,
        no_capture: settings.execution.no_capture,
        kill_grace: DEFAULT_KILL_GRACE,
        output_head: DEFAULT_HEAD_BYTES,
        output_tail: DEFAULT_TAIL_BYTES,
        memory: settings.machine.memory_options(),
        retries: settings.execution.retries,
        slow_after: settings.execution.slow_after,
        phase_env: Vec::new(),
        containment: containment.is_cgroup().then(|| std::sync::Arc::new(containment)),
    })
}

fn run_context<'a>(
    pipeline: &'a Pipeline,
    list: &'a TestList,
    planned: &'a RunPlan,
    earlier: &Earlier,
    history: &History,
    args: &RunArgs,
    argv: Vec<String>,
) -> RunContext<'a> {
    let settings = &pipeline.settings;
    let resources = &settings.machine.resources;
    RunContext {
        list,
        test_plan: &planned.plan,
        config: pipeline.config(),
        history_key: earlier.saved_as(),
        profile: settings.profile.clone(),
        jobs_reason: planned.jobs_reason.clone(),
        resources: Some(ResourcesReport {
            cpus: resources.cpus.count,
            memory_limit_bytes: resources.memory.limit,
            memory_usable_bytes: resources.memory.usable,
            gpus: usize::from(settings.gpu.available),
            gpu_description: Some(settings.gpu.description.clone()),
        }),
        target_dir: &pipeline.loaded.target_dir,
        argv,
        expected_secs: expected_durations(list, history, settings.execution.no_progress),
        durations: args.daily.durations.map(|n| (n, args.daily.durations_min.unwrap_or(DURATIONS_MIN))),
        show_skipped: args.daily.show_skipped,
    }
}

/// Each test's recorded duration, for the progress bar's ETA (nothing when no bar is drawn).
fn expected_durations(list: &TestList, history: &History, no_progress: bool) -> Vec<Option<f64>> {
    use testplan_reporter::progress::ProgressMode;
    if ProgressMode::detect(no_progress) != ProgressMode::Bar {
        return Vec::new();
    }
    let tests = list.tests.iter().enumerate();
    let recorded = |(i, case): (usize, &testplan_runner::model::TestCase)| {
        let binary = &list.binary_of(testplan_runner::model::TestIdx(i)).id;
        history.get(binary, &case.name).map(|h| h.duration_secs)
    };
    tests.map(recorded).collect()
}

fn run_and_report(
    ctx: &RunContext<'_>,
    opts: &ExecuteOptions,
    (settings, cancel): (&RunSettings, &CancelToken),
    args: &RunArgs,
    (baseline, mut coverage, mut doc_cache): (
        Option<Baseline>,
        Option<&mut RunCoverage>,
        Option<&mut DoctestCache<'_>>,
    ),
) -> Result<(RunReport, RunStats), AppError> {
    let no_progress = settings.execution.no_progress;
    let mut reporter = run_reporter::run_reporter(ctx, &args.output, no_progress, baseline)?;
    let stats = execute_phases(ctx.list, &ctx.test_plan.phases, opts, cancel, &mut |event| {
        mark_event(event);
        if let Some(doc_cache) = doc_cache.as_deref_mut() {
            doc_cache.observe(event);
        }
        // A phase's (and the run's) coverage is measured before its summary is printed.
        if let Some(coverage) = coverage.as_deref_mut() {
            coverage.before_event(event, &mut reporter);
        }
        reporter.handle(event)
    });
    Ok((reporter.finish(), stats))
}

fn mark_event(event: &Event) {
    match event {
        Event::PhaseStarted { name, .. } => crate::timings::mark(&format!("phase {name} started")),
        Event::PhaseFinished { name, .. } => crate::timings::mark(&format!("phase {name} finished")),
        Event::RunFinished { .. } => crate::timings::mark("run finished"),
        Event::RunStarted { .. } => crate::timings::mark("run started"),
        _ => {}
    }
}

/// Saves what the next run needs: the history update (read, merge, write) on a thread of
/// its own, the report files, and the daily loop's state. Failures to save the history or
/// the loop state are warnings; failed report files are counted.
fn save_run(
    report: &RunReport,
    ctx: &RunContext<'_>,
    args: &RunArgs,
    earlier: Earlier,
    mut history: RecordedHistory,
) -> OutputFailures {
    std::thread::scope(|scope| {
        let saving = scope.spawn(move || {
            let saved = history.save(report, &mut |notice| eprintln!("warning: {notice}"));
            crate::timings::mark("history saved");
            saved
        });
        let history_key = ctx.history_key.as_deref();
        let report_json = args.runner.report_json.as_deref();
        let written =
            outputs::write_run_outputs(report, ctx.target_dir, history_key, report_json, &args.reports);
        let state = daily::update(earlier.loop_state, report, args.daily.stepwise);
        if let Err(e) = daily::save(&earlier.loop_path, &state) {
            eprintln!("warning: could not save the failed tests for --lf/--sw: {e}");
        }
        match saving.join() {
            Ok(Err(e)) => eprintln!("warning: could not save the test history: {e}"),
            Err(_) => eprintln!("warning: could not save the test history"),
            Ok(Ok(())) => {}
        }
        written
    })
}

/// The exit of a run; the first that applies wins (docs/exit-codes.md): interrupted, tests
/// failed, an output not written, no tests.
fn outcome(
    stats: &RunStats,
    to_run: usize,
    no_tests: NoTests,
    cancel: &CancelToken,
    outputs: OutputFailures,
) -> Result<(), AppError> {
    if cancel.is_cancelled() {
        return Err(AppError::Interrupted);
    }
    if stats.failures() > 0 {
        return Err(AppError::TestsFailed(stats.failures()));
    }
    outputs.into_result()?;
    if to_run == 0 {
        return match no_tests {
            NoTests::Fail => Err(AppError::NoTests),
            NoTests::Warn => {
                let _ = writeln!(std::io::stderr(), "warning: no tests to run");
                Ok(())
            }
            NoTests::Pass => Ok(()),
        };
    }
    Ok(())
}
