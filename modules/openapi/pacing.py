# SPDX-License-Identifier: AGPL-3.0-or-later
"""Pacing a fan-out's room sends, so that a one-officer push is answered meanwhile.

A push into an app's broadcast rooms (broadcast.py) wakes the /sync of every officer
of each room it is sent into, and each woken /sync costs its answer (≈ 16 cpu-ms of the
process right after an app's creation: the claim's state changed). Sent into all rooms
at once, 2,000 officers' answers are computed side by side on one reactor: every one of
them, and the answer of an officer a one-officer push woke meanwhile, finishes only
near the end (14–20 s at 2,000, benchmarks/RESULTS.md, session 15).

So the rooms of broadcast pushes go one at a time through one queue per process (first
come, first served: two pushes of an app reach every room in the order they were sent),
and before each room the queue waits until the work already woken is nearly done: it
times a no-op database interaction (the wait for a connection of the pool plus a turn of
the reactor, where the woken answers' reads and their Python run) and sends when that is
at most `broadcast_pace_lag_ms`. The backlog stays about one room's answers, so an event
sent meanwhile (a one-officer push is not paced) wakes an answer that waits behind about
one room, not behind the whole range. The work is the same and the process stays busy,
so the last officer is not reached later. A room waits at most PACE_MAX_WAIT_MS_PER_OFFICER
per officer of the previous room (what its answers should cost), so pacing never holds a
fan-out back for long when the lag has another cause.

Nothing is stored: a paced push is a background job like any (a restart ends it, as it
ends an unpaced one). On a worker deployment the probe sees the process that sends, not
the sync workers that answer (pacing then mostly sends at once).
"""

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.storage import Txn
from modules.common.synapse.runtime import keyed_lock

logger = logging.getLogger(__name__)

# How often the lag is probed while a room waits.
PACE_STEP_SECONDS = 0.02
# A room waits at most this long per officer of the room sent before it.
PACE_MAX_WAIT_MS_PER_OFFICER = 25


def _nothing_txn(txn: Txn) -> None:
    """A probe: no statement (no lock taken, nothing sent to the database)."""


class Pacer:
    def __init__(self, api: ModuleApi, lag_ms: int) -> None:
        self._api = api
        self._lag = lag_ms / 1000
        self._queue = keyed_lock(api, "jwwx_openapi_pace")
        # The officers woken by the last room sent (how long the next may wait).
        self._last_room = 0
        # Counters for the logs and the admin API (rooms sent, waits, probes).
        self.rooms = 0
        self.waited_seconds = 0.0
        self.probes = 0
        self.forced = 0  # rooms sent at the wait's bound, the lag still high

    @property
    def enabled(self) -> bool:
        return self._lag > 0

    async def lag(self) -> float:
        """Seconds a no-op database interaction takes from here and back."""
        began = time.perf_counter()
        await self._api.run_db_interaction("jwwx_openapi_pace_probe", _nothing_txn)
        self.probes += 1
        return time.perf_counter() - began

    async def send(
        self, room_id: str, officers: int, send: Callable[[str], Awaitable[Any]]
    ) -> None:
        """send(room_id) at its turn: after the rooms queued before it, once the work
        they woke is nearly done. `officers`: how many the room wakes."""
        async with self._queue("rooms"):
            began = time.perf_counter()
            bound = PACE_MAX_WAIT_MS_PER_OFFICER * self._last_room / 1000
            first = lag = await self.lag()
            while lag > self._lag:
                if time.perf_counter() - began >= bound:
                    self.forced += 1
                    break
                await self._api.sleep(PACE_STEP_SECONDS)
                lag = await self.lag()
            waited = time.perf_counter() - began
            self.waited_seconds += waited
            logger.debug(
                "paced room %s: lag %.0f ms, waited %.0f ms",
                room_id,
                1000 * first,
                1000 * waited,
            )
            self.rooms += 1
            self._last_room = officers
            await send(room_id)

    def stats(self) -> dict[str, Any]:
        return {
            "lag_ms": int(self._lag * 1000),
            "rooms": self.rooms,
            "waited_seconds": round(self.waited_seconds, 3),
            "probes": self.probes,
            "forced": self.forced,
        }
