#!/usr/bin/env bash
# The "never OOM" demo (docs/memory.md): fixtures/memory's eight tests that each hold
# 1.1 GiB for a second, run by `cargo test`, `cargo nextest run` and `cargo testplan run`
# inside a cgroup v1 memory cgroup limited to 2 GiB (like a small CI runner), printing how
# many processes the kernel's OOM killer killed under each. A demo, not a test.
#
# Needs root and a writable cgroup v1 memory controller at /sys/fs/cgroup/memory.
# Usage: sudo scripts/oom-demo.sh [LIMIT]      (LIMIT defaults to 2G)
set -euo pipefail
cd "$(dirname "$0")/.."
limit="${1:-2G}"
root=/sys/fs/cgroup/memory
if [[ ! -w "$root/cgroup.procs" ]]; then
    echo "oom-demo: needs root and a writable cgroup v1 memory controller at $root" >&2
    exit 2
fi

cargo build --quiet --locked -p cargo-testplan
export PATH="$PWD/target/debug:$PATH"
work="$(mktemp -d)"
logs="$(mktemp -d -t oom-demo-logs.XXXX)"
cgroup="$root/cargo-testplan-oom-demo-$$"
cleanup() {
    rmdir "$cgroup" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
cp -r fixtures/memory "$work/memory"
rm -rf "$work/memory/target"
cd "$work/memory"

# Build everything outside the cgroup: the builds are not what is measured.
cargo test --quiet --test hold --no-run 2>/dev/null
cargo testplan list --test hold >/dev/null 2>&1
has_nextest=yes
cargo nextest --version >/dev/null 2>&1 || has_nextest=no
if [[ $has_nextest == yes ]]; then
    cargo nextest run --test hold --no-run >/dev/null 2>&1
fi

mkdir "$cgroup"
echo "$limit" >"$cgroup/memory.limit_in_bytes"
if [[ -e "$cgroup/memory.memsw.limit_in_bytes" ]]; then
    echo "$limit" >"$cgroup/memory.memsw.limit_in_bytes"
fi
oom_kills() { awk '$1 == "oom_kill" { print $2 }' "$cgroup/memory.oom_control"; }

# Runs "$@" inside the cgroup; prints the runner's verdict and the OOM kills it caused.
demo() {
    local name="$1"
    shift
    rm -rf target/testplan # cargo-testplan's history: every run is a first run
    local before after status=0 start ms log="$logs/${name// /-}.log"
    before="$(oom_kills)"
    start="$(date +%s%N)"
    sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cgroup" "$@" >"$log" 2>&1 || status=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    after="$(oom_kills)"
    printf '%-42s exit %-3s OOM kills %-2s %3d.%ds   %s\n' "$name" "$status" "$((after - before))" \
        $((ms / 1000)) $((ms % 1000 / 100)) "$(grep -v '^$' "$log" | tail -1)"
}

echo "8 tests x 1.1 GiB held for 1 s, in a memory cgroup limited to $limit:"
demo "cargo test" cargo test --test hold
if [[ $has_nextest == yes ]]; then
    demo "cargo nextest run" cargo nextest run --test hold --no-fail-fast
else
    echo "cargo nextest run      (not installed)"
fi
demo "cargo testplan run" cargo testplan run --test hold
demo "cargo testplan -j 2 --memory-budget 8GiB" cargo testplan run --test hold -j 2 --memory-budget 8GiB
echo "logs: $logs"
