# SPDX-License-Identifier: AGPL-3.0-or-later
"""Storage tests without a homeserver: a package's schema applied to an in-memory
SQLite database or a scratch PostgreSQL one, and `_txn` functions run in a
transaction on it, as Synapse's pool would run them."""

import sqlite3
from typing import Any

from modules.common.dbapi import run_in_transaction
from modules.common.migrations import apply_migrations_txn, package_schema_files
from tests.harness import postgres


class StorageCase:
    """Mixed into a test class with one of the engine mixins below; `package` names
    the module whose schema files are applied before each test."""

    package = ""
    engine: str  # from the engine mixin
    conn: Any

    def db(self, fn: Any, *args: Any) -> Any:
        return run_in_transaction(self.conn, self.engine, fn, *args)

    def prepare(self) -> None:
        files = package_schema_files(self.package)
        self.db(apply_migrations_txn, self.package, files)


class OnSQLite:
    engine = "sqlite"
    conn: Any

    def setUp(self) -> None:
        self.conn = sqlite3.connect(":memory:", isolation_level=None)
        self.addCleanup(self.conn.close)  # type: ignore[attr-defined]
        self.prepare()  # type: ignore[attr-defined]


class OnPostgres:
    engine = "postgres"
    conn: Any

    def setUp(self) -> None:
        self.conn = postgres.scratch_database(self)
        self.prepare()  # type: ignore[attr-defined]
