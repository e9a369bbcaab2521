//! Docs that must not drift from the code: every subcommand's `--help` is in docs/cli.md
//! verbatim, and README's two commands are the ones CI runs.
//!
//! `UPDATE_DOCS=1 cargo test -p cargo-testplan --test integration docs_sync` rewrites
//! docs/cli.md from the binary.

use std::path::PathBuf;
use std::process::Command;

use crate::support::fixture::testplan_program;

/// Commands documented in docs/cli.md, in order.
const COMMANDS: &[&[&str]] = &[
    &[],
    &["run"],
    &["fast"],
    &["full"],
    &["list"],
    &["markers"],
    &["explain"],
    &["init"],
    &["doctor"],
    &["report"],
    &["merge"],
    &["matrix"],
    &["archive"],
];

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root").to_path_buf()
}

fn help(command: &[&str]) -> String {
    let output = Command::new(testplan_program())
        .arg("testplan")
        .args(command)
        .arg("--help")
        .env("COLUMNS", "100")
        .output()
        .expect("run --help");
    assert!(output.status.success(), "--help of {command:?} failed");
    String::from_utf8(output.stdout).expect("utf-8 help")
}

fn render() -> String {
    let mut doc = String::from(
        "# Command-line reference\n\n\
         Generated from `cargo testplan <command> --help`; a test fails when this file and the\n\
         binary disagree (`UPDATE_DOCS=1 cargo test -p cargo-testplan --test integration docs_sync`\n\
         rewrites it). Every phase of the plan is also a command (`cargo testplan unit`,\n\
         `cargo testplan slow`, ...) taking the options of `run`.\n",
    );
    for command in COMMANDS {
        let title = if command.is_empty() {
            "cargo testplan".to_owned()
        } else {
            format!("cargo testplan {}", command.join(" "))
        };
        doc.push_str(&format!("\n## `{title}`\n\n```text\n{}```\n", help(command)));
    }
    doc
}

#[test]
fn cli_reference_matches_help() {
    let path = repo_root().join("docs/cli.md");
    let expected = render();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).expect("write docs/cli.md");
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/cli.md is out of date with `--help`; run `UPDATE_DOCS=1 cargo test -p cargo-testplan --test \
         integration docs_sync` and commit the result"
    );
}

#[test]
fn readme_commands_are_what_ci_runs() {
    let root = repo_root();
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let ci = std::fs::read_to_string(root.join(".ci/run")).expect(".ci/run");
    let main_job = "cargo install --path cargo-testplan --locked && cargo testplan run --manifest-path examples/showcase/Cargo.toml";
    assert!(readme.contains(main_job), "README lost its main-job command");
    assert!(readme.contains("\n    ./scripts/test.sh\n"), "README lost its test command");
    assert!(ci.lines().any(|l| l.trim() == "./scripts/test.sh"), ".ci/run must run README's test command");
}
