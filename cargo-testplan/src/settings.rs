//! The one resolved settings value of a command ([`RunSettings`]): the command line
//! ([`Invocation`]), the configuration and the probed machine ([`Machine`]) resolved once,
//! before anything is built. Every pipeline command (`run`, `fast`, `full`, a phase, `list`,
//! `explain`, `markers`) builds its pipeline from it, so they cannot differ in how they read
//! the same flag.
//!
//! Precedence, first found wins (the planner then applies phases and markers, see
//! `testplan_runner::plan`):
//!
//! | setting | order |
//! |---|---|
//! | listing jobs, default jobs | `-j` (`1` with `--no-capture`); the CPUs the probe found |
//! | isolation | `--no-capture` (process); `--isolation` |
//! | fail fast | `--max-fail`/`-x`/`--sw`; `--no-fail-fast`; the profile's `fail-fast`; on |
//! | build jobs | `CARGO_BUILD_JOBS`; usable memory / 2 GiB when below the CPUs; cargo's |
//! | ignored doctests | listed for `list`, `explain`, `markers` and runs that run ignored tests; else read from their batch's results |

use std::time::Duration;

use camino::Utf8PathBuf;
use testplan_markers::{Config, RunIgnored, Selection};
use testplan_runner::cargo::{BuildJobsCap, CargoOptions, build_jobs_cap};
use testplan_runner::discover::IgnoredDoctests;
use testplan_runner::execute::MemoryOptions;
use testplan_runner::filter::TestFilter;
use testplan_runner::partition::Partition;
use testplan_runner::plan::{GpuStatus, PlanLimits};
use testplan_runner::platform::containment::ContainmentMode;
use testplan_runner::resources::{GpuChoice, GpuOverride, Probe, Resources};

use crate::cli::{CargoArgs, ColorChoice, FilterArgs, IsolationArg, PlanArgs, RunArgs};
use crate::error::{AppError, UsageError};
use crate::setup::{self, Mode};

/// The machine a command runs on, probed once: CPUs and memory (with `--memory-budget`
/// applied), and the cap on cargo's build jobs that follows.
#[derive(Clone, Debug)]
pub struct Machine {
    /// CPUs and memory (GPUs are decided separately: [`RunSettings::gpu`]).
    pub resources: Resources,
    /// Cargo's build jobs, capped where memory is small.
    pub build_jobs: Option<BuildJobsCap>,
}

impl Machine {
    /// Probes this machine; `budget` is `--memory-budget`. Reads `CARGO_BUILD_JOBS`.
    pub fn probe(budget: Option<u64>) -> Self {
        let probe =
            Probe { gpu: GpuChoice { mode: GpuOverride::No, ..GpuChoice::default() }, ..Probe::system() };
        let env_build_jobs = std::env::var("CARGO_BUILD_JOBS").ok();
        Self::new(probe.run(), budget, env_build_jobs.as_deref())
    }

    /// A machine with these resources (a fake one in tests); `env_build_jobs` is the value
    /// of `CARGO_BUILD_JOBS`.
    pub fn new(resources: Resources, budget: Option<u64>, env_build_jobs: Option<&str>) -> Self {
        let resources = match budget {
            Some(budget) => resources.with_memory_budget(budget),
            None => resources,
        };
        let build_jobs = build_jobs_cap(resources.cpus.count, resources.memory.usable, env_build_jobs);
        Machine { resources, build_jobs }
    }

    /// The executor's memory options for this machine.
    pub fn memory_options(&self) -> MemoryOptions {
        MemoryOptions::from_resources(&self.resources)
    }
}

/// What a command asks of the pipeline, as its command line says it (before the
/// configuration is read).
#[derive(Clone, Copy, Debug)]
pub struct Invocation<'a> {
    /// The profile or phase the command selects before the command line narrows it.
    pub mode: &'a Mode,
    /// Package, target and build selection.
    pub cargo: &'a CargoArgs,
    /// `-m`, `-k`, `--phase`, `--profile`, `--gpu`.
    pub plan: &'a PlanArgs,
    /// Name filters and `--run-ignored`.
    pub filter: &'a FilterArgs,
    /// `--color` (passed on to cargo).
    pub color: ColorChoice,
    /// `-j`.
    pub jobs: Option<usize>,
    /// The options of run commands; `None` for commands that only plan.
    pub run: Option<&'a RunArgs>,
}

