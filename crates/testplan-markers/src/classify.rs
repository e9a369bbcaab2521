//! Classification: which markers a test carries, and where each came from.
//!
//! Four sources, each recorded so `cargo testplan explain` can show it:
//!
//! 1. **Target kind.** lib, bin and proc-macro targets → `unit`; `tests/` targets →
//!    `integration`; doctests → `doc`. Bench and example targets → `unit` too: their
//!    `#[test]` functions live inside that one target, like a bin target's.
//! 2. **Ignore reason.** `#[ignore = "requires-gpu, slow: needs CUDA 12"]`: the part before
//!    the first `:` (the whole reason if there is none) is split on commas and whitespace;
//!    if it is non-empty and *every* item is a registered marker (`_` read as `-`), those are
//!    the test's markers and the test is "ignored for its markers": it runs in the phase they
//!    select. Otherwise the reason is prose (`"not yet implemented"`, `"slow network"`) and the
//!    test is plainly ignored.
//! 3. **Name segments.** Every `::`-separated segment of the test's path *except the last*
//!    that names a registered marker: `tests::slow::deep`, `requires_gpu::kernel`, and the
//!    `my_test::slow::test` names tagging crates such as test-tag generate. The last segment
//!    is the test function itself, whose name describes what it tests (`fn serial()` may test
//!    a serial port), so it never assigns a marker. For doctests the path is the item path
//!    rustdoc prints (`src/lib.rs - slow::f (line 3)` → `slow::f`).
//!
//!    Sources 2 and 3 never assign the kind markers (`unit`, `integration`, `doc`): those
//!    words are too common as module names (`mod unit`, `mod integration`) to mean anything.
//! 4. **Configuration rules.** `[[markers.NAME.rules]]`: regular expressions over the test
//!    name, package, binary (target) name, kind and source file; all given must match.

use std::fmt;

use regex::Regex;

use crate::marker::{MarkerName, MarkerRegistry, MarkerSet, builtin};

/// The kind of target a test lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestKind {
    /// A library target.
    Lib,
    /// A binary target.
    Bin,
    /// A proc-macro library.
    ProcMacro,
    /// A `tests/` target.
    Test,
    /// A `benches/` target.
    Bench,
    /// An `examples/` target.
    Example,
    /// A doctest.
    Doc,
}

impl TestKind {
    /// Every kind, in a stable order.
    pub const ALL: [TestKind; 7] = [
        TestKind::Lib,
        TestKind::Bin,
        TestKind::ProcMacro,
        TestKind::Test,
        TestKind::Bench,
        TestKind::Example,
        TestKind::Doc,
    ];

    /// Cargo's spelling: `lib`, `bin`, `proc-macro`, `test`, `bench`, `example`, `doc`.
    pub fn as_str(self) -> &'static str {
        match self {
            TestKind::Lib => "lib",
            TestKind::Bin => "bin",
            TestKind::ProcMacro => "proc-macro",
            TestKind::Test => "test",
            TestKind::Bench => "bench",
            TestKind::Example => "example",
            TestKind::Doc => "doc",
        }
    }

    /// The built-in marker this kind assigns.
    pub fn marker(self) -> &'static str {
        match self {
            TestKind::Test => builtin::INTEGRATION,
            TestKind::Doc => builtin::DOC,
            TestKind::Lib | TestKind::Bin | TestKind::ProcMacro | TestKind::Bench | TestKind::Example => {
                builtin::UNIT
            }
        }
    }
}

impl fmt::Display for TestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What discovery knows about one test: the input of classification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TestFacts<'a> {
    /// Package name.
    pub package: &'a str,
    /// Binary (target) name.
    pub binary: &'a str,
    /// Target kind.
    pub kind: TestKind,
    /// Full test name as libtest or rustdoc lists it.
    pub name: &'a str,
    /// `#[ignore]`d.
    pub ignored: bool,
    /// The reason of `#[ignore = "..."]`.
    pub ignore_reason: Option<&'a str>,
    /// Source file, when known.
    pub source_file: Option<&'a str>,
    /// Line in the source file, when known.
    pub source_line: Option<u32>,
}

