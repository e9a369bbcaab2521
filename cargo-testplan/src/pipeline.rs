//! The stages every command shares before execution: workspace metadata, the build, and
//! discovery, checked for Ctrl-C in between.

use testplan_runner::RunnerError;
use testplan_runner::cancel::CancelToken;
use testplan_runner::cargo::{self, CargoOptions, Workspace};
use testplan_runner::discover;
use testplan_runner::model::TestList;

use crate::error::AppError;

/// The workspace and its discovered tests.
#[derive(Debug)]
pub struct Prepared {
    /// The workspace.
    pub workspace: Workspace,
    /// Every test of the selection.
    pub list: TestList,
}

/// Loads metadata, builds the tests and lists them.
pub fn prepare(opts: &CargoOptions, jobs: usize, cancel: &CancelToken) -> Result<Prepared, AppError> {
    let workspace = cargo::load_workspace(opts)?;
    let build = cargo::build(&workspace, opts).map_err(|e| interrupted_or(e, cancel))?;
    check_cancel(cancel)?;
    let list =
        discover::discover(&workspace, &build, opts, jobs, cancel).map_err(|e| interrupted_or(e, cancel))?;
    check_cancel(cancel)?;
    Ok(Prepared { workspace, list })
}

/// Available CPUs (at least 1).
pub fn available_cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn check_cancel(cancel: &CancelToken) -> Result<(), AppError> {
    if cancel.is_cancelled() { Err(AppError::Interrupted) } else { Ok(()) }
}

// Ctrl-C reaches cargo too (same foreground process group); its failure is then the
// interruption, not a build error.
fn interrupted_or(e: RunnerError, cancel: &CancelToken) -> AppError {
    if cancel.is_cancelled() { AppError::Interrupted } else { AppError::Runner(e) }
}
