//! The pipeline every command that plans shares, one step each, checked for Ctrl-C in
//! between:
//!
//! 1. [`Pipeline::start`]: probe the machine, start the build early, read `cargo metadata`
//!    and the configuration, resolve the [`RunSettings`];
//! 2. [`Pipeline::build_and_discover`]: finish the build and list every test binary;
//! 3. [`Pipeline::plan_only`] or [`Pipeline::plan_run`]: classify, select and plan, once
//!    (`testplan_runner::plan::build`).
//!
//! `run` then executes the plan and reports; `list`, `explain` and `markers` show it;
//! `matrix` needs only the configuration ([`load`]).
//!
//! A run from an archive (`--archive FILE`, [`crate::commands::archive`]) has the same
//! steps without cargo: step 1 unpacks the archive and reads the configuration from the
//! source checkout instead of `cargo metadata`, and step 2 hands over the archive's test
//! list instead of building and listing.

use std::io::IsTerminal;

use camino::{Utf8Path, Utf8PathBuf};
use testplan_runner::RunnerError;
use testplan_runner::cancel::CancelToken;
use testplan_runner::cargo::{self, BuildOutput, BuildProcess, BuildStderr, CargoOptions, Workspace};
use testplan_runner::discover;
use testplan_runner::history::History;
use testplan_runner::model::TestList;
use testplan_runner::partition::Timings;
use testplan_runner::plan::{self, Focus, PlanRequest, TestPlan};

use crate::commands::archive::{ArchiveRunError, ArchiveSourceArgs};
use crate::error::AppError;
use crate::settings::{Invocation, Machine, RunSettings};
use crate::setup::{self, PlanConfig};

/// The workspace and its configuration, before anything is built.
#[derive(Debug)]
pub struct Loaded {
    /// The workspace (`None` in a run from an archive, which reads no `cargo metadata`).
    pub workspace: Option<Workspace>,
    /// The target directory: the workspace's, or where the archive was unpacked.
    pub target_dir: Utf8PathBuf,
    /// Its validated configuration.
    pub plan: PlanConfig,
}

/// Reads `cargo metadata` and the configuration.
pub fn load(opts: &CargoOptions) -> Result<Loaded, AppError> {
    let workspace = cargo::load_workspace(opts)?;
    let plan = setup::load_config(&workspace.root)?;
    Ok(Loaded { target_dir: workspace.target_dir.clone(), workspace: Some(workspace), plan })
}

/// A command's pipeline: its settings, workspace and configuration, and the build under way.
#[derive(Debug)]
pub struct Pipeline {
    /// The resolved settings.
    pub settings: RunSettings,
    /// Workspace and configuration.
    pub loaded: Loaded,
    /// Raised by Ctrl-C, SIGTERM, SIGHUP and SIGQUIT.
    pub cancel: CancelToken,
    /// The libraries the build made, as (package id, `.rlib`): `--coverage` reads the
    /// coverage mapping of doctested code from the workspace's.
    pub libraries: Vec<(String, camino::Utf8PathBuf)>,
    early: Option<EarlyBuild>,
    /// The test list of an archive, handed over by [`Pipeline::build_and_discover`].
    archived: Option<TestList>,
}

impl Pipeline {
    /// Probes the machine, starts the build, reads the workspace and its configuration, and
    /// resolves the settings of `inv` (nothing runs when they are invalid).
    pub fn start(inv: &Invocation<'_>) -> Result<Self, AppError> {
        let source = inv.run.map(|run| &run.archive);
        if let Some((source, file)) = source.and_then(|s| s.archive.as_deref().map(|file| (s, file))) {
            return Self::from_archive(inv, source, file);
        }
        let cancel = cancel_token()?;
        let machine = Machine::probe(inv.memory_budget());
        crate::timings::mark("probed resources");
        let cargo = inv.cargo_options(&machine);
        // With --coverage the build waits for the instrumented build's target dir and
        // environment (crate::coverage::prepare), after the tools were found.
        let coverage = inv.run.is_some_and(|run| run.coverage.requested());
        let early = if coverage { EarlyBuild::default() } else { start_early_build(&cargo)? };
        let loaded = load(&cargo)?;
        // `[coverage] enabled`: the build started early is not the instrumented one.
        let early = if inv.run.is_some() && loaded.plan.config.coverage.enabled {
            EarlyBuild::default()
        } else {
            early
        };
        crate::timings::mark("loaded metadata and configuration");
        if inv.run.is_some() && loaded.workspace.as_ref().is_some_and(cargo::Workspace::has_doctests) {
            // The doctest result cache keys on the toolchain: ask while the build runs.
            testplan_runner::discover::doc_results::prefetch_toolchain();
        }
        let gpu = || setup::gpu_status(inv.plan.gpu);
        let settings = RunSettings::resolve(inv, &loaded.plan.config, machine, gpu)?;
        Ok(Pipeline { settings, loaded, cancel, libraries: Vec::new(), early: Some(early), archived: None })
    }

