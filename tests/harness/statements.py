# SPDX-License-Identifier: AGPL-3.0-or-later
"""Statements a `_txn` function sends, for tests that pin how many round trips a piece
of work costs (issue 17: statements per login, per archived record)."""

from typing import Any

from modules.common.synapse.database import engine_of_txn


class CountingTxn:
    """A transaction that notes each statement (a round trip) it sends."""

    def __init__(self, txn: Any, statements: list[str]) -> None:
        self._txn = txn
        self._statements = statements
        # engine_of_txn asks the transaction it is given which engine it runs on.
        self.jwwx_engine = engine_of_txn(txn)

    def execute(self, sql: str, args: Any = ()) -> Any:
        self._statements.append(sql)
        return self._txn.execute(sql, args)

    def executemany(self, sql: str, rows: Any) -> Any:
        rows = list(rows)
        self._statements.extend([sql] * len(rows))  # one round trip each
        return self._txn.executemany(sql, rows)

    def execute_batch(self, sql: str, rows: Any) -> Any:
        self._statements.append(sql)  # one round trip (psycopg2's execute_batch)
        return self._txn.execute_batch(sql, rows)

    def fetchone(self) -> Any:
        return self._txn.fetchone()

    def fetchall(self) -> list[Any]:
        return self._txn.fetchall()

    @property
    def rowcount(self) -> int:
        return int(self._txn.rowcount)
