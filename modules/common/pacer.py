# SPDX-License-Identifier: AGPL-3.0-or-later
"""When a background poll should read again: at once after `wake()` (work made in this
process), at the next due time it knows of, else after an interval that doubles while
it finds nothing (from its tick up to `idle_max_s`), so an idle server does not commit
a read a second per loop (issue 17, item 2: on SQLite every transaction, reads too,
queues for the one connection message persistence needs).

The loop keeps its tick (`every(...)` as before) and asks `due()` first:

    if not pacer.due():
        return
    work = await read()
    pacer.found(bool(work), next_due_ms=...)

Work made on another process (a worker) is seen within `idle_max_s`.
"""

from collections.abc import Callable


class Pacer:
    def __init__(
        self, now_ms: Callable[[], int], tick_s: float, idle_max_s: float
    ) -> None:
        self._now_ms = now_ms
        self._tick_ms = max(1, int(tick_s * 1000))
        self._idle_max_ms = max(self._tick_ms, int(idle_max_s * 1000))
        self._interval_ms = self._tick_ms
        self._next_ms = 0  # due at once (the first tick reads)
        # A wake that arrives while a read is under way: that read may have begun
        # before the work was committed, so its "nothing found" must not put it off.
        self._woken = False

    def due(self) -> bool:
        if self._now_ms() >= self._next_ms:
            self._woken = False  # the read that follows sees what was woken so far
            return True
        return False

    def wake(self) -> None:
        """Work was made here: read at the next tick."""
        self._interval_ms = self._tick_ms
        self._next_ms = 0
        self._woken = True

    def found(self, work: bool, next_due_ms: int | None = None) -> None:
        """After a read: `work` found keeps the tick; nothing found doubles the wait
        (up to idle_max_s), or waits until `next_due_ms` if that is sooner."""
        now = self._now_ms()
        if self._woken:
            # Woken during this read: read again at the next tick.
            self._interval_ms = self._tick_ms
            self._next_ms = 0
            return
        if work:
            self._interval_ms = self._tick_ms
        else:
            self._interval_ms = min(2 * self._interval_ms, self._idle_max_ms)
        wait = self._tick_ms if work else self._interval_ms
        if next_due_ms is not None:
            wait = min(wait, max(0, next_due_ms - now))
        # A tick that comes a little early must not skip a whole tick.
        self._next_ms = now + wait - self._tick_ms // 10
