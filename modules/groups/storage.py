# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of modules.groups (`?` placeholders; run through api.run_db_interaction)."""

from dataclasses import dataclass
from typing import Any

from modules.common.storage import (
    Txn,
    delete_rows_txn,
    read_settings_txn,
    write_settings_txn,
)


def get_settings_txn(txn: Txn) -> dict[str, Any]:
    return read_settings_txn(txn, "jwwx_groups_settings")


def put_settings_txn(txn: Txn, values: dict[str, Any], by: str, now: int) -> None:
    write_settings_txn(txn, "jwwx_groups_settings", values, by, now)


@dataclass(frozen=True)
class JoinLink:
    token: str
    room_id: str
    created_by: str
    created_ts: int
    expires_ts: int
    revoked_ts: int | None
    revoked_by: str | None
    uses: int

    def as_json(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "room_id": self.room_id,
            "created_by": self.created_by,
            "created_ts": self.created_ts,
            "expires_ts": self.expires_ts,
            "revoked": self.revoked_ts is not None,
            "uses": self.uses,
        }


_LINK_COLUMNS = (
    "token, room_id, created_by, created_ts, expires_ts, revoked_ts, revoked_by, uses"
)


def _link(row: Any) -> JoinLink:
    return JoinLink(
        row[0],
        row[1],
        row[2],
        int(row[3]),
        int(row[4]),
        None if row[5] is None else int(row[5]),
        row[6],
        int(row[7]),
    )


def insert_link_txn(txn: Txn, link: JoinLink) -> None:
    txn.execute(
        f"INSERT INTO jwwx_groups_join_links ({_LINK_COLUMNS})"  # noqa: S608
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            link.token,
            link.room_id,
            link.created_by,
            link.created_ts,
            link.expires_ts,
            link.revoked_ts,
            link.revoked_by,
            link.uses,
        ),
    )


def get_link_txn(txn: Txn, token: str) -> JoinLink | None:
    txn.execute(
        f"SELECT {_LINK_COLUMNS} FROM jwwx_groups_join_links WHERE token = ?",  # noqa: S608
        (token,),
    )
    row = txn.fetchone()
    return _link(row) if row else None


def list_links_txn(txn: Txn, room_id: str) -> list[JoinLink]:
    txn.execute(
        f"SELECT {_LINK_COLUMNS} FROM jwwx_groups_join_links"  # noqa: S608
        " WHERE room_id = ? ORDER BY created_ts DESC, token",
        (room_id,),
    )
    return [_link(row) for row in txn.fetchall()]


def _revoke_txn(txn: Txn, column: str, value: str, by: str, now: int) -> None:
    txn.execute(
        "UPDATE jwwx_groups_join_links SET revoked_ts = ?, revoked_by = ?"
        f" WHERE {column} = ? AND revoked_ts IS NULL",  # noqa: S608
        (now, by, value),
    )


def revoke_link_txn(txn: Txn, token: str, by: str, now: int) -> None:
    _revoke_txn(txn, "token", token, by, now)


def revoke_room_links_txn(txn: Txn, room_id: str, by: str, now: int) -> None:
    _revoke_txn(txn, "room_id", room_id, by, now)


def count_use_txn(txn: Txn, token: str) -> None:
    txn.execute(
        "UPDATE jwwx_groups_join_links SET uses = uses + 1 WHERE token = ?", (token,)
    )


def save_group_txn(txn: Txn, user_id: str, room_id: str, now: int) -> None:
    txn.execute(
        "SELECT 1 FROM jwwx_groups_saved WHERE user_id = ? AND room_id = ?",
        (user_id, room_id),
    )
    if txn.fetchone() is None:
        txn.execute(
            "INSERT INTO jwwx_groups_saved (user_id, room_id, created_ts)"
            " VALUES (?, ?, ?)",
            (user_id, room_id, now),
        )


def unsave_group_txn(txn: Txn, user_id: str, room_id: str) -> bool:
    return delete_rows_txn(
        txn, "jwwx_groups_saved", {"user_id": user_id, "room_id": room_id}
    )


def saved_groups_txn(txn: Txn, user_id: str) -> list[str]:
    txn.execute(
        "SELECT room_id FROM jwwx_groups_saved WHERE user_id = ?"
        " ORDER BY created_ts DESC, room_id",
        (user_id,),
    )
    return [row[0] for row in txn.fetchall()]


def retention_applied_txn(txn: Txn) -> dict[str, str]:
    txn.execute("SELECT room_id, policy FROM jwwx_groups_retention_applied")
    return {row[0]: row[1] for row in txn.fetchall()}


def set_retention_applied_txn(txn: Txn, room_id: str, policy: str, now: int) -> None:
    txn.execute(
        "DELETE FROM jwwx_groups_retention_applied WHERE room_id = ?", (room_id,)
    )
    txn.execute(
        "INSERT INTO jwwx_groups_retention_applied (room_id, policy, applied_ts)"
        " VALUES (?, ?, ?)",
        (room_id, policy, now),
    )
