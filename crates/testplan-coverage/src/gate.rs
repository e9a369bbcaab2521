//! Coverage gates (pytest-cov's `--cov-fail-under`): a minimum for the total, a minimum per
//! phase (on the phase's own coverage: what its tests cover alone), and "no drop" against
//! the previous run of the same selection. Line coverage, compared exactly (no rounding).
//! A phase with a minimum that did not run is not checked.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Counts, CoverageSummary};

/// The configured gates.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Gates {
    /// Minimum total line percent.
    pub fail_under: Option<f64>,
    /// Minimum own line percent per phase name.
    pub phase_minimums: BTreeMap<String, f64>,
    /// Fail when the total line coverage is lower than the previous run's.
    pub no_drop: bool,
}

/// A gate that failed.
#[derive(Clone, Debug, PartialEq)]
pub enum GateFailure {
    /// The total is under `--coverage-fail-under`.
    Total {
        /// Lines of the run.
        lines: Counts,
        /// The minimum percent.
        minimum: f64,
    },
    /// A phase's own coverage is under its minimum.
    Phase {
        /// The phase.
        phase: String,
        /// The phase's own lines.
        lines: Counts,
        /// The minimum percent.
        minimum: f64,
    },
    /// The total is lower than in the previous run.
    Dropped {
        /// Lines of the previous run.
        before: Counts,
        /// Lines of this run.
        after: Counts,
    },
}

impl std::fmt::Display for GateFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GateFailure::Total { lines, minimum } => {
                write!(f, "line coverage {} is under the minimum {minimum}%", percent(*lines))
            }
            GateFailure::Phase { phase, lines, minimum } => {
                write!(f, "phase {phase} covers {} on its own, under its minimum {minimum}%", percent(*lines))
            }
            GateFailure::Dropped { before, after } => {
                write!(f, "line coverage dropped from {} to {} (no-drop)", percent(*before), percent(*after))
            }
        }
    }
}

/// `lines` as `80.49%` (two decimals: a gate message must show why 79.996 fails 80).
pub fn percent(lines: Counts) -> String {
    match lines.percent() {
        Some(p) => format!("{p:.2}%"),
        None => "n/a".to_owned(),
    }
}

/// Every gate `total` (the run), `phases` (each phase's own lines) and `previous` (the
/// previous run's, if any) fail, in the order total, phases, drop.
pub fn check(
    gates: &Gates,
    total: &CoverageSummary,
    phases: &[(&str, Counts)],
    previous: Option<&CoverageSummary>,
) -> Vec<GateFailure> {
    let mut failures = Vec::new();
    let lines = total.total.lines;
    if let Some(minimum) = gates.fail_under.filter(|&m| !lines.meets(m)) {
        failures.push(GateFailure::Total { lines, minimum });
    }
    for &(phase, own_lines) in phases {
        if let Some(&minimum) = gates.phase_minimums.get(phase).filter(|&&m| !own_lines.meets(m)) {
            failures.push(GateFailure::Phase { phase: phase.to_owned(), lines: own_lines, minimum });
        }
    }
    if let Some(before) =
        previous.map(|p| p.total.lines).filter(|&before| gates.no_drop && dropped(before, lines))
    {
        failures.push(GateFailure::Dropped { before, after: lines });
    }
    failures
}

/// `after` covers a smaller fraction than `before` (exact, by cross-multiplying).
fn dropped(before: Counts, after: Counts) -> bool {
    if before.total == 0 || after.total == 0 {
        return false;
    }
    u128::from(after.covered) * u128::from(before.total)
        < u128::from(before.covered) * u128::from(after.total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FileSummary;

    fn run(covered: u64, total: u64) -> CoverageSummary {
        CoverageSummary {
            total: FileSummary { lines: Counts { covered, total }, ..FileSummary::default() },
            files: BTreeMap::new(),
        }
    }

    #[test]
    fn no_gates_never_fail() {
        assert_eq!(
            check(
                &Gates::default(),
                &run(0, 10),
                &[("unit", Counts { covered: 0, total: 10 })],
                Some(&run(10, 10))
            ),
            []
        );
    }

    #[test]
    fn each_gate_fails_with_its_message() {
        let gates = Gates {
            fail_under: Some(99.0),
            phase_minimums: [("unit".to_owned(), 50.0), ("doc".to_owned(), 5.0), ("gpu".to_owned(), 90.0)]
                .into(),
            no_drop: true,
        };
        let failures = check(
            &gates,
            &run(33, 41),
            &[("unit", Counts { covered: 18, total: 41 }), ("doc", Counts { covered: 4, total: 41 })],
            Some(&run(34, 41)),
        );
        let messages: Vec<String> = failures.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "line coverage 80.49% is under the minimum 99%",
                "phase unit covers 43.90% on its own, under its minimum 50%",
                "line coverage dropped from 82.93% to 80.49% (no-drop)",
            ]
        );
    }

    #[test]
    fn equal_is_enough_and_more_lines_at_the_same_rate_is_no_drop() {
        let gates = Gates { fail_under: Some(80.0), no_drop: true, ..Gates::default() };
        assert_eq!(check(&gates, &run(8, 10), &[], Some(&run(4, 5))), []);
        assert_eq!(check(&gates, &run(8, 10), &[], Some(&run(81, 100))).len(), 1);
    }
}
