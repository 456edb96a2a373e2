# SPDX-License-Identifier: AGPL-3.0-or-later
"""Storage helpers shared by the modules' storage.py files."""

import json
import unicodedata
from typing import Any, Protocol


class Txn(Protocol):
    """What our `_txn` functions use of a transaction: Synapse's LoggingTransaction
    inside the server, modules.common.dbapi.DbApiTxn outside it. SQL uses `?`."""

    def execute(self, sql: str, args: Any = ...) -> Any: ...
    def executemany(self, sql: str, rows: Any) -> Any: ...
    def execute_batch(self, sql: str, rows: Any) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    @property
    def rowcount(self) -> int: ...


def batch(txn: Txn, sql: str, rows: list[Any]) -> None:
    """Run one statement for many rows with as few round trips as the engine allows."""
    if rows:
        txn.execute_batch(sql, rows)


def insert_rows(
    txn: Txn, head: str, rows: list[tuple[Any, ...]], tail: str = "", chunk: int = 200
) -> None:
    """`head VALUES (?, …), (?, …)… tail` with `chunk` rows a statement: one statement
    (and round trip) for many rows, in their order. `head` and `tail` are constant SQL;
    a `tail` of ON CONFLICT … DO UPDATE needs rows with distinct keys (PostgreSQL
    refuses to update one row twice in a statement)."""
    for at in range(0, len(rows), chunk):
        part = rows[at : at + chunk]
        marks = "(" + ", ".join("?" * len(part[0])) + ")"
        txn.execute(
            f"{head} VALUES {', '.join([marks] * len(part))} {tail}".rstrip(),
            tuple(value for row in part for value in row),
        )


def select_in(
    txn: Txn,
    sql: str,
    values: list[Any],
    before: tuple[Any, ...] = (),
    chunk: int = 500,
) -> list[Any]:
    """The rows of `sql` (constant SQL whose `{marks}` stands for an IN list) for all
    `values`, `chunk` of them a statement (engines cap a statement's arguments);
    `before` are the arguments ahead of the list."""
    rows: list[Any] = []
    for at in range(0, len(values), chunk):
        part = values[at : at + chunk]
        txn.execute(sql.format(marks=",".join("?" * len(part))), (*before, *part))
        rows.extend(txn.fetchall())
    return rows


def delete_rows_txn(txn: Txn, table: str, keys: dict[str, Any]) -> bool:
    """DELETE the rows of `table` matching every key (a constant table name and
    column names, values as `?` arguments); True when a row was there."""
    where = " AND ".join(f"{column} = ?" for column in keys)
    txn.execute(f"DELETE FROM {table} WHERE {where}", tuple(keys.values()))  # noqa: S608
    return bool(txn.rowcount > 0)


def fold(text: str) -> str:
    """Text as searches compare it: NFKC (full-width → half-width) and case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def like_contains(term: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') matching `term` anywhere, its %, _ and \\
    taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def read_settings_txn(txn: Txn, table: str) -> dict[str, Any]:
    """An admin-settings table (name, value JSON, updated_by, updated_ts) as a dict."""
    txn.execute(f"SELECT name, value FROM {table}")  # noqa: S608 - our table names
    return {row[0]: json.loads(row[1]) for row in txn.fetchall()}


def write_settings_txn(
    txn: Txn, table: str, values: dict[str, Any], by: str, now: int
) -> None:
    for name, value in values.items():
        txn.execute(f"DELETE FROM {table} WHERE name = ?", (name,))  # noqa: S608
        txn.execute(
            f"INSERT INTO {table} (name, value, updated_by, updated_ts)"  # noqa: S608
            " VALUES (?, ?, ?, ?)",
            (name, json.dumps(value, ensure_ascii=False), by, now),
        )
