//! The configuration: `testplan.toml` at the workspace root, or the
//! `[workspace.metadata.testplan]` / `[package.metadata.testplan]` table of a `Cargo.toml`.
//! It is parsed and validated once into a [`Config`]; after that, nothing is a string.
//!
//! # Schema
//!
//! Every key is optional; without any, the configuration is the default plan.
//!
//! ```toml
//! [markers.gpu-heavy]              # declare a marker (`_` in the name reads as `-`)
//! description = "large kernels"    # required for a new marker; replaces a built-in's
//! timeout = "10m"                  # per-test timeout for tests carrying it
//! time-budget = "5s"               # over this, a test is reported as a `slow` candidate
//! memory = "2GiB"                  # per-test memory estimate and limit (or bytes: 1073741824)
//! isolation = "process"            # "process": never batched; "batch": batched in any phase
//!
//! [[markers.gpu-heavy.rules]]      # rules assign the marker; all given regexes must match
//! name = "^kernels::"              # full test name
//! package = "^sim-"                # package name
//! binary = "^gpu_"                 # binary (target) name
//! kind = "^(lib|test)$"            # lib, bin, proc-macro, test, bench, example, doc
//! file = "^src/kernels/"           # source file path (never matches when unknown)
//!
//! [[markers.slow.rules]]           # built-in markers take rules and defaults too
//! package = "^my-sim$"
//!
//! [[phases]]                       # when given, the phases replace the default plan
//! name = "unit"                    # required; lowercase, digits, '-', '_'; not a command
//! select = "unit and not slow"     # required; marker expression
//! jobs = 4                         # parallelism cap (default: from CPUs and memory)
//! timeout = "60s"                  # per-test timeout
//! memory = "1GiB"                  # per-test memory estimate and limit
//! requires = ["gpu"]               # skipped, with the reason, when the machine lacks it
//! on-failure = "stop"              # "stop" (default) or "continue"
//! serial = false                   # run one test at a time
//! isolation = "process"            # "process" (default; unit and doc batch by default) or "batch"
//!
//! [profiles.nightly]               # `--profile nightly`; `run`, `fast`, `full` built in
//! phases = ["unit"]                # phases, in run order (default: every phase)
//! select = "not requires-gpu"      # tests must also match this
//! run-ignored = "all"              # "default", "only" or "all"
//! fail-fast = false                # false: later phases run after a failure
//! ```
//!
//! Durations: a number and a unit, `ms`, `s`, `m` or `h` (`300ms`, `5s`, `1.5h`, `1m30s`).
//! Sizes: a number and a unit, `B`, `kB`/`KiB`, `MB`/`MiB`, `GB`/`GiB`, `TB`/`TiB` (case does
//! not matter), or an integer number of bytes. Zero is never accepted.
//!
//! # Diagnostics
//!
//! An error stops everything; it is one line naming the file, the line and column, and the
//! key path: `testplan.toml:14:22: phases[2].select: unknown marker 'slwo' (did you mean
//! 'slow'?)`. For metadata tables the key path starts at the document root
//! (`Cargo.toml:20:11: workspace.metadata.testplan.phases[0].select: ...`).
//!
//! Unknown keys are *warnings* with the same format (`testplan.toml:3:1:
//! markers.slow.colour: unknown key`), as in cargo and cargo-nextest, so that a
//! configuration written for a newer version still runs on an older one.

mod coverage;
mod error;
mod fields;
mod init;
mod markers;
mod phases;
mod profiles;
mod walk;

pub use coverage::{CoverageConfig, Percent};
pub use error::{ConfigError, ConfigErrorKind, ConfigWarning, ConfigWarningKind, Place};

use toml::de::DeTable;

use crate::classify::{Classification, Rule, TestFacts, classify};
use crate::expr::{ExprError, MarkerExpr};
use crate::marker::MarkerRegistry;
use crate::plan::{Plan, Profile};
use crate::suggest::{did_you_mean, hint};
use walk::{KeyPath, Source, Table};

/// Top-level keys.
const TOP_KEYS: [&str; 4] = ["markers", "phases", "profiles", "coverage"];

/// Where configuration text comes from: the file name used in messages and, for a
/// `Cargo.toml`, the table holding the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigOrigin {
    file: String,
    table: Vec<String>,
}

impl ConfigOrigin {
    /// A `testplan.toml`: the configuration is the whole document.
    pub fn testplan_toml(file: impl Into<String>) -> ConfigOrigin {
        ConfigOrigin { file: file.into(), table: Vec::new() }
    }

    /// The `[workspace.metadata.testplan]` table of a workspace `Cargo.toml`.
    pub fn workspace_metadata(file: impl Into<String>) -> ConfigOrigin {
        ConfigOrigin::table(file, &["workspace", "metadata", "testplan"])
    }

