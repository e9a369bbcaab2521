//! The environment and working directory tests get: cargo-testplan must give each test what
//! `cargo test` gives it. The harnesses fixture's `env_dump_*` tests (a lib unit test, a bin
//! unit test, an integration test) write `@cwd=...` and their sorted `KEY=VALUE` environment
//! to `$TESTPLAN_ENV_DUMP_DIR/<crate>-<test>.txt`; both runs' dumps must be equal except:
//!
//! - `TESTPLAN_ENV_DUMP_DIR` (each run gets its own directory);
//! - `RUST_RECURSION_COUNT` (rustup's proxy counter; depends on how cargo was reached);
//! - `_` (a shell's "last program run");
//! - variables cargo-testplan adds on purpose, which start with `TESTPLAN_`.
//!
//! Both sides run with the same `CARGO` (as `cargo testplan` gets it from cargo) and without
//! the variables this suite's own runner set (see `Fixture`), like from a user's shell.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::fixture::{Fixture, run_merged};

const VOLATILE: &[&str] = &["TESTPLAN_ENV_DUMP_DIR", "RUST_RECURSION_COUNT", "_"];
const DUMPS: &[&str] =
    &["cli-env_dump_integration.txt", "toolbox-env_dump_bin.txt", "toolbox-env_dump_lib.txt"];

fn read_dumps(dir: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut dumps = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("read dump dir").flatten() {
        let text = std::fs::read_to_string(entry.path()).expect("read dump");
        let vars = text
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        dumps.insert(entry.file_name().to_string_lossy().into_owned(), vars);
    }
    dumps
}

fn differences(file: &str, cargo: &BTreeMap<String, String>, plan: &BTreeMap<String, String>) -> Vec<String> {
    let mut problems = Vec::new();
    for (key, value) in cargo.iter().filter(|(k, _)| !VOLATILE.contains(&k.as_str())) {
        match plan.get(key) {
            None => problems.push(format!("{file}: {key}={value} missing under cargo-testplan")),
            Some(v) if v != value => {
                problems.push(format!("{file}: {key} is {v:?}, cargo test gives {value:?}"))
            }
            Some(_) => {}
        }
    }
    let extra = plan.iter().filter(|(k, _)| !cargo.contains_key(*k) && !VOLATILE.contains(&k.as_str()));
    for (key, value) in extra.filter(|(k, _)| !k.starts_with("TESTPLAN_")) {
        problems.push(format!("{file}: {key}={value} set only by cargo-testplan"));
    }
    problems
}

#[test]
fn tests_get_the_environment_and_cwd_cargo_test_gives_them() {
    let fixture = Fixture::copy("fixtures/harnesses");
    let (cargo_dir, plan_dir) = (fixture.scratch("dump-cargo"), fixture.scratch("dump-testplan"));

    let mut cargo = fixture.cargo(&["test", "--", "env_dump"]);
    let (code, cargo_out) = run_merged(cargo.env("TESTPLAN_ENV_DUMP_DIR", &cargo_dir));
    assert_eq!(code, Some(0), "{cargo_out}");
    let mut plan = fixture.testplan(&["run", "env_dump"]);
    let (code, plan_out) = run_merged(plan.env("TESTPLAN_ENV_DUMP_DIR", &plan_dir));
    assert_eq!(code, Some(0), "{plan_out}");

    let (cargo_dumps, plan_dumps) = (read_dumps(&cargo_dir), read_dumps(&plan_dir));
    assert_eq!(cargo_dumps.keys().collect::<Vec<_>>(), DUMPS, "cargo test's dumps\n{cargo_out}");
    assert_eq!(plan_dumps.keys().collect::<Vec<_>>(), DUMPS, "cargo-testplan's dumps\n{plan_out}");
    let problems: Vec<String> =
        DUMPS.iter().flat_map(|f| differences(f, &cargo_dumps[*f], &plan_dumps[*f])).collect();
    assert!(problems.is_empty(), "environment differs:\n  {}", problems.join("\n  "));
    let cwd = &cargo_dumps["toolbox-env_dump_lib.txt"]["@cwd"];
    assert!(cwd.ends_with("crates/toolbox"), "cargo test runs tests in the package dir: {cwd}");
}
