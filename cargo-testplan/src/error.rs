//! The one top-level error type, and the documented exit codes (docs/exit-codes.md) it maps
//! to. Codes follow cargo-nextest's where the meaning is shared.

use nextest_metadata::NextestExitCode;
use testplan_reporter::json::ReadReportError;
use testplan_runner::RunnerError;
use testplan_runner::platform::containment::ContainmentError;
use testplan_runner::resources::GpuOverrideError;

use crate::cli::LibtestOptionError;

/// Documented exit codes.
pub mod exit {
    use super::NextestExitCode;
    /// Every test passed (or the command succeeded).
    pub const OK: i32 = 0;
    /// The command line was invalid.
    pub const USAGE: i32 = 2;
    /// No tests ran and `--no-tests=fail`.
    pub const NO_TESTS: i32 = NextestExitCode::NO_TESTS_RUN;
    /// At least one test failed, crashed or timed out.
    pub const TESTS_FAILED: i32 = NextestExitCode::TEST_RUN_FAILED;
    /// The build failed.
    pub const BUILD_FAILED: i32 = NextestExitCode::BUILD_FAILED;
    /// `cargo metadata` failed.
    pub const METADATA_FAILED: i32 = NextestExitCode::CARGO_METADATA_FAILED;
    /// Listing the tests of a binary failed.
    pub const LIST_FAILED: i32 = NextestExitCode::TEST_LIST_CREATION_FAILED;
    /// Any other setup error (I/O, unreadable files).
    pub const SETUP_ERROR: i32 = NextestExitCode::SETUP_ERROR;
    /// Writing output (a report) failed.
    pub const WRITE_OUTPUT_ERROR: i32 = NextestExitCode::WRITE_OUTPUT_ERROR;
    /// The configuration (testplan.toml or Cargo.toml metadata) is invalid.
    pub const CONFIG_ERROR: i32 = NextestExitCode::SETUP_ERROR;
    /// A `-m`/`-k` expression is invalid (nextest's code for an invalid filter expression).
    pub const INVALID_EXPRESSION: i32 = NextestExitCode::INVALID_FILTERSET;
    /// Interrupted by Ctrl-C (SIGINT) or SIGTERM.
    pub const INTERRUPTED: i32 = 130;
    /// A coverage gate failed (`--coverage-fail-under`, per-phase minimums, no drop); the
    /// tests passed and every report was written.
    pub const COVERAGE_GATE: i32 = 3;
}

