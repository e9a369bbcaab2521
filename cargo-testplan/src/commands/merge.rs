//! `cargo testplan merge FILE... -o OUT`: joins shard reports into one (see
//! `testplan_reporter::merge` for the rules), writes it, prints its summary, and — like a
//! run — writes `--junit`/`--markdown` and appends to `$GITHUB_STEP_SUMMARY` on GitHub
//! Actions. Exits 100 when the merged run has failures, so a merge job fails like the run.

use testplan_reporter::human::{Style, render_report};
use testplan_reporter::merge::merge;
use testplan_runner::files::{self, Durability};

use crate::cli::MergeArgs;
use crate::commands::report::load;
use crate::error::AppError;
use crate::outputs::{OutputFailures, stdout_color, write_summaries};

/// Runs the command.
pub fn exec(args: MergeArgs, argv: Vec<String>) -> Result<(), AppError> {
    let mut inputs = Vec::with_capacity(args.files.len());
    for file in &args.files {
        inputs.push((file.to_string(), load(file.as_std_path())?));
    }
    let merged = merge(&inputs, argv);
    for warning in &merged.warnings {
        eprintln!("warning: {warning}");
    }
    let mut report = merged.report;
    if let Some(file) = &args.baseline {
        let baseline = load(file.as_std_path())?;
        report.baseline = Some(testplan_reporter::baseline::diff(&report, &baseline, file.as_str()));
    }
    // Every output is written even when another failed; failed tests still decide the exit
    // code first (docs/exit-codes.md).
    let mut failures = OutputFailures::default();
    let output = args.output.as_std_path();
    let written = serde_json::to_vec(&report)
        .map_err(std::io::Error::other)
        .and_then(|bytes| files::write_atomically(output, &bytes, Durability::Durable));
    failures.check("the merged report", output, written);
    write_summaries(&report, args.junit.as_deref(), args.markdown.as_deref(), &mut failures);
    print!("{}", render_report(&report, Style { color: stdout_color(args.color) }));
    if report.counts.failed > 0 {
        return Err(AppError::TestsFailed(report.counts.failed));
    }
    failures.into_result()
}
