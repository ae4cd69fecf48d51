#!/usr/bin/env bash
# oxiam as a share of the HTTP floor: the same stack (tokio, hyper through axum, one worker
# per core) answering every request with a fixed GetUser-sized body (`oxiam-bench floor`),
# and oxiam on SQLite, alternately, BENCH_ROUNDS times each, under the same load generator:
# GetUser and GetCallerIdentity, as root and as an IAM user, each on a fresh server. Results
# go to bench/results/<time>-floor/ (summary.txt with the table and ratios to the floor,
# the JSON of each run).
#
#   bench/floor.sh                         (about 2 minutes per round on 2 cores, after the build)
#
# Knobs (environment): BENCH_CLIENTS (64), BENCH_DURATION (5 s), BENCH_WARMUP (1 s),
# BENCH_ROUNDS (2), BENCH_SKIP_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
clients=${BENCH_CLIENTS:-64}
duration=${BENCH_DURATION:-5}
warmup=${BENCH_WARMUP:-1}
rounds=${BENCH_ROUNDS:-2}
BENCH_RESULTS_SUFFIX=-floor
source "$repo/bench/lib.sh"
record_machine "HTTP floor and oxiam (SQLite) alternately; clients: $clients; ${warmup}s warm-up + ${duration}s measured; rounds: $rounds"

for round in $(seq 1 "$rounds"); do
  for target in floor oxiam; do
    port=$(free_port)
    dir=$work/$round-$target
    mkdir -p "$dir"
    if [[ $target == floor ]]; then
      "$bench" floor --listen "127.0.0.1:$port" >"$dir/server.log" 2>&1 &
    else
      "$oxiam" serve --listen "127.0.0.1:$port" --data-dir "$dir/data" >"$dir/server.log" 2>&1 &
    fi
    server_pid=$!
    wait_for_port "$port" "$server_pid" "$dir/server.log"
    say ""
    say "== round $round, $target"
    "$bench" run --endpoint "http://127.0.0.1:$port" --clients "$clients" --duration "$duration" \
      --warmup "$warmup" --ops GetUser,GetCallerIdentity --as root,user --label "$target" \
      --out "$out/$round-$target.json" | tee -a "$summary"
    stop_server
  done
done
say ""
"$bench" report --baseline floor "$out"/*.json | tee -a "$summary"
echo "bench: results in $out" >&2