/// Where a rule was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleOrigin {
    /// The file (`testplan.toml`, `Cargo.toml`).
    pub file: String,
    /// Its key path (`markers.slow.rules[0]`).
    pub key_path: String,
    /// 1-based line of the rule.
    pub line: u32,
    /// 1-based column of the rule.
    pub column: u32,
}

/// A configuration rule: the test gets `marker` when every given pattern matches (regex
/// search, unanchored; use `^`/`$` to anchor).
#[derive(Clone, Debug)]
pub struct Rule {
    /// The marker it assigns.
    pub marker: MarkerName,
    /// Pattern over the full test name.
    pub name: Option<Regex>,
    /// Pattern over the package name.
    pub package: Option<Regex>,
    /// Pattern over the binary (target) name.
    pub binary: Option<Regex>,
    /// Pattern over the kind (`lib`, `bin`, `proc-macro`, `test`, `bench`, `example`, `doc`).
    pub kind: Option<Regex>,
    /// Pattern over the source file path; never matches a test without one.
    pub file: Option<Regex>,
    /// Where it was written.
    pub origin: RuleOrigin,
}

impl Rule {
    /// Whether every given pattern matches the test.
    pub fn matches(&self, test: &TestFacts<'_>) -> bool {
        let fits = |pattern: &Option<Regex>, value: Option<&str>| match (pattern, value) {
            (None, _) => true,
            (Some(pattern), Some(value)) => pattern.is_match(value),
            (Some(_), None) => false,
        };
        fits(&self.name, Some(test.name))
            && fits(&self.package, Some(test.package))
            && fits(&self.binary, Some(test.binary))
            && fits(&self.kind, Some(test.kind.as_str()))
            && fits(&self.file, test.source_file)
    }

    fn patterns(&self) -> [Option<&str>; 5] {
        [&self.name, &self.package, &self.binary, &self.kind, &self.file]
            .map(|p| p.as_ref().map(Regex::as_str))
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.marker == other.marker && self.origin == other.origin && self.patterns() == other.patterns()
    }
}

impl Eq for Rule {}

/// Why a test carries a marker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarkerSource {
    /// The target kind.
    Kind(TestKind),
    /// The `#[ignore = "..."]` reason, at the test's source location when known.
    IgnoreReason {
        /// Source file.
        file: Option<String>,
        /// Line.
        line: Option<u32>,
    },
    /// A segment of the test's path, as written (`requires_gpu`).
    NameSegment {
        /// The segment.
        segment: String,
    },
    /// A configuration rule.
    Rule(RuleOrigin),
}

impl fmt::Display for MarkerSource {
    /// `target kind 'lib'`, `ignore reason at src/lib.rs:42`, `name segment 'requires_gpu'`,
    /// `rule markers.slow.rules[0] at testplan.toml:12:1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MarkerSource::Kind(kind) => write!(f, "target kind '{kind}'"),
            MarkerSource::IgnoreReason { file: Some(file), line: Some(line) } => {
                write!(f, "ignore reason at {file}:{line}")
            }
            MarkerSource::IgnoreReason { file: Some(file), line: None } => {
                write!(f, "ignore reason in {file}")
            }
            MarkerSource::IgnoreReason { .. } => f.write_str("ignore reason"),
            MarkerSource::NameSegment { segment } => write!(f, "name segment '{segment}'"),
            MarkerSource::Rule(origin) => {
                write!(f, "rule {} at {}:{}:{}", origin.key_path, origin.file, origin.line, origin.column)
            }
        }
    }
}

/// How a test relates to `#[ignore]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IgnoreStatus {
    /// Not ignored.
    NotIgnored,
    /// Ignored with a reason made of marker names: runs in the phase its markers select.
    ForMarkers,
    /// A plain `#[ignore]` or a prose reason: skipped unless ignored tests are asked for.
    Plain,
}

/// A marker and one source of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// The marker.
    pub marker: MarkerName,
    /// Where it came from.
    pub source: MarkerSource,
}

