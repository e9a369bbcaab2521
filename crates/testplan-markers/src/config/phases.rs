//! The `[[phases]]` array: the plan, replacing the default one when given.

use std::collections::BTreeMap;

use super::error::{ConfigError, ConfigErrorKind, ConfigWarning, ConfigWarningKind};
use super::fields;
use super::walk::{Source, Table, Value};
use crate::marker::MarkerRegistry;
use crate::plan::{Isolation, OnFailure, Phase, PhaseIdx, Plan, RESERVED_NAMES, Requirement};

/// Keys of a phase.
const PHASE_KEYS: [&str; 10] = [
    "name",
    "select",
    "jobs",
    "timeout",
    "memory",
    "requires",
    "on-failure",
    "serial",
    "isolation",
    "runs-on",
];

/// The plan: the given phases, or the default plan when there is no `phases` key.
pub(super) fn read(
    src: &Source<'_>,
    phases: Option<Value<'_, '_>>,
    registry: &MarkerRegistry,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<Plan, ConfigError> {
    let Some(phases) = phases else {
        return Ok(Plan::default_plan());
    };
    let tables = phases.tables(src)?;
    if tables.is_empty() {
        return Err(phases.error(src, ConfigErrorKind::NoPhases));
    }
    let mut first_lines: BTreeMap<String, u32> = BTreeMap::new();
    let mut read_phases = Vec::new();
    for table in &tables {
        table.warn_unknown_keys(src, &PHASE_KEYS, warnings);
        let phase = read_phase(src, table, registry, &first_lines)?;
        first_lines.insert(phase.name.clone(), src.line(table.span.start));
        read_phases.push(phase);
    }
    let plan = Plan::new(read_phases);
    warn_unreachable(src, &plan, &tables, warnings);
    Ok(plan)
}

/// Warns about phases no marker set can land in.
fn warn_unreachable(
    src: &Source<'_>,
    plan: &Plan,
    tables: &[Table<'_, '_>],
    warnings: &mut Vec<ConfigWarning>,
) {
    for (i, (phase, table)) in plan.phases().iter().zip(tables).enumerate() {
        let name = phase.name.clone();
        let kind = if !phase.select.is_satisfiable() {
            ConfigWarningKind::NeverTrue { name }
        } else if !plan.reachable(PhaseIdx(i), None) {
            ConfigWarningKind::UnreachablePhase { name }
        } else {
            continue;
        };
        let at = table.get("select").map_or(table.span.start, |value| value.span.start);
        warnings.push(ConfigWarning { place: src.place(at, &table.path.key("select")), kind });
    }
}

fn read_phase(
    src: &Source<'_>,
    table: &Table<'_, '_>,
    registry: &MarkerRegistry,
    first_lines: &BTreeMap<String, u32>,
) -> Result<Phase, ConfigError> {
    let name = phase_name(src, &table.required(src, "name")?, first_lines)?;
    let select = fields::marker_expr(src, &table.required(src, "select")?, registry)?;
    let mut phase = Phase::new(name, select);
    read_options(src, table, &mut phase)?;
    Ok(phase)
}

/// A valid, unreserved, not yet used phase name.
fn phase_name(
    src: &Source<'_>,
    value: &Value<'_, '_>,
    first_lines: &BTreeMap<String, u32>,
) -> Result<String, ConfigError> {
    let name = value.str(src)?;
    let fail = |kind| Err(value.error(src, kind));
    if name.trim().is_empty() {
        return fail(ConfigErrorKind::EmptyPhaseName);
    }
    if !is_plan_name(name) {
        return fail(ConfigErrorKind::InvalidName { what: "phase", name: name.to_owned() });
    }
    if RESERVED_NAMES.contains(&name) {
        return fail(ConfigErrorKind::ReservedPhaseName { name: name.to_owned() });
    }
    if let Some(first_line) = first_lines.get(name) {
        return fail(ConfigErrorKind::DuplicatePhase { name: name.to_owned(), first_line: *first_line });
    }
    Ok(name.to_owned())
}

/// `[a-z][a-z0-9_-]*`: names of phases and profiles, which become command words.
pub(super) fn is_plan_name(name: &str) -> bool {
    crate::marker::is_identifier(&name.replace('_', "-"))
}

fn read_options(src: &Source<'_>, table: &Table<'_, '_>, phase: &mut Phase) -> Result<(), ConfigError> {
    if let Some(value) = table.get("jobs") {
        phase.jobs = Some(fields::positive(src, &value)?);
    }
    if let Some(value) = table.get("timeout") {
        phase.timeout = Some(fields::duration(src, &value)?);
    }
    if let Some(value) = table.get("memory") {
        phase.memory = Some(fields::byte_size(src, &value)?);
    }
    if let Some(value) = table.get("requires") {
        phase.requires = requirements(src, &value)?;
    }
    if let Some(value) = table.get("on-failure") {
        phase.on_failure =
            fields::choice(src, &value, &[("stop", OnFailure::Stop), ("continue", OnFailure::Continue)])?;
    }
    if let Some(value) = table.get("serial") {
        phase.serial = value.bool(src)?;
    }
    if let Some(value) = table.get("runs-on") {
        phase.runs_on = Some(value.str(src)?.to_owned());
    }
    if let Some(value) = table.get("isolation") {
        phase.isolation =
            fields::choice(src, &value, &[("process", Isolation::Process), ("batch", Isolation::Batch)])?;
    }
    Ok(())
}

fn requirements(src: &Source<'_>, value: &Value<'_, '_>) -> Result<Vec<Requirement>, ConfigError> {
    let options: Vec<(&str, Requirement)> = Requirement::ALL.iter().map(|r| (r.as_str(), *r)).collect();
    let mut requires = Vec::new();
    for item in value.array(src)? {
        let requirement = fields::choice(src, &item, &options)?;
        if !requires.contains(&requirement) {
            requires.push(requirement);
        }
    }
    Ok(requires)
}
