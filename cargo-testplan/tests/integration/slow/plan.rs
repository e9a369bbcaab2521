//! Check 2 of the markers-and-phases issue, on examples/showcase with no configuration: `run`
//! runs the default plan's phases in order (unit, integration, doc, slow; models empty; gpu
//! skipped with its reason) with every test in the phase expected.toml writes down for it;
//! the gpu phase runs where a GPU is assumed; `fast` runs no slow or heavy test; a phase
//! command and `--phase` run only their phases; plainly ignored tests run only under `full`;
//! `list -m`/`-k`/`--profile` select what the run runs.
//!
//! The fixture helper sets `CARGO_TESTPLAN_GPU=no`, so nothing here depends on the host's
//! GPU: tests that want one say `--gpu yes` (or set the variable).

use std::collections::BTreeSet;

use super::plan_support::{
    PlanTest, human_list_keys, keys_where, list_json, load_plan, run_cmd_with_report, run_plain,
    run_with_report, selected, set_diff,
};
use crate::support::cargo_test::TestKey;
use crate::support::compare::assert_no_problems;
use crate::support::fixture::Fixture;

const SHOWCASE: &str = "examples/showcase";

/// The default plan's phases, in run order.
const DEFAULT_PHASES: [&str; 6] = ["unit", "integration", "doc", "slow", "models", "gpu"];

/// Markers `fast` leaves out.
const HEAVY: [&str; 3] = ["slow", "requires-gpu", "requires-models"];

fn in_phases(plan: &[PlanTest], phases: &[&str]) -> BTreeSet<TestKey> {
    keys_where(plan, |t| phases.contains(&t.phase.as_str()) && !t.plain_ignored)
}

fn position(phase: Option<&str>) -> usize {
    DEFAULT_PHASES.iter().position(|p| Some(*p) == phase).unwrap_or(usize::MAX)
}

/// Line numbers of each phase's first line in the human output (`Phase NAME:` when it runs,
/// `Skipped phase NAME ...` when it does not).
fn phase_lines(stdout: &str) -> Vec<(usize, &'static str)> {
    let mut found = Vec::new();
    for phase in DEFAULT_PHASES {
        let (started, skipped) = (format!("Phase {phase}:"), format!("Skipped phase {phase} "));
        if let Some(i) = stdout
            .lines()
            .position(|l| l.trim_start().starts_with(&started) || l.trim_start().starts_with(&skipped))
        {
            found.push((i, phase));
        }
    }
    found
}

