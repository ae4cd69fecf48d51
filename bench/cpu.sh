#!/usr/bin/env bash
# Who uses the cores: two load generators (or one twice), alternately (A then B in odd rounds,
# B then A in even ones) against the same oxiam build on SQLite, each run on a fresh server:
# GetUser as root at 64 clients, and the CPU time of the server and of the load generator
# (utime + stime from /proc/PID/stat) over 3 s of the measured phase. Results go to
# bench/results/<time>-cpu/summary.txt.
#
#   bench/cpu.sh OXIAM BENCH_A BENCH_B   (paths to a release oxiam and two oxiam-bench builds)
#
# Knobs (environment): BENCH_ROUNDS (6), BENCH_CLIENTS (64), BENCH_OPS (GetUser),
# BENCH_AS (root). The builds are never made here: pass their paths.
set -euo pipefail
[[ $# -eq 3 ]] || { echo "usage: bench/cpu.sh OXIAM BENCH_A BENCH_B" >&2; exit 2; }
server_binary=$(realpath "$1") # before the cd below
bench_a=$(realpath "$2")
bench_b=$(realpath "$3")
cd "$(dirname "$0")/.."
repo=$(pwd)
rounds=${BENCH_ROUNDS:-6}
clients=${BENCH_CLIENTS:-64}
ops=${BENCH_OPS:-GetUser}
callers=${BENCH_AS:-root}
BENCH_SKIP_BUILD=1
BENCH_RESULTS_SUFFIX=-cpu
source "$repo/bench/lib.sh"
say "server: $server_binary; A: $bench_a; B: $bench_b; $ops as $callers, $clients clients, 1 s warm-up + 5 s measured; rounds: $rounds"
hz=$(getconf CLK_TCK)
load_pid=""
# The load generator too is stopped if the run is interrupted.
trap 'if [[ -n $load_pid ]]; then kill "$load_pid" 2>/dev/null || true; fi; cleanup' EXIT
# utime + stime of a process. If it is gone the run fails, showing what both said.
cpu_ticks() {
  awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || {
    echo "bench: process $1 ended before the measurement did; the server's log:" >&2
    cat "$dir/server.log" >&2
    echo "bench: the load generator's output:" >&2
    cat "$dir/bench.log" >&2
    exit 1
  }
}

for round in $(seq 1 "$rounds"); do
  order="a b"
  ((round % 2 == 0)) && order="b a"
  for build in $order; do
    load=$bench_a
    [[ $build == b ]] && load=$bench_b
    port=$(free_port)
    dir=$work/$round-$build
    mkdir -p "$dir"
    "$server_binary" serve --listen "127.0.0.1:$port" --data-dir "$dir/data" >"$dir/server.log" 2>&1 &
    server_pid=$!
    wait_for_port "$port" "$server_pid" "$dir/server.log"
    "$load" run --endpoint "http://127.0.0.1:$port" --clients "$clients" --duration 5 --warmup 1 \
      --ops "$ops" --as "$callers" --label "$build" >"$dir/bench.log" 2>&1 &
    load_pid=$!
    sleep 2.5 # setup and warm-up: well inside the measured phase
    server_0=$(cpu_ticks "$server_pid")
    load_0=$(cpu_ticks "$load_pid")
    sleep 3
    server_1=$(cpu_ticks "$server_pid")
    load_1=$(cpu_ticks "$load_pid")
    wait "$load_pid" || { cat "$dir/bench.log" >&2; exit 1; }
    load_pid=""
    server_cpu=$(((server_1 - server_0) * 100 / hz / 3))
    load_cpu=$(((load_1 - load_0) * 100 / hz / 3))
    say "round $round, $build: server ${server_cpu}% of a core, load generator ${load_cpu}%"
    grep -E '^ +[A-Za-z]' "$dir/bench.log" | tee -a "$summary"
    stop_server
  done
done
echo "bench: results in $out" >&2