/// Why a command did not succeed.
///
/// The variants that wrap a library error show its message as theirs and do not repeat it
/// as a cause: those messages already name the file, key and column (or the value given).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// An error from the pipeline.
    #[error(transparent)]
    Runner(#[from] RunnerError),
    /// Writing an archive, or running from one, failed (`archive`, `--archive`).
    #[error(transparent)]
    Archive(#[from] crate::commands::archive::ArchiveRunError),
    /// Tests failed (already reported).
    #[error("{0} tests failed")]
    TestsFailed(usize),
    /// Nothing to run.
    #[error("no tests to run")]
    NoTests,
    /// Ctrl-C.
    #[error("interrupted")]
    Interrupted,
    /// The command line clap rejected (or `--help`, `--version`): clap prints it.
    #[error("{0}")]
    CommandLine(clap::Error),
    /// An invalid command line that clap could not catch (unknown phase or profile, ...).
    #[error("{0}")]
    Usage(UsageError),
    /// The configuration is invalid.
    #[error("{0}")]
    Config(ConfigFileError),
    /// A `-m` or `-k` expression is invalid (the message shows the column).
    #[error("{0}")]
    Expression(testplan_markers::ExprError),
    /// A run report given on the command line (`report`, `merge`, `--baseline`,
    /// `--timings`) cannot be read.
    #[error("{0}")]
    ReadReport(ReadReportError),
    /// Outputs of a run or merge could not be written (each already reported with its path
    /// and OS error; the others were written).
    #[error("{0} outputs could not be written")]
    OutputsFailed(usize),
    /// `--coverage` cannot run: no LLVM tools that read rustc's profiles (the message says
    /// what to install), or its set-up failed.
    #[error(transparent)]
    Coverage(#[from] testplan_coverage::CoverageError),
    /// Coverage gates failed (each already printed at the end of the run).
    #[error("{0} coverage gates failed")]
    CoverageGate(usize),
    /// Writing a report or the output failed.
    #[error("writing {what}: {source}")]
    WriteOutput {
        /// What was being written.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A command line clap accepted that cannot run.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// `cargo testplan NAME` where NAME is neither a command nor a phase.
    #[error("unknown command or unknown phase '{name}'{}", hint(suggestion.as_deref()))]
    UnknownCommand {
        /// The name given.
        name: String,
        /// The closest command or phase.
        suggestion: Option<String>,
    },
    /// `--phase` with a phase command (`cargo testplan unit --phase doc`).
    #[error("--phase cannot be combined with a phase command")]
    PhaseWithPhaseCommand,
    /// `--profile` with a profile command other than `run`.
    #[error("--profile {profile} cannot be combined with `{command}`, which is a profile itself")]
    ProfileWithProfileCommand {
        /// `--profile`'s value.
        profile: String,
        /// `fast`, `full`.
        command: String,
    },
    /// `--profile NAME` names no profile.
    #[error("{0}")]
    UnknownProfile(testplan_markers::config::UnknownProfile),
    /// `--phase NAME` names no phase.
    #[error("--phase: {0}")]
    UnknownPhase(testplan_markers::plan::UnknownPhase),
    /// `--gpu` or `CARGO_TESTPLAN_GPU` has an invalid value.
    #[error("{0}")]
    Gpu(GpuOverrideError),
    /// `--containment cgroup` where no cgroup can be made.
    #[error("{0}")]
    Containment(ContainmentError),
    /// A libtest option after `--` that cargo-testplan cannot take.
    #[error("{0}")]
    LibtestOption(LibtestOptionError),
    /// `--timings` without `--partition`.
    #[error("--timings needs --partition duration:K/N")]
    TimingsWithoutPartition,
    /// `explain NAME` where no test is named so.
    #[error("no test is named `{name}` (try `cargo testplan list`)")]
    NoSuchTest {
        /// The name given.
        name: String,
    },
    /// `explain NAME` where several tests match.
    #[error("`{name}` matches {count} tests; give the full name (or BINARY-ID NAME):\n{}", shown.join("\n"))]
    AmbiguousTest {
        /// The name given.
        name: String,
        /// How many tests match.
        count: usize,
        /// The lines that show the first of them (and how many more there are).
        shown: Vec<String>,
    },
    /// `init` where a configuration exists.
    #[error("{path} already exists (use --force to overwrite it)")]
    ConfigExists {
        /// The configuration file, as shown.
        path: String,
    },
}

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// The file could not be read.
    #[error("{path}: cannot read: {cause}")]
    Read {
        /// The file, as shown.
        path: String,
        /// The cause (shown in the message).
        cause: std::io::Error,
    },
    /// The file is not a valid configuration (the message names file, line, column and key).
    #[error("{0}")]
    Invalid(testplan_markers::ConfigError),
}

/// ` (did you mean 'x'?)` or nothing.
fn hint(suggestion: Option<&str>) -> String {
    suggestion.map(|s| format!(" (did you mean '{s}'?)")).unwrap_or_default()
}

/// Conversions from the libraries' errors to the variant that says what they mean here.
macro_rules! app_error_from {
    ($($error:ty => $variant:expr),* $(,)?) => {
        $(impl From<$error> for AppError {
            fn from(e: $error) -> Self {
                $variant(e)
            }
        })*
    };
}

app_error_from! {
    UsageError => AppError::Usage,
    ConfigFileError => AppError::Config,
    testplan_markers::ExprError => AppError::Expression,
    ReadReportError => AppError::ReadReport,
    clap::Error => AppError::CommandLine,
    testplan_markers::config::UnknownProfile => |e| AppError::Usage(UsageError::UnknownProfile(e)),
    testplan_markers::plan::UnknownPhase => |e| AppError::Usage(UsageError::UnknownPhase(e)),
    GpuOverrideError => |e| AppError::Usage(UsageError::Gpu(e)),
    ContainmentError => |e| AppError::Usage(UsageError::Containment(e)),
    LibtestOptionError => |e| AppError::Usage(UsageError::LibtestOption(e)),
    testplan_markers::ConfigError => |e| AppError::Config(ConfigFileError::Invalid(e)),
}

impl AppError {
    /// The exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            AppError::Runner(e) => runner_exit_code(e),
            AppError::TestsFailed(_) => exit::TESTS_FAILED,
            AppError::NoTests => exit::NO_TESTS,
            AppError::Interrupted => exit::INTERRUPTED,
            AppError::WriteOutput { .. } | AppError::OutputsFailed(_) => exit::WRITE_OUTPUT_ERROR,
            AppError::Usage(_) => exit::USAGE,
            AppError::CommandLine(e) if e.use_stderr() => exit::USAGE,
            AppError::CommandLine(_) => exit::OK,
            AppError::Config(_) => exit::CONFIG_ERROR,
            AppError::Archive(e) => e.exit_code(),
            AppError::ReadReport(_) | AppError::Coverage(_) => exit::SETUP_ERROR,
            AppError::CoverageGate(_) => exit::COVERAGE_GATE,
            AppError::Expression(_) => exit::INVALID_EXPRESSION,
        }
    }

    /// Shows the error (unless it was shown already) and returns the exit code: clap's
    /// errors as clap prints them, the others as `error: ...` with their causes.
    pub fn report(&self) -> i32 {
        match self {
            AppError::CommandLine(e) => {
                let _ = e.print();
            }
            _ if self.already_reported() => {}
            _ => eprintln!("{}", self.message()),
        }
        self.exit_code()
    }

    /// `error: MESSAGE`, then `  caused by: CAUSE` for each cause the message does not
    /// already end with (errors that name their source in their own text, `{context}:
    /// {source}`, keep it `#[source]` for callers that walk the chain).
    fn message(&self) -> String {
        let mut message = format!("error: {self}");
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.ends_with(&text) {
                message.push_str(&format!("\n  caused by: {text}"));
            }
            source = cause.source();
        }
        message
    }

    /// Whether the message was already shown (so it is not printed again).
    fn already_reported(&self) -> bool {
        matches!(
            self,
            AppError::TestsFailed(_)
                | AppError::Interrupted
                | AppError::OutputsFailed(_)
                | AppError::CoverageGate(_)
                | AppError::Runner(RunnerError::Build { .. })
        )
    }
}