#[test]
fn run_follows_the_default_plan() {
    let fixture = Fixture::copy(SHOWCASE);
    let plan = load_plan(&fixture);
    let ran = run_with_report(&fixture, &["run"]);
    ran.assert_code(0);
    let report = ran.report();
    let mut problems = Vec::new();

    if report.phase_names() != DEFAULT_PHASES {
        problems.push(format!("phases {:?}, expected {DEFAULT_PHASES:?}", report.phase_names()));
    }
    for phase in &report.phases {
        let expected_total = plan.iter().filter(|t| t.phase == phase.name).count();
        let (status, reason) = match phase.name.as_str() {
            "models" => ("skipped", Some("no tests selected")),
            "gpu" => ("skipped", Some("requires a GPU")),
            _ => ("passed", None),
        };
        let reason_ok = match (reason, &phase.reason) {
            (Some(want), Some(got)) => got.starts_with(want),
            (None, None) => true,
            _ => false,
        };
        if phase.status != status || !reason_ok || phase.counts.total != expected_total {
            problems.push(format!(
                "phase {}: {} ({:?}), {} tests; expected {status} ({reason:?}...), {expected_total} tests",
                phase.name, phase.status, phase.reason, phase.counts.total
            ));
        }
    }

    let got = report.by_key();
    for want in &plan {
        let Some(test) = got.get(&want.key()) else {
            problems.push(format!("not in the report: {:?}", want.key()));
            continue;
        };
        if test.phase.as_deref() != Some(want.phase.as_str()) {
            problems.push(format!("{:?}: phase {:?}, expected {}", want.key(), test.phase, want.phase));
        }
        // Plainly ignored tests are skipped as ignored; the gpu phase's test for want of a GPU.
        let skip_reason = match (want.plain_ignored, want.phase.as_str()) {
            (true, _) => Some("ignored"),
            (false, "gpu") => Some("requires a GPU"),
            _ => None,
        };
        let status_ok = match skip_reason {
            Some(why) => {
                test.status == "skipped" && test.skip_reason.as_deref().is_some_and(|r| r.starts_with(why))
            }
            None => test.status == "passed",
        };
        if !status_ok {
            problems.push(format!(
                "{:?}: {} ({:?}), expected {}",
                want.key(),
                test.status,
                test.skip_reason,
                skip_reason.map_or("passed".to_owned(), |r| format!("skipped ({r}...)"))
            ));
        }
    }
    let want_keys = keys_where(&plan, |_| true);
    problems.extend(got.keys().filter(|k| !want_keys.contains(*k)).map(|k| format!("unexpected test {k:?}")));

    // Phases run one after the other: tests finish in phase order.
    let order: Vec<usize> = report.tests.iter().map(|t| position(t.phase.as_deref())).collect();
    if !order.is_sorted() {
        problems.push(format!("tests did not finish in phase order: {order:?}"));
    }
    // A phase with tests has a line of its own; those without are named once, at the end.
    let lines = phase_lines(&ran.stdout);
    let empty: Vec<&str> =
        report.phases.iter().filter(|p| p.counts.total == 0).map(|p| p.name.as_str()).collect();
    let with_tests: Vec<&str> = DEFAULT_PHASES.iter().copied().filter(|p| !empty.contains(p)).collect();
    if lines.iter().map(|(_, p)| *p).collect::<Vec<_>>() != with_tests || !lines.is_sorted() {
        problems.push(format!("phase lines of the output, in order: {lines:?}"));
    }
    let folded = format!("not in this run: {} (no tests)", empty.join(", "));
    if !empty.is_empty() && !ran.stdout.lines().any(|l| l.trim() == folded) {
        problems.push(format!("no `{folded}` line"));
    }
    if !ran
        .stdout
        .lines()
        .any(|l| l.trim_start().starts_with("Skipped phase gpu") && l.contains("requires a GPU"))
    {
        problems.push("no `Skipped phase gpu ...: requires a GPU` line".to_owned());
    }
    let (passed, skipped) =
        (report.keys_with_status("passed").len(), report.keys_with_status("skipped").len());
    let summary = format!("{passed} passed, 0 failed, {skipped} skipped");
    if ran.last_line() != summary || passed + skipped != plan.len() {
        problems.push(format!("last line {:?}, expected {summary:?}", ran.last_line()));
    }

    // `list` shows each test in the phase and with the markers the run gave it.
    for (key, listed) in list_json(&fixture, &[]) {
        match got.get(&key) {
            Some(test) if test.phase == listed.phase && test.markers == listed.markers => {}
            Some(test) => problems.push(format!(
                "{key:?}: listed in {:?} with {:?}, run in {:?} with {:?}",
                listed.phase, listed.markers, test.phase, test.markers
            )),
            None => problems.push(format!("{key:?}: listed but not run")),
        }
    }
    assert_no_problems("showcase: run vs the default plan", &problems, &[("run", &ran.to_string())]);
}

