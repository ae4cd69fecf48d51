#!/usr/bin/env bash
# Replicas on one PostgreSQL (issue 18 items 2 and 4): 1, 2 and 3 oxiam servers sharing a
# fresh database behind HAProxy (round robin, from Debian's packages), each loaded with
# GetUser and GetCallerIdentity as root and as an IAM user through the load balancer; per
# replica count: requests/s and latency (oxiam-bench), the requests each replica answered
# (HAProxy's counters), each replica's CPU time per request (utime+stime from /proc), and
# PostgreSQL transactions per request (pg_stat_database: every query outside a write
# transaction is one). Then the revocation window between two replicas (oxiam-bench
# revocation). Results go to bench/results/<time>-replicas/summary.txt.
#
#   bench/replicas.sh                      (about 3 minutes after the build)
#
# Knobs (environment): BENCH_REPLICAS ("1 2 3"), BENCH_CLIENTS (64), BENCH_DURATION (5 s),
# BENCH_WARMUP (1 s), BENCH_REVOCATIONS (200 of each kind), BENCH_SKIP_BUILD=1,
# OXIAM_TEST_POSTGRES_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
clients=${BENCH_CLIENTS:-64}
duration=${BENCH_DURATION:-5}
warmup=${BENCH_WARMUP:-1}
replica_counts=${BENCH_REPLICAS:-1 2 3}
revocations=${BENCH_REVOCATIONS:-200}
BENCH_RESULTS_SUFFIX=-replicas
source "$repo/bench/lib.sh"

if ! command -v haproxy >/dev/null; then
  echo "bench: installing haproxy (apt)" >&2
  if [[ $(id -u) == 0 ]]; then sudo=""; else sudo=sudo; fi
  $sudo apt-get install -y -q haproxy >/dev/null 2>&1 || {
    $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q haproxy >/dev/null
  }
fi
record_machine "replicas: $replica_counts on one PostgreSQL behind $(haproxy -v | head -1); clients: $clients; ${warmup}s warm-up + ${duration}s measured"

# Replicas must unseal each other's secrets.
export OXIAM_MASTER_KEY=$(printf 'ab%.0s' $(seq 1 32))
replica_pids=()
replica_ports=()
lb_pid=""
stop_replicas() {
  for pid in "${replica_pids[@]}" $lb_pid; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  replica_pids=()
  replica_ports=()
  lb_pid=""
}
trap 'stop_replicas; cleanup' EXIT

start_replicas() { # count
  fresh_pg_db
  for i in $(seq 1 "$1"); do
    local port
    port=$(free_port)
    "$oxiam" serve --listen "127.0.0.1:$port" --data-dir "$work/$1-$i" --database-url "$pg_url" \
      --s3-dir "$work/$1-s3" >"$out/replica-$1-$i.log" 2>&1 &
    replica_pids+=($!)
    replica_ports+=("$port")
    wait_for_port "$port" "$!" "$out/replica-$1-$i.log"
  done
}

start_lb() { # count
  lb_port=$(free_port)
  stats_port=$(free_port)
  {
    echo "global"
    echo "    nbthread 1"
    echo "    maxconn 4096"
    echo "defaults"
    echo "    mode http"
    echo "    timeout connect 5s"
    echo "    timeout client 60s"
    echo "    timeout server 60s"
    echo "frontend oxiam"
    echo "    bind 127.0.0.1:$lb_port"
    echo "    default_backend replicas"
    echo "backend replicas"
    echo "    balance roundrobin"
    for i in "${!replica_ports[@]}"; do
      echo "    server r$((i + 1)) 127.0.0.1:${replica_ports[$i]}"
    done
    echo "listen stats"
    echo "    bind 127.0.0.1:$stats_port"
    echo "    stats enable"
    echo "    stats uri /stats"
  } >"$work/haproxy-$1.cfg"
  haproxy -f "$work/haproxy-$1.cfg" -db >"$out/haproxy-$1.log" 2>&1 &
  lb_pid=$!
  wait_for_port "$lb_port" "$lb_pid" "$out/haproxy-$1.log"
}

# Requests HAProxy has sent to each replica, space-separated, in order.
lb_requests() {
  curl -s "http://127.0.0.1:$stats_port/stats;csv" | python3 -c '
import csv, sys
rows = list(csv.reader(sys.stdin))
head = [h.lstrip("# ") for h in rows[0]]
col = head.index("req_tot") if "req_tot" in head else head.index("stot")
print(" ".join(r[col] or "0" for r in rows[1:] if r[0] == "replicas" and r[1].startswith("r")))'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pg_transactions() {
  psql "$pg_base" -Atc "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$pg_db'"
}

hz=$(getconf CLK_TCK)
for n in $replica_counts; do
  start_replicas "$n"
  start_lb "$n"
  say ""
  say "== $n replica(s) behind HAProxy (ports ${replica_ports[*]})"
  ticks_before=()
  for pid in "${replica_pids[@]}"; do ticks_before+=("$(cpu_ticks "$pid")"); done
  requests_before=($(lb_requests))
  transactions_before=$(pg_transactions)
  "$bench" run --endpoint "http://127.0.0.1:$lb_port" --clients "$clients" --duration "$duration" \
    --warmup "$warmup" --ops GetUser,GetCallerIdentity --as root,user --label "replicas-$n" \
    --out "$out/replicas-$n.json" | tee -a "$summary"
  requests_after=($(lb_requests))
  transactions_after=$(pg_transactions)
  total=0
  for i in "${!replica_pids[@]}"; do
    served=$((requests_after[i] - requests_before[i]))
    total=$((total + served))
    ticks=$(($(cpu_ticks "${replica_pids[$i]}") - ticks_before[i]))
    say "replica $((i + 1)): $served requests, CPU $(python3 -c "print(f'{$ticks / $hz * 1e6 / max($served, 1):.1f}')") µs per request"
  done
  say "PostgreSQL transactions per request: $(python3 -c "print(f'{($transactions_after - $transactions_before) / max($total, 1):.3f}')") ($((transactions_after - transactions_before)) for $total requests)"
  if [[ $n -ge 2 ]]; then
    say ""
    say "== revocation window, $n replicas: revoked on replica 1, asked on replica 2 until refused ($revocations of each)"
    "$bench" revocation --endpoint "http://127.0.0.1:${replica_ports[0]}" \
      --observer "http://127.0.0.1:${replica_ports[1]}" --rounds "$revocations" | tee -a "$summary"
  fi
  stop_replicas
  drop_db
done
echo "bench: results in $out" >&2
