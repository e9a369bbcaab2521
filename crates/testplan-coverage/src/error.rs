//! The coverage engine's error type. Every failure names what was being done and, where a
//! user can act on it, what to do (the install hint when no LLVM tools fit).

use camino::Utf8PathBuf;

/// The install hint printed when no usable LLVM tools are found.
pub const INSTALL_HINT: &str = "install LLVM tools matching this rustc: `rustup component add llvm-tools-preview` \
     (rustup toolchains), or `apt-get install llvm-19` (Debian/Ubuntu), or set \
     LLVM_PROFDATA and LLVM_COV to tools that can";

/// One candidate pair of LLVM tools that was tried and why it did not fit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// The `llvm-profdata` that was tried.
    pub profdata: Utf8PathBuf,
    /// Why the pair cannot be used (its own error output, shortened).
    pub reason: String,
}

/// Everything that can stop coverage collection or reporting.
#[derive(Debug, thiserror::Error)]
pub enum CoverageError {
    /// No pair of `llvm-profdata`/`llvm-cov` can read this rustc's profiles.
    #[error("no LLVM coverage tools that read this rustc's profiles ({}); {INSTALL_HINT}", tried_text(.tried))]
    ToolsNotFound {
        /// Every pair that was tried, with its reason.
        tried: Vec<Rejected>,
    },
    /// The probe program (an empty `main` built with `-C instrument-coverage`) could not be
    /// built or run: this toolchain cannot instrument programs at all.
    #[error(
        "this toolchain cannot build programs with `-C instrument-coverage` ({message}); use a rustup toolchain"
    )]
    Probe {
        /// rustc's or the probe's own error output.
        message: String,
    },
    /// An LLVM tool or git ended with an error.
    #[error("`{command}` failed: {message}")]
    Tool {
        /// The command line, shortened to the program and its first arguments.
        command: String,
        /// The tool's error output (or how it ended).
        message: String,
    },
    /// A tool's output could not be parsed.
    #[error("reading {what}: {message}")]
    Parse {
        /// What was being read (`llvm-cov export (lcov)`, `git diff`, ...).
        what: String,
        /// What is wrong, with the line number where there is one.
        message: String,
    },
    /// There is nothing to report coverage against: the build produced no test binaries.
    #[error("no instrumented binaries to read coverage from")]
    NoObjects,
    /// An I/O error with what we were doing at the time.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl CoverageError {
    /// Wraps an I/O error with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        CoverageError::Io { context: context.into(), source }
    }

    /// A parse error of `what` at 1-based `line`.
    pub(crate) fn parse_at(what: &str, line: usize, message: impl std::fmt::Display) -> Self {
        CoverageError::Parse { what: what.to_owned(), message: format!("line {line}: {message}") }
    }
}

fn tried_text(tried: &[Rejected]) -> String {
    if tried.is_empty() {
        return "none found".to_owned();
    }
    let each: Vec<String> = tried.iter().map(|r| format!("{}: {}", r.profdata, r.reason)).collect();
    format!("tried {}", each.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_missing_tools_error_says_what_to_install() {
        let error = CoverageError::ToolsNotFound {
            tried: vec![Rejected {
                profdata: "/usr/bin/llvm-profdata-14".into(),
                reason: "unsupported instrumentation profile format version".to_owned(),
            }],
        };
        assert_eq!(
            error.to_string(),
            "no LLVM coverage tools that read this rustc's profiles (tried /usr/bin/llvm-profdata-14: \
             unsupported instrumentation profile format version); install LLVM tools matching this rustc: \
             `rustup component add llvm-tools-preview` (rustup toolchains), or `apt-get install llvm-19` \
             (Debian/Ubuntu), or set LLVM_PROFDATA and LLVM_COV to tools that can"
        );
        let none = CoverageError::ToolsNotFound { tried: Vec::new() };
        assert!(
            none.to_string()
                .starts_with("no LLVM coverage tools that read this rustc's profiles (none found); ")
        );
    }
}