#[test]
fn gpu_phase_runs_with_a_gpu_and_the_flag_beats_the_variable() {
    let fixture = Fixture::copy(SHOWCASE);
    let plan = load_plan(&fixture);
    let gpu_tests = in_phases(&plan, &["gpu"]);
    assert!(!gpu_tests.is_empty(), "the showcase has a requires-gpu test");
    let mut problems = Vec::new();

    let with_flag = run_with_report(&fixture, &["gpu", "--gpu", "yes"]);
    let with_env = run_cmd_with_report(&fixture, &["gpu"], |cmd| {
        cmd.env("CARGO_TESTPLAN_GPU", "yes");
    });
    for ran in [&with_flag, &with_env] {
        ran.assert_code(0);
        let report = ran.report();
        if report.phase_names() != ["gpu"] || report.phase("gpu").status != "passed" {
            problems.push(format!("phases {:?}, expected gpu passed\n{ran}", report.phase_names()));
        }
        problems.extend(set_diff("passed on a GPU", &report.keys_with_status("passed"), &gpu_tests));
    }

    let flag_wins = run_cmd_with_report(&fixture, &["gpu", "--gpu", "no"], |cmd| {
        cmd.env("CARGO_TESTPLAN_GPU", "yes");
    });
    flag_wins.assert_code(0);
    let report = flag_wins.report();
    let gpu = report.phase("gpu");
    if gpu.status != "skipped" || !gpu.reason.as_deref().is_some_and(|r| r.starts_with("requires a GPU")) {
        problems.push(format!(
            "--gpu no with CARGO_TESTPLAN_GPU=yes: gpu phase {} ({:?})",
            gpu.status, gpu.reason
        ));
    }
    problems.extend(set_diff("skipped without a GPU", &report.keys_with_status("skipped"), &gpu_tests));
    assert_no_problems("showcase: gpu phase", &problems, &[("--gpu no", &flag_wins.to_string())]);
}

#[test]
fn fast_runs_no_slow_or_heavy_test() {
    let fixture = Fixture::copy(SHOWCASE);
    let plan = load_plan(&fixture);
    // Even with a GPU, `fast` leaves the gpu phase out.
    let ran = run_with_report(&fixture, &["fast", "--gpu", "yes"]);
    ran.assert_code(0);
    let report = ran.report();
    let mut problems = Vec::new();
    if report.phase_names() != ["unit", "integration", "doc"] {
        problems.push(format!("phases {:?}, expected unit, integration, doc", report.phase_names()));
    }
    for test in &report.tests {
        if test.markers.iter().any(|m| HEAVY.contains(&m.as_str())) {
            problems.push(format!("fast reported {:?} with markers {:?}", test.key(), test.markers));
        }
    }
    let light = in_phases(&plan, &["unit", "integration", "doc"]);
    problems.extend(set_diff("passed under fast", &report.keys_with_status("passed"), &light));
    let plain = keys_where(&plan, |t| t.plain_ignored);
    problems.extend(set_diff("skipped under fast", &report.keys_with_status("skipped"), &plain));
    assert_no_problems("showcase: fast", &problems, &[("fast", &ran.to_string())]);
}

#[test]
fn phase_command_and_phase_flag_run_only_their_phases() {
    let fixture = Fixture::copy(SHOWCASE);
    let plan = load_plan(&fixture);
    let mut problems = Vec::new();

    let slow = run_with_report(&fixture, &["slow"]);
    slow.assert_code(0);
    let report = slow.report();
    if report.phase_names() != ["slow"] {
        problems.push(format!("`slow` ran phases {:?}", report.phase_names()));
    }
    problems.extend(set_diff(
        "`slow` reported",
        &report.by_key().into_keys().collect(),
        &in_phases(&plan, &["slow"]),
    ));
    problems.extend(set_diff(
        "`slow` passed",
        &report.keys_with_status("passed"),
        &in_phases(&plan, &["slow"]),
    ));
    for test in report.tests.iter().filter(|t| !t.markers.iter().any(|m| m == "slow")) {
        problems.push(format!("`slow` ran {:?} with markers {:?}", test.key(), test.markers));
    }

    // `--phase` takes a list and runs it in plan order.
    let two = run_with_report(&fixture, &["run", "--phase", "doc,unit"]);
    two.assert_code(0);
    let report = two.report();
    if report.phase_names() != ["unit", "doc"] {
        problems.push(format!("--phase doc,unit ran phases {:?}", report.phase_names()));
    }
    problems.extend(set_diff(
        "--phase doc,unit passed",
        &report.keys_with_status("passed"),
        &in_phases(&plan, &["unit", "doc"]),
    ));
    assert_no_problems(
        "showcase: phase selection",
        &problems,
        &[("slow", &slow.to_string()), ("--phase", &two.to_string())],
    );
}

