#!/usr/bin/env bash
# The project's test command: build cargo-testplan, then let it run the project's own
# suite. Fixture workspaces are built once into target/fixtures/<name> and shared.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -p cargo-testplan
exec ./target/debug/cargo-testplan testplan run --workspace --locked --no-fail-fast --timeout 900s "$@"
