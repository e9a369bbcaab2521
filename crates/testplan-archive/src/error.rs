//! The errors of writing and reading an archive, each naming the file and what to do.

use camino::Utf8PathBuf;

/// Why an archive could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Reading a file to archive, or writing the archive, failed.
    #[error("{what} `{path}`")]
    Io {
        /// What was being done (`cannot read`, `cannot write the archive`).
        what: &'static str,
        /// The file.
        path: Utf8PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file a test needs lies outside the target directory, so it cannot be placed
    /// relative to it on the run machine.
    #[error(
        "`{path}` (needed by the tests) is outside the target directory `{target_dir}`; only files of the target directory can be archived"
    )]
    OutsideTarget {
        /// The file.
        path: Utf8PathBuf,
        /// The build's target directory.
        target_dir: Utf8PathBuf,
    },
    /// The file is not a Zstandard-compressed tar.
    #[error("`{path}` is not a cargo-testplan archive (not a zstd-compressed tar: {reason})")]
    NotAnArchive {
        /// The file.
        path: Utf8PathBuf,
        /// What the reader saw.
        reason: String,
    },
    /// A tar.zst of something else (a nextest archive, a source tarball).
    #[error(
        "`{path}` is not a cargo-testplan archive ({reason}); make one with `cargo testplan archive -o FILE`"
    )]
    Foreign {
        /// The file.
        path: Utf8PathBuf,
        /// What the reader saw instead of the manifest.
        reason: String,
    },
    /// Written by a newer cargo-testplan, in a format this one does not know.
    #[error(
        "`{path}` is a version {found} cargo-testplan archive, but this cargo-testplan ({ours}) reads versions up to {supported}; install the cargo-testplan that wrote it ({created_by})"
    )]
    TooNew {
        /// The file.
        path: Utf8PathBuf,
        /// The archive's format version.
        found: u32,
        /// The highest version this reader knows.
        supported: u32,
        /// This reader's version.
        ours: &'static str,
        /// The writer, as the manifest names it.
        created_by: String,
    },
    /// A cargo-testplan archive that is damaged: truncated, an unreadable manifest, a
    /// missing file, an entry outside `target/`.
    #[error("`{path}` is a damaged cargo-testplan archive: {reason}")]
    Corrupt {
        /// The file.
        path: Utf8PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl ArchiveError {
    pub(crate) fn io(what: &'static str, path: impl Into<Utf8PathBuf>, source: std::io::Error) -> Self {
        ArchiveError::Io { what, path: path.into(), source }
    }
}
