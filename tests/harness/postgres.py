# SPDX-License-Identifier: AGPL-3.0-or-later
"""PostgreSQL for the integration tests: a fresh database per server, dropped afterwards.

JWWX_TEST_PG (a libpq DSN, default "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
says where the server is. Unreachable: tests skip, except under CI=true where they fail.
"""

import os
import secrets
from functools import cache
from typing import Any, NoReturn

from twisted.trial.unittest import SkipTest

import psycopg2
from psycopg2 import sql

DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"


def admin_dsn() -> str:
    return os.environ.get("JWWX_TEST_PG", DEFAULT_DSN)


def must_run() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str, what: str) -> NoReturn:
    """The test skips with `reason`, except under CI=true, where what CI must run
    (`what`) may not skip: it fails."""
    if must_run():
        raise RuntimeError(f"CI=true requires {what}: {reason}")
    raise SkipTest(f"skipped: {reason}")


def skip_unless_ready(reason: str | None, what: str) -> None:
    """Nothing when `reason` is None; otherwise skip_or_fail."""
    if reason is not None:
        skip_or_fail(reason, what)


@cache
def unavailable_reason() -> str | None:
    """None when PostgreSQL answers; otherwise why the PostgreSQL tests skip."""
    try:
        psycopg2.connect(admin_dsn()).close()
    except psycopg2.Error as e:
        first_line = (
            str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        )
        return f"PostgreSQL not reachable at {admin_dsn()!r} ({first_line})"
    return None


def _connection_params() -> dict[str, str]:
    return psycopg2.extensions.parse_dsn(admin_dsn())


def create_database(
    prefix: str = "jwwx_test", wait_for_flush: bool = True
) -> dict[str, str | int]:
    """Create a UTF8 / C-collation database from template0; return connection params.

    wait_for_flush=False: its sessions commit without waiting for the WAL to reach
    the disk (synchronous_commit off; the tests' cheap bcrypt of PostgreSQL). What a
    commit means to other sessions is the same; only a crash of PostgreSQL itself,
    which no test drills on this server, could lose the last commits."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    conn = psycopg2.connect(admin_dsn())
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL(
                    "CREATE DATABASE {} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
                    " TEMPLATE template0"
                ).format(sql.Identifier(name))
            )
            if not wait_for_flush:
                cur.execute(
                    sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(
                        sql.Identifier(name)
                    )
                )
    finally:
        conn.close()
    params = _connection_params()
    return {
        "dbname": name,
        "host": params.get("host", "127.0.0.1"),
        "port": int(params.get("port", 5432)),
        "user": params.get("user", "postgres"),
        "password": params.get("password", ""),
    }


def drop_database(name: str) -> None:
    conn = psycopg2.connect(admin_dsn())
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )
    finally:
        conn.close()


def connect(dbname: str) -> "psycopg2.extensions.connection":
    params = dict(_connection_params())
    params["dbname"] = dbname
    return psycopg2.connect(**params)


def scratch_database(case: Any) -> "psycopg2.extensions.connection":
    """A fresh database for one storage-level test and a connection to it, closed and
    dropped at the test's cleanup. Without PostgreSQL the test skips with the reason,
    or fails under CI=true."""
    reason = unavailable_reason()
    if reason is not None:
        if must_run():
            raise RuntimeError(f"CI=true requires PostgreSQL: {reason}")
        raise SkipTest(f"skipped: {reason}")
    name = str(create_database(wait_for_flush=False)["dbname"])
    case.addCleanup(drop_database, name)
    conn = connect(name)
    case.addCleanup(conn.close)
    return conn
