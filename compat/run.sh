#!/usr/bin/env bash
# The compatibility suite: boto3, the AWS CLI (v1) and other S3 clients (rclone, s3cmd, the AWS
# SDK for JavaScript v3, s3fs with pandas) against a real oxiam server, once on the embedded
# SQLite database and once on PostgreSQL.
#
#   compat/run.sh [pytest args...]      e.g. compat/run.sh -k access_key -x
#
# Needs target/debug/oxiam (cargo build --bin oxiam), node and npm, and a PostgreSQL server
# reachable at $OXIAM_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test), where
# a fresh database is created for the run and dropped afterwards. OXIAM_COMPAT_BACKENDS="sqlite"
# (or "postgres") runs one backend only. Installs what else it needs: the pinned Python clients
# into compat/.venv, s3fs and pandas into compat/.venv-s3fs, rclone with apt-get, the AWS SDK
# for JavaScript into compat/js/node_modules.
set -euo pipefail
cd "$(dirname "$0")"
compat_dir=$(pwd)
repo_dir=$(cd .. && pwd)

export OXIAM_BIN=${OXIAM_BIN:-$repo_dir/target/debug/oxiam}
if [[ ! -x "$OXIAM_BIN" ]]; then
  echo "compat: $OXIAM_BIN is missing: build it first with 'cargo build --bin oxiam'" >&2
  exit 1
fi

# --- the virtualenvs, each reinstalled only when its requirements file (or the Python) changes -
# compat/.venv runs the suite. s3fs pins aiobotocore, which pins a botocore older than the
# boto3 of requirements.txt, so s3fs and pandas live apart, in compat/.venv-s3fs:
# test_s3_clients.py runs compat/s3fs_client.py with that virtualenv's python.
ensure_venv() {
  local venv=$1 requirements=$2
  local stamp=$venv/.requirements.stamp want
  if [[ ! -x $venv/bin/python ]]; then
    echo "compat: creating $venv" >&2
    python3 -m venv "$venv"
  fi
  want=$( (sha256sum "$requirements"; "$venv/bin/python" --version) | sha256sum | cut -d' ' -f1)
  if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    echo "compat: installing $requirements into $venv" >&2
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$requirements"
    echo "$want" >"$stamp"
  fi
}
venv=$compat_dir/.venv
ensure_venv "$venv" requirements.txt
ensure_venv "$compat_dir/.venv-s3fs" requirements-s3fs.txt

# --- rclone, from Debian's packages, installed when missing ---------------------------------
if ! command -v rclone >/dev/null; then
  echo "compat: installing rclone with apt-get" >&2
  as_root=()
  [[ $(id -u) -eq 0 ]] || as_root=(sudo)
  apt_install=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends rclone)
  if ! "${apt_install[@]}" >/dev/null; then
    echo "compat: apt-get install failed; running apt-get update first" >&2
    "${as_root[@]}" apt-get update -q >/dev/null
    "${apt_install[@]}" >/dev/null
  fi
fi

# --- the AWS SDK for JavaScript: npm ci, again only when package-lock.json (or node) changes --
if ! command -v npm >/dev/null; then
  echo "compat: node and npm are missing: compat/js needs them (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
js_stamp=$compat_dir/js/node_modules/.package-lock.stamp
want=$( (sha256sum js/package-lock.json; node --version) | sha256sum | cut -d' ' -f1)
if [[ ! -f $js_stamp || $(cat "$js_stamp") != "$want" ]]; then
  echo "compat: installing compat/js/package-lock.json with npm ci" >&2
  (cd js && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$js_stamp"
fi

# --- PostgreSQL: a fresh database for this run, dropped on exit ----------------------------
pg_base=${OXIAM_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
pg_db=""
pg_url=""

drop_db() {
  if [[ -n $pg_db ]]; then
    psql "$pg_base" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null \
      || echo "compat: could not drop database $pg_db" >&2
  fi
}
trap drop_db EXIT

create_db() {
  pg_db="oxiam_compat_$(date +%s)_$$_${RANDOM}"
  psql "$pg_base" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $pg_db" >/dev/null || {
    echo "compat: cannot create a database through $pg_base (is PostgreSQL up? scripts/ensure-postgres.sh)" >&2
    pg_db=""
    return 1
  }
  # Same URL with the database name replaced (query parameters, if any, kept).
  local base=${pg_base%%\?*} query=""
  [[ $pg_base == *\?* ]] && query="?${pg_base#*\?}"
  pg_url="${base%/*}/$pg_db$query"
}

# --- the runs --------------------------------------------------------------------------------
backends=${OXIAM_COMPAT_BACKENDS:-sqlite postgres}
failed=()
for backend in $backends; do
  echo
  echo "== compat: boto3, AWS CLI, rclone, s3cmd, AWS SDK for JavaScript, s3fs against oxiam on $backend"
  status=0
  case $backend in
    sqlite)
      OXIAM_COMPAT_BACKEND=sqlite "$venv/bin/python" -m pytest "$@" || status=$?
      ;;
    postgres)
      if create_db; then
        OXIAM_COMPAT_BACKEND=postgres OXIAM_COMPAT_DATABASE_URL=$pg_url \
          "$venv/bin/python" -m pytest "$@" || status=$?
        drop_db
        pg_db=""
      else
        status=1
      fi
      ;;
    *)
      echo "compat: unknown backend '$backend' (sqlite | postgres)" >&2
      status=2
      ;;
  esac
  [[ $status -eq 0 ]] || failed+=("$backend (exit $status)")
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo
  echo "compat: FAILED on: ${failed[*]}" >&2
  exit 1
fi
echo
echo "compat: all backends passed ($backends)"
