# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of modules.burn."""

from dataclasses import dataclass
from typing import Any

from modules.common.storage import Txn


@dataclass(frozen=True)
class BurnMessage:
    event_id: str
    room_id: str
    sender: str
    ttl_ms: int
    created_ts: int
    stream_ordering: int | None
    read_ts: int | None
    burn_at: int | None


_COLUMNS = (
    "event_id, room_id, sender, ttl_ms, created_ts, stream_ordering, read_ts, burn_at"
)


def _message(row: Any) -> BurnMessage:
    def opt(value: Any) -> int | None:
        return None if value is None else int(value)

    return BurnMessage(
        row[0],
        row[1],
        row[2],
        int(row[3]),
        int(row[4]),
        opt(row[5]),
        opt(row[6]),
        opt(row[7]),
    )


def record_txn(
    txn: Txn, event_id: str, room_id: str, sender: str, ttl_ms: int, now: int
) -> None:
    txn.execute("SELECT 1 FROM jwwx_burn_messages WHERE event_id = ?", (event_id,))
    if txn.fetchone() is None:
        txn.execute(
            "INSERT INTO jwwx_burn_messages"
            " (event_id, room_id, sender, ttl_ms, created_ts) VALUES (?, ?, ?, ?, ?)",
            (event_id, room_id, sender, ttl_ms, now),
        )


def unread_txn(txn: Txn, limit: int) -> list[BurnMessage]:
    txn.execute(
        f"SELECT {_COLUMNS} FROM jwwx_burn_messages"  # noqa: S608
        " WHERE read_ts IS NULL AND burned_ts IS NULL ORDER BY room_id LIMIT ?",
        (limit,),
    )
    return [_message(row) for row in txn.fetchall()]


def due_txn(txn: Txn, now: int, limit: int) -> list[BurnMessage]:
    txn.execute(
        f"SELECT {_COLUMNS} FROM jwwx_burn_messages"  # noqa: S608
        " WHERE burned_ts IS NULL AND burn_at IS NOT NULL AND burn_at <= ?"
        " ORDER BY burn_at LIMIT ?",
        (now, limit),
    )
    return [_message(row) for row in txn.fetchall()]


def set_position_txn(txn: Txn, event_id: str, position: int) -> None:
    txn.execute(
        "UPDATE jwwx_burn_messages SET stream_ordering = ? WHERE event_id = ?",
        (position, event_id),
    )


def forget_txn(txn: Txn, event_id: str) -> None:
    txn.execute("DELETE FROM jwwx_burn_messages WHERE event_id = ?", (event_id,))


def mark_read_txn(txn: Txn, event_id: str, reader: str, now: int) -> None:
    txn.execute(
        "UPDATE jwwx_burn_messages SET read_ts = ?, read_by = ?, burn_at = ? + ttl_ms"
        " WHERE event_id = ? AND read_ts IS NULL",
        (now, reader, now, event_id),
    )


def mark_burned_txn(txn: Txn, event_id: str, now: int) -> None:
    txn.execute(
        "UPDATE jwwx_burn_messages SET burned_ts = ? WHERE event_id = ?",
        (now, event_id),
    )


def keep_audit_copy_txn(
    txn: Txn, event_id: str, room_id: str, sender: str, event_json: str, now: int
) -> None:
    txn.execute("DELETE FROM jwwx_burn_audit WHERE event_id = ?", (event_id,))
    txn.execute(
        "INSERT INTO jwwx_burn_audit (event_id, room_id, sender, event_json, burned_ts)"
        " VALUES (?, ?, ?, ?, ?)",
        (event_id, room_id, sender, event_json, now),
    )


def ttl_of_txn(txn: Txn, event_id: str) -> int | None:
    txn.execute("SELECT ttl_ms FROM jwwx_burn_messages WHERE event_id = ?", (event_id,))
    row = txn.fetchone()
    return None if row is None else int(row[0])
