# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bridge's own state (SQLite, one file, one bridge process): portals, the two
durable queues and what exactly-once needs.

- `outq`: to the ministry. One row per Matrix event (event_id unique: Synapse's retry
  of a transaction adds nothing) or receipt; `seq` per conversation (messages only);
  `sent` is the acknowledged byte count of the row's file (resume point).
- `inq`: from the ministry. One row per relay_id (a resent item adds nothing), state
  held (ahead of next_seq) → queued → done / failed; `event_id` once posted.
- `infiles`: files arriving in chunks, `received` bytes so far.
- `nonces`: the ministry's nonces of the last 2 × clock skew.
Every write commits before the bridge answers or sends on (sqlite3 in autocommit with
explicit transactions); versioned by PRAGMA user_version. A burn-after-read item's body
is pruned once it has crossed (secure_delete zeroes the freed bytes, `scrub` empties
the WAL), so the bridge keeps no copy of it."""

import json
import sqlite3
from pathlib import Path
from typing import Any

SCHEMA = [
    """
    CREATE TABLE portals (
        conversation TEXT PRIMARY KEY, room_id TEXT NOT NULL UNIQUE,
        creator TEXT NOT NULL);
    CREATE TABLE outq (
        id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT UNIQUE,
        relay_id TEXT NOT NULL UNIQUE, conversation TEXT NOT NULL, seq INTEGER,
        kind TEXT NOT NULL, body TEXT NOT NULL, file TEXT, sent INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0,
        next_try REAL NOT NULL DEFAULT 0, error TEXT);
    CREATE INDEX outq_due ON outq (state, conversation, seq);
    CREATE TABLE outseq (conversation TEXT PRIMARY KEY, next INTEGER NOT NULL);
    CREATE TABLE inq (
        relay_id TEXT PRIMARY KEY, conversation TEXT NOT NULL, seq INTEGER NOT NULL,
        body TEXT NOT NULL, state TEXT NOT NULL, event_id TEXT, room_id TEXT,
        attempts INTEGER NOT NULL DEFAULT 0, next_try REAL NOT NULL DEFAULT 0,
        error TEXT, UNIQUE (conversation, seq));
    CREATE INDEX inq_event ON inq (event_id);
    CREATE TABLE inseq (conversation TEXT PRIMARY KEY, next INTEGER NOT NULL);
    CREATE TABLE infiles (
        file_id TEXT PRIMARY KEY, size INTEGER NOT NULL, received INTEGER NOT NULL);
    CREATE TABLE nonces (nonce TEXT PRIMARY KEY, ts REAL NOT NULL);
    """,
]


class BridgeStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        # Freed cells are zeroed: a burn-after-read item's pruned text leaves the file.
        self._db.execute("PRAGMA secure_delete=ON")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(SCHEMA[version:], start=version + 1):
            self._db.executescript(
                f"BEGIN; {script}; PRAGMA user_version={number}; COMMIT;"
            )

    def close(self) -> None:
        self._db.close()

    def _one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._db.execute(sql, args).fetchone()
        return row

    def _all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        return list(self._db.execute(sql, args).fetchall())

    def _write(self, sql: str, *args: Any) -> int:
        return self._db.execute(sql, args).rowcount

    def scrub(self) -> None:
        """After pruning a burn-after-read item: the WAL's old page images go too
        (the checkpoint copies the pruned pages into the file and empties the WAL)."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # Nonces.

    def claim_nonce(self, nonce: str, now: float, keep_seconds: float) -> bool:
        self._write("DELETE FROM nonces WHERE ts < ?", now - keep_seconds)
        return (
            self._write("INSERT OR IGNORE INTO nonces VALUES (?, ?)", nonce, now) == 1
        )

    # Portals.

    def portal_room(self, conversation: str) -> str | None:
        row = self._one(
            "SELECT room_id FROM portals WHERE conversation = ?", conversation
        )
        return None if row is None else str(row[0])

    def portal_of(self, room_id: str) -> str | None:
        row = self._one("SELECT conversation FROM portals WHERE room_id = ?", room_id)
        return None if row is None else str(row[0])

    def portal_creator(self, room_id: str) -> str | None:
        row = self._one("SELECT creator FROM portals WHERE room_id = ?", room_id)
        return None if row is None else str(row[0])

    def set_portal(self, conversation: str, room_id: str, creator: str) -> None:
        """`creator`: a puppet that stays in the room (it invites other puppets)."""
        self._write("DELETE FROM portals WHERE room_id = ?", room_id)
        self._write(
            "INSERT OR REPLACE INTO portals VALUES (?, ?, ?)",
            conversation,
            room_id,
            creator,
        )

    # To the ministry.

    def enqueue_out(
        self,
        relay_id: str,
        conversation: str,
        kind: str,
        body: dict[str, Any],
        event_id: str | None = None,
    ) -> bool:
        """False when the event (or relay_id) is queued already. A message gets its
        conversation's next seq, in its body too."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            seq = None
            if kind == "message":
                row = self._one(
                    "SELECT next FROM outseq WHERE conversation = ?", conversation
                )
                seq = 1 if row is None else int(row[0])
                body = {**body, "seq": seq}
            added = self._write(
                "INSERT OR IGNORE INTO outq (event_id, relay_id, conversation, seq,"
                " kind, body) VALUES (?, ?, ?, ?, ?, ?)",
                event_id,
                relay_id,
                conversation,
                seq,
                kind,
                json.dumps(body, ensure_ascii=False),
            )
            if added and seq is not None:
                self._write(
                    "INSERT OR REPLACE INTO outseq VALUES (?, ?)", conversation, seq + 1
                )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return added == 1

    def due_out(self, now: float, limit: int = 20) -> list[sqlite3.Row]:
        """Each conversation's first queued message (if due) and due receipts."""
        return self._all(
            "SELECT * FROM outq q WHERE state = 'queued' AND next_try <= ? AND ("
            " seq IS NULL OR seq = (SELECT MIN(seq) FROM outq o WHERE"
            " o.conversation = q.conversation AND o.state = 'queued'"
            " AND o.seq IS NOT NULL)) ORDER BY id LIMIT ?",
            now,
            limit,
        )

    def out_update(self, row_id: int, **values: Any) -> None:
        sets = ", ".join(f"{k} = ?" for k in values)
        self._write(f"UPDATE outq SET {sets} WHERE id = ?", *values.values(), row_id)  # noqa: S608 - keys are ours

    def out_by_relay(self, relay_id: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM outq WHERE relay_id = ?", relay_id)

    def out_by_event(self, event_id: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM outq WHERE event_id = ?", event_id)

    # From the ministry.

    def in_item(self, relay_id: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM inq WHERE relay_id = ?", relay_id)

    def in_next(self, conversation: str) -> int:
        row = self._one("SELECT next FROM inseq WHERE conversation = ?", conversation)
        return 1 if row is None else int(row[0])

    def accept_in(
        self, relay_id: str, conversation: str, seq: int, body: str, state: str
    ) -> int:
        """Store an item (held, or `state` once in order, releasing what it unblocks);
        the conversation's next_seq after it."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            nxt = self.in_next(conversation)
            self._write(
                "INSERT INTO inq (relay_id, conversation, seq, body, state)"
                " VALUES (?, ?, ?, ?, ?)",
                relay_id,
                conversation,
                seq,
                body,
                state if seq == nxt else "held",
            )
            while seq == nxt:
                nxt += 1
                row = self._one(
                    "SELECT relay_id FROM inq WHERE conversation = ? AND seq = ?",
                    conversation,
                    nxt,
                )
                if row is None:
                    break
                self._write(
                    "UPDATE inq SET state = 'queued' WHERE relay_id = ?"
                    " AND state = 'held'",
                    row[0],
                )
                seq = nxt
            self._write("INSERT OR REPLACE INTO inseq VALUES (?, ?)", conversation, nxt)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return nxt

    def due_in(self, now: float, limit: int = 20) -> list[sqlite3.Row]:
        return self._all(
            "SELECT * FROM inq q WHERE state = 'queued' AND next_try <= ? AND"
            " seq = (SELECT MIN(seq) FROM inq o WHERE o.conversation = q.conversation"
            " AND o.state IN ('queued', 'held')) ORDER BY next_try, seq LIMIT ?",
            now,
            limit,
        )

    def in_update(self, relay_id: str, **values: Any) -> None:
        sets = ", ".join(f"{k} = ?" for k in values)
        self._write(
            f"UPDATE inq SET {sets} WHERE relay_id = ?", *values.values(), relay_id
        )  # noqa: S608 - keys are ours

    def in_by_event(self, event_id: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM inq WHERE event_id = ?", event_id)

    # Files arriving.

    def infile(self, file_id: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM infiles WHERE file_id = ?", file_id)

    def infile_progress(self, file_id: str, size: int, received: int) -> None:
        self._write(
            "INSERT OR REPLACE INTO infiles VALUES (?, ?, ?)", file_id, size, received
        )

    # The backlog gauge.

    def backlog(self) -> dict[str, int]:
        out = self._one("SELECT COUNT(*) FROM outq WHERE state = 'queued'")
        held = self._one("SELECT COUNT(*) FROM inq WHERE state IN ('queued', 'held')")
        return {
            "to_ministry": int(out[0]) if out else 0,
            "to_matrix": int(held[0]) if held else 0,
        }
