//! Markers: validated names, the registry of known markers (built-ins plus those declared in
//! the configuration) with descriptions and per-marker defaults, and marker sets.
//!
//! "Strict markers", as in pytest: every marker name a user writes — in an expression, a
//! rule, an ignore reason — is looked up here, and an unknown one is an error that suggests
//! the closest registered name.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use crate::isolation::Isolation;
use crate::suggest::{did_you_mean, hint};
use crate::units::ByteSize;

/// A syntactically valid marker name: lowercase ASCII letters, digits and `-`, starting with
/// a letter. `_` in input is read as `-`, so `requires_gpu` (a Rust module name) and
/// `requires-gpu` are the same marker.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MarkerName(Box<str>);

/// A string that is not a valid marker name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid marker name '{0}': use lowercase letters, digits and '-', starting with a letter")]
pub struct InvalidMarkerName(pub String);

impl MarkerName {
    /// Validates `name`, reading `_` as `-`.
    pub fn new(name: &str) -> Result<MarkerName, InvalidMarkerName> {
        let normalised = name.replace('_', "-");
        if is_identifier(&normalised) {
            Ok(MarkerName(normalised.into_boxed_str()))
        } else {
            Err(InvalidMarkerName(name.to_owned()))
        }
    }

    /// The name, with `-` (never `_`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A name known to be valid (built-in constants).
    pub(crate) fn from_static(name: &'static str) -> MarkerName {
        debug_assert!(is_identifier(name), "{name}");
        MarkerName(name.into())
    }
}

/// `[a-z][a-z0-9-]*`: marker names and (with `_` allowed by the caller) phase names.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let first_is_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    first_is_letter && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl fmt::Display for MarkerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for MarkerName {
    type Err = InvalidMarkerName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MarkerName::new(s)
    }
}

impl serde::Serialize for MarkerName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for MarkerName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        MarkerName::new(&text).map_err(serde::de::Error::custom)
    }
}

/// Names of the built-in markers, as constants for code that refers to them.
pub mod builtin {
    /// In-crate tests: lib, bin and proc-macro targets.
    pub const UNIT: &str = "unit";
    /// Tests in `tests/` targets.
    pub const INTEGRATION: &str = "integration";
    /// Doctests.
    pub const DOC: &str = "doc";
    /// End-to-end workflow tests.
    pub const E2E: &str = "e2e";
    /// Takes seconds or more.
    pub const SLOW: &str = "slow";
    /// Needs a GPU.
    pub const REQUIRES_GPU: &str = "requires-gpu";
    /// Needs large models or data.
    pub const REQUIRES_MODELS: &str = "requires-models";
    /// Must not run beside other tests.
    pub const SERIAL: &str = "serial";
}

/// Built-in markers in registry order: name, description, time budget in seconds.
const BUILTINS: [(&str, &str, Option<u64>); 8] = [
    (builtin::UNIT, "in-crate tests: lib, bin and proc-macro targets", Some(5)),
    (builtin::INTEGRATION, "tests in tests/ targets", Some(30)),
    (builtin::DOC, "doctests", Some(10)),
    (builtin::E2E, "end-to-end workflow tests", None),
    (builtin::SLOW, "takes seconds or more", None),
    (builtin::REQUIRES_GPU, "needs a GPU; runs only where one is detected", None),
    (builtin::REQUIRES_MODELS, "needs large models or data; memory-heavy, runs serially", None),
    (builtin::SERIAL, "must not run beside other tests", None),
];

/// The markers given by the target kind alone. They are never taken from name segments or
/// ignore reasons, where words like `unit`, `integration` and `doc` are too common as plain
/// module names.
const KIND_MARKERS: [&str; 3] = [builtin::UNIT, builtin::INTEGRATION, builtin::DOC];

