//! What `list`, `markers` and `explain` share: the pipeline up to the plan, without
//! executing anything.

use testplan_runner::model::TestList;
use testplan_runner::plan::TestPlan;

use crate::cli::{CargoArgs, ColorChoice, FilterArgs, PlanArgs};
use crate::error::AppError;
use crate::pipeline::{Loaded, Pipeline};
use crate::settings::Invocation;
use crate::setup::Mode;

/// A workspace's tests with their plan.
#[derive(Debug)]
pub struct Planned {
    /// Workspace and configuration.
    pub loaded: Loaded,
    /// Every listed test.
    pub list: TestList,
    /// The plan.
    pub plan: TestPlan,
}

/// Loads, builds, discovers and plans for the `run` profile narrowed by `plan_args` and
/// `filter`; `jobs` is `-j` (binaries listed at once).
pub fn plan_only(
    cargo: &CargoArgs,
    plan_args: &PlanArgs,
    filter: &FilterArgs,
    color: ColorChoice,
    jobs: Option<usize>,
) -> Result<Planned, AppError> {
    let mode = Mode::Profile("run".to_owned());
    let inv = Invocation::plan_only(&mode, cargo, plan_args, filter, color, jobs);
    let mut pipeline = Pipeline::start(&inv)?;
    let list = pipeline.build_and_discover()?;
    let plan = pipeline.plan_only(&list);
    Ok(Planned { loaded: pipeline.loaded, list, plan })
}

/// The name of the phase a test belongs to in the configuration's plan.
pub fn phase_name(planned: &Planned, test: usize) -> Option<String> {
    let config = &planned.loaded.plan.config;
    config
        .plan
        .assign(&planned.plan.classifications[test].markers)
        .map(|idx| config.plan.phase(idx).name.clone())
}
