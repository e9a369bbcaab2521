//! GitHub Actions: `::error file=...,line=...::` annotations for failures (so they show on
//! the pull request's diff) and the Markdown summary appended to `$GITHUB_STEP_SUMMARY`.

use std::path::{Path, PathBuf};

use testplan_schema::{RunReport, TestReport};

use crate::human::report_status_detail;

/// Whether this process runs on GitHub Actions (`GITHUB_ACTIONS=true`).
pub fn on_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// One workflow command per failing test, annotating its source line when discovery found
/// one. `repo_root` (`$GITHUB_WORKSPACE`) makes the paths relative to the repository.
pub fn annotations(report: &RunReport, repo_root: Option<&Path>) -> Vec<String> {
    report.tests.iter().filter(|t| t.is_failure()).map(|t| annotation(report, t, repo_root)).collect()
}

fn annotation(report: &RunReport, test: &TestReport, repo_root: Option<&Path>) -> String {
    let mut props = Vec::new();
    if let Some(source) = &test.source {
        props.push(format!(
            "file={}",
            property(&crate::sanitize::inline(&source_path(report, test, &source.file, repo_root)))
        ));
        props.push(format!("line={}", source.line));
    }
    props.push(format!("title={}", property(&crate::sanitize::inline(&test.display_name()))));
    let mut message = report_status_detail(test);
    if let Some(output) = &test.output {
        message.push('\n');
        message.push_str(&crate::sanitize::block(&excerpt(output)));
    }
    format!("::error {}::{}", props.join(","), data(&message))
}

/// What to show of a failure's output: the panic message when there is one (from
/// `panicked at` to the backtrace note, at most 8 lines), else the last 10 lines.
fn excerpt(output: &str) -> String {
    let lines: Vec<&str> = output.lines().collect();
    if let Some(start) = lines.iter().position(|l| l.contains("panicked at")) {
        let rest = lines[start..]
            .iter()
            .take_while(|l| !l.starts_with("note: ") && !l.starts_with("stack backtrace:"));
        return rest.take(8).copied().collect::<Vec<_>>().join("\n");
    }
    let shown: Vec<&str> = lines.iter().rev().filter(|l| !l.trim().is_empty()).take(10).copied().collect();
    shown.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// The test's file relative to the repository root when it can be made so, else relative
/// to the workspace.
fn source_path(report: &RunReport, test: &TestReport, file: &str, repo_root: Option<&Path>) -> String {
    let in_workspace = match test.package_dir.as_deref() {
        Some(dir) if !dir.is_empty() => format!("{dir}/{file}"),
        _ => file.to_owned(),
    };
    let absolute = report.workspace_root.as_ref().map(|root| PathBuf::from(root).join(&in_workspace));
    match (absolute, repo_root) {
        (Some(abs), Some(repo)) => match abs.strip_prefix(repo) {
            Ok(rel) => rel.to_string_lossy().into_owned(),
            Err(_) => in_workspace,
        },
        _ => in_workspace,
    }
}

/// Escapes a workflow command's message.
fn data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The file `$GITHUB_STEP_SUMMARY` names, when it is set.
pub fn step_summary_path() -> Option<PathBuf> {
    std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()).map(Into::into)
}

/// Appends `markdown` and a newline to `path` ([`step_summary_path`]) in one write, never
/// through a symlink, cut back on failure ([`testplan_runner::files::append`]).
pub fn append_step_summary(path: &Path, markdown: &str) -> std::io::Result<()> {
    let mut text = String::with_capacity(markdown.len() + 1);
    text.push_str(markdown);
    text.push('\n');
    testplan_runner::files::append(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::every_status_report;

    #[test]
    fn failures_annotate_their_source_line() {
        let report = every_status_report();
        let lines = annotations(&report, Some(Path::new("/repo")));
        assert_eq!(lines.len(), report.counts.failed);
        let first = &lines[0];
        assert!(
            first.starts_with("::error file=crates/alpha/src/lib.rs,line=12,title=alpha tests%3A%3Afails::failed (exit code 101)%0A"),
            "{first}"
        );
    }

    #[test]
    fn messages_are_escaped() {
        assert_eq!(data("50%\nnext"), "50%25%0Anext");
        assert_eq!(property("a::b,c"), "a%3A%3Ab%2Cc");
    }
}
