#!/usr/bin/env bash
# The server's own cost of one request, in CPU instructions: the same count for the same
# build, inputs and environment, whatever else the machine is doing (valgrind's callgrind
# counts them; it runs the server's threads one at a time, about fifty times slower). On this
# shared two-core machine timings of the same build differ by 10–20% hour to hour; this does
# not, so a change to the request path can be weighed before any timed A/B run.
# Two things weigh more here than on the CPU: valgrind runs no SHA extensions, so SigV4's
# SHA-256 is counted in software (about a quarter of a GetUser's count), and it counts a
# `rep movsb` copy byte by byte (moving a large future into a box counts its size).
#
#   bench/instructions.sh OXIAM [OXIAM_B]   (paths to oxiam builds; a build with symbols,
#                                            `strip = false`, gets a per-function report too)
#
# Each build serves GetUser as root (BENCH_OPS, BENCH_AS) from BENCH_CLIENTS (8) clients on a
# fresh SQLite server; after the load generator's setup and a warm-up, instructions are
# counted over BENCH_WINDOW (20) seconds, and the requests answered in that window are read
# from the server's /_oxiam/metrics on either side of it. Results go to
# bench/results/<time>-instructions/.
set -euo pipefail
[[ $# -ge 1 && $# -le 2 ]] || { echo "usage: bench/instructions.sh OXIAM [OXIAM_B]" >&2; exit 2; }
builds=()
for b in "$@"; do builds+=("$(realpath "$b")"); done # before the cd below
cd "$(dirname "$0")/.."
repo=$(pwd)
clients=${BENCH_CLIENTS:-8}
ops=${BENCH_OPS:-GetUser}
callers=${BENCH_AS:-root}
window=${BENCH_WINDOW:-20}
BENCH_SKIP_BUILD=1
BENCH_RESULTS_SUFFIX=-instructions
source "$repo/bench/lib.sh"
command -v valgrind >/dev/null || { echo "bench: valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
[[ -x $bench ]] || { echo "bench: build the load generator first: cargo build --release -p oxiam-bench" >&2; exit 1; }
say "load generator: $bench; $ops as $callers, $clients clients; counted over $window s"
load_pid=""
trap 'if [[ -n $load_pid ]]; then kill "$load_pid" 2>/dev/null || true; fi; cleanup' EXIT

# Requests the server has answered, by its metrics (the metrics endpoint is not counted).
answered() {
  local metrics
  metrics=$(curl -sf -m 30 "http://127.0.0.1:$1/_oxiam/metrics") || fail "the server's metrics did not answer"
  awk 'index($0, "oxiam_requests_total{") == 1 {n += $NF} END {print n + 0}' <<<"$metrics"
}
# Stops the run, showing what the server and the load generator said.
fail() {
  echo "bench: $1; the server's log:" >&2
  cat "$dir/server.log" >&2 || true
  echo "bench: the load generator's output:" >&2
  cat "$dir/bench.log" >&2 || true
  exit 1
}

n=0
for server_binary in "${builds[@]}"; do
  n=$((n + 1))
  port=$(free_port)
  dir=$work/$n
  mkdir -p "$dir"
  # The counts are zeroed when the warm-up is over and dumped at the window's end.
  valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" \
    "$server_binary" serve --listen "127.0.0.1:$port" --data-dir "$dir/data" >"$dir/server.log" 2>&1 &
  server_pid=$!
  wait_for_port "$port" "$server_pid" "$dir/server.log"
  "$bench" run --endpoint "http://127.0.0.1:$port" --clients "$clients" --duration $((window + 60)) \
    --warmup 0 --ops "$ops" --as "$callers" --label "$n" >"$dir/bench.log" 2>&1 &
  load_pid=$!
  # The setup (users, keys, policies) and a warm-up: past it, every lookup is a cached one.
  before=0
  for _ in $(seq 1 120); do
    sleep 1
    kill -0 "$load_pid" 2>/dev/null || fail "the load generator ended before the warm-up did"
    before=$(answered "$port")
    ((before > 2000)) && break
  done
  ((before > 2000)) || fail "fewer than 2000 answers in two minutes of warm-up"
  sleep 3
  # Zeroed before the first count and dumped after the second: every request counted in the
  # window had its instructions counted (the two metrics answers add a few thousand).
  callgrind_control -z "$server_pid" >/dev/null || fail "callgrind did not zero its counters"
  before=$(answered "$port")
  sleep "$window"
  after=$(answered "$port")
  callgrind_control -d "$server_pid" >/dev/null || fail "callgrind did not dump its counters"
  kill "$load_pid" 2>/dev/null || true
  wait "$load_pid" 2>/dev/null || true
  load_pid=""
  stop_server
  requests=$((after - before))
  # The window's dump is the first part (the second is written as the server stops).
  mv "$dir/callgrind.out.1" "$out/callgrind.$n.out"
  # The dump's own total (what callgrind_annotate prints as PROGRAM TOTALS).
  total=$(awk '/^summary:/ {print $2; exit}' "$out/callgrind.$n.out")
  ((requests > 0)) || { echo "bench: no request was answered in the window" >&2; exit 1; }
  say "$server_binary: $requests requests, $total instructions: $((total / requests)) per request"
  callgrind_annotate --inclusive=yes "$out/callgrind.$n.out" >"$out/callgrind.$n.inclusive.txt" 2>/dev/null || true
done
echo "bench: results in $out" >&2
