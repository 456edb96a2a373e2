# SPDX-License-Identifier: AGPL-3.0-or-later
"""Run our `_txn` functions on a plain DB-API connection (launcher, store tests).

Inside Synapse, run_db_interaction gives a transaction that rewrites `?` placeholders for
PostgreSQL; this adapter does the same for a raw sqlite3 or psycopg2 cursor, so one SQL
string serves both engines everywhere.
"""

from collections.abc import Callable
from typing import Any, TypeVar

R = TypeVar("R")


class DbApiTxn:
    def __init__(self, cursor: Any, engine: str) -> None:
        self._cursor = cursor
        self.jwwx_engine = engine

    def execute(self, sql: str, args: Any = ()) -> None:
        if self.jwwx_engine == "postgres":
            sql = sql.replace("?", "%s")
        self._cursor.execute(sql, args)

    def executemany(self, sql: str, rows: Any) -> None:
        if self.jwwx_engine == "postgres":
            sql = sql.replace("?", "%s")
        self._cursor.executemany(sql, rows)

    def execute_batch(self, sql: str, rows: Any) -> None:
        if self.jwwx_engine == "postgres":
            from psycopg2.extras import execute_batch

            execute_batch(self._cursor, sql.replace("?", "%s"), rows)
        else:
            self._cursor.executemany(sql, rows)

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)


def run_in_transaction(
    connection: Any, engine: str, fn: Callable[..., R], *args: Any
) -> R:
    """Call fn(txn, *args) in one transaction: commit on success, roll back on error."""
    cursor = connection.cursor()
    try:
        if engine == "sqlite":
            cursor.execute("BEGIN")
        result = fn(DbApiTxn(cursor, engine), *args)
        connection.commit()
        return result
    except BaseException:
        connection.rollback()
        raise
    finally:
        cursor.close()
