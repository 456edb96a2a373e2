# SPDX-License-Identifier: AGPL-3.0-or-later
"""The mail bridge's own state, in a SQLite file of its own (`state_database`): one row
per bound mailbox. Passwords are SM4-sealed (modules/common/gm) with the bridge's
seal key; mails are never written here."""

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from modules.common.dbapi import run_in_transaction
from modules.common.gm import GmError, sm4_open, sm4_seal
from modules.common.migrations import apply_migrations_txn, package_schema_files

logger = logging.getLogger(__name__)
R = TypeVar("R")
COLUMNS = "user_id, login, sealed_password, room_id, uid_validity, last_uid, reminder"


@dataclass(frozen=True)
class Account:
    user_id: str
    login: str
    password: str
    room_id: str
    uid_validity: int
    last_uid: int
    reminder: str | None = None  # his own choice ("subject", "count") or the default


def _get_txn(txn: Any, user_id: str) -> Any:
    txn.execute(f"SELECT {COLUMNS} FROM mail_accounts WHERE user_id = ?", (user_id,))
    return txn.fetchone()


def _all_txn(txn: Any) -> list[Any]:
    txn.execute(f"SELECT {COLUMNS} FROM mail_accounts ORDER BY user_id")
    return txn.fetchall()


def _put_txn(txn: Any, row: tuple[Any, ...]) -> None:
    txn.execute("DELETE FROM mail_accounts WHERE user_id = ?", (row[0],))
    txn.execute(
        f"INSERT INTO mail_accounts ({COLUMNS}, bound_ts)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (*row, int(time.time() * 1000)),
    )


def _seen_txn(txn: Any, user_id: str, uid_validity: int, last_uid: int) -> None:
    txn.execute(
        "UPDATE mail_accounts SET uid_validity = ?, last_uid = ? WHERE user_id = ?",
        (uid_validity, last_uid, user_id),
    )


def _reminder_txn(txn: Any, user_id: str, reminder: str | None) -> int:
    txn.execute(
        "UPDATE mail_accounts SET reminder = ? WHERE user_id = ?", (reminder, user_id)
    )
    return int(txn.rowcount)


def _delete_txn(txn: Any, user_id: str) -> int:
    txn.execute("DELETE FROM mail_accounts WHERE user_id = ?", (user_id,))
    return int(txn.rowcount)


class MailStore:
    def __init__(self, path: Path, seal_key: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None)
        self._key = seal_key
        self._run(
            apply_migrations_txn, "bridges.mail", package_schema_files(__package__)
        )

    def _run(self, fn: Callable[..., R], *args: Any) -> R:
        return run_in_transaction(self._db, "sqlite", fn, *args)

    def _account(self, row: Any) -> Account | None:
        """The row's account; None when its password does not open with this seal
        key (the key was replaced): the officer binds his mailbox again."""
        try:
            password = sm4_open(self._key, bytes(row[2])).decode("utf-8")
        except (GmError, UnicodeDecodeError):
            logger.warning("mailbox of %s: sealed with another key, skipped", row[0])
            return None
        return Account(
            row[0], row[1], password, row[3], int(row[4]), int(row[5]), row[6]
        )

    def get(self, user_id: str) -> Account | None:
        row = self._run(_get_txn, user_id)
        return None if row is None else self._account(row)

    def all(self) -> list[Account]:
        found = [self._account(row) for row in self._run(_all_txn)]
        return [a for a in found if a is not None]

    def put(self, account: Account) -> None:
        sealed = sm4_seal(self._key, account.password.encode("utf-8"))
        self._run(
            _put_txn,
            (
                account.user_id,
                account.login,
                sealed,
                account.room_id,
                account.uid_validity,
                account.last_uid,
                account.reminder,
            ),
        )

    def seen(self, user_id: str, uid_validity: int, last_uid: int) -> None:
        self._run(_seen_txn, user_id, uid_validity, last_uid)

    def set_reminder(self, user_id: str, reminder: str | None) -> bool:
        return self._run(_reminder_txn, user_id, reminder) > 0

    def delete(self, user_id: str) -> bool:
        return self._run(_delete_txn, user_id) > 0

    def close(self) -> None:
        self._db.close()
