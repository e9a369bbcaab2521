//! Check 3 of the markers-and-phases issue, the failing half: malformed configurations,
//! `-m`/`-k` expressions, phases and profiles each give the documented error
//! (docs/configuration.md, docs/markers.md, docs/exit-codes.md) — for a configuration one
//! line, `FILE:LINE:COLUMN: KEY.PATH: message`; for an expression the message, the
//! expression and a caret under the column — with the documented exit code, and nothing
//! runs: stderr holds only the error (cargo was never asked to build), stdout is empty and no
//! report is written. Unknown keys are warnings: the run goes on.
//!
//! The cases rewrite the testplan.toml of one copy of fixtures/configured in turn; none of
//! them builds anything.

use super::configured::CONFIGURED;
use super::plan_support::{load_plan, run_plain, run_with_report};
use crate::support::compare::assert_no_problems;
use crate::support::fixture::Fixture;

/// Invalid configuration (docs/exit-codes.md).
const CONFIG_ERROR: i32 = 96;
/// Invalid `-m` or `-k` expression.
const INVALID_EXPRESSION: i32 = 94;
/// Invalid command line: unknown phase or profile.
const USAGE: i32 = 2;

/// One broken input: the testplan.toml to write (`None`: the fixture's own), the command,
/// and the exact stderr and exit code expected.
struct Case {
    what: &'static str,
    config: Option<&'static str>,
    args: &'static [&'static str],
    stderr: &'static str,
    code: i32,
}

const fn config(what: &'static str, text: &'static str, stderr: &'static str) -> Case {
    Case { what, config: Some(text), args: &["run"], stderr, code: CONFIG_ERROR }
}

