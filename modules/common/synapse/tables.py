# SPDX-License-Identifier: AGPL-3.0-or-later
"""Every SQL statement of ours on Synapse's own tables, and nothing else.

Synapse's schema is not an API: a new Synapse may rename a column or move a table.
tests/modules/common/test_synapse_tables.py runs each statement below against a fresh
database of the pinned Synapse on SQLite and PostgreSQL, so such a change fails in CI.
A new statement on Synapse's tables goes here, with its test.

Each `_txn` function runs inside a transaction of run_db_interaction (placeholders `?`).
The two writes (censor_event_txn) are what Synapse's own censoring does.
"""

import json
from dataclasses import dataclass
from typing import Any

from modules.common.synapse.database import engine_of_txn

# users


def has_own_password_txn(txn: Any, user_id: str) -> bool:
    """True once Synapse holds a password hash for the user (one the officer chose).
    The ModuleApi does not say whether a user has a password."""
    txn.execute("SELECT password_hash FROM users WHERE name = ?", (user_id,))
    row = txn.fetchone()
    return bool(row and row[0])


def password_state_sql(user_id: str) -> str:
    """An SQL expression for a query of ours: NULL when no account `user_id` (an SQL
    expression of that query) exists, 1 when it has no password of its own, 2 when
    Synapse holds a password hash for it (as account_password_txn, in one lookup by
    the users table's primary key)."""
    return (
        "(SELECT CASE WHEN jwwx_us.password_hash IS NULL"
        " OR jwwx_us.password_hash = '' THEN 1 ELSE 2 END"
        f" FROM users AS jwwx_us WHERE jwwx_us.name = {user_id})"
    )


def account_password_txn(txn: Any, user_id: str) -> tuple[bool, bool]:
    """(the account exists, it holds a password hash of its own) in one read."""
    txn.execute("SELECT password_hash FROM users WHERE name = ?", (user_id,))
    row = txn.fetchone()
    return row is not None, bool(row and row[0])


# devices


def devices_txn(
    txn: Any, user_id: str
) -> list[tuple[str, str | None, int | None, str | None, str | None]]:
    """(device_id, display_name, last_seen, ip, user_agent) of the user's devices, read
    inside our own transactions (the device-class limit needs them consistent with its
    session rows); the ModuleApi has no device list."""
    txn.execute(
        "SELECT device_id, display_name, last_seen, ip, user_agent FROM devices"
        " WHERE user_id = ? AND NOT hidden ORDER BY device_id",
        (user_id,),
    )
    return [(r[0], r[1], r[2], r[3], r[4]) for r in txn.fetchall()]


def live_device_sql(user_id: str, device_id: str) -> str:
    """An SQL condition for a query of ours: the user's device exists and is not
    hidden (Synapse deletes the row when the device signs out). Arguments are SQL
    expressions of that query; one lookup by the devices table's primary key."""
    return (
        "EXISTS (SELECT 1 FROM devices AS jwwx_dv"
        f" WHERE jwwx_dv.user_id = {user_id} AND jwwx_dv.device_id = {device_id}"
        " AND NOT jwwx_dv.hidden)"
    )


# rooms


def all_room_ids_txn(txn: Any) -> list[str]:
    """Every room this server knows (modules.groups' retention)."""
    txn.execute("SELECT room_id FROM rooms ORDER BY room_id")
    return [row[0] for row in txn.fetchall()]


# receipts_linearized


def public_read_positions_txn(
    txn: Any, room_id: str, thread_id: str | None
) -> dict[str, int]:
    """For one room, each user's furthest public read receipt (m.read) as a stream
    ordering: unthreaded and main-timeline receipts, plus those of `thread_id`.
    Uses Synapse's (room_id, stream_id) index: one room's receipts, never the table."""
    sql = (
        "SELECT user_id, MAX(event_stream_ordering) FROM receipts_linearized"
        " WHERE room_id = ? AND receipt_type = 'm.read'"
        " AND event_stream_ordering IS NOT NULL"
        " AND (thread_id IS NULL OR thread_id = 'main'"
    )
    args: list[Any] = [room_id]
    if thread_id is not None:
        sql += " OR thread_id = ?"
        args.append(thread_id)
    sql += ") GROUP BY user_id"
    txn.execute(sql, args)
    return {row[0]: int(row[1]) for row in txn.fetchall()}