    /// [`Pipeline::start`] for a run from an archive: no cargo. The archive is unpacked and
    /// its paths remapped to the source checkout, whose configuration is read; the build's
    /// cargo options replace the command line's (doctests run with them).
    fn from_archive(
        inv: &Invocation<'_>,
        source: &ArchiveSourceArgs,
        file: &Utf8Path,
    ) -> Result<Self, AppError> {
        let cancel = cancel_token()?;
        let machine = Machine::probe(inv.memory_budget());
        crate::timings::mark("probed resources");
        let root = source.workspace_root()?;
        let plan = setup::load_config(&root)?;
        let unpacked = source.unpack(file, &root)?;
        let gpu = || setup::gpu_status(inv.plan.gpu);
        let mut settings = RunSettings::resolve(inv, &plan.config, machine, gpu)?;
        settings.cargo = unpacked.cargo;
        let loaded = Loaded { workspace: None, target_dir: unpacked.target_dir, plan };
        let archived = Some(unpacked.list);
        Ok(Pipeline { settings, loaded, cancel, libraries: Vec::new(), early: None, archived })
    }

    /// Whether the tests come from an archive (`--archive`) rather than a build.
    pub fn runs_from_archive(&self) -> bool {
        self.loaded.workspace.is_none()
    }

    /// The workspace's configuration.
    pub fn config(&self) -> &testplan_markers::Config {
        &self.loaded.plan.config
    }

    /// Builds the tests (or finishes the early build) and lists them.
    pub fn build_and_discover(&mut self) -> Result<TestList, AppError> {
        Ok(self.build_and_list()?.0)
    }

    /// [`Pipeline::build_and_discover`], with what the build made (`None` in a run from an
    /// archive): the doctest result cache keys on it.
    pub fn build_and_list(&mut self) -> Result<(TestList, Option<BuildOutput>), AppError> {
        if let Some(list) = self.archived.take() {
            return Ok((list, None));
        }
        let Some(workspace) = &self.loaded.workspace else {
            return Err(ArchiveRunError::NothingToBuild.into());
        };
        let early = self.early.take().unwrap_or_default();
        let opts = &self.settings.cargo;
        let process = match early.0 {
            Some(process) => process,
            None => cargo::start_build(opts, BuildStderr::Inherit)?,
        };
        let cancel = &self.cancel;
        let build = process.finish(cancel).map_err(|e| interrupted_or(e, cancel))?;
        check_cancel(cancel)?;
        crate::timings::mark("built");
        let listing = (self.settings.limits.default_jobs, self.settings.doctests);
        let list = discover::discover(workspace, &build, opts, listing, cancel)
            .map_err(|e| interrupted_or(e, cancel))?;
        check_cancel(cancel)?;
        // Binaries whose `--list` answer was not understood run as one test each: say so.
        for note in &list.notes {
            eprintln!("note: {note}");
        }
        crate::timings::mark("built and listed");
        self.libraries = build.libraries.clone();
        Ok((list, Some(build)))
    }

    /// The plan of a command that does not run it (`list`, `explain`, `markers`): the
    /// configuration, the selection and the command line's limits alone.
    pub fn plan_only(&self, list: &TestList) -> TestPlan {
        plan::build(list, &self.plan_request())
    }

    /// The plan of a run: with the machine, what earlier runs left and the partition.
    pub fn plan_run(&self, list: &TestList, earlier: RunInputs<'_>) -> TestPlan {
        let settings = &self.settings;
        let request = PlanRequest {
            resources: Some(&settings.machine.resources),
            history: Some(earlier.history),
            focus: earlier.focus,
            partition: settings.partition.as_ref().zip(earlier.timings).map(|(s, t)| (s.partition, t)),
            stop_every_phase: settings.failure.stop_every_phase,
            slowest_first: settings.execution.slowest_first,
            ..self.plan_request()
        };
        let plan = plan::build(list, &request);
        crate::timings::mark("planned");
        plan
    }

    fn plan_request(&self) -> PlanRequest<'_> {
        let settings = &self.settings;
        PlanRequest::new(self.config(), &settings.selection, &settings.names, &settings.gpu, settings.limits)
    }
}

/// What earlier runs give a run's plan.
#[derive(Clone, Copy, Debug)]
pub struct RunInputs<'a> {
    /// Measured peaks and durations.
    pub history: &'a History,
    /// `--lf`, `--ff`, `--sw`.
    pub focus: Option<&'a Focus>,
    /// The durations `--partition` balances by (with `--partition`).
    pub timings: Option<&'a Timings>,
}

/// The build, when it was started before the configuration was read.
#[derive(Debug, Default)]
struct EarlyBuild(Option<BuildProcess>);

/// Starts `cargo test --no-run` right away when its output can be held back, so cargo
/// checks its fingerprints while `cargo metadata` runs and the configuration is read; on a
/// terminal the build starts after them (cargo's progress bar needs the terminal itself).
/// Dropping the value unused abandons the build (a configuration error shows alone).
fn start_early_build(opts: &CargoOptions) -> Result<EarlyBuild, AppError> {
    testplan_runner::env::prefetch_host_libdir();
    if std::io::stderr().is_terminal() {
        return Ok(EarlyBuild(None));
    }
    Ok(EarlyBuild(Some(cargo::start_build(opts, BuildStderr::Held)?)))
}

/// A token raised by Ctrl-C and SIGTERM.
fn cancel_token() -> Result<CancelToken, AppError> {
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
