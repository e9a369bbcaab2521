//! The `[profiles.NAME]` tables. A profile named like a built-in one (`run`, `fast`, `full`)
//! starts from it and changes only the keys given.

use super::error::{ConfigError, ConfigErrorKind, ConfigWarning};
use super::fields;
use super::phases::is_plan_name;
use super::walk::{Key, Source, Table, Value};
use crate::marker::MarkerRegistry;
use crate::plan::{PhaseIdx, Plan, Profile, RunIgnored};

/// Keys of a profile.
const PROFILE_KEYS: [&str; 4] = ["phases", "select", "run-ignored", "fail-fast"];

/// The built-in profiles, changed and extended by the configuration.
pub(super) fn read(
    src: &Source<'_>,
    profiles: Option<Value<'_, '_>>,
    registry: &MarkerRegistry,
    plan: &Plan,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<Vec<Profile>, ConfigError> {
    let mut all = Profile::builtins();
    let Some(profiles) = profiles else {
        return Ok(all);
    };
    for (key, value) in profiles.table(src)?.entries() {
        check_name(src, &key, &value)?;
        let table = value.table(src)?;
        table.warn_unknown_keys(src, &PROFILE_KEYS, warnings);
        let existing = all.iter().position(|profile| profile.name == key.name);
        let base = existing.map_or_else(|| Profile::new(key.name), |i| all[i].clone());
        let profile = read_profile(src, &table, base, registry, plan)?;
        match existing {
            Some(i) => all[i] = profile,
            None => all.push(profile),
        }
    }
    Ok(all)
}

fn check_name(src: &Source<'_>, key: &Key<'_>, value: &Value<'_, '_>) -> Result<(), ConfigError> {
    if is_plan_name(key.name) {
        return Ok(());
    }
    let kind = ConfigErrorKind::InvalidName { what: "profile", name: key.name.to_owned() };
    Err(src.error(key.span.start, &value.path, kind))
}

fn read_profile(
    src: &Source<'_>,
    table: &Table<'_, '_>,
    base: Profile,
    registry: &MarkerRegistry,
    plan: &Plan,
) -> Result<Profile, ConfigError> {
    let mut profile = Profile { builtin: false, ..base };
    if let Some(value) = table.get("phases") {
        profile.phases = Some(phase_list(src, &value, plan)?);
    }
    if let Some(value) = table.get("select") {
        profile.select = Some(fields::marker_expr(src, &value, registry)?);
    }
    if let Some(value) = table.get("run-ignored") {
        let options =
            [("default", RunIgnored::Default), ("only", RunIgnored::Only), ("all", RunIgnored::All)];
        profile.run_ignored = fields::choice(src, &value, &options)?;
    }
    if let Some(value) = table.get("fail-fast") {
        profile.fail_fast = Some(value.bool(src)?);
    }
    Ok(profile)
}

/// Phase names of the plan, each once, at least one.
fn phase_list(src: &Source<'_>, value: &Value<'_, '_>, plan: &Plan) -> Result<Vec<PhaseIdx>, ConfigError> {
    let items = value.array(src)?;
    if items.is_empty() {
        return Err(value.error(src, ConfigErrorKind::EmptyProfile));
    }
    let mut phases = Vec::new();
    for item in items {
        let name = item.str(src)?;
        let idx = plan.find(name).map_err(|e| item.error(src, ConfigErrorKind::UnknownPhase(e)))?;
        if phases.contains(&idx) {
            return Err(item.error(src, ConfigErrorKind::PhaseListedTwice { name: name.to_owned() }));
        }
        phases.push(idx);
    }
    Ok(phases)
}
