//! The `[markers.NAME]` tables: user markers, per-marker defaults and rules.

use std::collections::BTreeMap;

use super::error::{ConfigError, ConfigErrorKind, ConfigWarning};
use super::fields;
use super::walk::{Key, Source, Table, Value};
use crate::classify::{Rule, RuleOrigin, TestKind};
use crate::isolation::Isolation;
use crate::marker::{Marker, MarkerName, MarkerRegistry};

/// Keys of a `[markers.NAME]` table.
const MARKER_KEYS: [&str; 6] = ["description", "timeout", "time-budget", "memory", "isolation", "rules"];
/// Keys of a rule.
const RULE_KEYS: [&str; 5] = ["name", "package", "binary", "kind", "file"];

/// The registry (built-ins plus declared markers) and the compiled rules.
pub(super) fn read(
    src: &Source<'_>,
    markers: Option<Value<'_, '_>>,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<(MarkerRegistry, Vec<Rule>), ConfigError> {
    let mut registry = MarkerRegistry::builtin();
    let mut rules = Vec::new();
    let Some(markers) = markers else {
        return Ok((registry, rules));
    };
    let mut declared: BTreeMap<MarkerName, u32> = BTreeMap::new();
    for (key, value) in markers.table(src)?.entries() {
        let name = marker_name(src, &key, &value, &declared)?;
        declared.insert(name.clone(), src.line(key.span.start));
        let table = value.table(src)?;
        table.warn_unknown_keys(src, &MARKER_KEYS, warnings);
        declare(src, &mut registry, &name, &key, &table)?;
        rules.extend(read_rules(src, &table, &name, warnings)?);
    }
    Ok((registry, rules))
}

/// The validated name of a `[markers.NAME]` table, not declared before.
fn marker_name(
    src: &Source<'_>,
    key: &Key<'_>,
    value: &Value<'_, '_>,
    declared: &BTreeMap<MarkerName, u32>,
) -> Result<MarkerName, ConfigError> {
    let error = |kind| src.error(key.span.start, &value.path, kind);
    let name = MarkerName::new(key.name).map_err(|e| error(ConfigErrorKind::InvalidMarkerName(e)))?;
    if let Some(first_line) = declared.get(&name) {
        return Err(error(ConfigErrorKind::DuplicateMarker {
            name: name.to_string(),
            first_line: *first_line,
        }));
    }
    Ok(name)
}

/// Registers a new marker, or updates a built-in one, from its table.
fn declare(
    src: &Source<'_>,
    registry: &mut MarkerRegistry,
    name: &MarkerName,
    key: &Key<'_>,
    table: &Table<'_, '_>,
) -> Result<(), ConfigError> {
    let description = table.get("description").map(|value| value.str(src)).transpose()?;
    if !registry.contains(name) {
        let Some(description) = description else {
            let unknown = registry.unknown(key.name);
            return Err(src.error(key.span.start, &table.path, ConfigErrorKind::UndeclaredMarker(unknown)));
        };
        let _ = registry.add(Marker::new(name.clone(), description));
    }
    let Some(marker) = registry.get_mut(name) else {
        return Ok(());
    };
    if let Some(description) = description {
        marker.description = description.to_owned();
    }
    read_defaults(src, table, marker)
}

fn read_defaults(src: &Source<'_>, table: &Table<'_, '_>, marker: &mut Marker) -> Result<(), ConfigError> {
    if let Some(value) = table.get("timeout") {
        marker.defaults.timeout = Some(fields::duration(src, &value)?);
    }
    if let Some(value) = table.get("time-budget") {
        marker.defaults.time_budget = Some(fields::duration(src, &value)?);
    }
    if let Some(value) = table.get("memory") {
        marker.defaults.memory = Some(fields::byte_size(src, &value)?);
    }
    if let Some(value) = table.get("isolation") {
        let choices = [("process", Isolation::Process), ("batch", Isolation::Batch)];
        marker.defaults.isolation = Some(fields::choice(src, &value, &choices)?);
    }
    Ok(())
}

fn read_rules(
    src: &Source<'_>,
    table: &Table<'_, '_>,
    marker: &MarkerName,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<Vec<Rule>, ConfigError> {
    let Some(rules) = table.get("rules") else {
        return Ok(Vec::new());
    };
    let rule_tables = rules.tables(src)?;
    rule_tables.iter().map(|rule| read_rule(src, rule, marker, warnings)).collect()
}

fn read_rule(
    src: &Source<'_>,
    table: &Table<'_, '_>,
    marker: &MarkerName,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<Rule, ConfigError> {
    table.warn_unknown_keys(src, &RULE_KEYS, warnings);
    let pattern = |key| table.get(key).map(|value| fields::regex(src, &value)).transpose();
    let place = src.place(table.span.start, &table.path);
    let origin =
        RuleOrigin { file: place.file, key_path: place.key_path, line: place.line, column: place.column };
    let rule = Rule {
        marker: marker.clone(),
        name: pattern("name")?,
        package: pattern("package")?,
        binary: pattern("binary")?,
        kind: pattern("kind")?,
        file: pattern("file")?,
        origin,
    };
    check_rule(src, table, &rule)?;
    Ok(rule)
}

/// A rule must have a pattern, and its `kind` pattern must match some kind.
fn check_rule(src: &Source<'_>, table: &Table<'_, '_>, rule: &Rule) -> Result<(), ConfigError> {
    let patterns = [&rule.name, &rule.package, &rule.binary, &rule.kind, &rule.file];
    if patterns.iter().all(|pattern| pattern.is_none()) {
        return Err(table.error(src, ConfigErrorKind::EmptyRule));
    }
    match (&rule.kind, table.get("kind")) {
        (Some(kind), Some(value)) if !TestKind::ALL.iter().any(|k| kind.is_match(k.as_str())) => {
            Err(value.error(src, ConfigErrorKind::KindMatchesNothing { regex: kind.as_str().to_owned() }))
        }
        _ => Ok(()),
    }
}
