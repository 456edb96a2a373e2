# SPDX-License-Identifier: AGPL-3.0-or-later
"""Filling a stopped-or-running server's `users` table directly: the fastest way to
have tens of thousands of accounts present for the login benchmark (the admin API
would take many minutes per server). Each row is an ordinary account with its own
bcrypt hash; on ours, each also gets a few earlier login-log entries, as a server
in use would have."""

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

import bcrypt
import psycopg2.extras

from benchmarks.servers import BenchServer
from tests.harness import postgres

PHONE = "Element/1.6.10 (Linux; U; Android 13; SM-S9080; MatrixAndroidSdk2 1.6.10)"
EARLIER_LOGINS = 4


def _connect(server: BenchServer) -> tuple[Any, str]:
    """(DB-API connection, placeholder) of the server's database."""
    if server.engine == "postgres":
        assert server.pg_database is not None
        return postgres.connect(server.pg_database), "%s"
    return sqlite3.connect(str(server.data_dir / "homeserver.db"), timeout=60), "?"


CHUNK = 5_000  # rows per transaction: short locks next to the running server
RETRIES = 5


def _insert(server: BenchServer, conn: Any, sql: str, rows: Sequence[tuple]) -> None:
    """Insert in short transactions; a chunk that deadlocks with the running server
    (seen on PostgreSQL while Synapse's own jobs touch `users`) is retried."""
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        for attempt in range(1, RETRIES + 1):
            try:
                cur = conn.cursor()
                if server.engine == "postgres":
                    psycopg2.extras.execute_batch(cur, sql, chunk, page_size=1000)
                else:
                    cur.executemany(sql, chunk)
                conn.commit()
                break
            except psycopg2.errors.DeadlockDetected:
                conn.rollback()
                if attempt == RETRIES:
                    raise
                time.sleep(0.5 * attempt)


def _earlier_ip(k: int, i: int) -> str:
    """The latest login from where the benchmark logs in (a known place: no notice)."""
    return "127.0.0.1" if k == 0 else f"10.{k}.{i % 250}.{i % 200}"


def add_accounts(
    server: BenchServer, names: Sequence[str], password: str, rounds: int, ours: bool
) -> float:
    """Insert the accounts (one shared bcrypt hash of `rounds`); returns seconds."""
    started = time.perf_counter()
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()
    now_ms = int(time.time() * 1000)
    user_ids = [f"@{n}:{server.server_name}" for n in names]
    conn, p = _connect(server)
    try:
        _insert(
            server,
            conn,
            "INSERT INTO users (name, password_hash, creation_ts, admin, is_guest,"
            f" deactivated) VALUES ({p}, {p}, {p}, 0, 0, 0)",
            [(u, hashed, now_ms // 1000) for u in user_ids],
        )
        if ours:
            _insert(
                server,
                conn,
                "INSERT INTO jwwx_acc_login_log (ts, kind, user_id, identifier,"
                " login_type, ip, device_id, user_agent, platform, result) VALUES"
                f" ({p}, 'login', {p}, {p}, 'm.login.password', {p}, {p}, {p},"
                " 'mobile', 'ok')",
                [
                    (
                        now_ms - k * 86_400_000,
                        u,
                        u,
                        _earlier_ip(k, i),
                        f"D{k}{i}",
                        PHONE,
                    )
                    for k in range(EARLIER_LOGINS)
                    for i, u in enumerate(user_ids)
                ],
            )
        if server.engine == "postgres":
            # Only the tables written here: a database-wide ANALYZE can deadlock with
            # the server's own start-up work (seen on a loaded machine).
            conn.autocommit = True
            tables = ["users", *(["jwwx_acc_login_log"] if ours else [])]
            conn.cursor().execute("ANALYZE " + ", ".join(tables))
    finally:
        conn.close()
    return time.perf_counter() - started
