# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of modules.audit. Appending to the chain happens only in archive_txn (the
archiver, one instance), which holds the head row for the whole transaction."""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from modules.audit.chain import ChainWalk
from modules.audit.records import (
    HASH_FORMAT,
    StoredRecord,
    chain_hash,
    open_body,
    seal_body,
)
from modules.common.storage import Txn

_COLUMNS = "seq, kind, ts, key_id, payload, hash, has_media, hash_format"


@dataclass(frozen=True)
class Draft:
    """A record about to be appended."""

    kind: str
    ts: int
    body: dict[str, Any]
    has_media: bool = False
    # An inbox record's payload as the hook sealed it (key id, payload): the same format
    # as a record's (seal_body of the body), verified when it was opened; appended as
    # it is when that key still seals, instead of sealing the body again.
    sealed: tuple[str, str] | None = None


@dataclass(frozen=True)
class Head:
    last_seq: int
    last_hash: str
    stream_ordering: int


class ConcurrentArchiverError(RuntimeError):
    """Another archiver moved the cursor first; this batch is abandoned (rolled back)."""


def _stored(row: Any) -> StoredRecord:
    return StoredRecord(
        int(row[0]),
        row[1],
        int(row[2]),
        row[3],
        row[4],
        row[5],
        bool(row[6]),
        int(row[7]),
    )


def head_txn(txn: Txn) -> Head:
    txn.execute(
        "SELECT last_seq, last_hash, stream_ordering FROM jwwx_audit_head"
        " WHERE singleton = 'X'"
    )
    row = txn.fetchone()
    return Head(int(row[0]), str(row[1]), int(row[2]))


def archive_backlog_txn(txn: Txn, persisted: int) -> int:
    """Stream positions not yet archived plus inbox records (jwwx_job_backlog)."""
    txn.execute("SELECT stream_ordering FROM jwwx_audit_head WHERE singleton = 'X'")
    behind = max(0, persisted - int(txn.fetchone()[0]))
    txn.execute("SELECT COUNT(*) FROM jwwx_audit_inbox")
    return behind + int(txn.fetchone()[0])


# Archiver state: members and tracked room state.


def joined_txn(txn: Txn, room_id: str) -> list[str]:
    txn.execute(
        "SELECT user_id FROM jwwx_audit_members WHERE room_id = ? ORDER BY user_id",
        (room_id,),
    )
    return [row[0] for row in txn.fetchall()]


def set_joined_txn(txn: Txn, room_id: str, user_id: str, joined: bool) -> None:
    txn.execute(
        "DELETE FROM jwwx_audit_members WHERE room_id = ? AND user_id = ?",
        (room_id, user_id),
    )
    if joined:
        txn.execute(
            "INSERT INTO jwwx_audit_members (room_id, user_id) VALUES (?, ?)",
            (room_id, user_id),
        )


def room_state_txn(txn: Txn, room_id: str, event_type: str) -> dict[str, Any] | None:
    txn.execute(
        "SELECT content FROM jwwx_audit_room_state WHERE room_id = ? AND event_type = ?",
        (room_id, event_type),
    )
    row = txn.fetchone()
    return None if row is None else dict(json.loads(row[0]))


def set_room_state_txn(
    txn: Txn, room_id: str, event_type: str, content: Mapping[str, Any]
) -> None:
    txn.execute(
        "DELETE FROM jwwx_audit_room_state WHERE room_id = ? AND event_type = ?",
        (room_id, event_type),
    )
    txn.execute(
        "INSERT INTO jwwx_audit_room_state (room_id, event_type, content)"
        " VALUES (?, ?, ?)",
        (room_id, event_type, json.dumps(dict(content), ensure_ascii=False)),
    )


# The inbox of hook records.


def inbox_add_txn(
    txn: Txn, record_id: str, kind: str, ts: int, key_id: str, payload: str
) -> None:
    txn.execute(
        "INSERT INTO jwwx_audit_inbox (id, kind, ts, key_id, payload)"
        " VALUES (?, ?, ?, ?, ?)",
        (record_id, kind, ts, key_id, payload),
    )


def inbox_add_many_txn(txn: Txn, rows: list[tuple[str, str, int, str, str]]) -> None:
    txn.execute_batch(
        "INSERT INTO jwwx_audit_inbox (id, kind, ts, key_id, payload)"
        " VALUES (?, ?, ?, ?, ?)",
        rows,
    )


def inbox_txn(txn: Txn, limit: int) -> list[tuple[str, str, int, str, str]]:
    txn.execute(
        "SELECT id, kind, ts, key_id, payload FROM jwwx_audit_inbox"
        " ORDER BY ts, id LIMIT ?",
        (limit,),
    )
    return [(r[0], r[1], int(r[2]), r[3], r[4]) for r in txn.fetchall()]


# Appending.


def archive_txn(
    txn: Any,
    expected_stream: int,
    new_stream: int,
    build: Callable[[Txn], list[Draft]],
    inbox_ids: list[str],
    inbox_drafts: list[Draft],
    key_id: str,
    key: bytes,
    keys: Mapping[str, bytes],
    now: int,
) -> tuple[int, list[dict[str, Any]]]:
    """One archiver step, atomically: check nobody else moved the cursor, quarantine
    foreign rows past the head, build the event records (build() reads and updates
    the member/state tables as it goes), append them and the inbox records to the
    chain, move the cursor. Returns the number of records appended and the rows
    quarantined."""
    head = _lock_head_txn(txn)
    if head.stream_ordering != expected_stream:
        raise ConcurrentArchiverError(
            f"cursor at {head.stream_ordering}, expected {expected_stream}"
        )
    quarantined = _quarantine_beyond_txn(txn, head, keys, now)
    drafts = build(txn) + inbox_drafts
    # One statement per 200 records, not one each (every login and audited request
    # leaves one; issue 17).
    for at in range(0, len(inbox_ids), 200):
        part = inbox_ids[at : at + 200]
        txn.execute(
            "DELETE FROM jwwx_audit_inbox WHERE id IN"  # noqa: S608 - marks only
            f" ({', '.join('?' * len(part))})",
            tuple(part),
        )
        if txn.rowcount != len(part):
            raise ConcurrentArchiverError(
                f"{len(part) - txn.rowcount} of inbox records {part} already taken"
            )
    seq, prev = head.last_seq, head.last_hash
    rows = []
    for draft in drafts:
        seq += 1
        prev = chain_hash(
            prev, seq, draft.kind, draft.ts, draft.body, draft.has_media, HASH_FORMAT
        )
        rows.append(
            (
                seq,
                draft.kind,
                draft.ts,
                key_id,
                1 if draft.has_media else 0,
                HASH_FORMAT,
                (
                    draft.sealed[1]
                    if draft.sealed is not None and draft.sealed[0] == key_id
                    else seal_body(key, draft.body)
                ),
                prev,
            )
        )
    if rows:
        txn.execute_batch(
            "INSERT INTO jwwx_audit_records"
            " (seq, kind, ts, key_id, has_media, hash_format, payload, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    txn.execute(
        "UPDATE jwwx_audit_head SET last_seq = ?, last_hash = ?, stream_ordering = ?"
        " WHERE singleton = 'X'",
        (seq, prev, new_stream),
    )
    return len(rows), quarantined


def _lock_head_txn(txn: Txn) -> Head:
    # The UPDATE takes the head row's lock first (PostgreSQL): a second archiver
    # waits here and then fails its checks instead of forking the chain.
    txn.execute("UPDATE jwwx_audit_head SET last_seq = last_seq WHERE singleton = 'X'")
    return head_txn(txn)


# Foreign rows: the archiver writes records and moves the head in one transaction,
# so a row with seq > head was written by someone else (or the head was rewound).


def beyond_head_txn(
    txn: Txn, limit: int | None = None
) -> tuple[Head, list[StoredRecord]]:
    """The head and the rows past it (at most `limit`), read together."""
    head = head_txn(txn)
    bound = (1 << 62) if limit is None else limit
    txn.execute(
        f"SELECT {_COLUMNS} FROM jwwx_audit_records"  # noqa: S608
        " WHERE seq > ? ORDER BY seq LIMIT ?",
        (head.last_seq, bound),
    )
    return head, [_stored(row) for row in txn.fetchall()]


def quarantine_txn(
    txn: Txn, keys: Mapping[str, bytes], now: int
) -> list[dict[str, Any]]:
    """Move every row past the head into jwwx_audit_quarantine; returns them."""
    return _quarantine_beyond_txn(txn, _lock_head_txn(txn), keys, now)


def _quarantine_beyond_txn(
    txn: Txn, head: Head, keys: Mapping[str, bytes], now: int
) -> list[dict[str, Any]]:
    _, rows = beyond_head_txn(txn)
    if not rows:
        return []
    # The hash check tells a forgery from a record that chains on from the head
    # (which means the head itself was rewound): both leave the chain, the reason
    # tells the auditor which.
    walk = ChainWalk(keys)
    prev_hash, next_seq = head.last_hash, head.last_seq + 1
    found: list[dict[str, Any]] = []
    for row in rows:
        chains = row.seq == next_seq and walk.problem(row, prev_hash) is None
        reason = "chains_past_head" if chains else "forged"
        if chains:
            prev_hash, next_seq = row.hash, row.seq + 1
        else:
            next_seq = -1
        found.append(
            {"seq": row.seq, "kind": row.kind, "reason": reason, "hash": row.hash}
        )
        txn.execute(
            "INSERT INTO jwwx_audit_quarantine (seq, kind, ts, key_id, has_media,"
            " hash_format, payload, hash, reason, head_seq, detected_ts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.seq,
                row.kind,
                row.ts,
                row.key_id,
                1 if row.has_media else 0,
                row.hash_format,
                row.payload,
                row.hash,
                reason,
                head.last_seq,
                now,
            ),
        )
    txn.execute("DELETE FROM jwwx_audit_records WHERE seq > ?", (head.last_seq,))
    return found


def unreviewed_quarantine_txn(txn: Txn) -> int:
    txn.execute("SELECT COUNT(*) FROM jwwx_audit_quarantine WHERE reviewed_ts IS NULL")
    return int(txn.fetchone()[0])


def open_inbox(
    keys: Mapping[str, bytes], rows: list[tuple[str, str, int, str, str]]
) -> list[Draft]:
    return [
        Draft(kind, ts, open_body(keys, key_id, payload), sealed=(key_id, payload))
        for _, kind, ts, key_id, payload in rows
    ]


# Reading.


def records_after_txn(
    txn: Txn, after_seq: int, kinds: tuple[str, ...], limit: int
) -> list[StoredRecord]:
    marks = ", ".join("?" for _ in kinds)
    txn.execute(
        f"SELECT {_COLUMNS} FROM jwwx_audit_records"  # noqa: S608
        f" WHERE seq > ? AND kind IN ({marks}) ORDER BY seq LIMIT ?",
        (after_seq, *kinds, limit),
    )
    return [_stored(row) for row in txn.fetchall()]


def records_in_range_txn(
    txn: Txn,
    kind: str,
    from_ts: int,
    to_ts: int,
    after_seq: int,
    limit: int,
    media_only: bool,
) -> list[StoredRecord]:
    sql = (
        f"SELECT {_COLUMNS} FROM jwwx_audit_records"  # noqa: S608
        " WHERE kind = ? AND ts >= ? AND ts <= ? AND seq > ?"
    )
    if media_only:
        sql += " AND has_media = 1"
    txn.execute(sql + " ORDER BY seq LIMIT ?", (kind, from_ts, to_ts, after_seq, limit))
    return [_stored(row) for row in txn.fetchall()]


def chain_page_txn(
    txn: Txn, after_seq: int, limit: int, upto: int | None = None
) -> list[StoredRecord]:
    """Records after `after_seq` in seq order, none past `upto` (the head read before
    the walk began, so records appended meanwhile do not look like a cut-off tail)."""
    bound = (1 << 62) if upto is None else upto
    txn.execute(
        f"SELECT {_COLUMNS} FROM jwwx_audit_records"  # noqa: S608
        " WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
        (after_seq, bound, limit),
    )
    return [_stored(row) for row in txn.fetchall()]


def count_after_txn(txn: Txn, after_seq: int, kinds: tuple[str, ...]) -> int:
    marks = ", ".join("?" for _ in kinds)
    txn.execute(
        "SELECT COUNT(*) FROM jwwx_audit_records"  # noqa: S608
        f" WHERE seq > ? AND kind IN ({marks})",
        (after_seq, *kinds),
    )
    return int(txn.fetchone()[0])


# Export cursors.


def cursor_txn(txn: Txn, consumer: str, kind: str) -> int:
    txn.execute(
        "SELECT position FROM jwwx_audit_cursors WHERE consumer = ? AND kind = ?",
        (consumer, kind),
    )
    row = txn.fetchone()
    return 0 if row is None else int(row[0])


def set_cursor_txn(txn: Txn, consumer: str, kind: str, position: int, now: int) -> None:
    txn.execute(
        "DELETE FROM jwwx_audit_cursors WHERE consumer = ? AND kind = ?",
        (consumer, kind),
    )
    txn.execute(
        "INSERT INTO jwwx_audit_cursors (consumer, kind, position, updated_ts)"
        " VALUES (?, ?, ?, ?)",
        (consumer, kind, position, now),
    )


def advance_cursor_txn(
    txn: Txn, consumer: str, kind: str, position: int, now: int
) -> int | None:
    """Move the cursor to position if that is not backwards; the new position, or None
    (left alone). One UPDATE, so concurrent acknowledgements cannot move it back."""
    txn.execute(
        "UPDATE jwwx_audit_cursors SET position = ?, updated_ts = ?"
        " WHERE consumer = ? AND kind = ? AND position <= ?",
        (position, now, consumer, kind, position),
    )
    if txn.rowcount == 1:
        return position
    txn.execute(
        "SELECT 1 FROM jwwx_audit_cursors WHERE consumer = ? AND kind = ?",
        (consumer, kind),
    )
    if txn.fetchone() is not None:
        return None
    txn.execute(
        "INSERT INTO jwwx_audit_cursors (consumer, kind, position, updated_ts)"
        " VALUES (?, ?, ?, ?)",
        (consumer, kind, position, now),
    )
    return position


def cursors_txn(txn: Txn) -> list[tuple[str, str, int, int]]:
    txn.execute(
        "SELECT consumer, kind, position, updated_ts FROM jwwx_audit_cursors"
        " ORDER BY consumer, kind"
    )
    return [(r[0], r[1], int(r[2]), int(r[3])) for r in txn.fetchall()]
