//! Phases, the default plan, profiles, and the decision of what happens to each test.
//!
//! A test belongs to the *first* phase whose `select` expression matches its markers; a test
//! no phase selects is "not in plan" (reported with a count, never dropped silently).
//!
//! The default plan, in order. Every test carries exactly one kind marker (`unit`,
//! `integration` or `doc`) from classification; the expressions are mutually exclusive for
//! such tests, so each lands in exactly one phase whatever other built-in markers it has:
//!
//! | phase | select | options |
//! |---|---|---|
//! | unit | `unit and not (e2e or slow or requires-gpu or requires-models)` | isolation batch |
//! | integration | `(integration or e2e) and not (slow or requires-gpu or requires-models)` | isolation batch |
//! | doc | `doc and not (e2e or slow or requires-gpu or requires-models)` | isolation batch |
//! | slow | `slow and not (requires-gpu or requires-models)` | |
//! | models | `requires-models and not requires-gpu` | serial |
//! | gpu | `requires-gpu` | serial, requires gpu |
//!
//! `serial` has no phase of its own: a `serial` test stays in its phase, and the scheduler
//! runs it alone.

use std::num::NonZeroUsize;
use std::time::Duration;

pub use crate::isolation::Isolation;

use crate::classify::{Classification, IgnoreStatus};
use crate::expr::{KeywordExpr, MarkerExpr};
use crate::marker::MarkerRegistry;
use crate::suggest::{did_you_mean, hint};
use crate::units::ByteSize;

/// Index of a phase in [`Plan::phases`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhaseIdx(pub usize);

/// Something a phase needs from the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// A GPU (detected, or forced with `--gpu yes`).
    Gpu,
}

impl Requirement {
    /// Every requirement, for messages and suggestions.
    pub const ALL: [Requirement; 1] = [Requirement::Gpu];

    /// The configuration spelling: `gpu`.
    pub fn as_str(self) -> &'static str {
        match self {
            Requirement::Gpu => "gpu",
        }
    }
}

/// What a failed phase does to the phases after it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnFailure {
    /// Later phases do not run (reported as not run, and why).
    #[default]
    Stop,
    /// Later phases run anyway.
    Continue,
}

/// Which ignored tests run (nextest's `--run-ignored`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RunIgnored {
    /// Tests ignored for their markers run in their phase; plainly ignored tests are skipped.
    #[default]
    Default,
    /// Only ignored tests (of either kind) run.
    Only,
    /// Everything runs, plainly ignored tests included.
    All,
}

/// One phase of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase {
    /// Its name (also a command: `cargo testplan NAME`).
    pub name: String,
    /// Which tests it takes (among those no earlier phase took).
    pub select: MarkerExpr,
    /// Parallelism cap; `None`: chosen from CPUs and memory.
    pub jobs: Option<NonZeroUsize>,
    /// Per-test timeout; `None`: the markers' or the runner's default.
    pub timeout: Option<Duration>,
    /// Per-test memory estimate and limit; `None`: the markers' or measured history.
    pub memory: Option<ByteSize>,
    /// What the machine must have, or the phase is skipped with the reason.
    pub requires: Vec<Requirement>,
    /// Whether a failure stops the later phases.
    pub on_failure: OnFailure,
    /// Run one test at a time.
    pub serial: bool,
    /// Process per test, or batched.
    pub isolation: Isolation,
    /// The CI runner label its jobs need (`runs-on`), for `cargo testplan matrix`.
    pub runs_on: Option<String>,
}

impl Phase {
    /// A phase with default options.
    pub fn new(name: impl Into<String>, select: MarkerExpr) -> Phase {
        Phase {
            name: name.into(),
            select,
            jobs: None,
            timeout: None,
            memory: None,
            requires: Vec::new(),
            on_failure: OnFailure::Stop,
            serial: false,
            isolation: Isolation::Process,
            runs_on: None,
        }
    }
}

/// The default plan's phases: name, select expression, serial, requires a GPU.
pub const DEFAULT_PHASES: [(&str, &str, bool, bool); 6] = [
    ("unit", "unit and not (e2e or slow or requires-gpu or requires-models)", false, false),
    ("integration", "(integration or e2e) and not (slow or requires-gpu or requires-models)", false, false),
    ("doc", "doc and not (e2e or slow or requires-gpu or requires-models)", false, false),
    ("slow", "slow and not (requires-gpu or requires-models)", false, false),
    ("models", "requires-models and not requires-gpu", true, false),
    ("gpu", "requires-gpu", true, true),
];

