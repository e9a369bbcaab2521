//! `cargo testplan run | fast | full | PHASE`: load the configuration, resolve the
//! selection, build, discover, plan, execute phase by phase, report, exit code.

use std::io::{IsTerminal, Write};

use clap::Parser;

use testplan_reporter::human::{HeaderInfo, HumanReporter, Verbosity};
use testplan_reporter::json::{JsonReportBuilder, TestAnnotation, write_report};
use testplan_runner::cancel::CancelToken;
use testplan_runner::events::RunStats;
use testplan_runner::execute::{DEFAULT_KILL_GRACE, DEFAULT_TIMEOUT, ExecuteOptions, execute_phases};
use testplan_runner::model::TestList;
use testplan_runner::output::{DEFAULT_HEAD_BYTES, DEFAULT_TAIL_BYTES};
use testplan_runner::plan::{self, PlanRequest, TestPlan};
use testplan_schema::RunReport;

use crate::cli::{NoTests, OutputArgs, RunArgs};
use crate::error::AppError;
use crate::pipeline::{self, available_cpus, cancel_token};
use crate::setup::{self, Mode};

/// Runs the command.
pub fn exec(mode: Mode, args: RunArgs, argv: Vec<String>) -> Result<(), AppError> {
    let cancel = cancel_token()?;
    let cargo_opts = args.cargo.to_options(args.output.color);
    let loaded = pipeline::load(&cargo_opts)?;
    let config = &loaded.plan.config;
    let selection = setup::selection(config, &mode, &args.plan, &args.filter)?;
    let gpu = setup::gpu_status(args.plan.gpu)?;
    let (default_jobs, jobs_reason) = jobs_and_reason(args.runner.jobs);
    let list = pipeline::build_and_discover(&loaded, &cargo_opts, default_jobs, &cancel)?;
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
    };
    let test_plan = plan::build(&list, &request);
    let fail_fast = !args.runner.no_fail_fast && selection.fail_fast.unwrap_or(true);
    let opts = ExecuteOptions {
        jobs: default_jobs,
        fail_fast,
        timeout: args.runner.timeout.unwrap_or(DEFAULT_TIMEOUT),
        kill_grace: DEFAULT_KILL_GRACE,
        output_head: DEFAULT_HEAD_BYTES,
        output_tail: DEFAULT_TAIL_BYTES,
        cargo: cargo_opts,
    };
    let header = header_info(&list, &test_plan, jobs_reason);
    let report = run_and_report(&list, &test_plan, &opts, &cancel, &args.output, header, argv);
    write_reports(&report.0, &loaded.workspace.target_dir, args.runner.report_json.as_deref())?;
    let to_run = test_plan.phases.iter().flat_map(|p| &p.planned).filter(|p| p.is_run()).count();
    outcome(&report.1, to_run, args.runner.no_tests, &cancel)
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

fn run_and_report(
    list: &TestList,
    test_plan: &TestPlan,
    opts: &ExecuteOptions,
    cancel: &CancelToken,
    output: &OutputArgs,
    header: HeaderInfo,
    argv: Vec<String>,
) -> (RunReport, RunStats) {
    let stdout = std::io::stdout();
    let color = output.color.enabled(stdout.is_terminal());
    let mut human = HumanReporter::new(list, stdout.lock(), verbosity(output), color, header);
    let mut json = JsonReportBuilder::new(list, argv).with_annotations(annotations(list, test_plan));
    let stats = execute_phases(list, &test_plan.phases, opts, cancel, &mut |event| {
        // A closed stdout must not stop the run: the report is still written.
        let _ = human.handle(event);
        json.handle(event);
    });
    (json.finish(), stats)
}

/// Phase and markers of every test, for the report.
fn annotations(list: &TestList, test_plan: &TestPlan) -> Vec<TestAnnotation> {
    let mut phase_of = vec![None; list.tests.len()];
    for phase in &test_plan.phases {
        for p in &phase.planned {
            phase_of[p.test.0] = Some(phase.name.clone());
        }
    }
    test_plan
        .classifications
        .iter()
        .zip(phase_of)
        .map(|(class, phase)| TestAnnotation {
            phase,
            markers: class.markers.iter().map(|m| m.as_str().to_owned()).collect(),
        })
        .collect()
}

fn header_info(list: &TestList, test_plan: &TestPlan, jobs_reason: String) -> HeaderInfo {
    HeaderInfo {
        filtered_out: test_plan.deselected,
        other_phases: test_plan.other_phases,
        not_in_plan: test_plan.not_in_plan.iter().map(|t| list.display_name(*t)).collect(),
        jobs_reason,
    }
}

fn verbosity(output: &OutputArgs) -> Verbosity {
    match (output.quiet, output.verbose) {
        (true, _) => Verbosity::Quiet,
        (_, true) => Verbosity::Verbose,
        _ => Verbosity::Normal,
    }
}

fn jobs_and_reason(jobs: Option<usize>) -> (usize, String) {
    match jobs {
        Some(n) => (n.max(1), format!("-j {n}")),
        None => {
            let cpus = available_cpus();
            (cpus, format!("{cpus} CPUs"))
        }
    }
}

fn write_reports(
    report: &RunReport,
    target_dir: &camino::Utf8Path,
    extra: Option<&camino::Utf8Path>,
) -> Result<(), AppError> {
    let last = target_dir.join("testplan").join("last-run.json");
    for path in std::iter::once(last.as_path()).chain(extra) {
        write_report(report, path.as_std_path())
            .map_err(|source| AppError::WriteOutput { what: format!("the run report to {path}"), source })?;
    }
    Ok(())
}

fn outcome(stats: &RunStats, to_run: usize, no_tests: NoTests, cancel: &CancelToken) -> Result<(), AppError> {
    if cancel.is_cancelled() {
        return Err(AppError::Interrupted);
    }
    if stats.failures() > 0 {
        return Err(AppError::TestsFailed(stats.failures()));
    }
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
