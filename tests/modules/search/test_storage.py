# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.search SQL on real SQLite and PostgreSQL databases: a message is indexed in
one statement on PostgreSQL (its terms with the row), and a step repeated after a crash
adds nothing, under either of the row's keys."""

import sqlite3
from typing import Any

from twisted.trial import unittest

from modules.common.dbapi import run_in_transaction
from modules.common.migrations import apply_migrations_txn, package_schema_files
from modules.search import storage
from modules.search.extract import Document
from modules.search.text import query_phrases
from tests.harness import postgres
from tests.harness.statements import CountingTxn

ROOM = "!room:example.org"


def _doc(event_id: str, text: str) -> Document:
    return Document(
        event_id=event_id,
        room_id=ROOM,
        sender="@a:example.org",
        origin_ts=1,
        kind="text",
        msgtype="m.text",
        text=text,
    )


class StorageTests:
    engine = "sqlite"
    conn: Any

    def db(self, fn: Any, *args: Any) -> Any:
        return run_in_transaction(self.conn, self.engine, fn, *args)

    def prepare(self) -> None:
        files = package_schema_files("modules.search")
        self.db(apply_migrations_txn, "modules.search", files)

    def apply(self, actions: list[tuple[int, Any]], statements: list[str]) -> None:
        self.db(lambda txn: storage.apply_txn(CountingTxn(txn, statements), actions))

    def found(self, words: str) -> list[str]:
        query = storage.Query(tuple(query_phrases(words)), (ROOM,), limit=10)
        return [hit.event_id for hit in self.db(storage.search_txn, query)]

    def test_indexed_once_and_a_repeated_step_adds_nothing(self) -> None:
        statements: list[str] = []
        self.apply([(10, _doc("$a", "派出所值班安排"))], statements)
        if self.engine == "postgres":
            self.assertEqual(len(statements), 1, statements)
        self.assertEqual(self.found("值班"), ["$a"])
        # The same step again (a crash before the cursor moved), and the same event
        # at another position: neither adds a row or a second match.
        self.apply([(10, _doc("$a", "派出所值班安排"))], [])
        self.apply([(11, _doc("$a", "派出所值班安排"))], [])
        self.apply([(12, _doc("$b", "值班表"))], [])
        self.assertEqual(self.found("值班"), ["$b", "$a"])
        self.assertEqual(self.found("派出所"), ["$a"])


class SQLiteStorageTest(StorageTests, unittest.TestCase):
    def setUp(self) -> None:
        self.conn = sqlite3.connect(":memory:", isolation_level=None)
        self.prepare()

    def tearDown(self) -> None:
        self.conn.close()


class PostgresStorageTest(StorageTests, unittest.TestCase):
    engine = "postgres"

    def setUp(self) -> None:
        self.conn = postgres.scratch_database(self)
        self.prepare()
