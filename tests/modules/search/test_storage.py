# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.search SQL on real SQLite and PostgreSQL databases: a message is indexed in
one statement on PostgreSQL (its terms with the row), and a step repeated after a crash
adds nothing, under either of the row's keys."""

from typing import Any

from twisted.trial import unittest

from modules.search import storage
from modules.search.extract import Document
from modules.search.text import query_phrases
from tests.harness.statements import CountingTxn
from tests.harness.storage_case import OnPostgres, OnSQLite, StorageCase

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


class StorageTests(StorageCase):
    package = "modules.search"

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


class SQLiteStorageTest(OnSQLite, StorageTests, unittest.TestCase):
    pass


class PostgresStorageTest(OnPostgres, StorageTests, unittest.TestCase):
    pass
