//! Check 3 of the markers-and-phases issue, the working half: fixtures/configured has a
//! testplan.toml that declares a `network` marker given by a rule over test names, gives
//! the built-in `slow` a rule over source files, and replaces the default plan with phases
//! of its own (a `network` phase after `integration`; no phase for `requires-gpu`). `list`
//! shows the markers and phase expected.toml writes down for each test, `list -m network`
//! and `run` select exactly the expected tests, a test no phase selects is reported as not
//! in plan, and the custom phase is a command.

use std::collections::BTreeSet;

use super::plan_support::{
    NOT_IN_PLAN, PlanTest, human_list_keys, keys_where, list_json, load_plan, run_cmd_with_report, run_plain,
    run_with_report, selected, set_diff,
};
use crate::support::compare::assert_no_problems;
use crate::support::fixture::Fixture;

pub(super) const CONFIGURED: &str = "fixtures/configured";

/// testplan.toml's phases, in order.
const PHASES: [&str; 5] = ["unit", "integration", "network", "doc", "slow"];

fn has_marker(test: &PlanTest, marker: &str) -> bool {
    test.markers.as_ref().is_some_and(|m| m.iter().any(|m| m == marker))
}

#[test]
fn list_shows_configured_markers_and_phases() {
    let fixture = Fixture::copy(CONFIGURED);
    let plan = load_plan(&fixture);
    let mut problems = Vec::new();

    let listed = list_json(&fixture, &[]);
    for want in &plan {
        let Some(test) = listed.get(&want.key()) else {
            problems.push(format!("not listed: {:?}", want.key()));
            continue;
        };
        let phase = test.phase.as_deref().unwrap_or(NOT_IN_PLAN);
        if phase != want.phase || Some(&test.markers) != want.markers.as_ref() {
            problems.push(format!(
                "{:?}: listed with {:?} in {phase}, expected {:?} in {}",
                want.key(),
                test.markers,
                want.markers,
                want.phase
            ));
        }
    }
    problems.extend(set_diff("listed", &listed.keys().cloned().collect(), &keys_where(&plan, |_| true)));

    let network = keys_where(&plan, |t| has_marker(t, "network") && !t.plain_ignored);
    assert!(network.len() >= 3, "the fixture has network tests in several binaries");
    problems.extend(set_diff(
        "list -m network (json)",
        &selected(&list_json(&fixture, &["-m", "network"])),
        &network,
    ));
    let human = run_plain(&fixture, &["list", "-m", "network"]);
    human.assert_code(0);
    problems.extend(set_diff("list -m network (human)", &human_list_keys(&human.stdout), &network));

    // A configured marker combines with built-in ones.
    let expr = "unit and not network";
    let want = keys_where(&plan, |t| {
        has_marker(t, "unit") && !has_marker(t, "network") && !t.plain_ignored && t.phase != NOT_IN_PLAN
    });
    problems.extend(set_diff(expr, &selected(&list_json(&fixture, &["-m", expr])), &want));
    assert_no_problems("configured: list", &problems, &[("list -m network", &human.to_string())]);
}

#[test]
fn run_follows_the_configured_plan() {
    let fixture = Fixture::copy(CONFIGURED);
    let plan = load_plan(&fixture);
    let mut problems = Vec::new();

    let ran = run_with_report(&fixture, &["run"]);
    ran.assert_code(0);
    let report = ran.report();
    if report.phase_names() != PHASES {
        problems.push(format!("phases {:?}, expected {PHASES:?}", report.phase_names()));
    }
    problems.extend(
        report
            .phases
            .iter()
            .filter(|p| p.status != "passed")
            .map(|p| format!("phase {} {}", p.name, p.status)),
    );
    let got = report.by_key();
    for want in plan.iter().filter(|t| t.phase != NOT_IN_PLAN) {
        match got.get(&want.key()) {
            Some(test) if test.phase.as_deref() == Some(want.phase.as_str()) => {}
            other => {
                problems.push(format!("{:?}: reported {other:?}, expected in {}", want.key(), want.phase))
            }
        }
    }
    let in_plan = keys_where(&plan, |t| t.phase != NOT_IN_PLAN);
    problems.extend(set_diff("reported", &got.keys().cloned().collect(), &in_plan));
    let runs = keys_where(&plan, |t| t.phase != NOT_IN_PLAN && !t.plain_ignored);
    problems.extend(set_diff("passed", &report.keys_with_status("passed"), &runs));
    problems.extend(set_diff(
        "skipped",
        &report.keys_with_status("skipped"),
        &keys_where(&plan, |t| t.plain_ignored),
    ));

    // Tests no phase selects are counted and named, never dropped silently.
    let not_in_plan: Vec<&PlanTest> = plan.iter().filter(|t| t.phase == NOT_IN_PLAN).collect();
    assert!(!not_in_plan.is_empty(), "the fixture has a test no phase selects");
    let in_report: BTreeSet<_> =
        report.not_in_plan.iter().map(|t| (t.binary_id.clone(), t.name.clone())).collect();
    problems.extend(set_diff(
        "report's not_in_plan",
        &in_report,
        &keys_where(&plan, |t| t.phase == NOT_IN_PLAN),
    ));
    let header = format!("{} not in plan", not_in_plan.len());
    if !ran.stdout.lines().next().is_some_and(|l| l.contains(&header)) {
        problems.push(format!("the first line does not say `{header}`"));
    }
    let after: Vec<&str> =
        ran.stdout.lines().skip_while(|l| !l.starts_with("Not in plan")).map(str::trim).collect();
    for test in not_in_plan {
        let line = format!("{} {}", test.binary, test.name);
        if !after.contains(&line.as_str()) {
            problems.push(format!("`{line}` is not named under `Not in plan`"));
        }
    }

    // The custom phase is a command, and `-m` narrows `run` to the configured marker.
    let network = keys_where(&plan, |t| t.phase == "network");
    let phase_cmd = run_with_report(&fixture, &["network"]);
    phase_cmd.assert_code(0);
    let phase_report = phase_cmd.report();
    if phase_report.phase_names() != ["network"] {
        problems.push(format!("`network` ran phases {:?}", phase_report.phase_names()));
    }
    problems.extend(set_diff("`network` passed", &phase_report.keys_with_status("passed"), &network));
    let by_marker = run_with_report(&fixture, &["run", "-m", "network"]);
    by_marker.assert_code(0);
    let passed: BTreeSet<_> = by_marker.report().keys_with_status("passed");
    problems.extend(set_diff("run -m network passed", &passed, &network));
    assert_no_problems(
        "configured: run",
        &problems,
        &[
            ("run", &ran.to_string()),
            ("network", &phase_cmd.to_string()),
            ("-m network", &by_marker.to_string()),
        ],
    );
}