/// Defaults a marker gives the tests that carry it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MarkerDefaults {
    /// Per-test timeout (`timeout`).
    pub timeout: Option<Duration>,
    /// Expected upper bound of a test's duration (`time-budget`); a test over it is reported
    /// as a candidate for the `slow` marker.
    pub time_budget: Option<Duration>,
    /// Per-test memory estimate and limit (`memory`).
    pub memory: Option<ByteSize>,
    /// How its tests run (`isolation`): `process` takes them out of batches.
    pub isolation: Option<Isolation>,
}

/// A registered marker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marker {
    /// Its name.
    pub name: MarkerName,
    /// One line saying what it means (shown by `cargo testplan markers`).
    pub description: String,
    /// Built in, or declared in the configuration.
    pub builtin: bool,
    /// Defaults for the tests that carry it.
    pub defaults: MarkerDefaults,
}

impl Marker {
    /// A marker declared by the user.
    pub fn new(name: MarkerName, description: impl Into<String>) -> Marker {
        Marker { name, description: description.into(), builtin: false, defaults: MarkerDefaults::default() }
    }

    /// Whether the marker is one of those assigned from the target kind (unit, integration,
    /// doc).
    pub fn is_kind_marker(&self) -> bool {
        KIND_MARKERS.contains(&self.name.as_str())
    }
}

/// An unregistered marker name, with the closest registered one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown marker '{name}'{}", hint(suggestion.as_ref().map(MarkerName::as_str)))]
pub struct UnknownMarker {
    /// The name as written.
    pub name: String,
    /// The registered marker it most likely misspells.
    pub suggestion: Option<MarkerName>,
}

/// Two markers with the same name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("marker '{0}' is already registered")]
pub struct DuplicateMarker(pub MarkerName);

/// The known markers, in a stable order: built-ins first, then user markers in the order
/// they were declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkerRegistry {
    markers: Vec<Marker>,
}

impl Default for MarkerRegistry {
    /// The built-in markers.
    fn default() -> Self {
        MarkerRegistry::builtin()
    }
}

impl MarkerRegistry {
    /// The built-in markers only.
    pub fn builtin() -> MarkerRegistry {
        let markers =
            BUILTINS.iter().map(|&(name, description, budget)| builtin_marker(name, description, budget));
        MarkerRegistry { markers: markers.collect() }
    }

    /// Registers a user marker.
    pub fn add(&mut self, marker: Marker) -> Result<(), DuplicateMarker> {
        if self.get(&marker.name).is_some() {
            return Err(DuplicateMarker(marker.name));
        }
        self.markers.push(marker);
        Ok(())
    }

    /// All markers, built-ins first.
    pub fn iter(&self) -> impl Iterator<Item = &Marker> {
        self.markers.iter()
    }

    /// The marker of this name, if registered.
    pub fn get(&self, name: &MarkerName) -> Option<&Marker> {
        self.markers.iter().find(|marker| marker.name == *name)
    }

    pub(crate) fn get_mut(&mut self, name: &MarkerName) -> Option<&mut Marker> {
        self.markers.iter_mut().find(|marker| marker.name == *name)
    }

    fn find_str(&self, name: &str) -> Option<MarkerName> {
        self.markers.iter().find(|marker| marker.name.as_str() == name).map(|marker| marker.name.clone())
    }

    /// Whether `name` is registered.
    pub fn contains(&self, name: &MarkerName) -> bool {
        self.get(name).is_some()
    }

    /// Looks up a name as a user wrote it (`_` read as `-`); an unknown or invalid name is
    /// an error suggesting the closest registered marker.
    pub fn lookup(&self, name: &str) -> Result<&Marker, UnknownMarker> {
        let found = MarkerName::new(name).ok().and_then(|valid| self.get(&valid));
        found.ok_or_else(|| self.unknown(name))
    }

    /// The error for an unregistered name.
    pub fn unknown(&self, name: &str) -> UnknownMarker {
        let normalised = name.replace('_', "-").to_lowercase();
        let candidates = self.markers.iter().map(|marker| marker.name.as_str());
        let suggestion = did_you_mean(&normalised, candidates).and_then(|found| self.find_str(found));
        UnknownMarker { name: name.to_owned(), suggestion }
    }

