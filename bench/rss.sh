#!/usr/bin/env bash
# Memory under DeleteObjects and PutObject floods (bench/rss_delete_objects.py,
# bench/rss_put_objects.py): a fresh oxiam on SQLite for each, 48 parallel requests per
# phase, the server's RSS and peak after each. Uses the
# compatibility suite's venv (boto3), creating it if missing.
#
#   bench/rss.sh            (BENCH_SKIP_BUILD=1 to use the release build as it is)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
BENCH_RESULTS_SUFFIX=-rss
source "$repo/bench/lib.sh"
if [[ ! -x compat/.venv/bin/python ]]; then
  python3 -m venv compat/.venv
  compat/.venv/bin/python -m pip install --quiet -r compat/requirements.txt
fi
record_machine "DeleteObjects floods: 48 parallel per phase"
port=$(free_port)
"$oxiam" serve --listen "127.0.0.1:$port" --data-dir "$work/data" >"$work/server.log" 2>&1 &
server_pid=$!
wait_for_port "$port" "$server_pid" "$work/server.log"
compat/.venv/bin/python bench/rss_delete_objects.py "http://127.0.0.1:$port" "$server_pid" | tee -a "$summary"
stop_server
# Uploads, on a fresh server (its peak then is the uploads' own).
rm -rf "$work/data"
port=$(free_port)
"$oxiam" serve --listen "127.0.0.1:$port" --data-dir "$work/data" >"$work/server-put.log" 2>&1 &
server_pid=$!
wait_for_port "$port" "$server_pid" "$work/server-put.log"
say ""
say "PutObject floods: 48 parallel per phase"
compat/.venv/bin/python bench/rss_put_objects.py "http://127.0.0.1:$port" "$server_pid" | tee -a "$summary"
stop_server
echo "bench: results in $out" >&2
