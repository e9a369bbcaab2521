#!/usr/bin/env bash
# The project's test command: build cargo-testplan, then let it run the project's own
# suite through cargo (`cargo testplan ...`, as users run it, so tests get the exact
# environment cargo gives them). Fixture workspaces are built once into
# target/tmp/fixtures/<name> and shared between tests.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -p cargo-testplan
export PATH="$PWD/target/debug:$PATH"
exec cargo testplan run --workspace --locked --no-fail-fast --timeout 900s "$@"
