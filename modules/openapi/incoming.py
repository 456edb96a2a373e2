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
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.jobs import Jobs
from modules.common.storage import Txn
from modules.common.stream_follower import StreamFollower
from modules.common.synapse.events import persisted_stream_ordering
from modules.common.synapse.tables import stream_messages_in_rooms_txn
from modules.openapi.storage import stream as stream_store

logger = logging.getLogger(__name__)

POLL_MS = 5000  # safety net (e.g. a worker whose notifier missed a position)
BATCH = 500
CURSOR_WRITE_MS = 5000  # how stale the stored cursor may get while nothing is found


@dataclass(frozen=True)
class IncomingMessage:
    """An m.room.message in an app's conversation (sender not yet checked)."""

    agentid: int
    userid: str
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

    async def step(self) -> bool:
        """One batch; whether it found anything to move past."""
        upto = persisted_stream_ordering(self._api)
        now = self._api.get_current_time_msec()
        known = self._position
        write_anyway = now - self._cursor_written_ms >= CURSOR_WRITE_MS

        def step_txn(txn: Txn) -> tuple[int, int, list[IncomingMessage], bool]:
            stored = stream_store.cursor_txn(txn, upto)
            # Ahead of the stored cursor by ranges that held nothing (see above).
            after = stored if known is None else max(stored, known)
            if upto <= after:
                return after, after, [], False
            messages, position = read_txn(txn, after, upto, BATCH)
            self._handle_txn(txn, messages)
            write = bool(messages) or write_anyway
            if write:
                stream_store.move_cursor_txn(txn, position)
            return after, position, messages, write

        after, position, messages, written = await self._api.run_db_interaction(
            "jwwx_openapi_incoming", step_txn
        )
        if written:
            self._cursor_written_ms = now
        self._position = position
        if messages:
            self._after()
        return position > after
