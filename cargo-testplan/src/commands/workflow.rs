//! `cargo testplan matrix --format github-workflow`: a whole GitHub Actions workflow that
//! builds once and runs every phase × shard from the archive (docs/ci.md, "GitHub
//! Actions"; a test checks that the file there is what this prints for `--shards 2`).
//!
//! The build job installs cargo-testplan (cached per commit of the tool), computes the
//! matrix with the same `matrix` options as this command, and uploads the archive of
//! `cargo testplan archive` with the binary; each test job runs `cargo-testplan PHASE
//! --archive FILE --partition K/N` (the toolchain only for the doc phase); the merge job
//! joins the reports.

use std::time::Duration;

use crate::cli::{MatrixArgs, StrategyArg};

/// The workflow; `@MATRIX_ARGS@` stands for the options of `matrix`.
const TEMPLATE: &str = r#"name: tests

on:
  push:
    branches: [main]
  pull_request:

env:
  CARGO_TERM_COLOR: always
  # cargo-testplan's repository (the `repository` of its Cargo.toml).
  TESTPLAN_GIT: https://github.com/cargo-testplan/cargo-testplan

jobs:
  build:
    runs-on: ubuntu-latest
    outputs:
      matrix: ${{ steps.matrix.outputs.matrix }}
    steps:
      - uses: actions/checkout@v4
      - uses: dtolnay/rust-toolchain@stable
      - id: tool
        name: cargo-testplan's commit
        run: echo "rev=$(git ls-remote "$TESTPLAN_GIT" HEAD | cut -f1)" >> "$GITHUB_OUTPUT"
      - id: tool-cache
        uses: actions/cache@v4
        with:
          path: ~/.cargo/bin/cargo-testplan
          key: cargo-testplan-${{ runner.os }}-${{ steps.tool.outputs.rev }}
      - if: steps.tool-cache.outputs.cache-hit != 'true'
        run: cargo install --locked --git "$TESTPLAN_GIT" --rev "${{ steps.tool.outputs.rev }}" cargo-testplan
      - id: matrix
        run: echo "matrix=$(cargo testplan matrix @MATRIX_ARGS@ --format github)" >> "$GITHUB_OUTPUT"
      - run: cargo testplan archive -o testplan-archive.tar.zst
      - run: cp ~/.cargo/bin/cargo-testplan .
      - uses: actions/upload-artifact@v4
        with:
          name: testplan-build
          retention-days: 1
          path: |
            testplan-archive.tar.zst
            cargo-testplan

  test:
    needs: build
    name: ${{ matrix.name }}
    runs-on: ${{ matrix.runs-on }}
    strategy:
      fail-fast: false
      matrix: ${{ fromJSON(needs.build.outputs.matrix) }}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/download-artifact@v4
        with:
          name: testplan-build
          path: ${{ runner.temp }}/testplan
      - name: put cargo-testplan on the PATH
        run: |
          chmod +x "$RUNNER_TEMP/testplan/cargo-testplan"
          echo "$RUNNER_TEMP/testplan" >> "$GITHUB_PATH"
      # rustdoc compiles doctests when they run: only the doc phase needs the toolchain.
      - if: matrix.phase == 'doc'
        uses: dtolnay/rust-toolchain@stable
      - name: ${{ matrix.phase }} ${{ matrix.partition }}
        run: >
          cargo-testplan ${{ matrix.phase }}
          --archive "$RUNNER_TEMP/testplan/testplan-archive.tar.zst"
          --partition ${{ matrix.partition }}
          --no-tests pass --report-json report.json --junit junit.xml
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: report-${{ matrix.phase }}-${{ strategy.job-index }}
          path: |
            report.json
            junit.xml

  merge:
    needs: test
    if: always()
    runs-on: ubuntu-latest
    steps:
      - uses: actions/download-artifact@v4
        with:
          name: testplan-build
          path: ${{ runner.temp }}/testplan
      - uses: actions/download-artifact@v4
        with:
          pattern: report-*
          path: shards
      - run: chmod +x "$RUNNER_TEMP/testplan/cargo-testplan"
      - run: >
          "$RUNNER_TEMP/testplan/cargo-testplan" merge shards/*/report.json
          -o merged.json --junit junit.xml
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: testplan-merged
          path: |
            merged.json
            junit.xml
"#;

/// The workflow for these `matrix` options.
pub fn github_workflow(args: &MatrixArgs) -> String {
    TEMPLATE.replace("@MATRIX_ARGS@", &matrix_options(args).join(" "))
}

/// The options of `matrix` that shape the jobs, as a command line (not `--format`, and not
/// `--manifest-path`: the workflow runs at the repository root).
fn matrix_options(args: &MatrixArgs) -> Vec<String> {
    let mut options = Vec::new();
    let mut push = |flag: &str, value: String| options.extend([flag.to_owned(), shell_word(&value)]);
    if let Some(shards) = args.shards {
        push("--shards", shards.to_string());
    }
    if let Some(time) = args.max_shard_time {
        push("--max-shard-time", seconds(time));
    }
    if let Some(strategy) = args.strategy {
        push("--strategy", strategy_name(strategy).to_owned());
    }
    if let Some(timings) = &args.timings {
        push("--timings", timings.to_string());
    }
    if args.runs_on != "ubuntu-latest" {
        push("--runs-on", args.runs_on.clone());
    }
    if let Some(profile) = &args.profile {
        push("--profile", profile.clone());
    }
    if !args.phase.is_empty() {
        push("--phase", args.phase.join(","));
    }
    options
}

fn seconds(time: Duration) -> String {
    format!("{}s", time.as_secs().max(1))
}

fn strategy_name(strategy: StrategyArg) -> &'static str {
    match strategy {
        StrategyArg::Count => "count",
        StrategyArg::Hash => "hash",
        StrategyArg::Duration => "duration",
    }
}

/// `value` as one shell word (single-quoted unless it is plain).
fn shell_word(value: &str) -> String {
    let plain =
        !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.,/:=+@".contains(c));
    if plain { value.to_owned() } else { format!("'{}'", value.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &[&str]) -> MatrixArgs {
        use clap::Parser;
        let argv = ["cargo-testplan", "matrix"].iter().chain(line);
        match crate::cli::Cli::try_parse_from(argv).expect("valid").command {
            crate::cli::Command::Matrix(args) => args,
            other => panic!("not matrix: {other:?}"),
        }
    }

    #[test]
    fn the_build_job_computes_the_matrix_with_the_same_options() {
        let cases: [(&[&str], &str); 4] = [
            (&["--shards", "2"], "cargo testplan matrix --shards 2 --format github)"),
            (
                &["--max-shard-time", "10m", "--timings", "t.json"],
                "matrix --max-shard-time 600s --timings t.json --format github)",
            ),
            (
                &["--shards", "3", "--strategy", "hash", "--runs-on", "big box", "--phase", "unit,doc"],
                "matrix --shards 3 --strategy hash --runs-on 'big box' --phase unit,doc --format github)",
            ),
            (
                &["--profile", "full", "--format", "github-workflow", "--manifest-path", "x/Cargo.toml"],
                "matrix --profile full --format github)",
            ),
        ];
        for (line, expected) in cases {
            let workflow = github_workflow(&args(line));
            assert!(workflow.contains(expected), "{line:?}: {workflow}");
            assert!(!workflow.contains("@MATRIX_ARGS@"), "{line:?}: a placeholder left");
        }
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
