#!/usr/bin/env bash
# Runs `cargo test --no-fail-fast -- --include-ignored` and `cargo testplan run --run-ignored
# all --no-fail-fast` on published crates and checks that both run the same (binary, test)
# pairs with the same outcomes, doctests included (Check 2 of the walking-skeleton issue).
#
# Usage: scripts/compare-real-crate.sh [CRATE...]
#   CRATE  a crate directory (copied to a temporary directory, never modified),
#          NAME@VERSION (e.g. semver@1.0.28), or NAME (the newest version).
#   With no CRATE: the crates pinned in cargo-testplan/tests/integration/slow/real_crates.rs.
#
# NAME@VERSION and NAME are fetched into cargo's registry cache the way cargo fetches a
# dependency (a throwaway package depending on NAME = "=VERSION", then `cargo fetch`), so
# this needs network unless the crate and its dev-dependencies are already cached.
#
# The comparison is the project's own (the integration test
# slow::real_crates::published_crates_same_tests_and_outcomes_as_cargo_test, which this
# script runs with TESTPLAN_REAL_CRATES set). It prints one Markdown table row per crate
# (docs/real-crates.md explains the columns) and fails listing every disagreement.
#
# For whole multi-crate workspaces (both runners' default commands too, custom harnesses,
# `--workspace`), use `cargo xtask diff PATH...` instead (docs/real-crates.md, "Whole workspaces").
set -euo pipefail

usage() { sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

specs=()
for arg in "$@"; do
    case "$arg" in
        -h | --help) usage; exit 0 ;;
        -*) echo "unknown option: $arg" >&2; usage >&2; exit 2 ;;
    esac
    if [[ -d "$arg" ]]; then
        specs+=("$(cd "$arg" && pwd)")
    elif [[ "$arg" == */* ]]; then
        echo "not a directory: $arg" >&2; exit 2
    else
        specs+=("$arg")
    fi
done
for spec in "${specs[@]}"; do
    if [[ "$spec" =~ [[:space:]] ]]; then
        echo "paths with spaces are not supported: $spec" >&2; exit 2
    fi
done

cd "$(dirname "$0")/.."
export TESTPLAN_REAL_CRATES="${specs[*]}"
exec cargo test --locked -p cargo-testplan --test integration -- \
    --ignored --exact slow::real_crates::published_crates_same_tests_and_outcomes_as_cargo_test --nocapture
