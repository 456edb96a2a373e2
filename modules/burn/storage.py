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
    root_event_id: str | None = None


_COLUMNS = (
    "event_id, room_id, sender, ttl_ms, created_ts, stream_ordering, read_ts, burn_at,"
    " root_event_id"
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
        row[8],
    )


def record_txn(
    txn: Txn,
    event_id: str,
    room_id: str,
    sender: str,
    ttl_ms: int,
    now: int,
    root_event_id: str | None = None,
    burn_now: bool = False,
) -> None:
    """Track a burn-after-read message, or (root_event_id) an event relating to one;
    burn_now: its message is already burned, so it goes at the next tick."""
    txn.execute("SELECT 1 FROM jwwx_burn_messages WHERE event_id = ?", (event_id,))
    if txn.fetchone() is None:
        txn.execute(
            "INSERT INTO jwwx_burn_messages (event_id, room_id, sender, ttl_ms,"
            " created_ts, root_event_id, read_ts, burn_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event_id,
                room_id,
                sender,
                ttl_ms,
                now,
                root_event_id,
                now if burn_now else None,
                now if burn_now else None,
            ),
        )


@dataclass(frozen=True)
class Tracked:
    """What a related event inherits from the burn-after-read message it relates to."""

    root_event_id: str
    ttl_ms: int
    burned: bool


def tracked_txn(txn: Txn, event_id: str) -> Tracked | None:
    txn.execute(
        "SELECT ttl_ms, root_event_id, burned_ts FROM jwwx_burn_messages"
        " WHERE event_id = ?",
        (event_id,),
    )
    row = txn.fetchone()
    if row is None:
        return None
    root = row[1] or event_id
    burned = row[2] is not None
    if row[1] is not None:
        txn.execute(
            "SELECT burned_ts FROM jwwx_burn_messages WHERE event_id = ?", (root,)
        )
        found = txn.fetchone()
        burned = burned or (found is not None and found[0] is not None)
    return Tracked(root, int(row[0]), burned)


def tracked_ids_txn(txn: Txn, event_ids: list[str]) -> set[str]:
    """Which of these events are burn-after-read messages or relate to one."""
    found: set[str] = set()
    for start in range(0, len(event_ids), 100):
        chunk = event_ids[start : start + 100]
        marks = ", ".join("?" for _ in chunk)
        txn.execute(
            f"SELECT event_id FROM jwwx_burn_messages WHERE event_id IN ({marks})",  # noqa: S608
            tuple(chunk),
        )
        found.update(row[0] for row in txn.fetchall())
    return found


def children_txn(txn: Txn, root_event_id: str) -> list[str]:
    """The not yet burned events tracked as relating to a message."""
    txn.execute(
        "SELECT event_id FROM jwwx_burn_messages"
        " WHERE root_event_id = ? AND burned_ts IS NULL ORDER BY created_ts",
        (root_event_id,),
    )
    return [row[0] for row in txn.fetchall()]


def live_in_room_txn(txn: Txn, room_id: str, limit: int) -> list[tuple[str, str]]:
    """(event_id, root or own id) of the room's not yet burned tracked events."""
    txn.execute(
        "SELECT event_id, root_event_id FROM jwwx_burn_messages"
        " WHERE room_id = ? AND burned_ts IS NULL ORDER BY created_ts DESC LIMIT ?",
        (room_id, limit),
    )
    return [(row[0], row[1] or row[0]) for row in txn.fetchall()]


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


def next_burn_at_txn(txn: Txn) -> int | None:
    """When the next started timer runs out (None: no timer running)."""
    txn.execute(
        "SELECT MIN(burn_at) FROM jwwx_burn_messages"
        " WHERE burned_ts IS NULL AND burn_at IS NOT NULL"
    )
    row = txn.fetchone()
    return int(row[0]) if row and row[0] is not None else None


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


def mark_burned_txn(txn: Txn, event_ids: list[str], now: int) -> None:
    for event_id in event_ids:
        txn.execute(
            "UPDATE jwwx_burn_messages SET burned_ts = ?"
            " WHERE event_id = ? AND burned_ts IS NULL",
            (now, event_id),
        )


def reschedule_unpersisted_txn(
    txn: Txn, event_ids: list[str], burn_at: int, created_after: int
) -> list[str]:
    """Tracked events not persisted yet (the relation tracked in check_event_allowed is
    still being written) burn again at burn_at, while they are younger than the grace."""
    again = []
    for event_id in event_ids:
        txn.execute(
            "UPDATE jwwx_burn_messages SET burn_at = ?"
            " WHERE event_id = ? AND burned_ts IS NULL AND created_ts > ?",
            (burn_at, event_id, created_after),
        )
        if txn.rowcount:
            again.append(event_id)
    return again


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


def rewritten_ts_txn(txn: Txn) -> int:
    txn.execute("SELECT rewritten_ts FROM jwwx_burn_scrub WHERE singleton = 'X'")
    return int(txn.fetchone()[0])


def burned_since_txn(txn: Txn, since: int) -> bool:
    txn.execute(
        "SELECT 1 FROM jwwx_burn_messages WHERE burned_ts >= ? LIMIT 1", (since,)
    )
    return txn.fetchone() is not None


def set_rewritten_txn(txn: Txn, now: int) -> None:
    txn.execute(
        "UPDATE jwwx_burn_scrub SET rewritten_ts = ? WHERE singleton = 'X'", (now,)
    )
