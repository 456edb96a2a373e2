# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reads of one key each, asked by requests that arrive together, answered by shared
transactions.

The first read starts a transaction at once (a lone request waits for nothing); keys
asked while it runs are read together by the next one, and so on. Fifty officers
opening the same article at the same moment then cost two or three transactions
instead of fifty: on SQLite every transaction queues for the one connection (and each
hand-over to the database thread waits for the GIL), on PostgreSQL for the pool, and
the last of fifty single reads waited for the other forty-nine.

`read_txn(txn, keys)` answers {key: value} for the keys it found; a key it leaves out
reads as None. A failed transaction fails the reads of that batch only.
"""

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from twisted.internet import defer

from synapse.module_api import ModuleApi

from modules.common.storage import Txn
from modules.common.synapse.runtime import await_background

K = TypeVar("K")
V = TypeVar("V")
MAX_KEYS = 500  # per transaction (SQLite's IN lists and a transaction's length)


class BatchedRead(Generic[K, V]):
    def __init__(
        self,
        api: ModuleApi,
        desc: str,
        read_txn: Callable[[Txn, list[K]], dict[K, V]],
    ) -> None:
        self._api = api
        self._desc = desc
        self._read_txn = read_txn
        self._waiting: dict[K, list[defer.Deferred[Any]]] = {}
        self._running = False
        self.transactions = 0  # how many batches were read (for tests and profiles)

    async def get(self, key: K) -> V | None:
        deferred: defer.Deferred[Any] = defer.Deferred()
        self._waiting.setdefault(key, []).append(deferred)
        if not self._running:
            self._running = True
            self._api.run_as_background_process(self._desc, self._run)
        return await await_background(deferred)

    async def _run(self) -> None:
        try:
            while self._waiting:
                keys = list(self._waiting)[:MAX_KEYS]
                batch = {key: self._waiting.pop(key) for key in keys}
                self.transactions += 1
                try:
                    found = await self._api.run_db_interaction(
                        self._desc, self._read_txn, keys
                    )
                except Exception as e:
                    for waiters in batch.values():
                        for deferred in waiters:
                            deferred.errback(e)
                    continue
                for key, waiters in batch.items():
                    for deferred in waiters:
                        deferred.callback(found.get(key))
        finally:
            self._running = False
