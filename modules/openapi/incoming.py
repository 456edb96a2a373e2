# SPDX-License-Identifier: AGPL-3.0-or-later
"""Finding the messages officers send in apps' conversations (for callbacks.py).

Read from Synapse's event stream after a durable cursor, not from ModuleApi's
on_new_event: Synapse awaits every on_new_event callback, after loading the room's
current state, before it wakes the clients waiting in /sync, so with it registered
every message on the server reached its recipients later (measured: delivery p50
55 → 185 ms at 20 messages/s, 200 pairs, PostgreSQL). Here the read runs beside
delivery, as a StreamFollower (modules/common/stream_follower.py: woken by Synapse's
replication notifier, with a slow poll as a safety net); the cursor moves in the same transaction that queues the
callbacks, so a restart neither loses nor repeats a message. A read that finds no message
in a conversation leaves the stored cursor alone (written at most every
CURSOR_WRITE_MS then): on PostgreSQL every write is a commit waiting for the disk, and
after a restart re-reading a range without such messages finds nothing.

Most of the stream is not in conversations (officers' own rooms): on SQLite every read is
a transaction on the one connection message persistence needs (issue 17, item 2). So a
wake-up first asks Synapse's in-memory stream change cache which rooms changed; when
each of them is known not to be a conversation, nothing is read and the range is left
for the next read, which comes at once when a conversation room (or a room not yet
known) changes, and at the latest CURSOR_WRITE_MS later. Every read starts where the
last read ended, so nothing is skipped even if a room became a conversation on another
process after it was classified: its messages are then read within CURSOR_WRITE_MS.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.jobs import Jobs
from modules.common.storage import Txn
from modules.common.stream_follower import StreamFollower
from modules.common.synapse.events import (
    persisted_stream_ordering,
    rooms_changed_after,
)
from modules.common.synapse.tables import stream_messages_in_rooms_txn
from modules.openapi import storage
from modules.openapi.storage import stream as stream_store

logger = logging.getLogger(__name__)

POLL_MS = 5000  # safety net (e.g. a worker whose notifier missed a position)
BATCH = 500
CURSOR_WRITE_MS = 5000  # how stale the stored cursor may get while nothing is found
ROOMS_KNOWN_MAX = 100_000  # rooms remembered as conversation or not (then forgotten)


@dataclass(frozen=True)
class IncomingMessage:
    """An m.room.message in an app's conversation (sender not yet checked)."""

    agentid: int
    userid: str
    room_id: str
    event_id: str
    sender: str
    content: dict[str, Any]
    origin_server_ts: int


def read_txn(
    txn: Txn, after: int, upto: int, limit: int
) -> tuple[list[IncomingMessage], int]:
    """Messages in conversation rooms after the cursor, and where the cursor goes once
    they are handled (`upto` when the range is exhausted)."""
    rows = stream_messages_in_rooms_txn(
        txn, "jwwx_openapi_conversations", after, upto, limit
    )
    found: list[IncomingMessage] = []
    for streamed, row in rows:
        agentid, userid = int(row[0]), str(row[1])
        event = streamed.event
        content = event.get("content")
        if not isinstance(content, dict):
            continue
        found.append(
            IncomingMessage(
                agentid,
                userid,
                streamed.room_id,
                streamed.event_id,
                str(event.get("sender", "")),
                content,
                int(event.get("origin_server_ts", 0)),
            )
        )
    next_position = rows[-1][0].stream_ordering if len(rows) == limit else upto
    return found, next_position


class MessageTail(StreamFollower):
    """Calls `handle_txn(txn, messages)` inside the transaction that moves the cursor,
    then `after()`; only on the process that runs the module's jobs."""

    def __init__(
        self,
        api: ModuleApi,
        jobs: Jobs,
        handle_txn: Callable[[Txn, list[IncomingMessage]], None],
        after: Callable[[], None],
    ) -> None:
        super().__init__(api, jobs, "jwwx_openapi_incoming", POLL_MS)
        self._handle_txn = handle_txn
        self._after = after
        self._cursor_written_ms = 0
        # Where the next read starts: the last read's end (None before the first).
        # self._position runs ahead of it over ranges left unread (see above).
        self._read_upto: int | None = None
        self._read_ms = 0
        # room_id → whether it is a conversation, as read by this process.
        self._rooms: dict[str, bool] = {}

    def conversation_claimed(self, room_id: str) -> None:
        """A conversation was recorded on this process: its room is read at once."""
        self._rooms[room_id] = True

    def _to_read(self, now: int) -> list[str] | None:
        """None when the stream since the last wake-up may be left unread (it changed
        only rooms known not to be conversations); else the changed rooms not known
        yet, which the read classifies."""
        since = self._position
        if since is None or self._read_upto is None:
            return []
        changed = rooms_changed_after(self._api, since)
        if changed is None:
            return []  # older than the cache: read
        unknown = [room_id for room_id in changed if room_id not in self._rooms]
        wanted = unknown or any(self._rooms[room_id] for room_id in changed)
        if wanted or now - self._read_ms >= CURSOR_WRITE_MS:
            return unknown
        return None

    async def step(self) -> bool:
        """One batch; whether more is waiting."""
        upto = persisted_stream_ordering(self._api)
        now = self._api.get_current_time_msec()
        if self._position is not None and upto <= self._position:
            # Nothing new since the last wake-up: no transaction, unless a range left
            # unread has waited CURSOR_WRITE_MS (the safety-net poll reads it).
            left = self._read_upto is not None and self._read_upto < upto
            if not left or now - self._read_ms < CURSOR_WRITE_MS:
                return False
        unknown = self._to_read(now)
        if unknown is None:
            self._position = upto  # no conversation changed: read later
            return False
        known = self._read_upto
        write_anyway = now - self._cursor_written_ms >= CURSOR_WRITE_MS

        def step_txn(
            txn: Txn,
        ) -> tuple[int, int, list[IncomingMessage], bool, set[str]]:
            stored = stream_store.cursor_txn(txn, upto)
            # Ahead of the stored cursor by ranges that held nothing (see above).
            after = stored if known is None else max(stored, known)
            conversations = storage.conversation_rooms_txn(txn, unknown)
            if upto <= after:
                return after, after, [], False, conversations
            messages, position = read_txn(txn, after, upto, BATCH)
            self._handle_txn(txn, messages)
            write = bool(messages) or write_anyway
            if write:
                stream_store.move_cursor_txn(txn, position)
            return after, position, messages, write, conversations

        (
            after,
            position,
            messages,
            written,
            conversations,
        ) = await self._api.run_db_interaction("jwwx_openapi_incoming", step_txn)
        if written:
            self._cursor_written_ms = now
        self._read_ms = now
        if len(self._rooms) + len(unknown) > ROOMS_KNOWN_MAX:
            self._rooms.clear()
        for room_id in unknown:
            # A claim on this process during the read stays known.
            self._rooms[room_id] = room_id in conversations or self._rooms.get(
                room_id, False
            )
        for message in messages:
            self._rooms[message.room_id] = True
        self._read_upto = position
        self._position = position
        if messages:
            self._after()
        return position < upto
