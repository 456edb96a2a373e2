# SPDX-License-Identifier: AGPL-3.0-or-later
"""Writes taken off a request's answer path and coalesced into shared transactions.

The first item queued waits `coalesce_s` for others (nobody waits for it: the request
has answered); every item queued while a batch commits goes into the next one. On
SQLite each commit queues for the one connection Synapse also needs, so a burst shares
commits instead of paying one each. `flush()` returns once everything queued before it
is written (and ends the wait at once). A crash between an answer and its batch's commit
loses that batch (at most `coalesce_s` and a commit): callers say so where they use it.
"""

import logging
from typing import Generic, TypeVar

from synapse.module_api import ModuleApi

logger = logging.getLogger(__name__)

T = TypeVar("T")
POLL_S = 0.005  # how often a waiter looks again (waits last one commit at most)


class CoalescedWriter(Generic[T]):
    def __init__(
        self, api: ModuleApi, desc: str, coalesce_s: float = 0.5, step_s: float = 0.05
    ) -> None:
        self._api = api
        self._desc = desc
        self._coalesce_s = coalesce_s
        self._step_s = step_s
        self._queue: list[T] = []
        self._writing = False
        self._urgent = False  # somebody waits: write now
        self._batches = 0  # batches written (or failed) so far

    async def write_batch(self, batch: list[T]) -> None:
        """Write one batch (a subclass's transactions)."""
        raise NotImplementedError

    def describe_loss(self, batch: list[T]) -> str:
        return f"{len(batch)} queued write(s) lost"

    def batch_done(self, batch: list[T]) -> None:
        """After a batch was written or failed (bookkeeping of subclasses)."""

    def add(self, item: T) -> None:
        self._queue.append(item)
        if not self._writing:
            self._writing = True
            self._api.run_as_background_process(self._desc, self._write)

    def hurry(self) -> None:
        """End the current wait for company: somebody waits for the batch."""
        self._urgent = True

    async def flush(self) -> None:
        """Once everything queued before this call is written."""
        if not self._writing:
            return
        self._urgent = True
        target = self._batches + (2 if self._queue else 1)
        while self._writing and self._batches < target:
            await self._api.sleep(POLL_S)

    async def _write(self) -> None:
        try:
            waited = 0.0
            while waited < self._coalesce_s and not self._urgent:
                await self._api.sleep(self._step_s)
                waited += self._step_s
            while self._queue:
                self._urgent = False
                batch, self._queue = self._queue, []
                try:
                    await self.write_batch(batch)
                except Exception:
                    logger.exception("%s: %s", self._desc, self.describe_loss(batch))
                finally:
                    self._batches += 1
                    self.batch_done(batch)
        finally:
            self._writing = False