/// The default plan's phases that batch their tests (`isolation = "batch"`): unit and
/// integration tests rarely need a process of their own (`cargo test` runs each binary's
/// tests in one process), and doctests always run in batches. Slow and heavy phases keep
/// one process per test: their tests are long, so a process costs nothing, and each gets
/// its own peak memory and limits.
pub const DEFAULT_BATCH_PHASES: [&str; 3] = ["unit", "integration", "doc"];

/// Command words of cargo-testplan, which phases cannot be named (a phase is also a
/// command: `cargo testplan unit`). Keep in sync with the CLI's subcommands.
pub const RESERVED_NAMES: [&str; 13] = [
    "run", "fast", "full", "list", "markers", "explain", "init", "doctor", "matrix", "merge", "report",
    "help", "version",
];

/// The `select` of the built-in `fast` profile.
pub const FAST_SELECT: &str = "not (slow or requires-gpu or requires-models)";

/// A phase name that is not in the plan.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown phase '{name}'{}", hint(suggestion.as_deref()))]
pub struct UnknownPhase {
    /// The name as written.
    pub name: String,
    /// The closest phase name.
    pub suggestion: Option<String>,
}

/// The ordered phases.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    phases: Vec<Phase>,
}

impl Default for Plan {
    fn default() -> Self {
        Plan::default_plan()
    }
}

impl Plan {
    /// A plan of these phases (names assumed unique; the configuration checks that).
    pub fn new(phases: Vec<Phase>) -> Plan {
        Plan { phases }
    }

    /// The plan used without configuration; see the module documentation.
    pub fn default_plan() -> Plan {
        let registry = MarkerRegistry::builtin();
        let phases = DEFAULT_PHASES.iter().filter_map(|&(name, select, serial, gpu)| {
            // The constant expressions are tested to parse; `filter_map` keeps this panic-free.
            let select = MarkerExpr::parse_checked(select, &registry).ok()?;
            let requires = if gpu { vec![Requirement::Gpu] } else { Vec::new() };
            let isolation =
                if DEFAULT_BATCH_PHASES.contains(&name) { Isolation::Batch } else { Isolation::Process };
            Some(Phase { serial, requires, isolation, ..Phase::new(name, select) })
        });
        Plan { phases: phases.collect() }
    }

    /// The phases, in order.
    pub fn phases(&self) -> &[Phase] {
        &self.phases
    }

    /// One phase. `idx` must come from this plan (it panics otherwise, like slice indexing).
    pub fn phase(&self, idx: PhaseIdx) -> &Phase {
        &self.phases[idx.0]
    }

    /// The phase of this name; an unknown name suggests the closest.
    pub fn find(&self, name: &str) -> Result<PhaseIdx, UnknownPhase> {
        match self.phases.iter().position(|phase| phase.name == name) {
            Some(i) => Ok(PhaseIdx(i)),
            None => Err(UnknownPhase {
                name: name.to_owned(),
                suggestion: did_you_mean(name, self.phases.iter().map(|p| p.name.as_str()))
                    .map(str::to_owned),
            }),
        }
    }

    /// The first phase whose `select` matches; `None`: the test is not in the plan.
    pub fn assign(&self, markers: &crate::marker::MarkerSet) -> Option<PhaseIdx> {
        self.phases.iter().position(|phase| phase.select.matches(markers)).map(PhaseIdx)
    }

    /// The phases a profile runs, in run order: its list, or every phase some test could
    /// reach under its `select` filter.
    pub fn profile_phases(&self, profile: &Profile) -> Vec<PhaseIdx> {
        if let Some(listed) = &profile.phases {
            return listed.clone();
        }
        let all = (0..self.phases.len()).map(PhaseIdx);
        all.filter(|idx| self.reachable(*idx, profile.select.as_ref())).collect()
    }

    /// Whether some marker set lands in phase `idx` (matches its `select`, no earlier
    /// phase's, and `filter`).
    pub fn reachable(&self, idx: PhaseIdx, filter: Option<&MarkerExpr>) -> bool {
        let earlier = self.phases[..idx.0].iter().map(|phase| phase.select.clone().negate());
        let mut lands = earlier.fold(self.phase(idx).select.clone(), MarkerExpr::and);
        if let Some(filter) = filter {
            lands = lands.and(filter.clone());
        }
        lands.is_satisfiable()
    }
}

/// A named set of phases and options (`--profile NAME`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Its name.
    pub name: String,
    /// The phases it runs, in order; `None`: every phase its `select` can reach.
    pub phases: Option<Vec<PhaseIdx>>,
    /// Tests must also match this.
    pub select: Option<MarkerExpr>,
    /// Which ignored tests run.
    pub run_ignored: RunIgnored,
    /// `Some(false)`: later phases run after a failure, whatever the phases say
    /// (`--no-fail-fast`); `Some(true)`: a failure stops the run; `None`: each phase's
    /// `on-failure` decides.
    pub fail_fast: Option<bool>,
    /// Built in (run, fast, full) and not changed by the configuration.
    pub builtin: bool,
}

