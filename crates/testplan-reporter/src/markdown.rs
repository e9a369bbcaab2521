//! Markdown (`--markdown PATH`, `$GITHUB_STEP_SUMMARY`): the run's headline, a table of the
//! phases, the changes against the baseline, the failures with the end of their output,
//! and per phase the binaries, slowest tests, largest peak RSS, flaky tests (with the output
//! of their failed attempts) and time-budget findings —
//! the summary teams paste into pull requests.

use std::fmt::Write as _;

use testplan_schema::{PhaseStatus, ReportCounts, RunReport, TestReport};

use crate::format::{bytes, secs_f64};
use crate::human::{attempt_detail, final_line_of, report_status_detail};
use crate::sanitize::{html, md_code_block, md_code_span, md_text};
use crate::summary::{self, Summary, counts_text, status_breakdown};

/// Failures shown with their output; the rest are listed by name only.
const FAILURES_WITH_OUTPUT: usize = 20;
/// Bytes of output shown per failure (its end, where the panic message is).
const OUTPUT_TAIL_BYTES: usize = 4096;

/// The Markdown summary of a run.
pub fn to_markdown(report: &RunReport) -> String {
    let mut out = String::new();
    let interrupted = report.counts.interrupted > 0 || report.stopped.as_deref() == Some("interrupted");
    let icon = match (report.counts.failed > 0, interrupted) {
        (true, _) => "❌",
        (false, true) => "⚠️",
        (false, false) => "✅",
    };
    let _ = writeln!(out, "## {icon} cargo-testplan: {}\n", final_line_of(&report.counts));
    let _ = writeln!(out, "{}\n", run_line(report));
    phase_table(report, &mut out);
    out.push_str(&crate::coverage::markdown(report));
    changes(report, &mut out);
    failures(report, &mut out);
    for phase in report.phases.iter().filter(|p| p.status != PhaseStatus::Skipped) {
        phase_section(&summary::phase_summary(report, phase), &mut out);
    }
    out
}

fn run_line(report: &RunReport) -> String {
    let mut parts = Vec::new();
    if let Some(profile) = &report.profile {
        parts.push(format!("profile {}", md_code_span(profile)));
    }
    if let Some(partition) = &report.partition {
        parts.push(format!("partition {}", md_code_span(partition)));
    }
    parts.push(format!("{} tests in {}", report.tests.len(), secs_f64(report.duration_secs)));
    let reason = report.jobs_reason.as_ref().map(|r| format!(" ({})", md_text(r))).unwrap_or_default();
    parts.push(format!("jobs {}{reason}", report.jobs));
    if !report.deselected.is_empty() {
        parts.push(format!("{} deselected", report.deselected.total()));
    }
    if !report.merged_from.is_empty() {
        parts.push(format!("merged from {} reports", report.merged_from.len()));
    }
    parts.join(" · ")
}

fn phase_table(report: &RunReport, out: &mut String) {
    let _ = writeln!(out, "| Phase | Status | Passed | Failed | Skipped | Duration |");
    let _ = writeln!(out, "|:--|:--|--:|--:|--:|--:|");
    for phase in &report.phases {
        let counts = ReportCounts::of_tests(report.tests_of(&phase.name));
        if phase.status == PhaseStatus::Skipped {
            let reason = md_text(phase.reason.as_deref().unwrap_or(""));
            let skipped = counts.skipped + counts.not_run + counts.interrupted;
            let _ = writeln!(out, "| {} | ⏭️ skipped: {reason} | – | – | {skipped} | – |", cell(&phase.name));
            continue;
        }
        let status = match phase.status {
            PhaseStatus::Passed => "✅ passed".to_owned(),
            PhaseStatus::Failed => "❌ failed".to_owned(),
            PhaseStatus::Skipped => format!("⏭️ skipped: {}", md_text(phase.reason.as_deref().unwrap_or(""))),
        };
        let _ = writeln!(
            out,
            "| {} | {status} | {}/{} | {} | {} | {} |",
            cell(&phase.name),
            counts.passed,
            counts.passed + counts.failed,
            counts.failed,
            counts.skipped + counts.not_run + counts.interrupted,
            secs_f64(phase.duration_secs)
        );
    }
    let total = &report.counts;
    let _ = writeln!(
        out,
        "| **total** | | {}/{} | {} | {} | {} |\n",
        total.passed,
        total.passed + total.failed,
        total.failed,
        total.skipped + total.not_run + total.interrupted,
        secs_f64(report.duration_secs)
    );
}

fn changes(report: &RunReport, out: &mut String) {
    let Some(diff) = &report.baseline else {
        return;
    };
    let _ = writeln!(out, "### Changes since the previous run\n");
    let _ = writeln!(out, "{} (baseline {})\n", crate::baseline::headline(diff), md_code_span(&diff.source));
    for (label, names) in crate::baseline::groups(diff) {
        for name in names {
            let _ = writeln!(out, "- {label}: {}", md_code_span(&name));
        }
    }
    out.push('\n');
}

