//! `cargo testplan run`: build, discover, filter, execute, report, exit code.

use std::io::{IsTerminal, Write};

use testplan_reporter::human::{HeaderInfo, HumanReporter, Verbosity};
use testplan_reporter::json::{JsonReportBuilder, write_report};
use testplan_runner::RunnerError;
use testplan_runner::cancel::CancelToken;
use testplan_runner::events::RunStats;
use testplan_runner::execute::{DEFAULT_KILL_GRACE, ExecuteOptions, execute};
use testplan_runner::filter::Action;
use testplan_runner::output::{DEFAULT_HEAD_BYTES, DEFAULT_TAIL_BYTES};
use testplan_schema::RunReport;

use crate::cli::{NoTests, OutputArgs, RunArgs};
use crate::error::AppError;
use crate::pipeline::{self, available_cpus};

/// Runs the command.
pub fn exec(args: RunArgs, argv: Vec<String>) -> Result<(), AppError> {
    let cancel = CancelToken::from_signals().map_err(|e| RunnerError::io("installing signal handlers", e))?;
    let cargo_opts = args.cargo.to_options(args.output.color);
    let (jobs, jobs_reason) = jobs_and_reason(args.runner.jobs);
    let prepared = pipeline::prepare(&cargo_opts, jobs, &cancel)?;
    let list = &prepared.list;
    let planned = args.filter.to_filter().plan(list);
    let to_run = planned.iter().filter(|p| matches!(p.action, Action::Run { .. })).count();
    let header = HeaderInfo { filtered_out: list.tests.len() - planned.len(), jobs_reason };
    let opts = ExecuteOptions {
        jobs,
        fail_fast: !args.runner.no_fail_fast,
        timeout: args.runner.timeout,
        kill_grace: DEFAULT_KILL_GRACE,
        output_head: DEFAULT_HEAD_BYTES,
        output_tail: DEFAULT_TAIL_BYTES,
        cargo: cargo_opts,
    };
    let stdout = std::io::stdout();
    let color = args.output.color.enabled(stdout.is_terminal());
    let mut human = HumanReporter::new(list, stdout.lock(), verbosity(&args.output), color, header);
    let mut json = JsonReportBuilder::new(list, argv);
    let stats = execute(list, &planned, &opts, &cancel, &mut |event| {
        // A closed stdout must not stop the run: the report is still written.
        let _ = human.handle(event);
        json.handle(event);
    });
    drop(human);
    write_reports(&json.finish(), &prepared.workspace.target_dir, args.runner.report_json.as_deref())?;
    outcome(&stats, to_run, args.runner.no_tests, &cancel)
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
