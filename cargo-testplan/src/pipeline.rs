//! The stages every command shares before execution: workspace metadata, configuration,
//! the build, and discovery, checked for Ctrl-C in between.

use testplan_runner::RunnerError;
use testplan_runner::cancel::CancelToken;
use testplan_runner::cargo::{self, CargoOptions, Workspace};
use testplan_runner::discover;
use testplan_runner::model::TestList;

use crate::error::AppError;
use crate::setup::{self, PlanConfig};

/// The workspace and its configuration, before anything is built.
#[derive(Debug)]
pub struct Loaded {
    /// The workspace.
    pub workspace: Workspace,
    /// Its validated configuration.
    pub plan: PlanConfig,
}

/// Reads `cargo metadata` and the configuration.
pub fn load(opts: &CargoOptions) -> Result<Loaded, AppError> {
    let workspace = cargo::load_workspace(opts)?;
    let plan = setup::load_config(&workspace)?;
    Ok(Loaded { workspace, plan })
}

/// Builds the tests and lists them.
pub fn build_and_discover(
    loaded: &Loaded,
    opts: &CargoOptions,
    jobs: usize,
    cancel: &CancelToken,
) -> Result<TestList, AppError> {
    testplan_runner::env::prefetch_host_libdir();
    let build = cargo::build(&loaded.workspace, opts).map_err(|e| interrupted_or(e, cancel))?;
    check_cancel(cancel)?;
    let list = discover::discover(&loaded.workspace, &build, opts, jobs, cancel)
        .map_err(|e| interrupted_or(e, cancel))?;
    check_cancel(cancel)?;
    Ok(list)
}

/// Available CPUs (at least 1).
pub fn available_cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// A token raised by Ctrl-C and SIGTERM.
pub fn cancel_token() -> Result<CancelToken, AppError> {
    CancelToken::from_signals()
        .map_err(|e| AppError::Runner(RunnerError::io("installing signal handlers", e)))
}

fn check_cancel(cancel: &CancelToken) -> Result<(), AppError> {
    if cancel.is_cancelled() { Err(AppError::Interrupted) } else { Ok(()) }
}

// Ctrl-C reaches cargo too (same foreground process group); its failure is then the
// interruption, not a build error.
fn interrupted_or(e: RunnerError, cancel: &CancelToken) -> AppError {
    if cancel.is_cancelled() { AppError::Interrupted } else { AppError::Runner(e) }
}
