"""Storage helpers shared by the modules' storage.py files."""

from typing import Any, Protocol


class Txn(Protocol):
    """What our `_txn` functions use of a transaction: Synapse's LoggingTransaction
    inside the server, modules.common.dbapi.DbApiTxn outside it. SQL uses `?`."""

    def execute(self, sql: str, args: Any = ...) -> Any: ...
    def executemany(self, sql: str, rows: Any) -> Any: ...
    def execute_batch(self, sql: str, rows: Any) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


def batch(txn: Txn, sql: str, rows: list[Any]) -> None:
    """Run one statement for many rows with as few round trips as the engine allows."""
    if rows:
        txn.execute_batch(sql, rows)
