#!/usr/bin/env bash
# Two builds of oxiam, A and B, alternately under the same load generator: each round starts
# a fresh server of each (on SQLite, or on a fresh PostgreSQL database), reads its idle RSS
# 2 s after it listens, then measures the operations (GetUser and GetCallerIdentity unless
# told) as root and as an IAM user. Results go to bench/results/<time>-ab/ (summary.txt,
# and the JSON of each run).
#
#   bench/ab.sh OXIAM_A OXIAM_B      (paths to two release binaries; the load generator is
#                                     target/release/oxiam-bench, built if BENCH_SKIP_BUILD
#                                     is unset)
#
# Knobs (environment): BENCH_CLIENTS (64), BENCH_DURATION (5 s), BENCH_WARMUP (1 s),
# BENCH_ROUNDS (3), BENCH_OPS (GetUser,GetCallerIdentity: oxiam-bench's --ops), BENCH_AS
# (root,user), BENCH_BACKEND (sqlite | postgres, through OXIAM_TEST_POSTGRES_URL),
# BENCH_SKIP_BUILD=1.
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: bench/ab.sh OXIAM_A OXIAM_B" >&2; exit 2; }
binary_a=$(realpath "$1") # before the cd below
binary_b=$(realpath "$2")
cd "$(dirname "$0")/.."
repo=$(pwd)
clients=${BENCH_CLIENTS:-64}
duration=${BENCH_DURATION:-5}
warmup=${BENCH_WARMUP:-1}
rounds=${BENCH_ROUNDS:-3}
ops=${BENCH_OPS:-GetUser,GetCallerIdentity}
callers=${BENCH_AS:-root,user}
backend=${BENCH_BACKEND:-sqlite}
[[ $backend == sqlite || $backend == postgres ]] || { echo "bench: BENCH_BACKEND is sqlite or postgres" >&2; exit 2; }
BENCH_RESULTS_SUFFIX=-ab
source "$repo/bench/lib.sh"
record_machine "A: $binary_a; B: $binary_b; alternately on $backend; ops: $ops as $callers; clients: $clients; ${warmup}s warm-up + ${duration}s measured; rounds: $rounds"

for round in $(seq 1 "$rounds"); do
  for build in a b; do
    binary=$binary_a
    [[ $build == b ]] && binary=$binary_b
    port=$(free_port)
    dir=$work/$round-$build
    mkdir -p "$dir"
    database=()
    if [[ $backend == postgres ]]; then
      drop_db
      fresh_pg_db
      database=(--database-url "$pg_url")
    fi
    "$binary" serve --listen "127.0.0.1:$port" --data-dir "$dir/data" "${database[@]}" >"$dir/server.log" 2>&1 &
    server_pid=$!
    wait_for_port "$port" "$server_pid" "$dir/server.log"
    sleep 2
    say ""
    say "== round $round, build $build: idle RSS $(rss_line "$server_pid")"
    "$bench" run --endpoint "http://127.0.0.1:$port" --clients "$clients" --duration "$duration" \
      --warmup "$warmup" --ops "$ops" --as "$callers" --label "$build" \
      --out "$out/$round-$build.json" | tee -a "$summary"
    stop_server
  done
done
echo "bench: results in $out" >&2
