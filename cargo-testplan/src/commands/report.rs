//! `cargo testplan report FILE --format human|markdown|junit|json`: re-renders a saved run
//! report.

use std::io::{IsTerminal, Write};
use std::path::Path;

use testplan_reporter::human::{Style, render_report};
use testplan_reporter::json::read_report;
use testplan_runner::files::{self, Durability};
use testplan_schema::RunReport;

use crate::cli::{ReportArgs, ReportFormat};
use crate::error::AppError;

/// Runs `cargo testplan report`.
pub fn exec(args: ReportArgs) -> Result<(), AppError> {
    let report = load(args.file.as_std_path())?;
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let text = render(&report, args.format, args.color.enabled(to_terminal))?;
    match &args.output {
        Some(path) => write_file(path.as_std_path(), text.as_bytes(), "the report"),
        None => print(&text),
    }
}

/// `report` in one of its formats.
pub fn render(report: &RunReport, format: ReportFormat, color: bool) -> Result<String, AppError> {
    Ok(match format {
        ReportFormat::Human => render_report(report, Style { color }),
        ReportFormat::Markdown => testplan_reporter::markdown::to_markdown(report),
        ReportFormat::Junit => junit_text(report)?,
        ReportFormat::Json => {
            let mut text = serde_json::to_string_pretty(report).map_err(|e| write_error("the report", e))?;
            text.push('\n');
            text
        }
    })
}

fn junit_text(report: &RunReport) -> Result<String, AppError> {
    testplan_reporter::junit::to_junit_string(report).map_err(|e| write_error("JUnit XML", e))
}

/// Reads a run report given on the command line.
pub fn load(path: &Path) -> Result<RunReport, AppError> {
    Ok(read_report(path)?)
}

fn print(text: &str) -> Result<(), AppError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| write_error("to stdout", e))
}

fn write_error(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::WriteOutput { what: what.to_owned(), source: std::io::Error::other(e.to_string()) }
}

fn write_file(path: &Path, bytes: &[u8], what: &str) -> Result<(), AppError> {
    files::write_atomically(path, bytes, Durability::Durable)
        .map_err(|source| AppError::WriteOutput { what: format!("{what} to {}", path.display()), source })
}