/// The outcome of classifying one test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classification {
    /// Its markers.
    pub markers: MarkerSet,
    /// Every source of every marker, in the order: kind, ignore reason, name segments,
    /// rules. A marker can have several.
    pub assignments: Vec<Assignment>,
    /// How it relates to `#[ignore]`.
    pub ignore: IgnoreStatus,
}

impl Classification {
    /// The sources of one marker.
    pub fn sources_of<'s>(&'s self, marker: &'s MarkerName) -> impl Iterator<Item = &'s MarkerSource> + 's {
        self.assignments.iter().filter(move |a| a.marker == *marker).map(|a| &a.source)
    }

    fn assign(&mut self, marker: MarkerName, source: MarkerSource) {
        self.markers.insert(marker.clone());
        self.assignments.push(Assignment { marker, source });
    }
}

/// Assigns markers to a test from all four sources.
pub fn classify(registry: &MarkerRegistry, rules: &[Rule], test: &TestFacts<'_>) -> Classification {
    let mut result = Classification {
        markers: MarkerSet::new(),
        assignments: Vec::new(),
        ignore: IgnoreStatus::NotIgnored,
    };
    if let Ok(kind_marker) = MarkerName::new(test.kind.marker()) {
        result.assign(kind_marker, MarkerSource::Kind(test.kind));
    }
    result.ignore = classify_ignore(registry, test, &mut result);
    for (segment, marker) in segment_markers(registry, test) {
        result.assign(marker, MarkerSource::NameSegment { segment: segment.to_owned() });
    }
    for rule in rules.iter().filter(|rule| rule.matches(test)) {
        result.assign(rule.marker.clone(), MarkerSource::Rule(rule.origin.clone()));
    }
    result
}

fn classify_ignore(
    registry: &MarkerRegistry,
    test: &TestFacts<'_>,
    result: &mut Classification,
) -> IgnoreStatus {
    if !test.ignored {
        return IgnoreStatus::NotIgnored;
    }
    let Some(markers) = test.ignore_reason.and_then(|reason| ignore_reason_markers(registry, reason)) else {
        return IgnoreStatus::Plain;
    };
    let file = test.source_file.map(str::to_owned);
    for marker in markers {
        result.assign(marker, MarkerSource::IgnoreReason { file: file.clone(), line: test.source_line });
    }
    IgnoreStatus::ForMarkers
}

/// The markers an ignore reason names, or `None` when it is prose (see the module docs).
pub fn ignore_reason_markers(registry: &MarkerRegistry, reason: &str) -> Option<Vec<MarkerName>> {
    let head = reason.split_once(':').map_or(reason, |(head, _)| head);
    let items: Vec<&str> =
        head.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).collect();
    if items.is_empty() {
        return None;
    }
    items.into_iter().map(|item| assignable_marker(registry, item)).collect()
}

/// A registered, non-kind marker named by `word`.
fn assignable_marker(registry: &MarkerRegistry, word: &str) -> Option<MarkerName> {
    let name = MarkerName::new(word).ok()?;
    registry.get(&name).filter(|marker| !marker.is_kind_marker()).map(|marker| marker.name.clone())
}

/// Path segments (all but the last) naming a registered, non-kind marker.
fn segment_markers<'t>(registry: &MarkerRegistry, test: &TestFacts<'t>) -> Vec<(&'t str, MarkerName)> {
    let path = if test.kind == TestKind::Doc { doctest_item_path(test.name) } else { test.name };
    let mut segments: Vec<&str> = path.split("::").collect();
    segments.pop();
    segments
        .into_iter()
        .filter_map(|segment| Some((segment, assignable_marker(registry, segment)?)))
        .collect()
}

/// `src/lib.rs - slow::f (line 3)` → `slow::f`; other shapes are returned unchanged.
fn doctest_item_path(name: &str) -> &str {
    let item = name.split_once(" - ").map_or(name, |(_, item)| item);
    item.rfind(" (line ").map_or(item, |end| &item[..end]).trim()
}

#[cfg(test)]
mod tests;
