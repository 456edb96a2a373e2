# SPDX-License-Identifier: AGPL-3.0-or-later
"""The open API's message tail (modules/openapi/incoming.py) on a fake stream and clock:
how many transactions it runs, and that it still reads every conversation message once
(issue 17, item 2: on SQLite each one queues for the connection messages need).

The end-to-end delivery (callbacks, a restart) is tests/modules/openapi/test_openapi.py
and test_background_push.py, on both engines."""

import sqlite3
from collections import Counter
from types import SimpleNamespace
from typing import Any

from twisted.trial import unittest

from modules.common.synapse.tables import StreamEvent
from modules.openapi import incoming
from modules.openapi.incoming import CURSOR_WRITE_MS, IncomingMessage, MessageTail

CONVERSATION = "!app-and-officer:x"


class FakeStream:
    """Synapse's event stream as the tail sees it: the persisted position, the rooms
    changed after a position (the in-memory cache), and the rows of messages."""

    def __init__(self) -> None:
        self.events: list[tuple[int, str, str]] = []  # (ordering, room_id, event_id)
        self.cache_reaches_back = True

    @property
    def position(self) -> int:
        return self.events[-1][0] if self.events else 1

    def send(self, room_id: str) -> str:
        ordering = self.position + 1
        event_id = f"$e{ordering}"
        self.events.append((ordering, room_id, event_id))
        return event_id

    def rooms_changed_after(self, position: int) -> set[str] | None:
        if not self.cache_reaches_back:
            return None
        return {room for ordering, room, _id in self.events if ordering > position}

    def messages_in_rooms_txn(
        self, txn: Any, table: str, after: int, upto: int, limit: int
    ) -> list[tuple[StreamEvent, tuple[Any, ...]]]:
        found = []
        for ordering, room_id, event_id in self.events:
            if not after < ordering <= upto:
                continue
            txn.execute(
                f"SELECT agentid, userid FROM {table} WHERE room_id = ?",  # noqa: S608
                (room_id,),
            )
            row = txn.fetchone()
            if row is None:
                continue
            event = {
                "type": "m.room.message",
                "sender": "@officer:x",
                "content": {"msgtype": "m.text", "body": event_id},
                "origin_server_ts": ordering,
            }
            found.append((StreamEvent(ordering, event_id, room_id, event), row))
            if len(found) == limit:
                break
        return found


