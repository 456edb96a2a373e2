# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.accounts SQL on real SQLite and PostgreSQL databases, with made-up clocks:
lock expiry and windows (no waiting), lock release, log paging and pruning."""

import dataclasses
from typing import Any

from twisted.trial import unittest

from modules.accounts import storage
from modules.accounts.login_writes import LoginWrite, write_batch_txn
from modules.accounts.mfa import bound_device_txn
from modules.common.migrations import apply_migrations_txn, package_schema_files
from modules.directory import auth as directory_auth
from modules.directory.auth import InitialLookup
from modules.directory.storage import provisioning as directory_store
from tests.harness.statements import CountingTxn
from tests.harness.storage_case import OnPostgres, OnSQLite, StorageCase

MINUTE = 60_000
USER = "@zhangsan:test"


def entry(ts: int, result: str, user_id: str = USER) -> storage.LogEntry:
    return storage.LogEntry(
        ts=ts,
        kind="login",
        user_id=user_id,
        identifier="zhangsan",
        login_type="m.login.password",
        ip="10.0.0.1",
        device_id=None,
        user_agent="test",
        platform="other",
        result=result,
    )


class StorageTests(StorageCase):
    package = "modules.accounts"

    def failure(self, now: int, lock_minutes: int = 30) -> bool:
        """One wrong password: 5 within 15 minutes lock for `lock_minutes`."""
        return bool(
            self.db(
                storage.count_failure_txn,
                storage.USER,
                USER,
                now,
                15 * MINUTE,
                5,
                lock_minutes * MINUTE,
            )
        )

    def lock(self, now: int) -> int | None:
        result = self.db(storage.lock_of_txn, storage.USER, USER, now)
        return None if result is None else int(result)

    def test_lock_after_n_failures_expires_by_itself(self) -> None:
        t0 = 1_000_000_000
        self.assertEqual([self.failure(t0 + i) for i in range(4)], [False] * 4)
        self.assertIsNone(self.lock(t0 + 5))
        self.assertTrue(self.failure(t0 + 10))
        self.assertEqual(self.lock(t0 + 11), t0 + 10 + 30 * MINUTE)
        locks = self.db(storage.list_locks_txn, t0 + 11, 10)
        self.assertEqual(
            [(x["scope"], x["subject"], x["failures"]) for x in locks],
            [("user", USER, 5)],
        )
        # Over: no lock, and the next failure starts a new count.
        later = t0 + 31 * MINUTE
        self.assertIsNone(self.lock(later))
        self.assertEqual(self.db(storage.list_locks_txn, later, 10), [])
        self.assertFalse(self.failure(later))
        self.assertIsNone(self.lock(later + 1))

    def test_failures_outside_the_window_do_not_add_up(self) -> None:
        t0 = 2_000_000_000
        for i in range(4):
            self.assertFalse(self.failure(t0 + i))
        self.assertFalse(self.failure(t0 + 16 * MINUTE))  # a new window: 1 failure
        self.assertIsNone(self.lock(t0 + 16 * MINUTE))

    def test_lock_until_released_and_release(self) -> None:
        t0 = 3_000_000_000
        for i in range(5):
            self.failure(t0 + i, lock_minutes=0)
        far = t0 + 10**9
        self.assertEqual(self.lock(far), storage.FOREVER)
        locks = self.db(storage.list_locks_txn, far, 10)
        self.assertIsNone(locks[0]["locked_until_ts"])
        self.assertTrue(self.db(storage.clear_failures_txn, storage.USER, USER))
        self.assertIsNone(self.lock(far))
        self.assertFalse(self.db(storage.clear_failures_txn, storage.USER, USER))

    def test_log_paging_filters_and_pruning(self) -> None:
        for ts, result in ((100, "failed"), (200, "ok"), (300, "failed")):
            self.db(storage.add_log_txn, entry(ts, result))
        self.db(storage.add_log_txn, entry(400, "ok", "@lisi:test"))
        mine = self.db(storage.list_log_txn, {"user_id": USER}, None, 2)
        self.assertEqual([e["ts"] for e in mine], [300, 200])
        rest = self.db(storage.list_log_txn, {"user_id": USER}, mine[-1]["id"], 2)
        self.assertEqual([e["ts"] for e in rest], [100])
        failed = self.db(storage.list_log_txn, {"result": "failed"}, None, 10)
        self.assertEqual([e["ts"] for e in failed], [300, 100])
        self.db(storage.prune_log_txn, 250)
        left = self.db(storage.list_log_txn, {}, None, 10)
        self.assertEqual([e["ts"] for e in left], [400, 300])

    def test_device_key_binding(self) -> None:
        def add_txn(txn: Any) -> None:
            txn.execute(
                "INSERT INTO jwwx_acc_device_keys (key_id, user_id, label, key_mac,"
                " created_by, created_ts, device_id) VALUES"
                " ('AB12CD34', ?, 'x', 'mac', '@admin:test', 1, 'CAR1'),"
                " ('EF56AB78', ?, 'y', 'mac', '@admin:test', 1, NULL)",
                (USER, USER),
            )

        self.db(add_txn)
        self.assertEqual(self.db(bound_device_txn, USER, "jwk-ab12cd34-SECRET"), "CAR1")
        self.assertIsNone(self.db(bound_device_txn, USER, "JWK-EF56AB78-SECRET"))
        self.assertIsNone(self.db(bound_device_txn, "@other:test", "JWK-AB12CD34-S"))
        self.assertIsNone(self.db(bound_device_txn, USER, "123456"))
        self.assertIsNone(self.db(bound_device_txn, USER, None))

    def test_login_read_in_one_statement(self) -> None:
        """login_read_txn gives what the separate reads give: locks (the account's
        before the address's, expired ones not), second factor, key binding, sessions
        with their devices' liveness, earlier successful logins newest first."""
        t0 = 4_000_000_000

        def setup_txn(txn: Any) -> None:
            # Synapse's devices table, as far as the liveness condition reads it.
            txn.execute(
                "CREATE TABLE devices (user_id TEXT NOT NULL, device_id TEXT NOT NULL,"
                " hidden BOOLEAN NOT NULL DEFAULT FALSE)"
            )
            txn.execute(
                "INSERT INTO devices (user_id, device_id, hidden) VALUES"
                " (?, 'PHONE', FALSE), (?, 'HIDDEN', TRUE), ('@other:test', 'PC', FALSE)",
                (USER, USER),
            )
            txn.execute(
                "INSERT INTO jwwx_acc_device_keys (key_id, user_id, label, key_mac,"
                " created_by, created_ts, device_id, revoked_ts) VALUES"
                " ('AB12CD34', ?, 'x', 'mac', '@admin:test', 1, 'CAR1', 5)",
                (USER,),
            )

        self.db(setup_txn)
        for device, login_ts in (("PHONE", 10), ("PC", 20), ("HIDDEN", 30)):
            self.db(
                storage.add_session_txn,
                USER,
                device,
                "mobile",
                "ua",
                "10.0.0.1",
                login_ts,
            )
        for ts, result in ((100, "ok"), (200, "failed"), (300, "ok")):
            self.db(storage.add_log_txn, entry(ts, result))
        self.db(storage.add_log_txn, entry(400, "ok", "@lisi:test"))

        def read(**kwargs: Any) -> storage.LoginRead:
            return self.db(lambda txn: storage.login_read_txn(txn, USER, **kwargs))

        nothing = read()
        self.assertEqual(
            (nothing.locked_until, nothing.sessions, nothing.earlier),
            (None, None, None),
        )
        full = read(
            now=t0, ip="10.0.0.9", mfa=True, key_id="AB12CD34", sessions=True, history=5
        )
        self.assertIsNone(full.locked_until)
        self.assertFalse(full.second_factor)  # the one key is revoked
        self.assertEqual(full.bound_device, "CAR1")
        self.assertEqual(
            full.sessions,
            {"PHONE": ("mobile", 10), "PC": ("mobile", 20), "HIDDEN": ("mobile", 30)},
        )
        self.assertEqual(full.live, {"PHONE"})
        # Two logins from one place: one pair (what the new-place check compares).
        self.assertEqual(full.earlier, [("10.0.0.1", "test")])
        self.assertEqual(read(history=1).earlier, [("10.0.0.1", "test")])
        elsewhere = dataclasses.replace(entry(350, "ok"), ip="10.9.0.1")
        self.db(storage.add_log_txn, elsewhere)
        self.db(storage.add_log_txn, entry(360, "ok"))
        self.assertEqual(
            read(history=5).earlier, [("10.0.0.1", "test"), ("10.9.0.1", "test")]
        )
        # Only the last `history` logins count: the older place drops out.
        self.assertEqual(read(history=1).earlier, [("10.0.0.1", "test")])
        self.assertEqual(
            read(history=2).earlier, [("10.0.0.1", "test"), ("10.9.0.1", "test")]
        )
        # A device logging in again replaces its session row.
        self.db(storage.add_session_txn, USER, "PC", "desktop", "ua2", None, 40)
        self.assertEqual(self.db(storage.sessions_txn, USER)["PC"], ("desktop", 40))
        self.db(storage.forget_sessions_txn, USER, [])
        self.db(storage.forget_sessions_txn, USER, ["PC", "HIDDEN"])
        self.assertEqual(set(self.db(storage.sessions_txn, USER)), {"PHONE"})
        self.assertIsNone(read(key_id="NOSUCHKEY").bound_device)

        # The address locked for ever, then the account for 30 minutes: the account's
        # lock is the answer while it lasts, the address's after.
        for i in range(5):
            self.db(
                storage.count_failure_txn, storage.IP, "10.0.0.9", t0 + i, MINUTE, 5, 0
            )
        self.assertEqual(read(now=t0 + 5, ip="10.0.0.9").locked_until, storage.FOREVER)
        self.assertIsNone(read(now=t0 + 5, ip="10.0.0.8").locked_until)
        for i in range(5):
            self.failure(t0 + 10 + i)
        self.assertEqual(
            read(now=t0 + 20, ip="10.0.0.9").locked_until, t0 + 14 + 30 * MINUTE
        )
        later = t0 + 31 * MINUTE
        self.assertIsNone(read(now=later).locked_until)
        self.assertEqual(read(now=later, ip="10.0.0.9").locked_until, storage.FOREVER)

        # TOTP confirmed, or an active device key: a second factor is needed.
        self.db(storage.start_totp_txn, USER, "sealed", t0)
        self.assertFalse(read(mfa=True).second_factor)
        self.db(storage.confirm_totp_txn, USER, [], t0)
        self.assertTrue(read(mfa=True).second_factor)
        self.assertFalse(read().second_factor)  # not asked
        self.db(storage.delete_totp_txn, USER)
        self.db(
            storage.add_device_key_txn, "EF56AB78", USER, "y", "mac", "@a:t", 1, None
        )
        self.assertTrue(read(mfa=True).second_factor)

    def test_login_read_takes_the_initial_password_lookup(self) -> None:
        """The directory's initial-password lookup rides in the same statement as the
        locks and sessions (the one round trip of ours before a login's answer) and
        says what its own read says: no MAC, or the MAC with whether the account
        exists and has a password of its own."""

        def setup_txn(txn: Any) -> None:
            # Synapse's tables, as far as the login read (and the directory's schema)
            # reads them.
            txn.execute(
                "CREATE TABLE devices (user_id TEXT NOT NULL, device_id TEXT NOT NULL,"
                " hidden BOOLEAN NOT NULL DEFAULT FALSE)"
            )
            txn.execute(
                "CREATE TABLE users (name TEXT PRIMARY KEY, password_hash TEXT)"
            )

        self.db(setup_txn)
        self.db(
            apply_migrations_txn,
            "modules.directory",
            package_schema_files("modules.directory"),
        )

        def lookup(**kwargs: Any) -> tuple[InitialLookup, int]:
            statements: list[str] = []
            read = self.db(
                lambda txn: storage.login_read_txn(
                    CountingTxn(txn, statements),
                    USER,
                    now=1,
                    ip="10.0.0.1",
                    mfa=True,
                    sessions=True,
                    history=5,
                    extra=(directory_store.initial_password_part_sql(), (USER,)),
                    **kwargs,
                )
            )
            return directory_auth.lookup_of(read.extra), len(statements)

        self.assertEqual(lookup(), (InitialLookup(None, True, False), 1))

        def write(sql: str, *args: Any) -> None:
            self.db(lambda txn: txn.execute(sql, args))

        write(
            "INSERT INTO jwwx_dir_initial_passwords (user_id, mac, created_ts)"
            " VALUES (?, 'MAC1', 1)",
            USER,
        )
        # Issued, the account not created yet (its first login creates it).
        self.assertEqual(lookup(), (InitialLookup("MAC1", False, False), 1))
        write("INSERT INTO users (name, password_hash) VALUES (?, NULL)", USER)
        found, statements = lookup()
        self.assertEqual((found, statements), (InitialLookup("MAC1", True, False), 1))
        self.assertTrue(found.must_change)
        write("UPDATE users SET password_hash = '' WHERE name = ?", USER)
        self.assertEqual(lookup()[0], InitialLookup("MAC1", True, False))
        write("UPDATE users SET password_hash = 'hash' WHERE name = ?", USER)
        found, _ = lookup()
        self.assertEqual(found, InitialLookup("MAC1", True, True))
        self.assertFalse(found.must_change)
        # Another account's initial password is not this one's.
        write("DELETE FROM jwwx_dir_initial_passwords WHERE user_id = ?", USER)
        write(
            "INSERT INTO jwwx_dir_initial_passwords (user_id, mac, created_ts)"
            " VALUES ('@lisi:test', 'MAC2', 1)"
        )
        self.assertEqual(lookup()[0], InitialLookup(None, True, False))

    def test_login_batch_in_a_few_statements(self) -> None:
        """The coalesced writes of many logins (login_writes.write_batch_txn) are one
        statement per table and kind, not a few per login, and write what the
        one-by-one writes wrote: entries in the order queued, failure counts of the
        batch's accounts cleared (no one else's), session rows by the last write."""
        t0 = 4_000_000_000
        for user in (USER, "@lisi:test"):
            for i in range(5):
                self.db(
                    storage.count_failure_txn, storage.USER, user, t0 + i, MINUTE, 5, 0
                )
        for device, platform in (("PC", "desktop"), ("OLD", "mobile")):
            self.db(storage.add_session_txn, USER, device, platform, "ua", None, 1)
        earlier = self.db(storage.add_log_txn, entry(50, "verified"))

        def row(user: str, device: str, ts: int) -> storage.SessionRow:
            return storage.SessionRow(user, device, "mobile", "ua", "10.0.0.2", ts)

        batch = [
            LoginWrite(
                f"@police{i}:test",
                entries=[entry(100 + i, "ok", f"@police{i}:test")],
                clear_failures=True,
                session=row(f"@police{i}:test", "PHONE", 100 + i),
            )
            for i in range(12)
        ]
        batch += [
            LoginWrite(
                USER,
                entries=[entry(200, "ok")],
                clear_failures=True,
                session=row(USER, "NEW", 200),
                forget=["PC"],
            ),
            LoginWrite(USER, entries=[entry(201, "signed_out")], forget=["OLD"]),
            LoginWrite(USER, finish=(earlier, "TAB")),
            # Queued and forgotten in one batch; forgotten and queued again.
            LoginWrite(USER, session=row(USER, "GONE", 202)),
            LoginWrite(USER, forget=["GONE", "BACK"]),
            LoginWrite(USER, session=row(USER, "BACK", 203)),
        ]
        statements: list[str] = []
        self.db(lambda txn: write_batch_txn(CountingTxn(txn, statements), batch))
        verbs = sorted(sql.split()[0] for sql in statements)
        self.assertEqual(verbs, ["DELETE", "DELETE", "INSERT", "INSERT", "UPDATE"])

        log = self.db(storage.list_log_txn, {}, None, 100)
        self.assertEqual(
            [e["ts"] for e in reversed(log)], [50, *range(100, 112), 200, 201]
        )
        finished = [e for e in log if e["id"] == earlier][0]
        self.assertEqual((finished["result"], finished["device_id"]), ("ok", "TAB"))
        self.assertIsNone(self.lock(t0 + 10))
        self.assertIsNotNone(
            self.db(storage.lock_of_txn, storage.USER, "@lisi:test", t0 + 10)
        )
        self.assertEqual(
            self.db(storage.sessions_txn, USER),
            {"NEW": ("mobile", 200), "BACK": ("mobile", 203)},
        )
        self.assertEqual(
            self.db(storage.sessions_txn, "@police11:test"), {"PHONE": ("mobile", 111)}
        )
        # One login alone: its entry, its cleared count, its session.
        statements.clear()
        self.db(lambda txn: write_batch_txn(CountingTxn(txn, statements), batch[:1]))
        self.assertEqual(len(statements), 3)


class SQLiteStorageTest(OnSQLite, StorageTests, unittest.TestCase):
    pass


class PostgresStorageTest(OnPostgres, StorageTests, unittest.TestCase):
    pass
