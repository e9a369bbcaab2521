//! The `[coverage]` table (docs/coverage.md): coverage on every run, and its gates.
//!
//! ```toml
//! [coverage]
//! enabled = true          # as --coverage
//! fail-under = 70         # as --coverage-fail-under (the command line's wins)
//! no-drop = true          # fail when line coverage is lower than the previous run's
//! phase-minimum = { unit = 40 }   # a phase's own line coverage (its tests alone)
//! ```
//!
//! Percentages are numbers from 0 to 100 (`72.5`), kept in hundredths of a percent.

use std::collections::BTreeMap;

use super::error::{ConfigError, ConfigErrorKind, ConfigWarning};
use super::walk::{Source, Value};
use crate::plan::Plan;

/// Keys of `[coverage]`.
const COVERAGE_KEYS: [&str; 4] = ["enabled", "fail-under", "no-drop", "phase-minimum"];

/// A percentage from 0 to 100, in hundredths (`72.5` is 7250), so configurations compare
/// exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Percent(u32);

impl Percent {
    /// The percentage as a number (`72.5`).
    pub fn value(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

/// `[coverage]` as configured (everything off when the table is absent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoverageConfig {
    /// `enabled`: measure coverage on every run.
    pub enabled: bool,
    /// `fail-under`: the minimum line coverage of a run.
    pub fail_under: Option<Percent>,
    /// `no-drop`: fail when line coverage is lower than the previous run's.
    pub no_drop: bool,
    /// `phase-minimum`: the minimum own line coverage of each named phase.
    pub phase_minimum: BTreeMap<String, Percent>,
}

/// Reads `[coverage]`; phase names must name phases of `plan`.
pub(super) fn read(
    src: &Source<'_>,
    value: Option<Value<'_, '_>>,
    plan: &Plan,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<CoverageConfig, ConfigError> {
    let Some(value) = value else { return Ok(CoverageConfig::default()) };
    let table = value.table(src)?;
    table.warn_unknown_keys(src, &COVERAGE_KEYS, warnings);
    let mut config = CoverageConfig::default();
    if let Some(value) = table.get("enabled") {
        config.enabled = value.bool(src)?;
    }
    if let Some(value) = table.get("fail-under") {
        config.fail_under = Some(percent(src, &value)?);
    }
    if let Some(value) = table.get("no-drop") {
        config.no_drop = value.bool(src)?;
    }
    if let Some(value) = table.get("phase-minimum") {
        for (key, minimum) in value.table(src)?.entries() {
            let unknown = |e| src.error(key.span.start, &minimum.path, ConfigErrorKind::UnknownPhase(e));
            plan.find(key.name).map_err(unknown)?;
            config.phase_minimum.insert(key.name.to_owned(), percent(src, &minimum)?);
        }
    }
    Ok(config)
}

/// An integer or float from 0 to 100.
fn percent(src: &Source<'_>, value: &Value<'_, '_>) -> Result<Percent, ConfigError> {
    let number = match (value.value.as_integer(), value.value.as_float()) {
        (Some(integer), _) => integer.as_str().parse::<f64>().ok(),
        (None, Some(float)) => float.as_str().parse::<f64>().ok(),
        (None, None) => {
            let found = value.value.type_str();
            return Err(value.error(src, ConfigErrorKind::WrongType { expected: "a percentage", found }));
        }
    };
    match number.filter(|n| (0.0..=100.0).contains(n)) {
        // In range, so the product fits a u32.
        Some(n) => Ok(Percent((n * 100.0).round() as u32)),
        None => Err(value.error(
            src,
            ConfigErrorKind::InvalidValue {
                value: value.value.as_integer().map_or_else(String::new, ToString::to_string)
                    + &value.value.as_float().map_or_else(String::new, |f| f.as_str().to_owned()),
                expected: "a percentage from 0 to 100".to_owned(),
                suggestion: None,
            },
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigOrigin, Percent};

    fn read(text: &str) -> Result<Config, String> {
        let origin = ConfigOrigin::testplan_toml("testplan.toml");
        Config::from_toml_str(text, &origin).map(|loaded| loaded.config).map_err(|e| e.to_string())
    }

    #[test]
    fn the_table_sets_coverage_and_its_gates() {
        let config = read(
            "[coverage]\nenabled = true\nfail-under = 72.5\nno-drop = true\nphase-minimum = { unit = 40 }\n",
        )
        .expect("valid");
        let coverage = config.coverage;
        assert!(coverage.enabled && coverage.no_drop);
        assert_eq!(coverage.fail_under.map(Percent::value), Some(72.5));
        assert_eq!(coverage.phase_minimum.get("unit").map(|p| p.value()), Some(40.0));
        assert_eq!(read("").expect("valid").coverage, super::CoverageConfig::default());
    }

    #[test]
    fn bad_values_name_the_key() {
        let cases = [
            (
                "[coverage]\nfail-under = 120\n",
                "testplan.toml:2:14: coverage.fail-under: invalid value '120': expected a percentage from 0 to 100",
            ),
            (
                "[coverage]\nfail-under = \"80%\"\n",
                "testplan.toml:2:14: coverage.fail-under: expected a percentage, found string",
            ),
            (
                "[coverage]\nenabled = 1\n",
                "testplan.toml:2:11: coverage.enabled: expected a boolean, found integer",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(read(text).expect_err(text), expected, "{text}");
        }
        let unknown = read("[coverage]\nphase-minimum = { unti = 40 }\n").expect_err("unknown phase");
        assert!(
            unknown.starts_with(
                "testplan.toml:2:19: coverage.phase-minimum.unti: unknown phase 'unti' (did you mean 'unit'?)"
            ),
            "{unknown}"
        );
    }
}
