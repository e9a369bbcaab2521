//! `cargo testplan run | fast | full | PHASE`: load the configuration, resolve the
//! selection, build, discover, plan, execute phase by phase, report, exit code.

use std::io::Write;

use clap::Parser;

use testplan_markers::RunIgnored;
use testplan_reporter::session::Baseline;
use testplan_runner::cancel::CancelToken;
use testplan_runner::discover::IgnoredDoctests;
use testplan_runner::events::{Event, RunStats};
use testplan_runner::execute::{DEFAULT_KILL_GRACE, DEFAULT_TIMEOUT, ExecuteOptions, execute_phases};
use testplan_runner::output::{DEFAULT_HEAD_BYTES, DEFAULT_TAIL_BYTES};
use testplan_runner::plan::{self, PlanRequest, RunMemory};
use testplan_runner::platform::containment::Containment;
use testplan_schema::{ResourcesReport, RunReport};

use crate::cli::{NoTests, RunArgs};
use crate::commands::{daily, report};
use crate::error::AppError;
use crate::pipeline::{self, cancel_token};
use crate::setup::{self, Mode};

/// `--durations` leaves out tests faster than this by default (pytest's 0.005 s).
const DURATIONS_MIN: std::time::Duration = std::time::Duration::from_millis(5);

/// Runs the command.
pub fn exec(mode: Mode, mut args: RunArgs, argv: Vec<String>) -> Result<(), AppError> {
    args.take_libtest_args().map_err(AppError::Usage)?;
    if args.runner.no_capture {
        // Output straight to the terminal: one test at a time, each in a process of its own
        // (a batch's output is read for its results), no progress bar drawn over it.
        args.runner.jobs = Some(1);
        args.runner.isolation = Some(crate::cli::IsolationArg::Process);
        args.reports.no_progress = true;
    }
    let cancel = cancel_token()?;
    let mut cargo_opts = args.cargo.to_options(args.output.color);
    let env_build_jobs = std::env::var("CARGO_BUILD_JOBS").ok();
    let mut memory = RunMemory::probe(args.runner.memory_budget, env_build_jobs.as_deref());
    cargo_opts.build_jobs = memory.build_jobs.as_ref().map(|cap| cap.jobs);
    crate::timings::mark("probed resources");
    let early_build = pipeline::start_early_build(&cargo_opts)?;
    let loaded = pipeline::load(&cargo_opts)?;
    crate::timings::mark("loaded metadata and configuration");
    let profile = report::profile_name(&mode, args.plan.profile.as_deref());
    let history_key = report::history_key(&profile, &args);
    let loop_path = daily::state_path(loaded.workspace.target_dir.as_std_path(), &history_key);
    let loop_state = daily::load(&loop_path);
    let (focus, notices) = daily::focus(&args.daily, &loop_state);
    notices.iter().for_each(|notice| eprintln!("note: {notice}"));
    let narrowed = daily::narrows(focus.as_ref());
    // A run narrowed by --lf / --sw is not compared with (nor saved as) a run of its selection.
    let skip_baseline = args.reports.no_baseline || (narrowed && args.reports.baseline.is_none());
    let baseline = report::read_baseline_in_background(
        &loaded.workspace.target_dir,
        &history_key,
        &args.reports,
        skip_baseline,
    );
    let history = RunMemory::start_loading_history(&loaded.workspace.target_dir);
    let config = &loaded.plan.config;
    let selection = setup::selection(config, &mode, &args.plan, &args.filter)?;
    let gpu = setup::gpu_status(args.plan.gpu)?;
    let default_jobs = args.runner.jobs.unwrap_or(memory.resources.cpus.count).max(1);
    // A run that never runs ignored tests learns which doctests are ignored from their batch.
    let ignored_doctests = match selection.run_ignored {
        RunIgnored::Default => IgnoredDoctests::FromResults,
        RunIgnored::Only | RunIgnored::All => IgnoredDoctests::Listed,
    };
    let list = pipeline::build_and_discover(
        &loaded,
        early_build,
        &cargo_opts,
        (default_jobs, ignored_doctests),
        &cancel,
    )?;
    crate::timings::mark("built and listed");
    if let Some(warning) = memory.finish_loading_history(history) {
        eprintln!("warning: {warning}");
    }
    let names = args.filter.to_filter();
    let request = PlanRequest {
        config,
        selection: &selection,
        names: &names,
        gpu: &gpu,
        default_jobs,
        jobs_override: args.runner.jobs,
        default_timeout: DEFAULT_TIMEOUT,
        timeout_override: args.runner.timeout,
        isolation_override: args.runner.isolation.map(Into::into),
        focus: focus.as_ref(),
    };
    let mut test_plan = plan::build(&list, &request);
    let partition =
        report::apply_partition(&mut test_plan, &list, &args.partition, &loaded.workspace.target_dir)?;
    crate::timings::mark("planned");
    let jobs_reason = memory.plan(&mut test_plan, &list, args.runner.memory_limit, args.runner.jobs);
    // --ff orders by the last failures, --sw needs the same order run after run.
    if !(args.daily.failed_first || args.daily.stepwise) {
        plan::order_slowest_first(&mut test_plan, &list, &memory.history);
    }
    let max_fail = args.daily.max_fail();
    let fail_fast = max_fail.is_some() || (!args.runner.no_fail_fast && selection.fail_fast.unwrap_or(true));
    if fail_fast && selection.fail_fast == Some(true) {
        // A profile's `fail-fast = true` stops the run at the first failure, whatever the
        // phases' `on-failure` says.
        test_plan.phases.iter_mut().for_each(|phase| phase.continue_on_failure = false);
    }
    let containment = Containment::setup(args.runner.containment.into(), &memory.resources.memory)
        .map_err(|e| AppError::Usage(e.to_string()))?;
    if args.output.verbose {
        eprintln!("Containment: {containment}");
    }
    let opts = ExecuteOptions {
        jobs: default_jobs,
        fail_fast,
        max_fail: max_fail.unwrap_or(1),
        no_capture: args.runner.no_capture,
        timeout: args.runner.timeout.unwrap_or(DEFAULT_TIMEOUT),
        kill_grace: DEFAULT_KILL_GRACE,
        output_head: DEFAULT_HEAD_BYTES,
        output_tail: DEFAULT_TAIL_BYTES,
        memory: memory.execute_options(),
        retries: args.runner.retries,
        slow_after: args.runner.slow_after.0,
        containment: containment.is_cgroup().then(|| std::sync::Arc::new(containment)),
    };
    let ctx = report::RunContext {
        list: &list,
        test_plan: &test_plan,
        config,
        history_key: (!narrowed).then_some(history_key),
        profile,
        jobs_reason,
        resources: Some(ResourcesReport {
            cpus: memory.resources.cpus.count,
            memory_limit_bytes: memory.resources.memory.limit,
            memory_usable_bytes: memory.resources.memory.usable,
            gpus: usize::from(gpu.available),
            gpu_description: Some(gpu.description.clone()),
        }),
        partition,
        target_dir: &loaded.workspace.target_dir,
        argv,
        expected_secs: expected_durations(&list, &memory.history, args.reports.no_progress),
        durations: args.daily.durations.map(|n| (n, args.daily.durations_min.unwrap_or(DURATIONS_MIN))),
        show_skipped: args.daily.show_skipped,
    };
    let baseline = baseline.join().unwrap_or(Ok(None))?;
    crate::timings::mark("ready to execute");
    let report = run_and_report(&ctx, &opts, &cancel, &args, baseline)?;
    crate::timings::mark("executed");
    // The history update (read, merge, write) and the report files are independent: one
    // thread each, so the run ends sooner.
    let written = std::thread::scope(|scope| {
        let memory = &mut memory;
        let history = scope.spawn(|| {
            let saved = memory.save_history(&report.0, &mut |notice| eprintln!("warning: {notice}"));
            crate::timings::mark("history saved");
            saved
        });
        let written =
            report::write_run_outputs(&report.0, &ctx, args.runner.report_json.as_deref(), &args.reports);
        let state = daily::update(loop_state, &report.0, args.daily.stepwise);
        if let Err(e) = daily::save(&loop_path, &state) {
            eprintln!("warning: could not save the failed tests for --lf/--sw: {e}");
        }
        match history.join() {
            Ok(Err(e)) => eprintln!("warning: could not save the test history: {e}"),
            Err(_) => eprintln!("warning: could not save the test history"),
            Ok(Ok(())) => {}
        }
        written
    });
    crate::timings::mark("wrote reports and history");
    crate::timings::mark_cpu();
    let to_run = test_plan.phases.iter().flat_map(|p| &p.planned).filter(|p| p.is_run()).count();
    outcome(&report.1, to_run, args.runner.no_tests, &cancel, written)
}

