#!/usr/bin/env bash
# Scale: oxiam with a million users (docs/benchmarks.md, "Scale"). For each backend: start
# fresh, set up oxiam-bench's entities, stop, insert the users with bench/populate.py (the
# bulk path, for setup only), then measure start time, idle RSS, GetUser / ListUsers /
# GetCallerIdentity under load, durable CreateUser at that size, and one-shot timings
# (ListUsers deep in the listing, a credential report, GetAccountAuthorizationDetails
# pages) with bench/scale_probe.py.
#
#   bench/scale.sh                               SQLite and PostgreSQL, 1,000,000 users
#   BENCH_TARGETS=sqlite BENCH_SCALE_USERS=100000 bench/scale.sh
#
# Knobs: BENCH_SCALE_USERS (1000000), BENCH_TARGETS ("sqlite postgres"), BENCH_CLIENTS (64),
# BENCH_DURATION (5), BENCH_WARMUP (1), BENCH_SCALE_CREATES (20000 CreateUser at that size),
# BENCH_GAAD_PAGES (50), BENCH_SKIP_BUILD=1, OXIAM_TEST_POSTGRES_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

scale_users=${BENCH_SCALE_USERS:-1000000}
targets=${BENCH_TARGETS:-sqlite postgres}
clients=${BENCH_CLIENTS:-64}
duration=${BENCH_DURATION:-5}
warmup=${BENCH_WARMUP:-1}
creates=${BENCH_SCALE_CREATES:-20000}
gaad_pages=${BENCH_GAAD_PAGES:-50}
BENCH_RESULTS_SUFFIX=-scale
source "$repo/bench/lib.sh"
record_machine "scale: $scale_users users; clients: $clients; per phase: ${warmup}s warm-up + ${duration}s measured"
bench_venv

start_oxiam() { # label, data dir, [database url]
  local label=$1 dir=$2 url=${3:-}
  port=$(free_port)
  local args=(serve --listen "127.0.0.1:$port" --data-dir "$dir")
  [[ -n $url ]] && args+=(--database-url "$url")
  "$oxiam" "${args[@]}" >>"$out/$label.log" 2>&1 &
  server_pid=$!
  wait_for_port "$port" "$server_pid" "$out/$label.log"
}

for target in $targets; do
  label=oxiam-$target
  dir=$work/$target
  url=""
  [[ $target == postgres ]] && { fresh_pg_db; url=$pg_url; }
  say ""
  say "== $label with $scale_users users"

  # oxiam-bench's own entities first (its setup runs through the API), then the bulk users.
  start_oxiam "$label" "$dir" "$url"
  "$bench" run --endpoint "http://127.0.0.1:$port" --label setup --clients 1 --ops GetUser --as root \
    --requests 1 --warmup 0 >/dev/null 2>&1
  stop_server
  case $target in
    sqlite) say "$("$venv/bin/python" bench/populate.py sqlite "$dir/oxiam.db" "$scale_users")" ;;
    postgres) say "$("$venv/bin/python" bench/populate.py postgres "$url" "$scale_users")" ;;
  esac
  say "$label database: $(case $target in
    sqlite) du -sh "$dir" | cut -f1 ;;
    postgres) psql "$url" -At -c "SELECT pg_size_pretty(pg_database_size(current_database()))" ;;
  esac)"

  probe_port=$(free_port)
  startup_args=(serve --listen "127.0.0.1:$probe_port" --data-dir "$dir")
  [[ -n $url ]] && startup_args+=(--database-url "$url")
  say "$label start to first successful request, $scale_users users present:"
  "$bench" startup --endpoint "http://127.0.0.1:$probe_port" --runs 3 -- "$oxiam" "${startup_args[@]}" | tee -a "$summary"

  start_oxiam "$label" "$dir" "$url"
  endpoint=http://127.0.0.1:$port
  sleep 1
  say "$label idle RSS: $(rss_line "$server_pid")"
  "$bench" run --endpoint "$endpoint" --label "$label-scale" --clients "$clients" --duration "$duration" \
    --warmup "$warmup" --ops GetUser,ListUsers,GetCallerIdentity --out "$out/$label.reads.json" 2>&1 \
    | tee -a "$out/$label.reads.txt" >&2
  say "$label RSS after the reads: $(rss_line "$server_pid")"
  "$bench" run --endpoint "$endpoint" --label "$label-scale" --clients "$clients" --ops CreateUser --as root \
    --requests "$creates" --warmup 0 --out "$out/$label.creates.json" 2>&1 | tee -a "$out/$label.creates.txt" >&2
  say "$label CreateUser x $creates at $scale_users users: $(grep -m1 'CreateUser' "$out/$label.creates.txt" | sed 's/^ *//')"
  "$venv/bin/python" bench/scale_probe.py "$endpoint" --users "$scale_users" --gaad-pages "$gaad_pages" \
    --label "$label" | tee -a "$out/$label.probe.jsonl" | tee -a "$summary"
  say "$label RSS after the probes: $(rss_line "$server_pid")"
  stop_server
  drop_db
done

reads=() creates=()
for target in $targets; do
  reads+=("$out/oxiam-$target.reads.json")
  creates+=("$out/oxiam-$target.creates.json")
done
"$bench" report "${reads[@]}" >"$out/table.md"
"$bench" report "${creates[@]}" >>"$out/table.md"
say ""
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$out/table.md"
echo "bench: results in $out" >&2
