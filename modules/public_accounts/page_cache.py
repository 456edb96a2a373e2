# SPDX-License-Identifier: AGPL-3.0-or-later
"""What an article page reads, kept for a moment (config `page_cache_seconds`): per
article and viewer the article, its account and whether the viewer subscribes; per
viewer and minute the watermark tile; per article the article and per image its
metadata (the page's images). Fifty officers opening the same article then
cost no database transaction each (on SQLite every transaction waits its turn on the
one connection). Any write of this process to an article, a push, an account or a
subscription empties it at once (`clear`); another process's writes are seen within
`page_cache_seconds`. A read that began before a clear is not kept (generations)."""

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

MAX_ENTRIES = 20_000


class PageCache:
    def __init__(
        self, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._seconds = seconds
        self._clock = clock
        self._entries: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self.generation = 0

    def get(self, key: Any) -> tuple[bool, Any]:
        """(found, value)."""
        held = self._entries.get(key)
        if held is None:
            return False, None
        if held[0] < self._clock():
            del self._entries[key]
            return False, None
        return True, held[1]

    def put(self, key: Any, value: Any, generation: int) -> None:
        """Keep `value`, read when the generation was `generation` (not kept when the
        cache was cleared since)."""
        if self._seconds <= 0 or generation != self.generation:
            return
        self._entries[key] = (self._clock() + self._seconds, value)
        self._entries.move_to_end(key)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
