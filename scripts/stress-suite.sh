#!/usr/bin/env bash
# Runs the project's whole suite (./scripts/test.sh, as CI does) N times in a row while a
# CPU hog keeps every core busy, and reports each run's last line and the failures. A
# suite that depends on timing or machine load fails here first (issue 13: "green under
# load"). The hog is one busy loop per core at normal priority; it is stopped on exit.
#
# Usage: scripts/stress-suite.sh [N]      (N defaults to 10)
#   Logs go to target/stress/run-K.log; the exit code is 1 when any run failed.
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/stress-suite.sh [N]   (N: a positive number of runs)" >&2
    exit 2
fi
mkdir -p target/stress
hogs=()
stop_hogs() { for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null; done; }
trap stop_hogs EXIT
for _ in $(seq "$(nproc)"); do
    ( while :; do :; done ) &
    hogs+=("$!")
done
failed=0
for k in $(seq "$runs"); do
    log="target/stress/run-$k.log"
    start=$(date +%s)
    ./scripts/test.sh >"$log" 2>&1
    code=$?
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    echo "run $k/$runs: exit $code in $(( $(date +%s) - start ))s: ${last:-no summary line}"
    if [[ $code -ne 0 ]]; then
        failed=$((failed + 1))
        grep -E '^\s+FAILED ' "$log" | sed 's/^/    /'
    fi
done
echo "$((runs - failed)) of $runs runs green under a CPU hog on $(nproc) cores"
[[ $failed -eq 0 ]]