const fn command(what: &'static str, args: &'static [&'static str], stderr: &'static str, code: i32) -> Case {
    Case { what, config: None, args, stderr, code }
}

const CASES: &[Case] = &[
    config(
        "bad TOML",
        "[[phases]\nname = \"unit\"\n",
        "error: testplan.toml:1:10: invalid TOML: unclosed array table, expected `]`\n",
    ),
    config(
        "unknown marker in a phase's select",
        "[[phases]]\nname = \"unit\"\nselect = \"unit and not slwo\"\n",
        "error: testplan.toml:3:24: phases[0].select: unknown marker 'slwo' (did you mean 'slow'?)\n",
    ),
    config(
        "bad regex in a rule",
        "[markers.network]\ndescription = \"network\"\n\n[[markers.network.rules]]\nname = \"(^|::)net::(\"\n",
        "error: testplan.toml:5:8: markers.network.rules[0].name: invalid regex '(^|::)net::(': unclosed group\n",
    ),
    config(
        "empty phase name",
        "[[phases]]\nname = \"\"\nselect = \"unit\"\n",
        "error: testplan.toml:2:8: phases[0].name: phase name is empty\n",
    ),
    config(
        "duplicate phase",
        "[[phases]]\nname = \"unit\"\nselect = \"unit\"\n\n[[phases]]\nname = \"unit\"\nselect = \"doc\"\n",
        "error: testplan.toml:6:8: phases[1].name: duplicate phase 'unit' (first defined at line 1)\n",
    ),
    config(
        "unbalanced parenthesis in a select",
        "[[phases]]\nname = \"unit\"\nselect = \"(unit and slow\"\n",
        "error: testplan.toml:3:11: phases[0].select: unbalanced parenthesis: this '(' is never closed\n",
    ),
    config(
        "dangling operator in a select",
        "[[phases]]\nname = \"unit\"\nselect = \"unit and\"\n",
        "error: testplan.toml:3:19: phases[0].select: expected a marker name or '(' after 'and'\n",
    ),
    config(
        "a marker table for an undeclared name (a typo)",
        "[markers.slwo]\ntimeout = \"5s\"\n",
        "error: testplan.toml:1:10: markers.slwo: unknown marker 'slwo' (did you mean 'slow'?); a new marker needs a description\n",
    ),
    config(
        "unknown phase in a profile",
        "[profiles.nightly]\nphases = [\"unit\", \"slwo\"]\n",
        "error: testplan.toml:2:19: profiles.nightly.phases[1]: unknown phase 'slwo' (did you mean 'slow'?)\n",
    ),
    config(
        "invalid duration",
        "[markers.slow]\ntimeout = \"5 minutes\"\n",
        "error: testplan.toml:2:11: markers.slow.timeout: invalid duration '5 minutes': expected a number with a unit ms, s, m or h (300ms, 5s, 2m, 1h, 1m30s)\n",
    ),
    config(
        "phase named like a command",
        "[[phases]]\nname = \"list\"\nselect = \"unit\"\n",
        "error: testplan.toml:2:8: phases[0].name: 'list' is a cargo-testplan command and cannot name a phase\n",
    ),
    config(
        "value of the wrong type",
        "phases = 3\n",
        "error: testplan.toml:1:10: phases: expected an array of tables, found integer\n",
    ),
    config(
        "missing select",
        "[[phases]]\nname = \"unit\"\n",
        "error: testplan.toml:1:1: phases[0]: missing required key 'select'\n",
    ),
    config(
        "invalid on-failure",
        "[[phases]]\nname = \"unit\"\nselect = \"unit\"\non-failure = \"stopp\"\n",
        "error: testplan.toml:4:14: phases[0].on-failure: invalid value 'stopp': expected 'stop' or 'continue' (did you mean 'stop'?)\n",
    ),
    Case {
        what: "invalid configuration under `list`",
        config: Some("[[phases]]\nname = \"unit\"\nselect = \"unit and not slwo\"\n"),
        args: &["list"],
        stderr: "error: testplan.toml:3:24: phases[0].select: unknown marker 'slwo' (did you mean 'slow'?)\n",
        code: CONFIG_ERROR,
    },
    command(
        "unbalanced parenthesis in -m",
        &["run", "-m", "(unit and slow"],
        "error: invalid marker expression: unbalanced parenthesis: this '(' is never closed\n  (unit and slow\n  ^ column 1\n",
        INVALID_EXPRESSION,
    ),
    command(
        "dangling operator in -m",
        &["run", "-m", "unit and"],
        "error: invalid marker expression: expected a marker name or '(' after 'and'\n  unit and\n          ^ column 9\n",
        INVALID_EXPRESSION,
    ),
    command(
        "unknown (configured) marker in -m",
        &["run", "-m", "unit or netwrk"],
        "error: invalid marker expression: unknown marker 'netwrk' (did you mean 'network'?)\n  unit or netwrk\n          ^ column 9\n",
        INVALID_EXPRESSION,
    ),
    command(
        "unmatched ')' in -m of a phase command",
        &["network", "-m", "unit)"],
        "error: invalid marker expression: unexpected ')' without a matching '('\n  unit)\n      ^ column 5\n",
        INVALID_EXPRESSION,
    ),
    command(
        "dangling operator in -k",
        &["run", "-k", "parse and"],
        "error: invalid keyword expression: expected a keyword or '(' after 'and'\n  parse and\n           ^ column 10\n",
        INVALID_EXPRESSION,
    ),
    command(
        "unknown phase in --phase",
        &["run", "--phase", "unit,netwrk"],
        "error: --phase: unknown phase 'netwrk' (did you mean 'network'?)\n",
        USAGE,
    ),
    command(
        "unknown phase command",
        &["netwrk"],
        "error: unknown command or unknown phase 'netwrk' (did you mean 'network'?)\n",
        USAGE,
    ),
    command(
        "a command's typo",
        &["lsit"],
        "error: unknown command or unknown phase 'lsit' (did you mean 'list'?)\n",
        USAGE,
    ),
    command(
        "a profile command's typo",
        &["fats"],
        "error: unknown command or unknown phase 'fats' (did you mean 'fast'?)\n",
        USAGE,
    ),
    command(
        "unknown profile",
        &["run", "--profile", "fsat"],
        "error: unknown profile 'fsat' (did you mean 'fast'?)\n",
        USAGE,
    ),
];

#[test]
fn malformed_configs_and_expressions_give_the_documented_error_and_run_nothing() {
    let fixture = Fixture::copy(CONFIGURED);
    let config_path = fixture.root().join("testplan.toml");
    let original = std::fs::read_to_string(&config_path).expect("fixture testplan.toml");
    let mut problems = Vec::new();
    for case in CASES {
        std::fs::write(&config_path, case.config.unwrap_or(&original)).expect("write testplan.toml");
        // `list` takes no --report-json; its stdout is the list, so an empty one shows
        // nothing was listed.
        let ran = if case.args[0] == "list" {
            run_plain(&fixture, case.args)
        } else {
            run_with_report(&fixture, case.args)
        };
        if ran.code != Some(case.code) || ran.stderr != case.stderr || !ran.stdout.is_empty() {
            problems.push(format!(
                "{}: exit {:?}, expected {}\n  stderr {:?}\n  expected {:?}\n  stdout {:?}",
                case.what, ran.code, case.code, ran.stderr, case.stderr, ran.stdout
            ));
        }
        if ran.report_path.is_file() {
            problems.push(format!("{}: a report was written", case.what));
        }
    }
    assert_no_problems("configured: broken inputs", &problems, &[]);
}

/// Check 5 of the daily-loop issue: a phase command's `--help` and its usage errors print
/// clap's text alone, with no `error: exit N` line after it.
#[test]
fn phase_commands_print_help_and_usage_errors_once() {
    let fixture = Fixture::copy(CONFIGURED);
    let help = crate::support::fixture::run_output(&mut fixture.testplan(&["unit", "--help"]));
    let (stdout, stderr) = (String::from_utf8_lossy(&help.stdout), String::from_utf8_lossy(&help.stderr));
    assert_eq!((help.status.code(), stderr.as_ref()), (Some(0), ""), "{stdout}");
    assert!(stdout.contains("Usage: cargo testplan unit"), "{stdout}");
    let bad = crate::support::fixture::run_output(&mut fixture.testplan(&["unit", "--bogus"]));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(USAGE), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors, ["error: unexpected argument '--bogus' found"], "{stderr}");
}

