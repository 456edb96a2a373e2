# SPDX-License-Identifier: AGPL-3.0-or-later
"""The accounts and their subscribers (jwwx_pubacct_accounts, jwwx_pubacct_follows).
Rooms: storage/rooms.py; articles and pushes: storage/articles.py; reads:
storage/reads.py."""

import json
from dataclasses import dataclass
from typing import Any

from modules.common.storage import Txn
from modules.directory import public as directory

_COLUMNS = (
    "id, name, description, avatar, bot_user_id, owners, editors, range_users,"
    " range_departments, range_tags, range_everyone, allow_unfollow, created_by,"
    " created_ts, updated_ts"
)
JSON_FIELDS = ("owners", "editors", "range_users", "range_departments", "range_tags")
FIELDS = tuple(c.strip() for c in _COLUMNS.split(","))


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    description: str
    avatar: str | None
    bot_user_id: str
    owners: tuple[str, ...]
    editors: tuple[str, ...]
    range_users: tuple[str, ...]
    range_departments: tuple[int, ...]
    range_tags: tuple[int, ...]
    range_everyone: bool
    allow_unfollow: bool
    created_by: str
    created_ts: int
    updated_ts: int

    @property
    def key(self) -> int:
        """Its key among broadcast-room owners (modules.openapi.public.Channel)."""
        return self.id

    @staticmethod
    def from_row(row: Any) -> "Account":
        values = dict(zip(FIELDS, row, strict=True))
        for name in JSON_FIELDS:
            values[name] = tuple(json.loads(values[name]))
        values["range_everyone"] = bool(values["range_everyone"])
        values["allow_unfollow"] = bool(values["allow_unfollow"])
        return Account(**values)


def get_account_txn(txn: Txn, account_id: int) -> Account | None:
    txn.execute(
        f"SELECT {_COLUMNS} FROM jwwx_pubacct_accounts WHERE id = ?", (account_id,)
    )
    row = txn.fetchone()
    return None if row is None else Account.from_row(row)


def list_accounts_txn(txn: Txn) -> list[Account]:
    txn.execute(f"SELECT {_COLUMNS} FROM jwwx_pubacct_accounts ORDER BY id")
    return [Account.from_row(r) for r in txn.fetchall()]


_NEXT_ID = {
    "accounts": "SELECT COALESCE(MAX(id), 0) + 1 FROM jwwx_pubacct_accounts",
    "articles": "SELECT COALESCE(MAX(id), 0) + 1 FROM jwwx_pubacct_articles",
    "pushes": "SELECT COALESCE(MAX(id), 0) + 1 FROM jwwx_pubacct_pushes",
}


def next_id_txn(txn: Txn, table: str) -> int:
    """The next id of the accounts, articles or pushes (run serialized)."""
    txn.execute(_NEXT_ID[table])
    return int(txn.fetchone()[0])


def _stored(name: str, value: Any) -> Any:
    if name in JSON_FIELDS:
        return json.dumps(list(value))
    if isinstance(value, bool):
        return int(value)
    return value


def insert_account_txn(txn: Txn, fields: dict[str, Any]) -> int:
    account_id = next_id_txn(txn, "accounts")
    values = {**fields, "id": account_id}
    txn.execute(
        f"INSERT INTO jwwx_pubacct_accounts ({_COLUMNS})"
        f" VALUES ({', '.join('?' * len(FIELDS))})",
        tuple(_stored(n, values[n]) for n in FIELDS),
    )
    return account_id


def update_account_txn(txn: Txn, account_id: int, changes: dict[str, Any]) -> None:
    names = sorted(changes)
    txn.execute(
        "UPDATE jwwx_pubacct_accounts SET "
        + ", ".join(f"{n} = ?" for n in names)
        + " WHERE id = ?",
        (*(_stored(n, changes[n]) for n in names), account_id),
    )


def delete_account_txn(txn: Txn, account_id: int) -> None:
    txn.execute("DELETE FROM jwwx_pubacct_accounts WHERE id = ?", (account_id,))
    txn.execute("DELETE FROM jwwx_pubacct_follows WHERE account_id = ?", (account_id,))
    txn.execute("DELETE FROM jwwx_pubacct_rooms WHERE account_id = ?", (account_id,))
    txn.execute("DELETE FROM jwwx_pubacct_members WHERE account_id = ?", (account_id,))


# Subscribers.


def set_follow_txn(
    txn: Txn, account_id: int, userid: str, following: bool, now: int
) -> None:
    txn.execute(
        "INSERT INTO jwwx_pubacct_follows (account_id, userid, following, ts)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (account_id, userid)"
        " DO UPDATE SET following = excluded.following, ts = excluded.ts",
        (account_id, userid, int(following), now),
    )


def follows_txn(txn: Txn, account_id: int) -> dict[str, bool]:
    txn.execute(
        "SELECT userid, following FROM jwwx_pubacct_follows WHERE account_id = ?",
        (account_id,),
    )
    return {str(r[0]): bool(r[1]) for r in txn.fetchall()}


def member_range_txn(txn: Txn, account: Account) -> directory.MemberRange:
    """The account's range as the directory's member range (tags unfolded)."""
    if account.range_everyone:
        return directory.MemberRange(frozenset(), (), everything=True)
    userids = set(account.range_users)
    department_ids = set(account.range_departments)
    for tag_id in account.range_tags:
        tag = directory.get_tag_txn(txn, tag_id)
        if tag is not None:
            userids.update(tag.userids)
            department_ids.update(tag.department_ids)
    found = directory.get_departments_txn(txn, sorted(department_ids))
    paths = tuple(sorted({d.path for d in found.values()}))
    return directory.MemberRange(frozenset(userids), paths)


def in_range_txn(txn: Txn, account: Account) -> set[str]:
    return set(directory.deliverable_txn(txn, member_range_txn(txn, account), None))


def subscribers_txn(txn: Txn, account: Account) -> list[str]:
    """Who receives the account: deliverable members of its range and its followers,
    less who unfollowed."""
    wanted = in_range_txn(txn, account)
    follows = follows_txn(txn, account.id)
    followers = [u for u, on in follows.items() if on]
    if followers:
        wanted.update(
            directory.deliverable_txn(
                txn, directory.MemberRange(frozenset(followers), ()), None
            )
        )
    return sorted(u for u in wanted if follows.get(u, True))
