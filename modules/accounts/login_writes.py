# SPDX-License-Identifier: AGPL-3.0-or-later
"""The writes of a successful login (its log entry, its session row, the cleared failure
count, the log entries of the sessions it signed out), off the login's answer path and
coalesced: every write queued while the previous transaction commits goes into the next
one. On SQLite each commit queues for the one connection Synapse also needs; a shift
change's logins then share commits instead of paying one each (issue 17, item 4).

Order is kept per process: the writes run in the order they were queued, a login of the
same account first waits for the earlier one's writes (`settled`), and readers of the
log and the sessions wait for everything queued before them (`flush`). A crash between
the answer and the commit (milliseconds) loses those log rows; it is logged loudly.
"""

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.storage import Txn

logger = logging.getLogger(__name__)

POLL_S = 0.005  # how often a waiter looks again (waits last one commit at most)

Write = Callable[[Txn], Any]


def _write_all_txn(txn: Txn, batch: list[tuple[str, Write]]) -> None:
    for _user, write in batch:
        write(txn)


class LoginWrites:
    def __init__(self, api: ModuleApi) -> None:
        self._api = api
        self._queue: list[tuple[str, Write]] = []
        self._users: Counter[str] = Counter()  # queued or being written
        self._writing = False
        self._batches = 0  # batches committed (or failed) so far

    def queue(self, user_id: str, write: Write) -> None:
        self._queue.append((user_id, write))
        self._users[user_id] += 1
        if not self._writing:
            self._writing = True
            self._api.run_as_background_process("jwwx_acc_login_writes", self._write)

    async def settled(self, user_id: str) -> None:
        """Once the writes queued for this account are committed."""
        while self._users[user_id] > 0:
            await self._api.sleep(POLL_S)

    async def flush(self) -> None:
        """Once everything queued before this call is committed."""
        if not self._writing:
            return
        target = self._batches + (2 if self._queue else 1)
        while self._writing and self._batches < target:
            await self._api.sleep(POLL_S)

    async def _write(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []

                try:
                    await self._api.run_db_interaction(
                        "jwwx_acc_login_writes", _write_all_txn, batch
                    )
                except Exception:
                    logger.exception(
                        "login log: %d queued write(s) lost (%s)",
                        len(batch),
                        ", ".join(sorted({u for u, _w in batch})),
                    )
                finally:
                    self._batches += 1
                    for user_id, _write in batch:
                        self._users[user_id] -= 1
                        if self._users[user_id] <= 0:
                            del self._users[user_id]
        finally:
            self._writing = False