def public_read_since_sql(room_id: str, user_id: str, stream_ordering: str) -> str:
    """An SQL condition for a query of ours: the user has a public read receipt (m.read,
    unthreaded or main timeline) in the room at or after the stream ordering. Arguments
    are SQL expressions of that query; one lookup in Synapse's receipts index each."""
    return (
        "EXISTS (SELECT 1 FROM receipts_linearized AS jwwx_rl"
        f" WHERE jwwx_rl.room_id = {room_id} AND jwwx_rl.receipt_type = 'm.read'"
        f" AND jwwx_rl.user_id = {user_id}"
        f" AND jwwx_rl.event_stream_ordering >= {stream_ordering}"
        " AND (jwwx_rl.thread_id IS NULL OR jwwx_rl.thread_id = 'main'))"
    )


def furthest_reads_txn(txn: Any, room_id: str) -> dict[str, int]:
    """Each user's furthest read receipt in a room, public or private, as a stream
    ordering (the room's rows only, through the (room_id, stream_id) index)."""
    txn.execute(
        "SELECT user_id, MAX(event_stream_ordering) FROM receipts_linearized"
        " WHERE room_id = ? AND receipt_type IN ('m.read', 'm.read.private')"
        " AND event_stream_ordering IS NOT NULL GROUP BY user_id",
        (room_id,),
    )
    return {row[0]: int(row[1]) for row in txn.fetchall()}


# events, event_json, rejections: the audit archive and the open API read Synapse's
# event stream from its own tables, so they can catch up from a durable cursor after a
# restart or crash.


@dataclass(frozen=True)
class StreamEvent:
    """One persisted, accepted event as stored by Synapse (its full JSON)."""

    stream_ordering: int
    event_id: str
    room_id: str
    event: dict[str, Any]


def stream_events_after_txn(
    txn: Any, after: int, upto: int, limit: int
) -> list[StreamEvent]:
    """Accepted, non-outlier events with after < stream_ordering <= upto, in stream
    order (negative positions are backfilled history and never come here)."""
    txn.execute(
        "SELECT e.stream_ordering, e.event_id, e.room_id, j.json FROM events AS e"
        " JOIN event_json AS j ON j.event_id = e.event_id"
        " LEFT JOIN rejections AS r ON r.event_id = e.event_id"
        " WHERE e.stream_ordering > ? AND e.stream_ordering <= ?"
        " AND NOT e.outlier AND r.event_id IS NULL"
        " ORDER BY e.stream_ordering LIMIT ?",
        (after, upto, limit),
    )
    return [
        StreamEvent(int(row[0]), row[1], row[2], json.loads(row[3]))
        for row in txn.fetchall()
    ]


def stream_messages_in_rooms_txn(
    txn: Any, room_table: str, after: int, upto: int, limit: int
) -> list[tuple[StreamEvent, tuple[Any, ...]]]:
    """m.room.message events with after < stream_ordering <= upto in the rooms listed
    in our `room_table` (a room_id column), with that table's row: (event, row). Stream
    order; accepted, non-outlier events only."""
    txn.execute(
        "SELECT e.stream_ordering, e.event_id, e.room_id, j.json, t.*"
        f" FROM events AS e JOIN {room_table} AS t ON t.room_id = e.room_id"  # noqa: S608
        " JOIN event_json AS j ON j.event_id = e.event_id"
        " LEFT JOIN rejections AS r ON r.event_id = e.event_id"
        " WHERE e.stream_ordering > ? AND e.stream_ordering <= ?"
        " AND e.type = 'm.room.message' AND NOT e.outlier AND r.event_id IS NULL"
        " ORDER BY e.stream_ordering LIMIT ?",
        (after, upto, limit),
    )
    return [
        (StreamEvent(int(row[0]), row[1], row[2], json.loads(row[3])), tuple(row[4:]))
        for row in txn.fetchall()
    ]