    /// The defaults for a test carrying `markers`: see [`MarkerLimits`].
    pub fn limits_for(&self, markers: &MarkerSet) -> MarkerLimits {
        let defaults: Vec<&MarkerDefaults> =
            markers.iter().filter_map(|name| self.get(name)).map(|marker| &marker.defaults).collect();
        let budgets: Option<Vec<Duration>> = defaults.iter().map(|d| d.time_budget).collect();
        let isolations = defaults.iter().filter_map(|d| d.isolation);
        MarkerLimits {
            timeout: defaults.iter().filter_map(|d| d.timeout).max(),
            memory: defaults.iter().filter_map(|d| d.memory).max(),
            time_budget: budgets.and_then(|budgets| budgets.into_iter().max()),
            // The most isolating wins: one marker asking for a process of its own is enough.
            isolation: isolations.reduce(|a, b| if a == Isolation::Process { a } else { b }),
        }
    }
}

fn builtin_marker(name: &'static str, description: &str, budget_secs: Option<u64>) -> Marker {
    let defaults =
        MarkerDefaults { time_budget: budget_secs.map(Duration::from_secs), ..MarkerDefaults::default() };
    Marker {
        name: MarkerName::from_static(name),
        description: description.to_owned(),
        builtin: true,
        defaults,
    }
}

/// The per-test defaults that follow from a test's markers.
///
/// - `timeout` and `memory`: the largest value any of its markers sets (the heaviest marker
///   wins), `None` when none sets one;
/// - `time_budget`: only when *every* marker of the test has a budget (the largest of them);
///   a marker without a budget — `slow`, `e2e`, `requires-*` — exempts the test, because a
///   test that says it is slow should not be told it is slow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarkerLimits {
    /// Per-test timeout.
    pub timeout: Option<Duration>,
    /// Per-test memory estimate and limit.
    pub memory: Option<ByteSize>,
    /// Duration above which the test is reported as a candidate for `slow`.
    pub time_budget: Option<Duration>,
    /// How the test runs, when a marker says.
    pub isolation: Option<Isolation>,
}

/// The markers of one test, sorted by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct MarkerSet(BTreeSet<MarkerName>);

impl MarkerSet {
    /// An empty set.
    pub fn new() -> MarkerSet {
        MarkerSet::default()
    }

    /// Adds a marker; false if it was already there.
    pub fn insert(&mut self, name: MarkerName) -> bool {
        self.0.insert(name)
    }

    /// Whether the set holds `name`.
    pub fn contains(&self, name: &MarkerName) -> bool {
        self.0.contains(name)
    }

    /// The markers, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &MarkerName> {
        self.0.iter()
    }

    /// Number of markers.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<MarkerName> for MarkerSet {
    fn from_iter<I: IntoIterator<Item = MarkerName>>(iter: I) -> Self {
        MarkerSet(iter.into_iter().collect())
    }
}

