# SPDX-License-Identifier: AGPL-3.0-or-later
"""Following Synapse's event stream after a durable cursor, beside delivery.

Never ModuleApi's on_new_event (Synapse awaits it before waking clients in /sync). A
follower is woken by Synapse's replication notifier (coalesced over WAKE_DELAY_S) with a
slow poll as a safety net, only on the process that runs the module's jobs, and reads in
batches: the subclass's `step()` reads one batch and moves its cursor in one transaction
(a crash repeats a batch, never loses one) and answers whether to run again at once.
"""

import bisect
import logging
import time

from synapse.module_api import ModuleApi

from modules.common.jobs import Jobs
from modules.common.synapse.events import on_new_stream_data, persisted_stream_ordering

logger = logging.getLogger(__name__)

WAKE_DELAY_S = 0.2  # coalesces a burst of events into one read
SEEN_MAX = 100_000  # stream positions remembered with the time they were persisted


class StreamFollower:
    def __init__(
        self,
        api: ModuleApi,
        jobs: Jobs,
        desc: str,
        poll_ms: float,
        pause_ms: int = 0,
        wake_delay_ms: float = WAKE_DELAY_S * 1000,
    ) -> None:
        self._api = api
        self._jobs = jobs
        self._desc = desc
        self._poll_ms = poll_ms
        # After a wake-up, so that a burst of events is read (and written) in one batch.
        self._wake_delay_ms = wake_delay_ms
        # Between full batches while catching up, so SQLite's one writer serves others.
        self._pause_ms = pause_ms
        self._enabled = False  # once the module's tables exist
        self._position: int | None = None  # set by step()
        self._running = False
        self._again = False
        self._scheduled = False
        # (position, monotonic time) each time the persisted stream was seen to grow,
        # from the position after the cursor on: how long after an event entered the
        # stream (the moment /sync listeners are woken) the follower got to it.
        self._seen_positions: list[int] = []
        self._seen_times: list[float] = []

    @property
    def position(self) -> int | None:
        """The cursor as last seen by this process (None before the first batch)."""
        return self._position

    async def step(self) -> bool:
        """One batch; True when another should follow at once."""
        raise NotImplementedError

    def start(self) -> None:
        if not self._jobs.here:
            return
        on_new_stream_data(self._api, self._poke)
        self._jobs.every(self.drain, self._poll_ms, f"{self._desc}_poll")

    def enable(self) -> None:
        """The tables exist: start reading (now, then when woken)."""
        self._enabled = True
        self._jobs.start(self._desc, self.drain)

    def seen_at(self, position: int) -> float | None:
        """When (time.monotonic()) this process first saw the persisted stream reach
        `position`; None if it did not watch (before the first batch, a poll found it)."""
        i = bisect.bisect_left(self._seen_positions, position)
        return self._seen_times[i] if i < len(self._seen_times) else None

    def _forget_seen(self, upto: int) -> None:
        """Positions up to the cursor are done with."""
        i = bisect.bisect_right(self._seen_positions, upto)
        if i:
            del self._seen_positions[:i], self._seen_times[:i]

    def _poke(self) -> None:
        """From Synapse's notifier on every stream change: must stay cheap."""
        if self._position is None:
            return
        persisted = persisted_stream_ordering(self._api)
        if persisted <= self._position:
            return
        seen = self._seen_positions
        if (not seen or persisted > seen[-1]) and len(seen) < SEEN_MAX:
            seen.append(persisted)
            self._seen_times.append(time.monotonic())
        if self._scheduled:
            return
        self._scheduled = True
        self._api.delayed_background_call(
            self._wake_delay_ms, self._woken, desc=self._desc
        )

    async def _woken(self) -> None:
        self._scheduled = False
        await self.drain()

    async def drain(self) -> None:
        if not self._enabled:
            return
        if self._running:
            self._again = True
            return
        self._running = True
        try:
            while True:
                self._again = False
                more = await self.step()
                if self._position is not None:
                    self._forget_seen(self._position)
                if not more and not self._again:
                    return
                if more and self._pause_ms:
                    await self._api.sleep(self._pause_ms / 1000)
        except Exception:
            logger.exception("%s failed; retried at the next poll", self._desc)
        finally:
            self._running = False
