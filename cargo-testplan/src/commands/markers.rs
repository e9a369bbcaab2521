//! `cargo testplan markers`: the registered markers (built-in and configured), their
//! descriptions, and how many tests carry each — pytest's `--markers`, with counts.

use std::collections::BTreeMap;
use std::io::Write;

use crate::cli::{FilterArgs, MarkersArgs, PlanArgs};
use crate::commands::common::plan_only;
use crate::error::AppError;

/// Runs the command.
pub fn exec(args: MarkersArgs) -> Result<(), AppError> {
    let planned =
        plan_only(&args.cargo, &PlanArgs::default(), &FilterArgs::default(), args.output.color, None)?;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for class in &planned.plan.classifications {
        for marker in class.markers.iter() {
            *counts.entry(marker.as_str().to_owned()).or_default() += 1;
        }
    }
    let registry = &planned.loaded.plan.config.registry;
    let width = registry.iter().map(|m| m.name.as_str().len()).max().unwrap_or(0);
    let mut text = String::new();
    for marker in registry.iter() {
        let name = marker.name.as_str();
        let count = counts.get(name).copied().unwrap_or(0);
        let origin = if marker.builtin { "" } else { " (configured)" };
        text.push_str(&format!("{name:<width$}  {count:>5} tests  {}{origin}\n", marker.description));
    }
    text.push_str(&format!(
        "{} tests in {} binaries\n",
        planned.list.tests.len(),
        planned.list.binaries.len()
    ));
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|source| AppError::WriteOutput { what: "the markers".to_owned(), source })
}
