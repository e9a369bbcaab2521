//! The executor's errors. None of them stops a run: a job that cannot start fails its
//! tests with the error as a note, and a process that cannot be waited for fails its test
//! the same way. They are values so the note's text is decided in one place.

use std::sync::Arc;

/// Why a job's process could not be started.
#[derive(Clone, Debug, thiserror::Error)]
pub(crate) enum StartError {
    /// Discovery gave the binary no way to run (no executable).
    #[error("binary `{binary}` has no executable to run")]
    NoExecutable {
        /// The binary's id.
        binary: String,
    },
    /// The test list has doctests but no command to run them with.
    #[error("no command to run the doctests of `{binary}` with")]
    NoDoctestCommand {
        /// The doctest binary's id.
        binary: String,
    },
    /// The job's cgroup could not be made (a test must not run uncontained where
    /// containment was promised).
    #[error("could not create the job's cgroup: {0}")]
    Cgroup(#[source] Arc<std::io::Error>),
    /// Spawning the process failed.
    #[error("could not start `{program}`: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// What the OS said.
        #[source]
        source: Arc<std::io::Error>,
    },
}

/// `wait4` failed for a job's process.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct WaitError(#[source] pub Arc<std::io::Error>);
