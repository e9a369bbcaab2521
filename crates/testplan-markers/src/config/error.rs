//! Configuration errors and warnings. Each is one line:
//! `FILE:LINE:COLUMN: KEY.PATH: message`.

use std::fmt;

use crate::expr::ExprErrorKind;
use crate::marker::{InvalidMarkerName, UnknownMarker};
use crate::plan::UnknownPhase;
use crate::suggest::hint;
use crate::units::UnitError;

/// Where a diagnostic points: file, 1-based line and column, and the key path
/// (`phases[2].select`; empty for TOML syntax errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// The file as the user knows it (`testplan.toml`, `Cargo.toml`).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// The key path, prefixed for metadata tables (`workspace.metadata.testplan.phases[0]`).
    pub key_path: String,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)?;
        if !self.key_path.is_empty() {
            write!(f, ": {}", self.key_path)?;
        }
        Ok(())
    }
}

/// An invalid configuration: nothing may run. Boxed, so that `Result`s stay small.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {}", .0.0, .0.1)]
pub struct ConfigError(Box<(Place, ConfigErrorKind)>);

impl ConfigError {
    /// An error at `place`.
    pub fn new(place: Place, kind: ConfigErrorKind) -> ConfigError {
        ConfigError(Box::new((place, kind)))
    }

    /// Where.
    pub fn place(&self) -> &Place {
        &self.0.0
    }

    /// What.
    pub fn kind(&self) -> &ConfigErrorKind {
        &self.0.1
    }
}

/// What is wrong with the configuration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigErrorKind {
    /// The text is not TOML.
    #[error("invalid TOML: {message}")]
    InvalidToml {
        /// The TOML parser's message.
        message: String,
    },
    /// A value of the wrong type.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// What the key takes.
        expected: &'static str,
        /// The TOML type given.
        found: &'static str,
    },
    /// A required key is absent.
    #[error("missing required key '{key}'")]
    MissingKey {
        /// The key.
        key: &'static str,
    },
    /// `[markers.NAME]` with an invalid name.
    #[error(transparent)]
    InvalidMarkerName(InvalidMarkerName),
    /// Two marker tables that name the same marker (`gpu_heavy` and `gpu-heavy`).
    #[error("marker '{name}' is declared twice (first at line {first_line})")]
    DuplicateMarker {
        /// The marker.
        name: String,
        /// Line of the first declaration.
        first_line: u32,
    },
    /// `[markers.NAME]` for an unregistered name without a description: most likely a typo.
    #[error("{0}; a new marker needs a description")]
    UndeclaredMarker(UnknownMarker),
    /// An invalid `select` expression (message only; the location points into the string).
    #[error(transparent)]
    Expr(ExprErrorKind),
    /// A rule pattern the regex crate rejects.
    #[error("invalid regex '{regex}': {error}")]
    InvalidRegex {
        /// The pattern.
        regex: String,
        /// The regex crate's message, on one line.
        error: String,
    },
    /// A `kind` pattern no target kind matches.
    #[error("regex '{regex}' matches no target kind (lib, bin, proc-macro, test, bench, example, doc)")]
    KindMatchesNothing {
        /// The pattern.
        regex: String,
    },
    /// A rule with no pattern would mark every test.
    #[error("a rule needs at least one of name, package, binary, kind, file")]
    EmptyRule,
    /// `name = ""`.
    #[error("phase name is empty")]
    EmptyPhaseName,
    /// A phase or profile name outside `[a-z][a-z0-9_-]*`.
    #[error(
        "invalid {what} name '{name}': use lowercase letters, digits, '-' and '_', starting with a letter"
    )]
    InvalidName {
        /// `phase` or `profile`.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// A phase named like a command of cargo-testplan.
    #[error("'{name}' is a cargo-testplan command and cannot name a phase")]
    ReservedPhaseName {
        /// The name.
        name: String,
    },
    /// Two phases with one name.
    #[error("duplicate phase '{name}' (first defined at line {first_line})")]
    DuplicatePhase {
        /// The name.
        name: String,
        /// Line of the first definition.
        first_line: u32,
    },
    /// `phases = []`.
    #[error("the plan needs at least one phase")]
    NoPhases,
    /// A profile lists a phase the plan lacks.
    #[error(transparent)]
    UnknownPhase(UnknownPhase),
    /// A profile lists a phase twice.
    #[error("phase '{name}' is listed twice")]
    PhaseListedTwice {
        /// The phase.
        name: String,
    },
    /// `phases = []` in a profile.
    #[error("a profile needs at least one phase")]
    EmptyProfile,
    /// A bad duration or byte size.
    #[error(transparent)]
    Unit(UnitError),
    /// A string outside its set of values (`on-failure = "stopp"`).
    #[error("invalid value '{value}': expected {expected}{}", hint(suggestion.as_deref()))]
    InvalidValue {
        /// The value.
        value: String,
        /// The accepted values, quoted: `'stop' or 'continue'`.
        expected: String,
        /// The closest accepted value.
        suggestion: Option<String>,
    },
    /// `jobs = 0` or negative.
    #[error("expected a positive integer, found {value}")]
    NotPositive {
        /// The value.
        value: String,
    },
}

/// Something suspicious that does not stop the run. Unknown keys are warnings, as in cargo
/// and cargo-nextest: a configuration written for a newer cargo-testplan still works with
/// an older one, and the warning still catches typos. Phases that can never receive a test
/// are warnings too: the plan is still valid, only pointless.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {kind}")]
pub struct ConfigWarning {
    /// Where.
    pub place: Place,
    /// What.
    pub kind: ConfigWarningKind,
}

/// What a warning is about.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigWarningKind {
    /// A key this version does not know.
    #[error("unknown key{}", hint(suggestion.as_deref()))]
    UnknownKey {
        /// The closest known key of that table.
        suggestion: Option<String>,
    },
    /// A phase whose `select` is never true (`a and not a`).
    #[error("phase '{name}' selects no test: its expression is never true")]
    NeverTrue {
        /// The phase.
        name: String,
    },
    /// A phase whose tests all belong to earlier phases (a test belongs to the first phase
    /// that selects it), so it never runs anything.
    #[error("phase '{name}' is unreachable: every test it selects belongs to an earlier phase")]
    UnreachablePhase {
        /// The phase.
        name: String,
    },
}