class MessageTailTest(unittest.TestCase):
    def setUp(self) -> None:
        self.now = 1_000_000
        self.stream = FakeStream()
        self.db = sqlite3.connect(":memory:")
        self.db.executescript(
            "CREATE TABLE jwwx_openapi_stream_cursor (name TEXT PRIMARY KEY,"
            " stream_ordering BIGINT NOT NULL);"
            "CREATE TABLE jwwx_openapi_conversations (agentid BIGINT, userid TEXT,"
            " room_id TEXT, created_ts BIGINT, PRIMARY KEY (agentid, userid));"
        )
        self.claim(CONVERSATION, "officer")
        self.transactions: Counter[str] = Counter()
        self.handled: list[IncomingMessage] = []
        self.patch(
            incoming, "persisted_stream_ordering", lambda api: self.stream.position
        )
        self.patch(
            incoming,
            "rooms_changed_after",
            lambda api, position: self.stream.rooms_changed_after(position),
        )
        self.patch(
            incoming,
            "stream_messages_in_rooms_txn",
            self.stream.messages_in_rooms_txn,
        )
        api = SimpleNamespace(
            get_current_time_msec=lambda: self.now,
            run_db_interaction=self.run_db_interaction,
        )
        self.tail = MessageTail(
            api,  # type: ignore[arg-type]
            SimpleNamespace(here=True),  # type: ignore[arg-type]
            lambda txn, messages: self.handled.extend(messages),
            lambda: None,
        )

    def claim(self, room_id: str, userid: str) -> None:
        """A conversation recorded (by this process or another)."""
        self.db.execute(
            "INSERT INTO jwwx_openapi_conversations VALUES (1, ?, ?, 0)",
            (userid, room_id),
        )

    async def run_db_interaction(self, desc: str, fn: Any, *args: Any) -> Any:
        self.transactions[desc] += 1
        cursor = self.db.cursor()
        try:
            result = fn(cursor, *args)
            self.db.commit()
            return result
        except BaseException:
            self.db.rollback()
            raise

    async def wake(self, after_ms: int = 200) -> None:
        """A wake-up of the follower (the notifier's, or the safety-net poll's)."""
        self.now += after_ms
        while await self.tail.step():
            pass

    @property
    def reads(self) -> int:
        return self.transactions["jwwx_openapi_incoming"]

    def handled_ids(self) -> list[str]:
        return [m.event_id for m in self.handled]

    async def test_messages_outside_conversations_run_no_transaction_per_wake(
        self,
    ) -> None:
        await self.wake()
        first = self.reads
        # 20 wake-ups (4 s), each after messages in five officers' own rooms.
        for i in range(20):
            for pair in range(5):
                self.stream.send(f"!dm{(i + pair) % 5}:x")
            await self.wake()
        # One read found that those rooms are not conversations; then none (one per
        # wake-up before: the range had to be read to know).
        self.assertEqual(self.reads - first, 1)
        self.assertEqual(self.handled, [])

    async def test_a_conversation_message_is_read_at_once(self) -> None:
        self.stream.send("!dm0:x")
        await self.wake()
        self.stream.send("!dm0:x")
        await self.wake()
        before = self.reads
        sent = self.stream.send(CONVERSATION)
        self.stream.send("!dm0:x")
        await self.wake()
        self.assertEqual(self.reads, before + 1)
        self.assertEqual(self.handled_ids(), [sent])
        self.assertEqual(self.handled[0].room_id, CONVERSATION)

    async def test_a_room_not_known_yet_is_read_at_once(self) -> None:
        self.stream.send("!dm0:x")
        await self.wake()
        self.claim("!new:x", "newcomer")  # recorded before the officer could write
        sent = self.stream.send("!new:x")
        await self.wake()
        self.assertEqual(self.handled_ids(), [sent])

    async def test_a_claim_on_this_process_is_read_at_once(self) -> None:
        self.stream.send("!later:x")
        await self.wake()  # "!later:x" is not a conversation yet
        self.claim("!later:x", "later")
        self.tail.conversation_claimed("!later:x")
        sent = self.stream.send("!later:x")
        await self.wake()
        self.assertEqual(self.handled_ids(), [sent])

    async def test_a_claim_elsewhere_is_read_within_the_cursor_interval(self) -> None:
        """A room classified as no conversation, then claimed on another process (this
        one is not told): its messages are not skipped, only read later, once."""
        await self.wake()  # the first read
        self.stream.send("!elsewhere:x")
        self.stream.send("!dm1:x")
        await self.wake()
        self.claim("!elsewhere:x", "elsewhere")
        sent = [self.stream.send("!elsewhere:x")]
        await self.wake()
        self.stream.send("!dm1:x")
        await self.wake()
        self.assertEqual(self.handled, [])  # left for later, not skipped
        self.stream.send("!dm1:x")
        await self.wake(CURSOR_WRITE_MS)
        self.assertEqual(self.handled_ids(), sent)
        # Known as a conversation from then on.
        sent.append(self.stream.send("!elsewhere:x"))
        await self.wake()
        self.assertEqual(self.handled_ids(), sent)

    async def test_an_idle_stream_reads_what_was_left_once(self) -> None:
        await self.wake()  # the first read
        self.stream.send("!dm0:x")
        await self.wake()
        self.claim("!dm0:x", "late")
        sent = self.stream.send("!dm0:x")
        await self.wake()  # left unread: "!dm0:x" was no conversation
        before = self.reads
        await self.wake(CURSOR_WRITE_MS)  # the poll: nothing new, the range is read
        self.assertEqual(self.handled_ids(), [sent])
        self.assertEqual(self.reads, before + 1)
        for _ in range(5):
            await self.wake(CURSOR_WRITE_MS)  # idle: no transaction at all
        self.assertEqual(self.reads, before + 1)

    async def test_without_the_cache_every_wake_reads(self) -> None:
        self.stream.cache_reaches_back = False
        await self.wake()
        before = self.reads
        self.stream.send("!dm0:x")
        await self.wake()
        sent = self.stream.send(CONVERSATION)
        await self.wake()
        self.assertEqual(self.reads, before + 2)
        self.assertEqual(self.handled_ids(), [sent])

    async def test_the_stored_cursor_follows_within_the_interval(self) -> None:
        """Restart safety: the stored cursor lags by at most CURSOR_WRITE_MS of stream,
        and a new tail (a restart) reads from it without losing a message."""
        for i in range(30):
            self.stream.send(f"!dm{i % 4}:x")
            await self.wake(500)
        stored = self.db.execute(
            "SELECT stream_ordering FROM jwwx_openapi_stream_cursor"
        ).fetchone()[0]
        self.assertGreater(stored, 1)
        sent = self.stream.send(CONVERSATION)
        restarted = MessageTail(
            self.tail._api,
            SimpleNamespace(here=True),  # type: ignore[arg-type]
            lambda txn, messages: self.handled.extend(messages),
            lambda: None,
        )
        self.tail = restarted
        await self.wake()
        self.assertEqual(self.handled_ids(), [sent])
