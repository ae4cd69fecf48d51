# Shared by the bench/*.sh scripts (sourced, with `repo` set): the binaries,
# the dev root credentials, the results directory, starting and stopping servers, RSS.

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

out=$repo/bench/results/$(date +%Y%m%d-%H%M%S)${BENCH_RESULTS_SUFFIX:-}
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

# A venv with boto3 (and moto, the comparison), installed from PyPI on first use.
bench_venv() {
  venv=$repo/bench/.venv
  if [[ ! -x $venv/bin/moto_server ]]; then
    echo "bench: installing moto[server] 5.2.x into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet 'moto[server]>=5.2,<5.3'
  fi
}

# A fresh PostgreSQL database through $pg_base; prints its URL and sets pg_db.
fresh_pg_db() {
  pg_db="oxiam_bench_$(date +%s)_$$"
  psql "$pg_base" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $pg_db" >/dev/null
  local base=${pg_base%%\?*} query=""
  [[ $pg_base == *\?* ]] && query="?${pg_base#*\?}"
  pg_url="${base%/*}/$pg_db$query"
}

# The machine, its load and the build, into $out/machine.txt and the summary; $1 says
# what the run is.
record_machine() {
  {
    echo "date: $(date -Is)"
    echo "nproc: $(nproc)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    free -g
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "oxiam: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?') (release build)"
    echo "$1"
  } | tee "$out/machine.txt" >>"$summary"
  cat "$out/machine.txt" >&2
}