impl<'a> Invocation<'a> {
    /// A run command (`run`, `fast`, `full`, a phase).
    pub fn run(mode: &'a Mode, args: &'a RunArgs) -> Self {
        Invocation {
            mode,
            cargo: &args.cargo,
            plan: &args.plan,
            filter: &args.filter,
            color: args.output.color,
            jobs: args.runner.jobs,
            run: Some(args),
        }
    }

    /// A command that plans without running (`list`, `explain`, `markers`): the `run`
    /// profile narrowed by these options.
    pub fn plan_only(
        mode: &'a Mode,
        cargo: &'a CargoArgs,
        plan: &'a PlanArgs,
        filter: &'a FilterArgs,
        color: ColorChoice,
        jobs: Option<usize>,
    ) -> Self {
        Invocation { mode, cargo, plan, filter, color, jobs, run: None }
    }

    /// `--memory-budget`.
    pub fn memory_budget(&self) -> Option<u64> {
        self.run.and_then(|run| run.runner.memory_budget)
    }

    /// The cargo options on `machine`: the command line's, with the build jobs capped.
    pub fn cargo_options(&self, machine: &Machine) -> CargoOptions {
        let mut options = self.cargo.to_options(self.color);
        options.build_jobs = machine.build_jobs.as_ref().map(|cap| cap.jobs);
        options
    }

    fn no_capture(&self) -> bool {
        self.run.is_some_and(|run| run.runner.no_capture)
    }
}

/// A command's settings, resolved once from its command line, the configuration and the
/// machine.
#[derive(Debug)]
pub struct RunSettings {
    /// The profile a run reports: `run`, `fast`, `full`, `--profile NAME`, or `phase:NAME`.
    pub profile: String,
    /// Cargo's options for the build, the listing and doctest batches.
    pub cargo: CargoOptions,
    /// CPUs, memory, build jobs.
    pub machine: Machine,
    /// Whether phases that require a GPU can run.
    pub gpu: GpuStatus,
    /// Phases, markers, keywords, ignored tests.
    pub selection: Selection,
    /// Positional name filters, `--exact`, `--skip`.
    pub names: TestFilter,
    /// How ignored doctests are learnt.
    pub doctests: IgnoredDoctests,
    /// Jobs and per-test limits from the command line.
    pub limits: PlanLimits,
    /// What stops a run.
    pub failure: FailurePolicy,
    /// Execution options of run commands.
    pub execution: Execution,
    /// `--partition`, with `--timings`.
    pub partition: Option<Shard>,
}

/// `--partition` and `--timings`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    /// The shard of every phase this run keeps.
    pub partition: Partition,
    /// `--timings`: the report whose durations a `duration` split balances.
    pub timings: Option<Utf8PathBuf>,
}

/// When a run stops starting tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailurePolicy {
    /// Stop after `max_fail` failures (the phase's `on-failure` may continue).
    pub fail_fast: bool,
    /// Failures of the run after which no more tests start (`--max-fail`; 1 by default).
    pub max_fail: usize,
    /// A profile's `fail-fast = true`: stop at the first failed phase whatever its
    /// `on-failure` says.
    pub stop_every_phase: bool,
}

/// How run commands execute (defaults for commands that only plan).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Execution {
    /// `--no-capture`.
    pub no_capture: bool,
    /// `--retries`.
    pub retries: u32,
    /// `--slow-after` (`None`: off).
    pub slow_after: Option<Duration>,
    /// `--containment`.
    pub containment: ContainmentMode,
    /// Tests start slowest first (not with `--ff`, `--sw`: they fix the order).
    pub slowest_first: bool,
    /// Draw no progress bar or lines (`--no-progress`, `--no-capture`).
    pub no_progress: bool,
}

impl RunSettings {
    /// Resolves the settings of `inv` against `config` on `machine`. `gpu` decides the GPU
    /// status once the selection is valid (detection may run `nvidia-smi`).
    pub fn resolve(
        inv: &Invocation<'_>,
        config: &Config,
        machine: Machine,
        gpu: impl FnOnce() -> Result<GpuStatus, AppError>,
    ) -> Result<Self, AppError> {
        let selection = setup::selection(config, inv.mode, inv.plan, inv.filter)?;
        let gpu = gpu()?;
        let partition = partition(inv)?;
        Ok(RunSettings {
            profile: profile_name(inv.mode, inv.plan.profile.as_deref()),
            cargo: inv.cargo_options(&machine),
            limits: plan_limits(inv, &machine),
            failure: failure_policy(inv, &selection),
            execution: execution(inv),
            doctests: doctest_listing(inv, &selection),
            names: inv.filter.to_filter(),
            selection,
            machine,
            gpu,
            partition,
        })
    }