def first_message_by_txn(txn: Any, room_id: str, sender: str) -> tuple[str, int] | None:
    """(event id, stream ordering) of the sender's first m.room.message in the room, or
    None: modules.openapi finds its push sent in one batch with a spare room's claim
    events (the batch-sending method returns no event ids; the app's bot joins the
    room in that batch, so its first message there is the push)."""
    txn.execute(
        "SELECT event_id, stream_ordering FROM events"
        " WHERE room_id = ? AND sender = ? AND type = 'm.room.message'"
        " AND NOT outlier ORDER BY stream_ordering LIMIT 1",
        (room_id, sender),
    )
    row = txn.fetchone()
    return None if row is None else (str(row[0]), int(row[1]))


def existing_event_ids_txn(txn: Any, event_ids: list[str]) -> set[str]:
    """Which of these events Synapse still has (not purged by retention, purge history
    or room deletion): modules.search's sweep, without loading the events."""
    found: set[str] = set()
    for start in range(0, len(event_ids), 500):
        chunk = event_ids[start : start + 500]
        txn.execute(
            "SELECT event_id FROM events WHERE event_id IN"  # noqa: S608
            f" ({', '.join('?' * len(chunk))})",
            chunk,
        )
        found.update(row[0] for row in txn.fetchall())
    return found


def event_json_txn(txn: Any, event_id: str) -> dict[str, Any] | None:
    """The stored JSON of one event (pruned once redacted and censored), or None:
    modules.search re-reads an edited message's own content when its edits are gone."""
    txn.execute("SELECT json FROM event_json WHERE event_id = ?", (event_id,))
    row = txn.fetchone()
    return dict(json.loads(row[0])) if row is not None else None


# redactions, event_relations


def redacted_event_ids_txn(txn: Any, event_ids: list[str]) -> set[str]:
    """Which of the events some redaction event targets."""
    redacted: set[str] = set()
    for event_id in event_ids:
        txn.execute("SELECT 1 FROM redactions WHERE redacts = ?", (event_id,))
        if txn.fetchone() is not None:
            redacted.add(event_id)
    return redacted


def edits_of_txn(txn: Any, event_id: str) -> list[str]:
    """The ids of the edits (m.replace) of an event."""
    txn.execute(
        "SELECT event_id FROM event_relations WHERE relates_to_id = ?"
        " AND relation_type = 'm.replace'",
        (event_id,),
    )
    return [row[0] for row in txn.fetchall()]


# event_json, event_search: burn-after-read (modules.burn) removes a redacted event's
# content at once, as Synapse's own censoring does after redaction_retention_period.


def censor_event_txn(txn: Any, event_id: str, pruned_json: str) -> None:
    """Replace the stored JSON of an event by its pruned form (events.redacted_event_json)
    and drop its full-text search row, so its content is nowhere in the database any
    more. On SQLite the connection's secure_delete is switched on first: the freed space
    is zeroed rather than left in free pages (Synapse has one SQLite connection, so it
    stays on for every later write too; database.scrub_after_purge does the rest)."""
    if engine_of_txn(txn) == "sqlite":
        txn.execute("PRAGMA secure_delete = ON")
    txn.execute(
        "UPDATE event_json SET json = ? WHERE event_id = ?", (pruned_json, event_id)
    )
    txn.execute("DELETE FROM event_search WHERE event_id = ?", (event_id,))


def relations_of_txn(txn: Any, event_id: str) -> list[str]:
    """The events relating to an event through m.relates_to (any rel_type: edits,
    reactions, threads, references), local or remote. Replies (m.in_reply_to only)
    are not in Synapse's event_relations."""
    txn.execute(
        "SELECT event_id FROM event_relations WHERE relates_to_id = ? ORDER BY event_id",
        (event_id,),
    )
    return [row[0] for row in txn.fetchall()]


# local_media_repository


def local_media_rows_txn(
    txn: Any, media_ids: list[str]
) -> dict[str, tuple[str | None, int | None, str | None, bool]]:
    """media_id → (upload_name, length, content type, quarantined) of local media
    that still exist."""
    found: dict[str, tuple[str | None, int | None, str | None, bool]] = {}
    for media_id in media_ids:
        txn.execute(
            "SELECT upload_name, media_length, media_type, quarantined_by"
            " FROM local_media_repository WHERE media_id = ?",
            (media_id,),
        )
        row = txn.fetchone()
        if row is not None:
            length = None if row[1] is None else int(row[1])
            found[media_id] = (row[0], length, row[2], row[3] is not None)
    return found
