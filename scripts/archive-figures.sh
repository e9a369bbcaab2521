#!/usr/bin/env bash
# Build once + N shards from the archive, against N shards that each build (issue 16,
# check 3): the wall time of every job, as CI jobs would run them — each in a fresh copy of
# the sources with a cold target directory — and the medians.
#
# Usage: scripts/archive-figures.sh [WORKSPACE_DIR] [SHARDS]
#   WORKSPACE_DIR  a Cargo workspace or crate (copied, never modified; default: bytes from
#                  cargo's registry cache, as docs/real-crates.md uses it)
#   SHARDS         shards (default 4)
#
# Every shard runs `run -m "not doc" --partition count:K/N --no-tests pass`: doctests are
# left out of both sides, since rustdoc compiles them in whichever job runs them.
# Needs the cargo-testplan binary built (`cargo build -p cargo-testplan`). Dependencies are
# locked and fetched first; the timed jobs run offline.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
source_dir="${1:-$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/bytes-1.12.1 | head -1)}"
shards="${2:-4}"
tool="${CARGO_TESTPLAN_BIN:-$repo/target/debug/cargo-testplan}"
[[ -x "$tool" ]] || { echo "no cargo-testplan at $tool: cargo build -p cargo-testplan" >&2; exit 2; }
work="$(mktemp -d /tmp/archive-figures.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export CARGO_TERM_COLOR=never CARGO_TESTPLAN_GPU=no
unset CARGO_TARGET_DIR

# A fresh copy of the sources, as a CI job's checkout (with the lockfile made below).
checkout() {
    rm -rf "$work/$1"
    cp -r "$source_dir" "$work/$1"
    rm -rf "$work/$1/target"
    if [[ -f "$work/Cargo.lock" ]]; then cp "$work/Cargo.lock" "$work/$1/"; fi
}

# Seconds a command takes (its output to $work/NAME.log).
timed() {
    local name="$1"; shift
    local start end
    start=$(date +%s.%N)
    if ! "$@" >"$work/$name.log" 2>&1; then
        echo "$name failed:" >&2; tail -20 "$work/$name.log" >&2; exit 1
    fi
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# Lock and fetch once, so no job's time includes a download (offline afterwards).
checkout fetch
(cd "$work/fetch" && cargo fetch --quiet)
cp "$work/fetch/Cargo.lock" "$work/Cargo.lock"
export CARGO_NET_OFFLINE=true

checkout build
build=$(cd "$work/build" && timed build "$tool" testplan archive -o "$work/tests.tar.zst")
size=$(du -h "$work/tests.tar.zst" | cut -f1)
rm -rf "$work/build"

from_archive=()
for k in $(seq 1 "$shards"); do
    checkout "a$k"
    from_archive+=("$(cd "$work/a$k" && timed "a$k" "$tool" run --archive "$work/tests.tar.zst" \
        -m "not doc" --partition "count:$k/$shards" --no-tests pass)")
    rm -rf "$work/a$k"
done

building=()
for k in $(seq 1 "$shards"); do
    checkout "b$k"
    building+=("$(cd "$work/b$k" && timed "b$k" "$tool" testplan run \
        -m "not doc" --partition "count:$k/$shards" --no-tests pass)")
    rm -rf "$work/b$k"
done

echo "workspace: $source_dir ($shards shards, archive $size)"
echo "build once (archive): ${build} s"
echo "shards from the archive: ${from_archive[*]} s; median $(median "${from_archive[@]}") s"
echo "shards that each build:  ${building[*]} s; median $(median "${building[@]}") s"
echo "machine time: build once + shards $(echo "$build + $(printf '%s+' "${from_archive[@]}")0" | bc) s," \
     "each builds $(echo "$(printf '%s+' "${building[@]}")0" | bc) s"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
