//! `cargo testplan explain NAME`: a test's markers with the source of each (target kind,
//! ignore reason at file:line, name segment, configuration rule), its phase, and whether it
//! would run with the given selection — and if not, why not.

use std::io::Write;

use testplan_markers::{Decision, IgnoreStatus};
use testplan_runner::model::{TestIdx, TestList};

use crate::cli::ExplainArgs;
use crate::commands::common::{Planned, plan_only};
use crate::error::{AppError, UsageError};

/// Candidates listed when a name matches several tests.
const MAX_CANDIDATES: usize = 20;

/// Runs the command.
pub fn exec(args: ExplainArgs) -> Result<(), AppError> {
    let filter = crate::cli::FilterArgs { run_ignored: args.run_ignored, ..Default::default() };
    let planned = plan_only(&args.cargo, &args.plan, &filter, args.output.color, None)?;
    let tests = find(&planned.list, &args.name)?;
    let text: Vec<String> = tests.iter().map(|t| explain(&planned, *t)).collect();
    // Names, ignore reasons and paths are the tests' own text: no escape sequence of theirs acts.
    let text = testplan_reporter::sanitize::block(&text.join("\n")).into_owned();
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|source| AppError::WriteOutput { what: "the explanation".to_owned(), source })
}

/// Tests named by `words`: `BINARY-ID NAME`, an exact name (possibly in several binaries), or
/// a substring matching exactly one test.
fn find(list: &TestList, words: &[String]) -> Result<Vec<TestIdx>, AppError> {
    let all = (0..list.tests.len()).map(TestIdx);
    let joined = words.join(" ");
    let by_id: Vec<_> = all.clone().filter(|t| list.display_name(*t) == joined).collect();
    if !by_id.is_empty() {
        return Ok(by_id);
    }
    let exact: Vec<_> = all.clone().filter(|t| list.test(*t).name == joined).collect();
    if !exact.is_empty() {
        return Ok(exact);
    }
    let partial: Vec<_> = all.filter(|t| list.display_name(*t).contains(&joined)).collect();
    match partial.len() {
        0 => Err(UsageError::NoSuchTest { name: joined }.into()),
        1 => Ok(partial),
        n => {
            let mut shown: Vec<String> =
                partial.iter().take(MAX_CANDIDATES).map(|t| format!("  {}", list.display_name(*t))).collect();
            if n > MAX_CANDIDATES {
                shown.push(format!("  ... and {} more", n - MAX_CANDIDATES));
            }
            Err(UsageError::AmbiguousTest { name: joined, count: n, shown }.into())
        }
    }
}

fn explain(planned: &Planned, test: TestIdx) -> String {
    let list = &planned.list;
    let case = list.test(test);
    let binary = list.binary_of(test);
    let class = &planned.plan.classifications[test.0];
    let mut out = format!("{}\n", list.display_name(test));
    out.push_str(&format!(
        "  package {}, {} target `{}`",
        binary.package.name, binary.kind, binary.target_name
    ));
    if let Some(source) = &case.source {
        out.push_str(&format!(", {}:{}", source.file, source.line));
    }
    out.push('\n');
    let doctest = binary.kind == testplan_runner::model::TargetKind::Doc;
    out.push_str(&ignore_line(case.ignored, case.ignore_reason.as_deref(), class.ignore, doctest));
    out.push_str("  markers:\n");
    let width = class.markers.iter().map(|m| m.as_str().len()).max().unwrap_or(0);
    for marker in class.markers.iter() {
        for (i, source) in class.sources_of(marker).enumerate() {
            let name = if i == 0 { marker.as_str() } else { "" };
            out.push_str(&format!("    {name:<width$}  from {source}\n"));
        }
    }
    out.push_str(&phase_line(planned, test));
    out.push_str(&verdict(planned, test));
    out
}

fn ignore_line(ignored: bool, reason: Option<&str>, status: IgnoreStatus, doctest: bool) -> String {
    let reason = reason.filter(|r| !r.is_empty()).map(|r| format!(" = \"{r}\"")).unwrap_or_default();
    match (ignored, status) {
        (false, _) => String::new(),
        // A doctest has no `#[ignore]`: its code block is marked `ignore`.
        (true, _) if doctest => {
            "  `ignore` doctest: plainly ignored — runs only with `full` or --run-ignored\n".to_owned()
        }
        (true, IgnoreStatus::ForMarkers) => {
            format!(
                "  #[ignore{reason}]: ignored for its markers — skipped by plain `cargo test`, run in its phase\n"
            )
        }
        (true, _) => {
            format!("  #[ignore{reason}]: plainly ignored — runs only with `full` or --run-ignored\n")
        }
    }
}

fn phase_line(planned: &Planned, test: TestIdx) -> String {
    let plan = &planned.loaded.plan.config.plan;
    match plan.assign(&planned.plan.classifications[test.0].markers) {
        Some(idx) => {
            let phase = plan.phase(idx);
            format!("  phase: {} (select: {})\n", phase.name, phase.select)
        }
        None => "  phase: none — no phase's select matches its markers (not in plan)\n".to_owned(),
    }
}

fn verdict(planned: &Planned, test: TestIdx) -> String {
    let plan = &planned.loaded.plan.config.plan;
    let why = match planned.plan.decisions[test.0] {
        Decision::Run { phase, ignored } => match unavailable(planned, &plan.phase(phase).name) {
            Some(reason) => format!("no: phase {} is skipped here: {reason}", plan.phase(phase).name),
            None if ignored => format!("yes, in phase {} (run with --ignored)", plan.phase(phase).name),
            None => format!("yes, in phase {}", plan.phase(phase).name),
        },
        Decision::SkipIgnored { .. } => {
            "no: plainly ignored; `cargo testplan full` or --run-ignored all runs it".to_owned()
        }
        Decision::OtherPhase { phase } => {
            format!(
                "no: it belongs to phase {}, which this selection does not include",
                plan.phase(phase).name
            )
        }
        Decision::Deselected => "no: deselected by -m, -k, the profile or --run-ignored".to_owned(),
        Decision::NotInPlan => "no: not in plan".to_owned(),
    };
    format!("  would run now: {why}\n")
}

fn unavailable<'p>(planned: &'p Planned, phase: &str) -> Option<&'p str> {
    planned.plan.phases.iter().find(|p| p.name == phase).and_then(|p| p.unavailable.as_deref())
}
