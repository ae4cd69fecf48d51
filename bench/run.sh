#!/usr/bin/env bash
# The benchmarks of docs/benchmarks.md: oxiam on SQLite, oxiam on PostgreSQL and moto, each
# started fresh, loaded by oxiam-bench with the same mix at the same concurrency, and stopped;
# plus oxiam's start time, its RSS (idle, after the mix, after N users), and the policy
# engine's criterion benchmark. Results go to bench/results/<time>/ (table.md, summary.txt,
# the JSON of each run, the servers' logs).
#
#   bench/run.sh                         everything (about 10 minutes on 2 cores)
#   BENCH_TARGETS="sqlite" bench/run.sh  only some of: sqlite postgres moto
#
# Knobs (environment): BENCH_CLIENTS (64; a comma list runs each), BENCH_DURATION (5 s per
# phase), BENCH_WARMUP (1 s), BENCH_USERS (10000 users created for the RSS measurement),
# BENCH_STARTUP_RUNS (6), BENCH_SKIP_BUILD=1, BENCH_SKIP_CRITERION=1,
# OXIAM_TEST_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/test: a fresh database is
# created through it and dropped afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

clients=${BENCH_CLIENTS:-64}
duration=${BENCH_DURATION:-5}
warmup=${BENCH_WARMUP:-1}
users=${BENCH_USERS:-10000}
startup_runs=${BENCH_STARTUP_RUNS:-6}
targets=${BENCH_TARGETS:-sqlite postgres moto}
source "$repo/bench/lib.sh"
record_machine "clients: $clients; per phase: ${warmup}s warm-up + ${duration}s measured; users: $users"

# --- oxiam: start to first response ----------------------------------------------------------
if [[ " $targets " == *" sqlite "* ]]; then
  port=$(free_port)
  say ""
  say "== oxiam start to first successful request (SQLite; run 1 creates the database)"
  "$bench" startup --endpoint "http://127.0.0.1:$port" --runs "$startup_runs" -- \
    "$oxiam" serve --listen "127.0.0.1:$port" --data-dir "$work/startup" | tee -a "$summary"
fi

# --- one target: start, mix, N users, stop -------------------------------------------------------
run_target() { # label, pid, port
  local label=$1 pid=$2 port=$3
  local endpoint=http://127.0.0.1:$port
  say ""
  say "== $label (pid $pid, port $port)"
  sleep 1
  say "$label idle RSS: $(rss_line "$pid")"
  say "$label load average before the mix: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$bench" run --endpoint "$endpoint" --label "$label" --clients "$clients" --duration "$duration" \
    --warmup "$warmup" --mix --out "$out/$label.json" 2>&1 | tee -a "$out/$label.run.txt" >&2
  say "$label RSS after the mix: $(rss_line "$pid")"
  "$bench" run --endpoint "$endpoint" --label "$label" --clients 64 --ops CreateUser --as root \
    --requests "$users" --warmup 0 --out "$out/$label.users.json" 2>&1 | tee -a "$out/$label.users.txt" >&2
  say "$label CreateUser x $users (64 clients, root, kept): $(grep -m1 'CreateUser' "$out/$label.users.txt" | sed 's/^ *//')"
  sleep 1
  say "$label RSS after $users more users: $(rss_line "$pid")"
}

for target in $targets; do
  port=$(free_port)
  case $target in
    sqlite)
      "$oxiam" serve --listen "127.0.0.1:$port" --data-dir "$work/sqlite" >"$out/oxiam-sqlite.log" 2>&1 &
      server_pid=$!
      wait_for_port "$port" "$server_pid" "$out/oxiam-sqlite.log"
      run_target oxiam-sqlite "$server_pid" "$port"
      say "oxiam-sqlite database size: $(du -sh "$work/sqlite" | cut -f1)"
      ;;
    postgres)
      fresh_pg_db
      "$oxiam" serve --listen "127.0.0.1:$port" --data-dir "$work/postgres" \
        --database-url "$pg_url" >"$out/oxiam-postgres.log" 2>&1 &
      server_pid=$!
      wait_for_port "$port" "$server_pid" "$out/oxiam-postgres.log"
      run_target oxiam-postgres "$server_pid" "$port"
      ;;
    moto)
      bench_venv
      say "moto: $("$venv/bin/python" -c 'import moto; print(moto.__version__)')"
      "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$out/moto.log" 2>&1 &
      server_pid=$!
      wait_for_port "$port" "$server_pid" "$out/moto.log"
      run_target moto "$server_pid" "$port"
      ;;
    *)
      echo "bench: unknown target $target (sqlite | postgres | moto)" >&2
      exit 2
      ;;
  esac
  stop_server
  drop_db
done

# --- the policy engine ---------------------------------------------------------------------------
if [[ -z ${BENCH_SKIP_CRITERION:-} ]]; then
  say ""
  say "== cargo bench -p oxiam-policy --bench evaluate -- --quick"
  cargo bench -p oxiam-policy --bench evaluate -- --quick 2>/dev/null | grep -E -B1 'time:' | grep -v '^--$' | tee -a "$summary"
fi

# --- the table -------------------------------------------------------------------------------------
files=()
for label in oxiam-sqlite oxiam-postgres moto; do
  [[ -f $out/$label.json ]] && files+=("$out/$label.json")
done
baseline=()
[[ -f $out/moto.json ]] && baseline=(--baseline moto)
"$bench" report "${baseline[@]}" "${files[@]}" >"$out/table.md"
users_files=()
for label in oxiam-sqlite oxiam-postgres moto; do
  [[ -f $out/$label.users.json ]] && users_files+=("$out/$label.users.json")
done
"$bench" report "${baseline[@]}" "${users_files[@]}" >"$out/users.md"
say ""
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
cat "$out/table.md"
echo
cat "$out/users.md"
echo
echo "bench: results in $out" >&2
