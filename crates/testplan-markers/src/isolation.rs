//! How tests run: one process per test, or many to a libtest process. A marker can ask for
//! one (`[markers.NAME] isolation = "process"`), a phase has one, and the planner decides
//! each test's from both; it lives apart from both so markers do not depend on the plan.

/// How tests of a phase (or with a marker) are run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Isolation {
    /// One process per test (like nextest).
    #[default]
    Process,
    /// Many tests per process, like `cargo test`.
    Batch,
}
