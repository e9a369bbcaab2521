//! Test selection by name with libtest's meaning (positional substring filters, `--exact`,
//! `--skip`), and the planned action of each test. Which ignored tests run is the plan's
//! business (`testplan_markers::Selection`, see [`crate::plan`]).

use crate::model::TestIdx;

/// Name filters, applied to every binary like `cargo test -- FILTER`.
#[derive(Clone, Debug, Default)]
pub struct TestFilter {
    /// Positional filters: a test matches if any matches (substring, or equal with `exact`).
    pub patterns: Vec<String>,
    /// `--exact`: patterns and skips must equal the whole name.
    pub exact: bool,
    /// `--skip`: tests matching any of these are filtered out.
    pub skip: Vec<String>,
}

/// What to do with one listed test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Run it; `ignored` says whether libtest must be told `--ignored` to run it.
    Run {
        /// The test is `#[ignore]`d.
        ignored: bool,
    },
    /// Report it skipped, with this reason.
    Skip {
        /// Human-readable reason.
        reason: String,
    },
    /// Do not run it: report the result the doctest result cache holds (passed, or
    /// skipped as ignored), marked cached. Only doctests get it (see
    /// [`crate::discover::doc_results`]).
    Cached {
        /// The cached result is "ignored" rather than "passed".
        ignored: bool,
    },
}

/// A test the executor will run or report as skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedTest {
    /// The test.
    pub test: TestIdx,
    /// Run or skip.
    pub action: Action,
}

impl PlannedTest {
    /// Whether the test is to run (not reported skipped, not taken from the cache).
    pub fn is_run(&self) -> bool {
        matches!(self.action, Action::Run { .. })
    }

    /// Whether its result comes from the doctest result cache.
    pub fn is_cached(&self) -> bool {
        matches!(self.action, Action::Cached { .. })
    }
}

impl TestFilter {
    /// Whether `name` passes the positional filters and `--skip`.
    pub fn matches_name(&self, name: &str) -> bool {
        let hit = |pat: &String| if self.exact { name == pat } else { name.contains(pat.as_str()) };
        let selected = self.patterns.is_empty() || self.patterns.iter().any(hit);
        selected && !self.skip.iter().any(hit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(patterns: &[&str], exact: bool, skip: &[&str]) -> TestFilter {
        TestFilter {
            patterns: patterns.iter().map(|s| s.to_string()).collect(),
            exact,
            skip: skip.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn name_filters_follow_libtest() {
        // (patterns, exact, skip, name, selected)
        type Case<'a> = (&'a [&'a str], bool, &'a [&'a str], &'a str, bool);
        let cases: &[Case] = &[
            (&[], false, &[], "a::b", true),
            (&["b"], false, &[], "a::b", true),
            (&["c"], false, &[], "a::b", false),
            (&["c", "a"], false, &[], "a::b", true),
            (&["a"], true, &[], "a::b", false),
            (&["a::b"], true, &[], "a::b", true),
            (&[], false, &["b"], "a::b", false),
            (&[], true, &["b"], "a::b", true),
            (&["a"], false, &["a::b"], "a::b", false),
        ];
        for (patterns, exact, skip, name, expected) in cases {
            let f = filter(patterns, *exact, skip);
            assert_eq!(f.matches_name(name), *expected, "{patterns:?} exact={exact} skip={skip:?} {name}");
        }
    }
}