impl Profile {
    /// A profile with default options: all phases, no filter.
    pub fn new(name: impl Into<String>) -> Profile {
        Profile {
            name: name.into(),
            phases: None,
            select: None,
            run_ignored: RunIgnored::Default,
            fail_fast: None,
            builtin: false,
        }
    }

    /// The built-in profiles: `run` (the plan), `fast` (no slow or heavy test: [`FAST_SELECT`]),
    /// `full` (the plan plus plainly ignored tests).
    pub fn builtins() -> Vec<Profile> {
        let fast_select = MarkerExpr::parse(FAST_SELECT).ok();
        let builtin = |name: &str| Profile { builtin: true, ..Profile::new(name) };
        vec![
            builtin("run"),
            Profile { select: fast_select, ..builtin("fast") },
            Profile { run_ignored: RunIgnored::All, ..builtin("full") },
        ]
    }
}

/// What one test does in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Runs in `phase`; `ignored` tells the runner to pass libtest `--ignored`.
    Run {
        /// Its phase.
        phase: PhaseIdx,
        /// It is `#[ignore]`d.
        ignored: bool,
    },
    /// Reported as skipped in `phase`: plainly ignored.
    SkipIgnored {
        /// Its phase.
        phase: PhaseIdx,
    },
    /// Belongs to a phase this run does not include.
    OtherPhase {
        /// Its phase.
        phase: PhaseIdx,
    },
    /// Filtered out by `-m`, `-k`, the profile's `select` or `run-ignored = "only"`.
    Deselected,
    /// No phase selects it.
    NotInPlan,
}

/// What a run selects: phases, filters and options, from a profile or `--phase`, narrowed
/// by `-m` and `-k`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// Phases to run, in order.
    pub phases: Vec<PhaseIdx>,
    /// Marker filter (the profile's `select` and `-m`, and-ed).
    pub markers: Option<MarkerExpr>,
    /// Keyword filter (`-k`).
    pub keywords: Option<KeywordExpr>,
    /// Which ignored tests run.
    pub run_ignored: RunIgnored,
    /// See [`Profile::fail_fast`].
    pub fail_fast: Option<bool>,
}

impl Selection {
    /// What a profile runs.
    pub fn from_profile(plan: &Plan, profile: &Profile) -> Selection {
        Selection {
            phases: plan.profile_phases(profile),
            markers: profile.select.clone(),
            keywords: None,
            run_ignored: profile.run_ignored,
            fail_fast: profile.fail_fast,
        }
    }

    /// Just these phases (`cargo testplan PHASE`, `--phase a,b`), default options.
    pub fn phases(phases: Vec<PhaseIdx>) -> Selection {
        Selection { phases, markers: None, keywords: None, run_ignored: RunIgnored::Default, fail_fast: None }
    }

    /// Narrows by a marker expression (`-m`).
    pub fn and_markers(mut self, expr: MarkerExpr) -> Selection {
        self.markers = Some(match self.markers.take() {
            Some(existing) => existing.and(expr),
            None => expr,
        });
        self
    }

    /// Narrows by a keyword expression (`-k`).
    pub fn and_keywords(mut self, expr: KeywordExpr) -> Selection {
        self.keywords = Some(match self.keywords.take() {
            Some(existing) => existing.and(expr),
            None => expr,
        });
        self
    }

    /// What happens to one test. Filters come first, so "not in plan" counts only tests the
    /// filters select.
    pub fn decide(&self, plan: &Plan, test: &Classification, test_name: &str) -> Decision {
        let markers_match = self.markers.as_ref().is_none_or(|expr| expr.matches(&test.markers));
        let keywords_match = self.keywords.as_ref().is_none_or(|expr| expr.matches(test_name));
        if !(markers_match && keywords_match) {
            return Decision::Deselected;
        }
        let Some(phase) = plan.assign(&test.markers) else {
            return Decision::NotInPlan;
        };
        if !self.phases.contains(&phase) {
            return Decision::OtherPhase { phase };
        }
        match (test.ignore, self.run_ignored) {
            (IgnoreStatus::NotIgnored, RunIgnored::Only) => Decision::Deselected,
            (IgnoreStatus::NotIgnored, _) => Decision::Run { phase, ignored: false },
            (IgnoreStatus::Plain, RunIgnored::Default) => Decision::SkipIgnored { phase },
            (IgnoreStatus::ForMarkers | IgnoreStatus::Plain, _) => Decision::Run { phase, ignored: true },
        }
    }
}

#[cfg(test)]
mod tests;
