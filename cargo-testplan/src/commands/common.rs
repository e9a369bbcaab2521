//! What `list`, `markers` and `explain` share: load, select, build, discover and plan,
//! without executing anything.

use testplan_markers::Selection;
use testplan_runner::discover::IgnoredDoctests;
use testplan_runner::execute::DEFAULT_TIMEOUT;
use testplan_runner::filter::TestFilter;
use testplan_runner::model::TestList;
use testplan_runner::plan::{self, PlanRequest, TestPlan};

use crate::cli::{CargoArgs, ColorChoice, FilterArgs, PlanArgs};
use crate::error::AppError;
use crate::pipeline::{self, Loaded, available_cpus, cancel_token};
use crate::setup::{self, Mode};

/// A workspace's tests with their plan.
#[derive(Debug)]
pub struct Planned {
    /// Workspace and configuration.
    pub loaded: Loaded,
    /// The selection the plan was made for.
    pub selection: Selection,
    /// Every listed test.
    pub list: TestList,
    /// The plan.
    pub plan: TestPlan,
}

/// Loads, builds, discovers and plans for the `run` profile narrowed by `plan_args`.
pub fn plan_only(
    cargo: &CargoArgs,
    plan_args: &PlanArgs,
    filter: Option<&FilterArgs>,
    color: ColorChoice,
    jobs: Option<usize>,
) -> Result<Planned, AppError> {
    let cancel = cancel_token()?;
    let cargo_opts = cargo.to_options(color);
    let early_build = pipeline::start_early_build(&cargo_opts)?;
    let loaded = pipeline::load(&cargo_opts)?;
    let no_filter = FilterArgs { filters: Vec::new(), exact: false, skip: Vec::new(), run_ignored: None };
    let filter = filter.unwrap_or(&no_filter);
    let selection =
        setup::selection(&loaded.plan.config, &Mode::Profile("run".to_owned()), plan_args, filter)?;
    let gpu = setup::gpu_status(plan_args.gpu)?;
    let jobs = jobs.unwrap_or_else(available_cpus).max(1);
    let list = pipeline::build_and_discover(
        &loaded,
        early_build,
        &cargo_opts,
        (jobs, IgnoredDoctests::Listed),
        &cancel,
    )?;
    let names: TestFilter = filter.to_filter();
    let request = PlanRequest {
        config: &loaded.plan.config,
        selection: &selection,
        names: &names,
        gpu: &gpu,
        default_jobs: jobs,
        jobs_override: None,
        default_timeout: DEFAULT_TIMEOUT,
        timeout_override: None,
        isolation_override: None,
        focus: None,
    };
    let plan = plan::build(&list, &request);
    Ok(Planned { loaded, selection, list, plan })
}

/// The name of the phase a test belongs to in the configuration's plan.
pub fn phase_name(planned: &Planned, test: usize) -> Option<String> {
    let config = &planned.loaded.plan.config;
    config
        .plan
        .assign(&planned.plan.classifications[test].markers)
        .map(|idx| config.plan.phase(idx).name.clone())
}