#[test]
fn full_also_runs_plainly_ignored_tests() {
    let fixture = Fixture::copy(SHOWCASE);
    let plan = load_plan(&fixture);
    let ran = run_with_report(&fixture, &["full", "--gpu", "yes"]);
    ran.assert_code(0);
    let report = ran.report();
    let mut problems = Vec::new();
    if report.phase_names() != DEFAULT_PHASES {
        problems.push(format!("phases {:?}, expected {DEFAULT_PHASES:?}", report.phase_names()));
    }
    problems.extend(set_diff(
        "passed under full",
        &report.keys_with_status("passed"),
        &keys_where(&plan, |_| true),
    ));
    let got = report.by_key();
    for want in plan.iter().filter(|t| t.plain_ignored) {
        let phase = got.get(&want.key()).and_then(|t| t.phase.as_deref());
        if phase != Some(want.phase.as_str()) {
            problems.push(format!("{:?} ran in {phase:?}, expected {}", want.key(), want.phase));
        }
    }
    let summary = format!("{} passed, 0 failed, 0 skipped", plan.len());
    if ran.last_line() != summary {
        problems.push(format!("last line {:?}, expected {summary:?}", ran.last_line()));
    }
    assert_no_problems("showcase: full", &problems, &[("full", &ran.to_string())]);
}

#[test]
fn list_selects_what_the_run_runs() {
    let fixture = Fixture::copy(SHOWCASE);
    let plan = load_plan(&fixture);
    let mut problems = Vec::new();

    let heavy = in_phases(&plan, &["slow", "gpu"]);
    let by_json = selected(&list_json(&fixture, &["-m", "slow or requires-gpu"]));
    problems.extend(set_diff("list -m 'slow or requires-gpu' (json)", &by_json, &heavy));
    let human = run_plain(&fixture, &["list", "-m", "slow or requires-gpu"]);
    human.assert_code(0);
    problems.extend(set_diff(
        "list -m 'slow or requires-gpu' (human)",
        &human_list_keys(&human.stdout),
        &heavy,
    ));
    let shown = human.stdout.lines().filter(|l| l.starts_with("    "));
    for line in shown.filter(|l| !(l.contains("] → slow") || l.contains("] → gpu"))) {
        problems.push(format!("human list line without `[markers] → slow|gpu`: {line:?}"));
    }

    // `not` binds tighter than `and`; parentheses group.
    let expr = "integration and not (slow or requires-gpu)";
    let by_expr = selected(&list_json(&fixture, &["-m", expr]));
    problems.extend(set_diff(expr, &by_expr, &in_phases(&plan, &["integration"])));

    // `-k`: case-insensitive substrings of the test name.
    let by_keyword = selected(&list_json(&fixture, &["-k", "CIRCLE and not golden"]));
    let want = keys_where(&plan, |t| {
        let name = t.name.to_lowercase();
        name.contains("circle") && !name.contains("golden") && !t.plain_ignored
    });
    problems.extend(set_diff("-k 'CIRCLE and not golden'", &by_keyword, &want));

    // `--phase` shows only its phases' tests (the plainly ignored ones included, as skipped).
    let phases = run_plain(&fixture, &["list", "--phase", "slow,doc"]);
    phases.assert_code(0);
    let want = keys_where(&plan, |t| t.phase == "slow" || t.phase == "doc");
    problems.extend(set_diff("list --phase slow,doc", &human_list_keys(&phases.stdout), &want));

    let by_profile = selected(&list_json(&fixture, &["--profile", "fast"]));
    problems.extend(set_diff(
        "list --profile fast",
        &by_profile,
        &in_phases(&plan, &["unit", "integration", "doc"]),
    ));
    assert_no_problems("showcase: list selections", &problems, &[("human list", &human.to_string())]);
}