fn failures(report: &RunReport, out: &mut String) {
    let failed: Vec<_> = report.tests.iter().filter(|t| t.is_failure()).collect();
    if failed.is_empty() {
        return;
    }
    let _ = writeln!(out, "### Failures\n");
    for (i, test) in failed.iter().enumerate() {
        let title =
            format!("<code>{}</code> — {}", html(&test.display_name()), html(&report_status_detail(test)));
        match test.output.as_deref().filter(|_| i < FAILURES_WITH_OUTPUT) {
            Some(output) => {
                let block = md_code_block(&tail(output), "text");
                let _ = writeln!(out, "<details><summary>{title}</summary>\n\n{block}\n\n</details>\n");
            }
            None => {
                let _ = writeln!(out, "- {title}\n");
            }
        }
        if i < FAILURES_WITH_OUTPUT {
            // With `--retries`, its earlier attempts too.
            failed_attempts(&[test], out);
        }
    }
    out.push('\n');
}

/// The output of each failed attempt of these tests (flaky, or failing after retries),
/// collapsed.
fn failed_attempts(tests: &[&TestReport], out: &mut String) {
    let attempts = tests.iter().flat_map(|t| t.failed_attempts.iter().map(move |a| (*t, a)));
    for (test, attempt) in attempts.take(FAILURES_WITH_OUTPUT) {
        let title = format!(
            "<code>{}</code> — attempt {}: {}",
            html(&test.display_name()),
            attempt.attempt,
            html(&attempt_detail(attempt))
        );
        let block = md_code_block(&tail(attempt.output.as_deref().unwrap_or("")), "text");
        let _ = writeln!(out, "<details><summary>{title}</summary>\n\n{block}\n\n</details>\n");
    }
}

fn phase_section(summary: &Summary<'_>, out: &mut String) {
    let name = summary.phase.as_deref().unwrap_or("run");
    let _ = writeln!(out, "### Phase {}: {}\n", md_code_span(name), counts_text(&summary.counts));
    let mut results = status_breakdown(&summary.counts);
    if summary.deselected_by_partition > 0 {
        results.push_str(&format!("; {} in other shards", summary.deselected_by_partition));
    }
    let _ = writeln!(out, "**Results:** {results} in {}\n", secs_f64(summary.duration_secs));
    if !summary.skip_reasons.is_empty() {
        let reasons: Vec<String> =
            summary.skip_reasons.iter().map(|(r, n)| format!("{n} × {}", md_text(r))).collect();
        let _ = writeln!(out, "**Skipped:** {}\n", reasons.join("; "));
    }
    let _ = writeln!(out, "| Binary | Result |\n|:--|:--|");
    for binary in &summary.binaries {
        let _ = writeln!(
            out,
            "| {} ({}) | {} |",
            cell(&md_code_span(&binary.binary_id)),
            binary.kind,
            counts_text(&binary.counts)
        );
    }
    out.push('\n');
    if !summary.slowest.is_empty() {
        let _ =
            writeln!(
                out,
                "**Slowest:** {}\n",
                list(summary.slowest.iter().map(|t| {
                    format!("{} {}", md_code_span(&t.display_name()), secs_f64(t.duration_secs))
                }))
            );
    }
    if !summary.largest.is_empty() {
        let _ = writeln!(
            out,
            "**Largest peak RSS:** {}\n",
            list(summary.largest.iter().map(|t| format!(
                "{} {}",
                md_code_span(&t.display_name()),
                bytes(t.peak_rss_bytes.unwrap_or(0))
            )))
        );
    }
    if !summary.flaky.is_empty() {
        let flaky = summary
            .flaky
            .iter()
            .map(|t| format!("{} (passed on attempt {})", md_code_span(&t.display_name()), t.attempts));
        let _ = writeln!(out, "**Flaky:** {}\n", list(flaky));
        failed_attempts(&summary.flaky, out);
    }
    if !summary.budget.is_empty() {
        let _ = writeln!(out, "**Time budget:**\n");
        for finding in &summary.budget {
            let _ = writeln!(out, "- {} {}", md_code_span(&finding.test.display_name()), finding.advice());
        }
        out.push('\n');
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

/// A table cell: pipes escaped (inside code spans too: GFM reads `\|` there as a pipe), on
/// one line.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The last [`OUTPUT_TAIL_BYTES`] of `output`, starting at a line.
fn tail(output: &str) -> String {
    let trimmed = output.trim_end();
    if trimmed.len() <= OUTPUT_TAIL_BYTES {
        return trimmed.to_owned();
    }
    let mut start = trimmed.len() - OUTPUT_TAIL_BYTES;
    while !trimmed.is_char_boundary(start) {
        start += 1;
    }
    let from_line = trimmed[start..].find('\n').map(|i| start + i + 1).unwrap_or(start);
    format!("[... {} bytes above ...]\n{}", from_line, &trimmed[from_line..])
}
