//! The runner's error types. The binary maps each [`RunnerError`] variant to a documented
//! exit code (build failure 101, listing failure 104, ...); the smaller enums below are the
//! typed causes a variant carries as its `#[source]`.

use camino::Utf8PathBuf;

/// Everything that can stop the pipeline before or outside test execution.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// `cargo metadata` failed (bad manifest path, invalid Cargo.toml, ...).
    #[error("cargo metadata failed: {cause}")]
    Metadata {
        /// What went wrong.
        #[source]
        cause: MetadataError,
    },
    /// `cargo test --no-run` (or the doctest listing) failed; cargo's errors were already
    /// shown on stderr.
    #[error("build failed ({status})")]
    Build {
        /// How cargo exited.
        status: String,
    },
    /// A test binary could not be listed.
    #[error("listing tests of `{binary}` failed: {cause}")]
    List {
        /// The binary id (or its executable, before it has one).
        binary: String,
        /// What went wrong.
        #[source]
        cause: ListError,
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
    /// A package manifest could not be parsed.
    #[error("{path}: {source}")]
    Manifest {
        /// The manifest.
        path: Utf8PathBuf,
        /// The TOML error.
        #[source]
        source: toml::de::Error,
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

/// Why `cargo metadata` gave no workspace.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// cargo exited unsuccessfully; its stderr.
    #[error("{stderr}")]
    Failed {
        /// cargo's own explanation, trimmed.
        stderr: String,
    },
    /// cargo's output is not UTF-8.
    #[error("`cargo metadata` printed invalid UTF-8")]
    InvalidUtf8(#[source] std::string::FromUtf8Error),
    /// cargo's output is not the JSON `cargo_metadata` reads.
    #[error("cannot read the output of `cargo metadata`: {0}")]
    Unreadable(#[source] cargo_metadata::Error),
}

/// Why a test binary's tests could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The binary's package is missing from `cargo metadata`'s output.
    #[error("package `{package_id}` is not in `cargo metadata`'s output")]
    UnknownPackage {
        /// The package id cargo's build message named.
        package_id: String,
    },
    /// Neither libtest listing (JSON, then terse) worked.
    #[error("`{command}` {failure}\n(the JSON listing failed too: {json_problem})")]
    Libtest {
        /// The terse listing command that failed.
        command: String,
        /// How it ended, with its stderr.
        failure: String,
        /// Why the JSON listing was not used.
        json_problem: String,
    },
}

/// Why a libtest JSON listing (`--list --format json`) cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum JsonListingError {
    /// A line is not the JSON libtest writes.
    #[error("unreadable listing line `{line}`: {source}")]
    UnreadableLine {
        /// The line.
        line: String,
        /// serde_json's explanation.
        #[source]
        source: serde_json::Error,
    },
    /// The `completed` line's total disagrees with the tests read.
    #[error("the listing announces {announced} tests but {read} were read")]
    CountMismatch {
        /// The total the `completed` line announces.
        announced: usize,
        /// The tests read.
        read: usize,
    },
    /// No `completed` line: the listing was cut short.
    #[error("the listing has no `completed` line")]
    NotCompleted,
}