#[test]
fn manifest_metadata_is_read_when_there_is_no_testplan_toml() {
    let fixture = Fixture::copy(CONFIGURED);
    let manifest = fixture.root().join("Cargo.toml");
    let original = std::fs::read_to_string(&manifest).expect("fixture Cargo.toml");
    let broken = format!(
        "{original}\n[workspace.metadata.testplan]\nphases = [{{ name = \"unit\", select = \"unit and slwo\" }}]\n"
    );
    std::fs::write(&manifest, &broken).expect("write Cargo.toml");
    let line = broken.lines().count();
    let column = broken.lines().last().and_then(|l| l.find("slwo")).expect("slwo") + 1;

    // testplan.toml takes precedence: the broken table is not even read.
    let with_file = run_with_report(&fixture, &["run", "--phase", "unit", "-k", "parses_address"]);
    with_file.assert_code(0);

    std::fs::remove_file(fixture.root().join("testplan.toml")).expect("remove testplan.toml");
    let ran = run_with_report(&fixture, &["run"]);
    let want = format!(
        "error: Cargo.toml:{line}:{column}: workspace.metadata.testplan.phases[0].select: unknown marker 'slwo' (did you mean 'slow'?)\n"
    );
    assert_eq!((ran.code, ran.stderr.as_str()), (Some(CONFIG_ERROR), want.as_str()), "{ran}");
    assert!(!ran.report_path.exists(), "a report was written\n{ran}");
}

#[test]
fn unknown_keys_warn_and_the_run_goes_on() {
    let fixture = Fixture::copy(CONFIGURED);
    let config_path = fixture.root().join("testplan.toml");
    let original = std::fs::read_to_string(&config_path).expect("fixture testplan.toml");
    let text = original
        .replace(
            "description = \"talks to a network service\"\n",
            "description = \"talks to a network service\"\ncolour = \"blue\"\n",
        )
        .replace("on-failure = \"continue\"\n", "on-failure = \"continue\"\njob = 2\n");
    assert_ne!(text, original, "the fixture's testplan.toml changed: update this test");
    std::fs::write(&config_path, &text).expect("write testplan.toml");
    let line_of = |key: &str| text.lines().position(|l| l.starts_with(key)).expect("key") + 1;

    let ran = run_with_report(&fixture, &["run"]);
    ran.assert_code(0);
    let warnings: Vec<&str> = ran.stderr.lines().filter(|l| l.starts_with("warning:")).collect();
    let want = [
        format!("warning: testplan.toml:{}:1: markers.network.colour: unknown key", line_of("colour")),
        format!(
            "warning: testplan.toml:{}:1: phases[2].job: unknown key (did you mean 'jobs'?)",
            line_of("job ")
        ),
    ];
    assert_eq!(warnings, want, "{ran}");
    // The warnings come before the build, and the plan is the configured one.
    let first_cargo_line = ran.stderr.lines().position(|l| !l.starts_with("warning:"));
    assert!(first_cargo_line.is_none_or(|i| i >= 2), "warnings after cargo's output\n{ran}");
    let plan = load_plan(&fixture);
    let runs =
        plan.iter().filter(|t| t.phase != super::plan_support::NOT_IN_PLAN && !t.plain_ignored).count();
    assert_eq!(ran.report().keys_with_status("passed").len(), runs, "{ran}");
}
