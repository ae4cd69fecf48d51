#!/usr/bin/env bash
# First starts: each round spawns each build on a new data directory (the start that creates
# the SQLite database, migrates it and makes the bootstrap account), then once more on it
# (a restart), with `oxiam-bench startup`: spawn to the first answered GetCallerIdentity.
# The builds alternate, round by round. Results go to bench/results/<time>-startup/.
#
#   bench/startup.sh                      (target/release/oxiam, built unless BENCH_SKIP_BUILD)
#   bench/startup.sh OXIAM_A [OXIAM_B]    (paths to release binaries)
#
# Knobs (environment): BENCH_ROUNDS (10), BENCH_SKIP_BUILD=1.
set -euo pipefail
builds=()
for build in "$@"; do builds+=("$(realpath "$build")"); done  # before the cd below
cd "$(dirname "$0")/.."
repo=$(pwd)
rounds=${BENCH_ROUNDS:-10}
BENCH_RESULTS_SUFFIX=-startup
source "$repo/bench/lib.sh"
[[ ${#builds[@]} -gt 0 ]] || builds=("$oxiam")
record_machine "builds: ${builds[*]}; rounds: $rounds"

for round in $(seq 1 "$rounds"); do
  for build in "${builds[@]}"; do
    port=$(free_port)
    dir=$work/$round-$(basename "$build")
    "$bench" startup --endpoint "http://127.0.0.1:$port" --runs 2 -- \
      "$build" serve --listen "127.0.0.1:$port" --data-dir "$dir" >"$work/startup.txt"
    result=$(grep '^startup:' "$work/startup.txt") || { cat "$work/startup.txt" >&2; exit 1; }
    say "round $round, $build: ${result#startup: }"
    rm -rf "$dir"
  done
done
echo "bench: results in $out" >&2
