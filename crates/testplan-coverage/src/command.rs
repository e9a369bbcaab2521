//! Running the external programs coverage needs (rustc for the probe, `llvm-profdata`,
//! `llvm-cov`, git): output captured, failures turned into [`CoverageError::Tool`] with the
//! program's own error text.

use std::ffi::OsStr;
use std::process::{Command, Stdio};

use crate::error::CoverageError;

/// Runs `command` to the end and returns its stdout; a failure to start or an unsuccessful
/// exit is an error carrying the last lines of its stderr.
pub(crate) fn stdout_of(command: &mut Command) -> Result<Vec<u8>, CoverageError> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| CoverageError::Tool { command: command_line(command), message: e.to_string() })?;
    if output.status.success() {
        return Ok(output.stdout);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let message = match tail(&stderr) {
        tail if tail.is_empty() => output.status.to_string(),
        tail => tail,
    };
    Err(CoverageError::Tool { command: command_line(command), message })
}

/// At most the last four non-empty lines of a tool's error output, joined.
pub(crate) fn tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines[lines.len().saturating_sub(4)..].join(" / ")
}

/// The program and up to three arguments: enough to recognise the command, short enough
/// for one line (export commands name every test binary).
fn command_line(command: &Command) -> String {
    let args: Vec<&OsStr> = command.get_args().collect();
    let mut shown: Vec<String> = std::iter::once(command.get_program())
        .chain(args.iter().copied().take(3))
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    if args.len() > 3 {
        shown.push("...".to_owned());
    }
    shown.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_command_reports_its_stderr() {
        let error = stdout_of(Command::new("sh").args(["-c", "echo one >&2; echo two >&2; exit 3"]))
            .expect_err("fails");
        assert_eq!(error.to_string(), "`sh -c echo one >&2; echo two >&2; exit 3` failed: one / two");
    }

    #[test]
    fn a_silent_failure_reports_how_it_ended() {
        let error = stdout_of(Command::new("sh").args(["-c", "exit 3", "x", "y"])).expect_err("fails");
        assert_eq!(error.to_string(), "`sh -c exit 3 x ...` failed: exit status: 3");
    }

    #[test]
    fn success_returns_stdout() {
        assert_eq!(stdout_of(Command::new("sh").args(["-c", "printf hi"])).expect("runs"), b"hi");
    }
}