/// A run with `NETKIT_FAIL=<failing>` (the fixture's switch that makes one test of that
/// phase fail), and the status each of [`PHASES`] must end with.
struct FailureCase {
    failing: &'static str,
    args: &'static [&'static str],
    statuses: [&'static str; 5],
}

const FAILURE_CASES: [FailureCase; 4] = [
    // `unit` stops the run: the later phases are skipped, their tests not run.
    FailureCase {
        failing: "unit",
        args: &["run"],
        statuses: ["failed", "skipped", "skipped", "skipped", "skipped"],
    },
    // `network` says `on-failure = "continue"`.
    FailureCase {
        failing: "network",
        args: &["run"],
        statuses: ["passed", "passed", "failed", "passed", "passed"],
    },
    // --no-fail-fast runs everything.
    FailureCase {
        failing: "unit",
        args: &["run", "--no-fail-fast"],
        statuses: ["failed", "passed", "passed", "passed", "passed"],
    },
    // A profile's `fail-fast = true` (testplan.toml's `strict`) overrides a phase's `continue`.
    FailureCase {
        failing: "network",
        args: &["run", "--profile", "strict"],
        statuses: ["passed", "passed", "failed", "skipped", "skipped"],
    },
];

#[test]
fn a_failed_phase_stops_the_later_ones_unless_told_to_continue() {
    let fixture = Fixture::copy(CONFIGURED);
    let mut problems = Vec::new();
    let mut outputs = Vec::new();
    for case in &FAILURE_CASES {
        let ran = run_cmd_with_report(&fixture, case.args, |cmd| {
            cmd.env("NETKIT_FAIL", case.failing);
        });
        let report = ran.report();
        let got: Vec<(&str, &str)> =
            report.phases.iter().map(|p| (p.name.as_str(), p.status.as_str())).collect();
        let want: Vec<(&str, &str)> = PHASES.into_iter().zip(case.statuses).collect();
        let what = format!("NETKIT_FAIL={} {:?}", case.failing, case.args);
        if ran.code != Some(100) || got != want {
            problems.push(format!("{what}: exit {:?}, phases {got:?}, expected {want:?}", ran.code));
        }
        for phase in report.phases.iter().filter(|p| p.status == "skipped") {
            let why = format!("phase '{}' failed", case.failing);
            if phase.reason.as_deref() != Some(why.as_str()) {
                problems.push(format!(
                    "{what}: phase {} skipped for {:?}, expected {why:?}",
                    phase.name, phase.reason
                ));
            }
            let tests = report.tests.iter().filter(|t| t.phase.as_deref() == Some(phase.name.as_str()));
            for test in tests.filter(|t| t.status != "not-run") {
                problems.push(format!(
                    "{what}: {:?} of skipped phase {} is {}",
                    test.key(),
                    phase.name,
                    test.status
                ));
            }
        }
        outputs.push(ran.to_string());
    }
    let shown: Vec<(&str, &str)> = outputs.iter().map(|o| ("run", o.as_str())).collect();
    assert_no_problems("configured: failing phases", &problems, &shown);
}
