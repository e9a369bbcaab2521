//! The stages every command shares before execution: workspace metadata, configuration,
//! the build, and discovery, checked for Ctrl-C in between.

use std::io::IsTerminal;
use testplan_runner::RunnerError;
use testplan_runner::cancel::CancelToken;

use testplan_runner::cargo::{self, BuildProcess, BuildStderr, CargoOptions, Workspace};
use testplan_runner::discover::{self, IgnoredDoctests};
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

/// The build, when it was started before the configuration was read.
#[derive(Debug, Default)]
pub struct EarlyBuild(Option<BuildProcess>);

/// Starts `cargo test --no-run` right away when its output can be held back, so cargo
/// checks its fingerprints while `cargo metadata` runs and the configuration is read; on a
/// terminal the build starts after them (cargo's progress bar needs the terminal itself).
/// Dropping the value unused abandons the build (a configuration error shows alone).
pub fn start_early_build(opts: &CargoOptions) -> Result<EarlyBuild, AppError> {
    testplan_runner::env::prefetch_host_libdir();
    if std::io::stderr().is_terminal() {
        return Ok(EarlyBuild(None));
    }
    Ok(EarlyBuild(Some(cargo::start_build(opts, BuildStderr::Held)?)))
}

/// Builds the tests (or finishes the early build) and lists them.
pub fn build_and_discover(
    loaded: &Loaded,
    early: EarlyBuild,
    opts: &CargoOptions,
    listing: (usize, IgnoredDoctests),
    cancel: &CancelToken,
) -> Result<TestList, AppError> {
    let process = match early.0 {
        Some(process) => process,
        None => cargo::start_build(opts, BuildStderr::Inherit)?,
    };
    let build = process.finish(cancel).map_err(|e| interrupted_or(e, cancel))?;
    check_cancel(cancel)?;
    crate::timings::mark("built");
    let list = discover::discover(&loaded.workspace, &build, opts, listing, cancel)
        .map_err(|e| interrupted_or(e, cancel))?;
    check_cancel(cancel)?;
    // Binaries whose `--list` answer was not understood run as one test each: say so.
    for note in &list.notes {
        eprintln!("note: {note}");
    }
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
