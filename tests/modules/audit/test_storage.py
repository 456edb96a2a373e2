# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.audit SQL on real SQLite and PostgreSQL databases: the archiver's step
takes the inbox records it archives in one statement (not one per record, issue 17),
and refuses, changing nothing, when another archiver took one of them first."""

from typing import Any

from twisted.trial import unittest

from modules.audit import storage
from tests.harness.statements import CountingTxn
from tests.harness.storage_case import OnPostgres, OnSQLite, StorageCase


class StorageTests(StorageCase):
    package = "modules.audit"

    def archive(self, ids: list[str], statements: list[str]) -> Any:
        def step_txn(txn: Any) -> Any:
            return storage.archive_txn(
                CountingTxn(txn, statements),
                0,
                0,
                lambda _txn: [],
                ids,
                [],
                "k1",
                b"k" * 32,
                {},
                1,
            )

        return self.db(step_txn)

    def test_inbox_records_taken_in_one_statement(self) -> None:
        ids = [f"r{i:03d}" for i in range(30)]
        self.db(
            storage.inbox_add_many_txn,
            [(i, "login", 1, "k1", "sealed") for i in ids],
        )
        statements: list[str] = []
        self.archive(ids[:20], statements)
        deletes = [s for s in statements if s.startswith("DELETE")]
        self.assertEqual(len(deletes), 1)
        left = self.db(storage.inbox_txn, 100)
        self.assertEqual([row[0] for row in left], ids[20:])
        # One of them already archived by another process: nothing is taken.
        with self.assertRaises(storage.ConcurrentArchiverError):
            self.archive(ids[18:25], [])
        self.assertEqual([row[0] for row in self.db(storage.inbox_txn, 100)], ids[20:])


class SQLiteStorageTest(OnSQLite, StorageTests, unittest.TestCase):
    pass


class PostgresStorageTest(OnPostgres, StorageTests, unittest.TestCase):
    pass
