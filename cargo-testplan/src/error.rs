//! The one top-level error type, and the documented exit codes (docs/exit-codes.md) it maps
//! to. Codes follow cargo-nextest's where the meaning is shared.

use nextest_metadata::NextestExitCode;
use testplan_runner::RunnerError;

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
    /// An invalid command line that clap could not catch (unknown phase or profile, ...).
    #[error("{0}")]
    Usage(String),
    /// The configuration is invalid (the message names file, line, column and key).
    #[error("{0}")]
    Config(String),
    /// A `-m` or `-k` expression is invalid (the message shows the column).
    #[error("{0}")]
    Expression(String),
    /// Already shown to the user (clap's own messages); exit with this code.
    #[error("exit {0}")]
    AlreadyReported(i32),
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
            AppError::AlreadyReported(code) => *code,
            AppError::Config(_) => exit::CONFIG_ERROR,
            AppError::Coverage(_) => exit::SETUP_ERROR,
            AppError::CoverageGate(_) => exit::COVERAGE_GATE,
            AppError::Archive(e) => e.exit_code(),
            AppError::Expression(_) => exit::INVALID_EXPRESSION,
        }
    }

    /// Whether the message was already shown (so `main` should not print it again).
    pub fn already_reported(&self) -> bool {
        matches!(
            self,
            AppError::TestsFailed(_)
                | AppError::AlreadyReported(_)
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
