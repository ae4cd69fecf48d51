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
target_dir=${CARGO_TARGET_DIR:-$repo/target}
oxiam=$target_dir/release/oxiam
bench=$target_dir/release/oxiam-bench

export OXIAM_ACCOUNT_ID=123456789012
export OXIAM_ROOT_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export OXIAM_ROOT_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
export AWS_ACCESS_KEY_ID=$OXIAM_ROOT_ACCESS_KEY_ID
export AWS_SECRET_ACCESS_KEY=$OXIAM_ROOT_SECRET_ACCESS_KEY
export OXIAM_LOG=${OXIAM_LOG:-warn}

if [[ -z ${BENCH_SKIP_BUILD:-} ]]; then
  echo "bench: cargo build --release -p oxiam -p oxiam-bench" >&2
  cargo build --release -p oxiam -p oxiam-bench
fi

out=$repo/bench/results/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
work=$(mktemp -d /tmp/oxiam-bench.XXXXXX)
summary=$out/summary.txt
server_pid=""
pg_db=""
pg_base=${OXIAM_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}

stop_server() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
drop_db() {
  if [[ -n $pg_db ]]; then
    psql "$pg_base" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null \
      || echo "bench: could not drop database $pg_db" >&2
    pg_db=""
  fi
}
cleanup() {
  stop_server
  drop_db
  rm -rf "$work"
}
trap cleanup EXIT

say() { echo "$*" | tee -a "$summary"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# The RSS of a process and its children (moto_server's Python is exec'd, but be safe).
rss_line() { echo "$(rss_kb "$1") kB (VmHWM $(awk '/^VmHWM/ {print $2}' "/proc/$1/status") kB)"; }

wait_for_port() { # port, pid, log
  for _ in $(seq 1 600); do
    if ! kill -0 "$2" 2>/dev/null; then
      echo "bench: the server exited; its log:" >&2
      cat "$3" >&2
      return 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "bench: nothing listens on port $1 after 30 s" >&2
  return 1
}

# --- the machine ------------------------------------------------------------------------------
{
  echo "date: $(date -Is)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  free -g
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "oxiam: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?') (release build)"
  echo "clients: $clients; per phase: ${warmup}s warm-up + ${duration}s measured; users: $users"
} | tee "$out/machine.txt" >>"$summary"
cat "$out/machine.txt" >&2

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
      pg_db="oxiam_bench_$(date +%s)_$$"
      psql "$pg_base" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $pg_db" >/dev/null
      base=${pg_base%%\?*} query=""
      [[ $pg_base == *\?* ]] && query="?${pg_base#*\?}"
      "$oxiam" serve --listen "127.0.0.1:$port" --data-dir "$work/postgres" \
        --database-url "${base%/*}/$pg_db$query" >"$out/oxiam-postgres.log" 2>&1 &
      server_pid=$!
      wait_for_port "$port" "$server_pid" "$out/oxiam-postgres.log"
      run_target oxiam-postgres "$server_pid" "$port"
      ;;
    moto)
      venv=$repo/bench/.venv
      if [[ ! -x $venv/bin/moto_server ]]; then
        echo "bench: installing moto[server] 5.2.x into $venv" >&2
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --disable-pip-version-check --quiet 'moto[server]>=5.2,<5.3'
      fi
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
