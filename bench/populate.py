#!/usr/bin/env python3
"""Bulk setup for scale benchmarks: inserts N users straight into oxiam's database.

For setup only: the API path (CreateUser) is what the benchmarks measure; this exists so
that a million users take seconds instead of minutes. It writes the rows CreateUser would
(id, account, name, lower-cased name, path "/", creation time), named bulk-0000001…, with
no keys, tags or policies, in one transaction, into the account the database already
holds (start oxiam once on it first). On SQLite it refuses to run while a server has the
database open (the server's lock file).

    bench/populate.py sqlite /path/to/data-dir/oxiam.db 1000000
    bench/populate.py postgres postgres://postgres@127.0.0.1:5432/db 1000000
"""
import fcntl
import sqlite3
import subprocess
import sys
import time


def sqlite_populate(path: str, count: int) -> None:
    # The lock a running oxiam holds on its database (Store::open): refuse to write under it.
    lock = open(path + ".lock", "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(f"populate: {path} is in use by a running oxiam server; stop it first")
    con = sqlite3.connect(path)
    (account,) = con.execute("SELECT account_id FROM accounts ORDER BY created_at LIMIT 1").fetchone()
    con.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO users (user_id, account_id, name, name_key, path, created_at)
        SELECT printf('AIDABULK%013d', i), ?, printf('bulk-%07d', i), printf('bulk-%07d', i), '/',
               CAST(strftime('%s', 'now') AS INTEGER)
        FROM n
        """,
        (count, account),
    )
    con.commit()
    con.close()


def postgres_populate(url: str, count: int) -> None:
    sql = f"""
        INSERT INTO users (user_id, account_id, name, name_key, path, created_at)
        SELECT 'AIDABULK' || lpad(i::text, 13, '0'),
               (SELECT account_id FROM accounts ORDER BY created_at LIMIT 1),
               'bulk-' || lpad(i::text, 7, '0'), 'bulk-' || lpad(i::text, 7, '0'), '/',
               extract(epoch FROM now())::bigint
        FROM generate_series(1, {int(count)}) AS i;
        ANALYZE users;
    """
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True)


def main() -> None:
    if len(sys.argv) != 4 or sys.argv[1] not in ("sqlite", "postgres"):
        sys.exit(__doc__)
    backend, target, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    started = time.monotonic()
    (sqlite_populate if backend == "sqlite" else postgres_populate)(target, count)
    print(f"populate: {count} users into {backend} in {time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    main()
