# SPDX-License-Identifier: AGPL-3.0-or-later
"""Real /sync long-polls, one task per simulated user, all on one event loop.

Each loop does an initial sync (timeout 0) for its `since` token, then long-polls as a
client would, handing every timeline event to a callback with the time the answer
arrived. A filter leaves out presence, account data and ephemeral events (typing,
receipts): the benchmark only reads timelines, and lazy-loads members as Element does.

SlidingSyncLoop does the same through Synapse's native simplified sliding sync (MSC4186,
what Element X uses): one list of the user's rooms by recency, a short timeline, the
room name and lazily loaded members, no extensions (no receipts, typing, to-device).
"""

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from benchmarks.aclient import CLIENT, MatrixUser

LONG_POLL_MS = 30_000


def timeline_filter(limit: int) -> str:
    return quote(
        json.dumps(
            {
                "presence": {"types": []},
                "account_data": {"types": []},
                "room": {
                    "state": {"lazy_load_members": True},
                    "ephemeral": {"types": []},
                    "account_data": {"types": []},
                    "timeline": {"limit": limit},
                },
            },
            separators=(",", ":"),
        )
    )


FILTER = timeline_filter(100)

SLIDING_PATH = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync"
SLIDING_BODY = {
    "lists": {
        "rooms": {
            "ranges": [[0, 19]],
            "timeline_limit": 10,
            "required_state": [["m.room.name", ""], ["m.room.member", "$LAZY"]],
        }
    }
}

# (recipient user id, room id, event, time the /sync answer arrived)
OnEvent = Callable[[str, str, dict[str, Any], float], None]


class SyncLoop:
    def __init__(
        self, user: MatrixUser, on_event: OnEvent, initial_filter: str = FILTER
    ) -> None:
        self.user = user
        self.on_event = on_event
        self.initial_filter = initial_filter
        self.since = ""
        self.errors = 0
        self.first_error = ""
        self.limited = 0  # timelines cut short: events may have been skipped
        self.polls = 0
        self._task: asyncio.Task[None] | None = None

    async def initial(self) -> None:
        answer = await self.user.call(
            "GET", f"{CLIENT}/sync?timeout=0&filter={self.initial_filter}", timeout=120
        )
        if not answer.ok:
            raise RuntimeError(f"initial sync of {self.user.user_id}: {answer.error()}")
        self.since = str(answer.body["next_batch"])

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            path = (
                f"{CLIENT}/sync?timeout={LONG_POLL_MS}&filter={FILTER}"
                f"&since={quote(self.since)}"
            )
            answer = await self.user.call("GET", path, timeout=LONG_POLL_MS / 1000 + 60)
            arrived = time.perf_counter()
            self.polls += 1
            if not answer.ok:
                self.errors += 1
                self.first_error = self.first_error or answer.error()
                await asyncio.sleep(1.0)  # as clients back off
                continue
            self.since = str(answer.body["next_batch"])
            rooms = answer.body.get("rooms", {}).get("join", {})
            for room_id, room in rooms.items():
                timeline = room.get("timeline", {})
                self.limited += bool(timeline.get("limited"))
                for event in timeline.get("events", []):
                    self.on_event(self.user.user_id, room_id, event, arrived)


class SlidingSyncLoop(SyncLoop):
    """The same long-poll through MSC4186 sliding sync (`pos` instead of `since`)."""

    async def initial(self) -> None:
        answer = await self.user.call(
            "POST", f"{SLIDING_PATH}?timeout=0", SLIDING_BODY, timeout=120
        )
        if not answer.ok:
            raise RuntimeError(
                f"initial sliding sync of {self.user.user_id}: {answer.error()}"
            )
        self.since = str(answer.body["pos"])

    async def _run(self) -> None:
        while True:
            path = f"{SLIDING_PATH}?timeout={LONG_POLL_MS}&pos={quote(self.since)}"
            answer = await self.user.call(
                "POST", path, SLIDING_BODY, timeout=LONG_POLL_MS / 1000 + 60
            )
            arrived = time.perf_counter()
            self.polls += 1
            if not answer.ok:
                self.errors += 1
                self.first_error = self.first_error or answer.error()
                await asyncio.sleep(1.0)
                continue
            self.since = str(answer.body["pos"])
            for room_id, room in answer.body.get("rooms", {}).items():
                self.limited += bool(room.get("limited"))
                for event in room.get("timeline", []):
                    self.on_event(self.user.user_id, room_id, event, arrived)


async def start_all(
    users: Iterable[MatrixUser],
    on_event: OnEvent,
    concurrency: int = 8,
    sliding: bool = False,
    initial_limit: int | None = None,
) -> list[SyncLoop]:
    """Initial sync for everyone (a few at a time), then start every long-poll.
    `initial_limit`: the initial sync's timeline limit per room, for scenarios that
    need only its position (the long-polls keep asking for 100 events): with rooms
    of hundreds of joins, 100 events' visibility is seconds of CPU per officer."""
    loops = await initial_all(users, on_event, concurrency, sliding, initial_limit)
    for loop in loops:
        loop.start()
    return loops


async def initial_all(
    users: Iterable[MatrixUser],
    on_event: OnEvent,
    concurrency: int = 8,
    sliding: bool = False,
    initial_limit: int | None = None,
) -> list[SyncLoop]:
    """start_all's initial syncs only: the loops hold their position and long-poll
    once started (`loop.start()`), e.g. after the server was restarted as workers."""
    kind = SlidingSyncLoop if sliding else SyncLoop
    first_filter = FILTER if initial_limit is None else timeline_filter(initial_limit)
    loops = [kind(u, on_event, first_filter) for u in users]
    gate = asyncio.Semaphore(concurrency)

    async def first(loop: SyncLoop) -> None:
        async with gate:
            await loop.initial()

    await asyncio.gather(*(first(loop) for loop in loops))
    return loops


async def stop_all(loops: list[SyncLoop]) -> dict[str, int]:
    await asyncio.gather(*(loop.stop() for loop in loops))
    return {
        "sync errors": sum(loop.errors for loop in loops),
        "limited timelines": sum(loop.limited for loop in loops),
    }


def first_sync_error(loops: list[SyncLoop]) -> str:
    return next((loop.first_error for loop in loops if loop.first_error), "")