fn runner_exit_code(e: &RunnerError) -> i32 {
    match e {
        RunnerError::Metadata { .. } => exit::METADATA_FAILED,
        RunnerError::Build { .. } => exit::BUILD_FAILED,
        RunnerError::List { .. } => exit::LIST_FAILED,
        RunnerError::Io { .. } | RunnerError::Manifest { .. } => exit::SETUP_ERROR,
        RunnerError::Interrupted => exit::INTERRUPTED,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn each_error_has_its_message_and_exit_code() {
        let cases: [(AppError, &str, i32); 5] = [
            (
                UsageError::UnknownCommand { name: "lsit".into(), suggestion: Some("list".into()) }.into(),
                "unknown command or unknown phase 'lsit' (did you mean 'list'?)",
                exit::USAGE,
            ),
            (
                UsageError::AmbiguousTest {
                    name: "a".into(),
                    count: 3,
                    shown: vec!["  x a".into(), "  y a".into()],
                }
                .into(),
                "`a` matches 3 tests; give the full name (or BINARY-ID NAME):\n  x a\n  y a",
                exit::USAGE,
            ),
            (
                ConfigFileError::Read {
                    path: "testplan.toml".into(),
                    cause: std::io::Error::other("denied"),
                }
                .into(),
                "testplan.toml: cannot read: denied",
                exit::CONFIG_ERROR,
            ),
            (
                testplan_markers::KeywordExpr::parse("a and").expect_err("invalid").into(),
                &testplan_markers::KeywordExpr::parse("a and").expect_err("invalid").to_string(),
                exit::INVALID_EXPRESSION,
            ),
            (
                LibtestOptionError::MissingValue { flag: "--skip".into(), what: "a name" }.into(),
                "`-- --skip` needs a name",
                exit::USAGE,
            ),
        ];
        for (error, message, code) in cases {
            assert_eq!((error.to_string().as_str(), error.exit_code()), (message, code));
            assert!(std::error::Error::source(&error).is_none(), "{message}: the message says it all");
        }
    }

    #[test]
    fn clap_decides_the_exit_of_its_own_errors() {
        let help = crate::cli::Cli::try_parse_from(["cargo-testplan", "--help"]).expect_err("help");
        assert_eq!(AppError::from(help).exit_code(), exit::OK);
        let bad = crate::cli::Cli::try_parse_from(["cargo-testplan", "run", "--jobs", "x"]).expect_err("bad");
        assert_eq!(AppError::from(bad).exit_code(), exit::USAGE);
    }
}