/// `cargo testplan PHASE [OPTIONS]`: the options of `run`, for one phase.
pub fn exec_phase(words: Vec<String>, argv: Vec<String>) -> Result<(), AppError> {
    let Some((phase, rest)) = words.split_first() else {
        return Err(AppError::Usage("missing command".to_owned()));
    };
    let bin = format!("cargo testplan {phase}");
    let parsed = crate::cli::PhaseCli::try_parse_from(std::iter::once(bin).chain(rest.iter().cloned()));
    match parsed {
        Ok(cli) => exec(Mode::Phase(phase.clone()), cli.args, argv),
        Err(e) => {
            let _ = e.print();
            Err(AppError::AlreadyReported(if e.use_stderr() { crate::error::exit::USAGE } else { 0 }))
        }
    }
}

/// Each test's recorded duration, for the progress bar's ETA (nothing when no bar is drawn).
fn expected_durations(
    list: &testplan_runner::model::TestList,
    history: &testplan_runner::history::History,
    no_progress: bool,
) -> Vec<Option<f64>> {
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
    ctx: &report::RunContext<'_>,
    opts: &ExecuteOptions,
    cancel: &CancelToken,
    args: &RunArgs,
    baseline: Option<Baseline>,
) -> Result<(RunReport, RunStats), AppError> {
    let mut reporter = report::run_reporter(ctx, &args.output, &args.reports, baseline)?;
    let stats = execute_phases(ctx.list, &ctx.test_plan.phases, opts, cancel, &mut |event| {
        mark_event(event);
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

/// The exit of a run; the first that applies wins (docs/exit-codes.md): interrupted, tests
/// failed, an output not written, no tests.
fn outcome(
    stats: &RunStats,
    to_run: usize,
    no_tests: NoTests,
    cancel: &CancelToken,
    outputs: report::OutputFailures,
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
