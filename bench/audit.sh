#!/usr/bin/env bash
# What the audit trail costs: GetUser (as root and as an IAM user) on SQLite, with the audit
# trail off and on, alternating, BENCH_ROUNDS times each, each on a fresh server. Results go
# to bench/results/<time>-audit/ (summary.txt, the JSON of each run).
#
#   bench/audit.sh                         (about 3 minutes on 2 cores, after the build)
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
BENCH_RESULTS_SUFFIX=-audit
source "$repo/bench/lib.sh"
record_machine "audit trail off/on; clients: $clients; ${warmup}s warm-up + ${duration}s measured; rounds: $rounds"

for round in $(seq 1 "$rounds"); do
  for trail in off on; do
    port=$(free_port)
    dir=$work/$round-$trail
    mkdir -p "$dir"
    args=(serve --listen "127.0.0.1:$port" --data-dir "$dir/data")
    [[ $trail == on ]] && args+=(--audit-log "$dir/audit.jsonl")
    "$oxiam" "${args[@]}" >"$dir/server.log" 2>&1 &
    server_pid=$!
    wait_for_port "$port" "$server_pid" "$dir/server.log"
    say ""
    say "== round $round, audit trail $trail"
    "$bench" run --endpoint "http://127.0.0.1:$port" --clients "$clients" --duration "$duration" \
      --warmup "$warmup" --ops GetUser --as root,user --label "audit-$trail" --out "$out/$round-$trail.json" | tee -a "$summary"
    stop_server
    if [[ $trail == on ]]; then
      say "events written: $(wc -l <"$dir/audit.jsonl")"
    fi
  done
done
echo "bench: results in $out" >&2
