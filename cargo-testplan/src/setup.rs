//! Turning the command line and the configuration into a run's selection, before anything
//! is built: the configuration is found and validated, `-m`/`-k`, `--phase` and
//! `--profile` are checked against it, so nothing runs when any of them is invalid.

use camino::{Utf8Path, Utf8PathBuf};
use testplan_markers::{Config, ConfigOrigin, LoadedConfig, Selection};

use crate::cli::{FilterArgs, PlanArgs};
use crate::error::{AppError, ConfigFileError, UsageError};

/// The configuration file name at the workspace root.
pub const CONFIG_FILE: &str = "testplan.toml";

/// Where the configuration came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigSource {
    /// `testplan.toml` at the workspace root.
    File(Utf8PathBuf),
    /// `[workspace.metadata.testplan]` or `[package.metadata.testplan]` of the root manifest.
    Manifest(Utf8PathBuf),
    /// No configuration: the built-in defaults.
    Defaults,
}

/// A validated configuration and its source.
#[derive(Clone, Debug)]
pub struct PlanConfig {
    /// The configuration.
    pub config: Config,
    /// Where it came from.
    pub source: ConfigSource,
}

/// Finds and validates the configuration: `testplan.toml` at the workspace root, else
/// `[workspace.metadata.testplan]`, else `[package.metadata.testplan]` of the root
/// `Cargo.toml`, else the defaults. Warnings (unknown keys) go to stderr.
pub fn load_config(root: &Utf8Path) -> Result<PlanConfig, AppError> {
    let file = root.join(CONFIG_FILE);
    if file.is_file() {
        let loaded = parse(&file, ConfigOrigin::testplan_toml(display_path(&file)))?;
        return Ok(PlanConfig { config: loaded.config, source: ConfigSource::File(file) });
    }
    let manifest = root.join("Cargo.toml");
    for origin in [
        ConfigOrigin::workspace_metadata(display_path(&manifest)),
        ConfigOrigin::package_metadata(display_path(&manifest)),
    ] {
        let loaded = parse(&manifest, origin)?;
        if loaded.found {
            return Ok(PlanConfig { config: loaded.config, source: ConfigSource::Manifest(manifest) });
        }
    }
    Ok(PlanConfig { config: Config::default(), source: ConfigSource::Defaults })
}

fn parse(path: &Utf8Path, origin: ConfigOrigin) -> Result<LoadedConfig, AppError> {
    let text = std::fs::read_to_string(path)
        .map_err(|cause| ConfigFileError::Read { path: display_path(path), cause })?;
    let loaded = Config::from_toml_str(&text, &origin)?;
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(loaded)
}

/// A path as short as it can be shown: relative to the current directory when inside it.
pub fn display_path(path: &Utf8Path) -> String {
    let cwd = std::env::current_dir().ok().and_then(|d| Utf8PathBuf::from_path_buf(d).ok());
    match cwd.as_deref().and_then(|cwd| path.strip_prefix(cwd).ok()) {
        Some(rel) if !rel.as_str().is_empty() => rel.to_string(),
        _ => path.to_string(),
    }
}

/// What a run command selects before the command line narrows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A profile: `run`, `fast`, `full` or a configured one.
    Profile(String),
    /// One phase: `cargo testplan PHASE`.
    Phase(String),
}

/// The selection of a run: the mode's profile or phase, `--profile`, `--phase`, then `-m`,
/// `-k` and `--run-ignored`.
pub fn selection(
    config: &Config,
    mode: &Mode,
    plan: &PlanArgs,
    filter: &FilterArgs,
) -> Result<Selection, AppError> {
    let mut selection = base_selection(config, mode, plan)?;
    if !plan.phase.is_empty() {
        if matches!(mode, Mode::Phase(_)) {
            return Err(UsageError::PhaseWithPhaseCommand.into());
        }
        selection.phases = phase_list(config, &plan.phase)?;
    }
    if let Some(text) = &plan.markers {
        let expr = config.marker_expr(text)?;
        selection = selection.and_markers(expr);
    }
    if let Some(text) = &plan.keyword {
        let expr = testplan_markers::KeywordExpr::parse(text)?;
        selection = selection.and_keywords(expr);
    }
    if let Some(run_ignored) = filter.run_ignored {
        selection.run_ignored = run_ignored.into();
    }
    Ok(selection)
}

/// The commands `cargo testplan` has besides its phases, for typo suggestions.
pub const COMMANDS: [&str; 11] =
    ["run", "fast", "full", "list", "markers", "explain", "init", "doctor", "report", "merge", "matrix"];

/// `unknown command or unknown phase 'lsit' (did you mean 'list'?)`: the closest command or
/// phase (commands first on a tie).
fn unknown_command(config: &Config, name: &str) -> UsageError {
    let phases = config.plan.phases().iter().map(|p| p.name.as_str());
    let suggestion = testplan_markers::did_you_mean(name, COMMANDS.into_iter().chain(phases));
    UsageError::UnknownCommand { name: name.to_owned(), suggestion: suggestion.map(str::to_owned) }
}

fn base_selection(config: &Config, mode: &Mode, plan: &PlanArgs) -> Result<Selection, AppError> {
    match (mode, &plan.profile) {
        (Mode::Profile(name), Some(other)) if name != "run" => {
            Err(UsageError::ProfileWithProfileCommand { profile: other.clone(), command: name.clone() }
                .into())
        }
        (Mode::Profile(name), profile) => {
            let name = profile.as_deref().unwrap_or(name);
            let profile = config.profile(name)?;
            Ok(Selection::from_profile(&config.plan, profile))
        }
        (Mode::Phase(name), _) => {
            let idx = config.plan.find(name).map_err(|_| unknown_command(config, name))?;
            let mut selection = Selection::phases(vec![idx]);
            if let Some(profile) = &plan.profile {
                let profile = config.profile(profile)?;
                let base = Selection::from_profile(&config.plan, profile);
                selection.markers = base.markers;
                selection.run_ignored = base.run_ignored;
                selection.fail_fast = base.fail_fast;
            }
            Ok(selection)
        }
    }
}

fn phase_list(config: &Config, names: &[String]) -> Result<Vec<testplan_markers::PhaseIdx>, AppError> {
    let mut phases = names
        .iter()
        .map(|name| config.plan.find(name.trim()).map_err(AppError::from))
        .collect::<Result<Vec<_>, _>>()?;
    phases.sort();
    phases.dedup();
    Ok(phases)
}

/// The GPU status for phases that require one: `--gpu`, else `CARGO_TESTPLAN_GPU`, else
/// detection.
pub fn gpu_status(arg: Option<crate::cli::GpuArg>) -> Result<testplan_runner::plan::GpuStatus, AppError> {
    crate::gpu::status(arg)
}