    /// The `[package.metadata.testplan]` table of a package `Cargo.toml`.
    pub fn package_metadata(file: impl Into<String>) -> ConfigOrigin {
        ConfigOrigin::table(file, &["package", "metadata", "testplan"])
    }

    /// Any table of a TOML document, by key path.
    pub fn table(file: impl Into<String>, keys: &[&str]) -> ConfigOrigin {
        ConfigOrigin { file: file.into(), table: keys.iter().map(|k| (*k).to_owned()).collect() }
    }

    /// The file name used in messages.
    pub fn file(&self) -> &str {
        &self.file
    }
}

/// A validated configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Built-in and declared markers.
    pub registry: MarkerRegistry,
    /// Rules, in file order.
    pub rules: Vec<Rule>,
    /// The phases.
    pub plan: Plan,
    /// Built-in and configured profiles.
    pub profiles: Vec<Profile>,
    /// `[coverage]`: coverage on every run, and its gates.
    pub coverage: CoverageConfig,
}

impl Default for Config {
    /// The built-in markers, no rules, the default plan and the built-in profiles.
    fn default() -> Self {
        Config {
            registry: MarkerRegistry::builtin(),
            rules: Vec::new(),
            plan: Plan::default_plan(),
            profiles: Profile::builtins(),
            coverage: CoverageConfig::default(),
        }
    }
}

/// A configuration and what was noticed while reading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedConfig {
    /// The configuration.
    pub config: Config,
    /// Unknown keys and the like; print them, then go on.
    pub warnings: Vec<ConfigWarning>,
    /// False when the origin's table was absent (a `Cargo.toml` without
    /// `[workspace.metadata.testplan]`) and `config` is the default.
    pub found: bool,
}

/// A profile name that is not defined.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile '{name}'{}", hint(suggestion.as_deref()))]
pub struct UnknownProfile {
    /// The name as given.
    pub name: String,
    /// The closest profile name.
    pub suggestion: Option<String>,
}

impl Config {
    /// Parses and validates configuration text. See the module documentation for the schema
    /// and the form of errors and warnings.
    pub fn from_toml_str(text: &str, origin: &ConfigOrigin) -> Result<LoadedConfig, ConfigError> {
        let src = Source { text, file: &origin.file };
        let document = DeTable::parse(text).map_err(|error| toml_error(&src, &error))?;
        let Some(table) = descend(&src, Table::root(&document, KeyPath::root("")), &origin.table)? else {
            return Ok(LoadedConfig { config: Config::default(), warnings: Vec::new(), found: false });
        };
        let mut warnings = Vec::new();
        table.warn_unknown_keys(&src, &TOP_KEYS, &mut warnings);
        let (registry, rules) = markers::read(&src, table.get("markers"), &mut warnings)?;
        let plan = phases::read(&src, table.get("phases"), &registry, &mut warnings)?;
        let profiles = profiles::read(&src, table.get("profiles"), &registry, &plan, &mut warnings)?;
        let coverage = coverage::read(&src, table.get("coverage"), &plan, &mut warnings)?;
        let config = Config { registry, rules, plan, profiles, coverage };
        Ok(LoadedConfig { config, warnings, found: true })
    }

    /// The commented `testplan.toml` that `cargo testplan init` writes; it reproduces the
    /// default plan.
    pub fn render_init() -> &'static str {
        init::TEMPLATE
    }

    /// Markers of one test, with their sources.
    pub fn classify(&self, test: &TestFacts<'_>) -> Classification {
        classify(&self.registry, &self.rules, test)
    }

    /// Parses a `-m` expression against this configuration's markers.
    pub fn marker_expr(&self, text: &str) -> Result<MarkerExpr, ExprError> {
        MarkerExpr::parse_checked(text, &self.registry)
    }

    /// The profile of this name.
    pub fn profile(&self, name: &str) -> Result<&Profile, UnknownProfile> {
        self.profiles.iter().find(|profile| profile.name == name).ok_or_else(|| UnknownProfile {
            name: name.to_owned(),
            suggestion: did_you_mean(name, self.profiles.iter().map(|p| p.name.as_str())).map(str::to_owned),
        })
    }
}

/// The TOML parser's error as a located configuration error.
fn toml_error(src: &Source<'_>, error: &toml::de::Error) -> ConfigError {
    let offset = error.span().map_or(0, |span| span.start);
    let message = error.message().split_whitespace().collect::<Vec<_>>().join(" ");
    src.error(offset, &KeyPath::default(), ConfigErrorKind::InvalidToml { message })
}

/// Walks down to the configuration table; `None` when a key on the way is absent.
fn descend<'a, 'i>(
    src: &Source<'_>,
    mut table: Table<'a, 'i>,
    keys: &[String],
) -> Result<Option<Table<'a, 'i>>, ConfigError> {
    for key in keys {
        let Some(value) = table.get(key) else {
            return Ok(None);
        };
        table = value.table(src)?;
    }
    Ok(Some(table))
}

#[cfg(test)]
mod tests;
