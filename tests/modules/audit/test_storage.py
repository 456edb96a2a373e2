# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.audit SQL on real SQLite and PostgreSQL databases: the archiver's step
takes the inbox records it archives in one statement (not one per record, issue 17),
and refuses, changing nothing, when another archiver took one of them first; an inbox
record sealed with the key that still seals is appended as sealed (issue 21: not
sealed a second time), one sealed with a retired key is sealed again."""

from typing import Any

from twisted.trial import unittest

from modules.audit import storage
from modules.audit.chain import ChainWalk
from modules.audit.records import open_body, seal_body
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

    def test_inbox_payload_kept_while_its_key_seals(self) -> None:
        keys = {"k0": b"0" * 16, "k1": b"1" * 16}
        body = {"event": "read", "app_id": "a", "msgid": "m", "user_id": "@u:x"}
        current, retired = seal_body(keys["k1"], body), seal_body(keys["k0"], body)
        self.db(
            storage.inbox_add_many_txn,
            [("r1", "app", 5, "k1", current), ("r2", "app", 6, "k0", retired)],
        )
        drafts = storage.open_inbox(keys, self.db(storage.inbox_txn, 10))
        self.db(
            lambda txn: storage.archive_txn(
                txn,
                0,
                0,
                lambda _t: [],
                ["r1", "r2"],
                drafts,
                "k1",
                keys["k1"],
                keys,
                1,
            )
        )
        records = self.db(storage.records_after_txn, 0, ("app",), 10)
        self.assertEqual([r.key_id for r in records], ["k1", "k1"])
        self.assertEqual(records[0].payload, current)
        self.assertNotEqual(records[1].payload, retired)
        self.assertEqual(
            [open_body(keys, "k1", r.payload) for r in records], [body] * 2
        )
        walk = ChainWalk(keys)
        self.assertTrue(all(walk.feed(r) for r in records), walk.broken)


class SQLiteStorageTest(OnSQLite, StorageTests, unittest.TestCase):
    pass


class PostgresStorageTest(OnPostgres, StorageTests, unittest.TestCase):
    pass
