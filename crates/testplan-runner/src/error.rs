//! The runner's error type. The binary maps each variant to a documented exit code
//! (build failure 101, listing failure 104, ...).

use camino::Utf8PathBuf;

/// Everything that can stop the pipeline before or outside test execution.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// `cargo metadata` failed (bad manifest path, invalid Cargo.toml, ...).
    #[error("cargo metadata failed: {message}")]
    Metadata {
        /// cargo's own explanation.
        message: String,
    },
    /// `cargo test --no-run` failed; cargo's errors were already shown on stderr.
    #[error("build failed ({status})")]
    Build {
        /// How cargo exited.
        status: String,
    },
    /// A test binary could not be listed.
    #[error("listing tests of `{binary}` failed: {message}")]
    List {
        /// The binary id.
        binary: String,
        /// What went wrong, with the binary's output where useful.
        message: String,
    },
    /// An I/O error with what we were doing at the time.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be parsed.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: Utf8PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The run was interrupted (Ctrl-C) before tests started.
    #[error("interrupted")]
    Interrupted,
}

impl RunnerError {
    /// Wraps an I/O error with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        RunnerError::Io { context: context.into(), source }
    }
}
