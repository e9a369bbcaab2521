//! `cargo testplan init` writes, at the workspace root, a testplan.toml that reproduces the
//! default plan: with it, `list` and `run` put every test of examples/showcase in the same
//! phase, with the same markers and selection, as without it. It refuses to overwrite an
//! existing file without `--force`.

use super::plan_support::{keys_where, list_json, load_plan, run_plain, run_with_report, set_diff};
use crate::support::compare::assert_no_problems;
use crate::support::fixture::{Fixture, run_output};

const EXISTS: &str = "error: testplan.toml already exists (use --force to overwrite it)\n";

#[test]
fn init_reproduces_the_default_plan_and_does_not_overwrite() {
    let fixture = Fixture::copy("examples/showcase");
    let config = fixture.root().join("testplan.toml");
    let template = run_plain(&fixture, &["init", "--stdout"]);
    template.assert_code(0);
    assert!(template.stdout.contains("[[phases]]"), "{template}");
    let before = list_json(&fixture, &[]);

    // Run from a member's directory: the file goes to the workspace root.
    let mut from_member = fixture.testplan(&["init"]);
    from_member.current_dir(fixture.root().join("crates/geometry"));
    let out = run_output(&mut from_member);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "init\n{stdout}\n{stderr}");
    let written = std::fs::read_to_string(&config).expect("init wrote testplan.toml at the workspace root");
    assert_eq!(written, template.stdout, "init and init --stdout differ");

    let mut problems = Vec::new();
    let after = list_json(&fixture, &[]);
    for (key, old) in &before {
        match after.get(key) {
            Some(new)
                if (new.selected, &new.phase, &new.markers) == (old.selected, &old.phase, &old.markers) => {}
            new => problems.push(format!("{key:?}: without config {old:?}, with init's {new:?}")),
        }
    }
    problems.extend(set_diff(
        "listed with init's config",
        &after.keys().cloned().collect(),
        &before.keys().cloned().collect(),
    ));

    let plan = load_plan(&fixture);
    let ran = run_with_report(&fixture, &["run"]);
    ran.assert_code(0);
    if ran.stderr.contains("warning:") {
        problems.push("init's testplan.toml gives warnings".to_owned());
    }
    let report = ran.report();
    if report.phase_names() != ["unit", "integration", "doc", "slow", "models", "gpu"] {
        problems.push(format!("phases {:?}", report.phase_names()));
    }
    for test in &report.tests {
        let want = plan.iter().find(|t| t.key() == test.key()).map(|t| t.phase.as_str());
        if test.phase.as_deref() != want {
            problems.push(format!("{:?} in {:?}, expected {want:?}", test.key(), test.phase));
        }
    }
    let runs = keys_where(&plan, |t| !t.plain_ignored && t.phase != "gpu");
    problems.extend(set_diff("passed with init's config", &report.keys_with_status("passed"), &runs));

    // An existing file is kept unless --force.
    std::fs::write(&config, "# mine\n").expect("write testplan.toml");
    let refused = run_plain(&fixture, &["init"]);
    if (refused.code, refused.stderr.as_str()) != (Some(2), EXISTS) {
        problems.push(format!("init over an existing file:\n{refused}"));
    }
    if std::fs::read_to_string(&config).ok().as_deref() != Some("# mine\n") {
        problems.push("init overwrote testplan.toml without --force".to_owned());
    }
    run_plain(&fixture, &["init", "--force"]).assert_code(0);
    if std::fs::read_to_string(&config).ok() != Some(template.stdout.clone()) {
        problems.push("init --force did not write the template".to_owned());
    }
    assert_no_problems("showcase: init", &problems, &[("run", &ran.to_string())]);
}