    /// The run header's reason for the jobs (`-j 4`, or `2 CPUs; 3.1 GiB usable / 1 GiB
    /// per test` as the planner chose them), with the build-jobs cap when there is one.
    pub fn jobs_reason(&self, planned: Option<&str>) -> String {
        let mut reason = match (self.limits.jobs, planned) {
            (Some(jobs), _) => format!("-j {jobs}"),
            (None, Some(planned)) => planned.to_owned(),
            (None, None) => String::new(),
        };
        if let Some(cap) = &self.machine.build_jobs {
            reason.push_str(&format!("; {}", cap.reason));
        }
        reason
    }
}

/// The profile a run reports: `run`, `fast`, `full`, `--profile NAME`, or `phase:NAME`.
pub fn profile_name(mode: &Mode, profile: Option<&str>) -> String {
    match mode {
        Mode::Profile(name) => profile.unwrap_or(name).to_owned(),
        Mode::Phase(name) => format!("phase:{name}"),
    }
}

/// Jobs and per-test limits: `-j` (else the CPUs), `--timeout`, `--isolation`,
/// `--memory-limit`.
fn plan_limits(inv: &Invocation<'_>, machine: &Machine) -> PlanLimits {
    let runner = inv.run.map(|run| &run.runner);
    // Output straight to the terminal: one test at a time, each in a process of its own (a
    // batch's output is read for its results).
    let no_capture = inv.no_capture();
    let jobs = if no_capture { Some(1) } else { inv.jobs };
    let isolation = match no_capture {
        true => Some(IsolationArg::Process),
        false => runner.and_then(|r| r.isolation),
    };
    PlanLimits {
        jobs,
        timeout: runner.and_then(|r| r.timeout),
        isolation: isolation.map(Into::into),
        memory_limit: runner.and_then(|r| r.memory_limit),
        ..PlanLimits::with_default_jobs(jobs.unwrap_or(machine.resources.cpus.count).max(1))
    }
}

fn failure_policy(inv: &Invocation<'_>, selection: &Selection) -> FailurePolicy {
    let max_fail = inv.run.and_then(|run| run.daily.max_fail());
    let no_fail_fast = inv.run.is_some_and(|run| run.runner.no_fail_fast);
    let fail_fast = max_fail.is_some() || (!no_fail_fast && selection.fail_fast.unwrap_or(true));
    FailurePolicy {
        fail_fast,
        max_fail: max_fail.unwrap_or(1),
        stop_every_phase: fail_fast && selection.fail_fast == Some(true),
    }
}

fn execution(inv: &Invocation<'_>) -> Execution {
    let Some(run) = inv.run else {
        return Execution {
            no_capture: false,
            retries: 0,
            slow_after: None,
            containment: ContainmentMode::None,
            slowest_first: false,
            no_progress: true,
        };
    };
    Execution {
        no_capture: run.runner.no_capture,
        retries: run.runner.retries,
        slow_after: run.runner.slow_after.0,
        containment: run.runner.containment.into(),
        // --ff orders by the last failures, --sw needs the same order run after run.
        slowest_first: !(run.daily.failed_first || run.daily.stepwise),
        no_progress: run.reports.no_progress || run.runner.no_capture,
    }
}

/// A run that never runs ignored tests learns which doctests are ignored from their batch;
/// commands that show ignored tests list them.
fn doctest_listing(inv: &Invocation<'_>, selection: &Selection) -> IgnoredDoctests {
    match (inv.run, selection.run_ignored) {
        (Some(_), RunIgnored::Default) => IgnoredDoctests::FromResults,
        _ => IgnoredDoctests::Listed,
    }
}