impl fmt::Display for MarkerSet {
    /// `slow, unit`: comma-separated, sorted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(name.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> MarkerName {
        MarkerName::new(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn names_are_validated_and_normalised() {
        assert_eq!(name("requires_gpu").as_str(), "requires-gpu");
        assert_eq!(name("e2e").as_str(), "e2e");
        let invalid = ["", "Slow", "2fast", "-slow", "slow down", "slöw", "_x"];
        for text in invalid {
            let error = MarkerName::new(text).map_err(|e| e.to_string());
            let expected = format!(
                "invalid marker name '{text}': use lowercase letters, digits and '-', starting with a letter"
            );
            assert_eq!(error, Err(expected));
        }
    }

    #[test]
    fn builtins_in_order_with_descriptions() {
        let registry = MarkerRegistry::builtin();
        let listed: Vec<String> =
            registry.iter().map(|marker| format!("{}: {}", marker.name, marker.description)).collect();
        assert_eq!(
            listed,
            [
                "unit: in-crate tests: lib, bin and proc-macro targets",
                "integration: tests in tests/ targets",
                "doc: doctests",
                "e2e: end-to-end workflow tests",
                "slow: takes seconds or more",
                "requires-gpu: needs a GPU; runs only where one is detected",
                "requires-models: needs large models or data; memory-heavy, runs serially",
                "serial: must not run beside other tests",
            ]
        );
    }

    #[test]
    fn lookup_suggests() {
        let mut registry = MarkerRegistry::builtin();
        registry.add(Marker::new(name("gpu-heavy"), "kernels")).unwrap_or_else(|e| panic!("{e}"));
        let cases = [
            ("slwo", "unknown marker 'slwo' (did you mean 'slow'?)"),
            ("requires_gpus", "unknown marker 'requires_gpus' (did you mean 'requires-gpu'?)"),
            ("gpu-hevy", "unknown marker 'gpu-hevy' (did you mean 'gpu-heavy'?)"),
            ("network", "unknown marker 'network'"),
            ("Slow", "unknown marker 'Slow' (did you mean 'slow'?)"),
        ];
        for (input, message) in cases {
            assert_eq!(
                registry.lookup(input).map(|m| m.name.clone()).map_err(|e| e.to_string()),
                Err(message.into())
            );
        }
        assert_eq!(registry.lookup("requires_gpu").map(|m| m.name.as_str()), Ok("requires-gpu"));
        assert_eq!(registry.lookup("gpu-heavy").map(|m| m.builtin), Ok(false));
    }

    #[test]
    fn duplicate_marker() {
        let mut registry = MarkerRegistry::builtin();
        let error = registry.add(Marker::new(name("slow"), "again")).map_err(|e| e.to_string());
        assert_eq!(error, Err("marker 'slow' is already registered".to_owned()));
    }

    #[test]
    fn limits_follow_markers() {
        let mut registry = MarkerRegistry::builtin();
        let mut heavy = Marker::new(name("heavy"), "big");
        heavy.defaults.memory = Some(ByteSize(4 << 30));
        heavy.defaults.timeout = Some(Duration::from_secs(600));
        heavy.defaults.time_budget = Some(Duration::from_secs(60));
        registry.add(heavy).unwrap_or_else(|e| panic!("{e}"));
        let set = |names: &[&str]| names.iter().map(|n| name(n)).collect::<MarkerSet>();

        let unit = registry.limits_for(&set(&["unit"]));
        assert_eq!(unit.time_budget, Some(Duration::from_secs(5)));
        assert_eq!(registry.limits_for(&set(&["unit", "slow"])).time_budget, None);
        let both = registry.limits_for(&set(&["unit", "heavy"]));
        assert_eq!(both.time_budget, Some(Duration::from_secs(60)));
        assert_eq!(both.isolation, None);
        assert_eq!(both.memory, Some(ByteSize(4 << 30)));
        assert_eq!(both.timeout, Some(Duration::from_secs(600)));
    }

    #[test]
    fn the_most_isolating_marker_wins() {
        let mut registry = MarkerRegistry::builtin();
        for (marker, isolation) in [("alone", Isolation::Process), ("shared", Isolation::Batch)] {
            let mut m = Marker::new(name(marker), "x");
            m.defaults.isolation = Some(isolation);
            registry.add(m).unwrap_or_else(|e| panic!("{e}"));
        }
        let set = |names: &[&str]| names.iter().map(|n| name(n)).collect::<MarkerSet>();
        let cases: [(&[&str], Option<Isolation>); 5] = [
            (&["unit"], None),
            (&["unit", "shared"], Some(Isolation::Batch)),
            (&["alone", "unit"], Some(Isolation::Process)),
            (&["alone", "shared"], Some(Isolation::Process)),
            (&["shared", "zz-none"], Some(Isolation::Batch)),
        ];
        for (markers, expected) in cases {
            assert_eq!(registry.limits_for(&set(markers)).isolation, expected, "{markers:?}");
        }
    }

    #[test]
    fn marker_set_display() {
        let set: MarkerSet = [name("unit"), name("slow")].into_iter().collect();
        assert_eq!(set.to_string(), "slow, unit");
    }
}