fn partition(inv: &Invocation<'_>) -> Result<Option<Shard>, AppError> {
    let Some(args) = inv.run.map(|run| &run.partition) else { return Ok(None) };
    match (args.partition, &args.timings) {
        (Some(partition), timings) => Ok(Some(Shard { partition, timings: timings.clone() })),
        (None, Some(_)) => Err(UsageError::TimingsWithoutPartition.into()),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use testplan_markers::plan::Isolation;
    use testplan_runner::resources::GIB;

    use super::*;
    use crate::cli::{Cli, Command};

    fn run_args(args: &[&str]) -> RunArgs {
        let argv = ["cargo-testplan", "run"].iter().chain(args).copied();
        let Command::Run(mut run) = Cli::try_parse_from(argv).expect("parses").command else {
            panic!("not run");
        };
        run.take_libtest_args().expect("libtest options");
        run
    }

    fn no_gpu() -> GpuStatus {
        GpuStatus { available: false, description: "none".to_owned() }
    }

    /// The settings of `run ARGS` with the default configuration on a faked machine.
    fn resolved(args: &[&str], machine: Machine) -> Result<RunSettings, AppError> {
        let mode = Mode::Profile("run".to_owned());
        let run = run_args(args);
        RunSettings::resolve(&Invocation::run(&mode, &run), &Config::default(), machine, || Ok(no_gpu()))
    }

    fn small_machine() -> Machine {
        Machine::new(Resources::fake(2, GIB, 0), None, None)
    }

    #[test]
    fn the_command_line_and_the_machine_resolve_once() {
        let settings = resolved(&[], small_machine()).expect("settings");
        assert_eq!((settings.limits.default_jobs, settings.limits.jobs), (2, None), "the CPUs");
        assert_eq!(settings.cargo.build_jobs, Some(1), "1 GiB usable: one build job");
        assert_eq!(settings.doctests, IgnoredDoctests::FromResults);
        assert_eq!(settings.failure, FailurePolicy { fail_fast: true, max_fail: 1, stop_every_phase: false });
        assert!(settings.execution.slowest_first);
        assert_eq!(settings.profile, "run");

        let settings =
            resolved(&["-j", "3", "--timeout", "5s", "--no-fail-fast"], small_machine()).expect("settings");
        assert_eq!((settings.limits.default_jobs, settings.limits.jobs), (3, Some(3)));
        assert_eq!(settings.limits.timeout, Some(Duration::from_secs(5)));
        assert!(!settings.failure.fail_fast);
    }

    #[test]
    fn no_capture_runs_one_test_at_a_time_in_a_process_of_its_own() {
        let settings = resolved(&["--", "--nocapture"], small_machine()).expect("settings");
        assert_eq!((settings.limits.jobs, settings.limits.isolation), (Some(1), Some(Isolation::Process)));
        assert!(settings.execution.no_progress && settings.execution.no_capture);
    }

    #[test]
    fn daily_loop_options_decide_failure_and_order() {
        let settings = resolved(&["--sw"], small_machine()).expect("settings");
        assert_eq!(settings.failure, FailurePolicy { fail_fast: true, max_fail: 1, stop_every_phase: false });
        assert!(!settings.execution.slowest_first, "--sw keeps the plan's order");
        let settings =
            resolved(&["--max-fail", "3", "--run-ignored", "all"], small_machine()).expect("settings");
        assert_eq!(settings.failure.max_fail, 3);
        assert_eq!(settings.doctests, IgnoredDoctests::Listed);
    }

    #[test]
    fn commands_that_only_plan_list_ignored_doctests_and_use_the_cpus() {
        let mode = Mode::Profile("run".to_owned());
        let (cargo, plan, filter) = (CargoArgs::default(), PlanArgs::default(), FilterArgs::default());
        let inv = Invocation::plan_only(&mode, &cargo, &plan, &filter, ColorChoice::Never, None);
        let machine = Machine::new(Resources::fake(4, 64 * GIB, 0), None, None);
        let settings =
            RunSettings::resolve(&inv, &Config::default(), machine, || Ok(no_gpu())).expect("settings");
        assert_eq!(settings.doctests, IgnoredDoctests::Listed);
        assert_eq!(settings.limits.default_jobs, 4);
        assert_eq!(settings.cargo.build_jobs, None, "2 GiB per CPU: cargo's own");
    }

    #[test]
    fn timings_need_a_partition() {
        let error = resolved(&["--timings", "t.json"], small_machine()).expect_err("rejected");
        assert_eq!(error.to_string(), "--timings needs --partition duration:K/N");
    }

    #[test]
    fn jobs_reason_names_the_build_cap() {
        let settings = resolved(&[], small_machine()).expect("settings");
        assert_eq!(
            settings.jobs_reason(Some("2 CPUs; 1.0 GiB usable / 1 GiB per test")),
            "2 CPUs; 1.0 GiB usable / 1 GiB per test; build jobs capped at 1: 1.0 GiB usable / 2 GiB per build job"
        );
        let settings = resolved(&["-j", "2"], small_machine()).expect("settings");
        assert!(settings.jobs_reason(None).starts_with("-j 2; build jobs capped at 1"));
        assert_eq!(settings.machine.memory_options().budget, Some(GIB));
    }
}
