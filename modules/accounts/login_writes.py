# SPDX-License-Identifier: AGPL-3.0-or-later
"""The writes of a successful login (its log entry, its session row, the cleared failure
count, the log entries of the sessions it signed out), off the login's answer path and
coalesced: the first write waits COALESCE_S for others, and every write queued while a
transaction commits goes into the next one. On SQLite each commit queues for the one
connection Synapse also needs; a shift change's logins then share commits instead of
paying one each (issue 17, item 4).

Order is kept per process: the writes run in the order they were queued, a login of the
same account first waits for the earlier one's writes (`settled`), and readers of the
log and the sessions wait for everything queued before them (`flush`). A crash between
the answer and the commit (at most COALESCE_S and a commit) loses those rows.
"""

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.storage import Txn

logger = logging.getLogger(__name__)

POLL_S = 0.005  # how often a waiter looks again (waits last one commit at most)
# The first write waits this long for others to share its commit (nobody waits for it:
# the login has answered); a reader (flush, settled) ends the wait at once.
COALESCE_S = 0.5
COALESCE_STEP_S = 0.05

Write = Callable[[Txn], Any]


def _write_all_txn(txn: Txn, batch: list[tuple[str, Write]]) -> None:
    for _user, write in batch:
        write(txn)


class LoginWrites:
    def __init__(self, api: ModuleApi) -> None:
        self._api = api
        self._queue: list[tuple[str, Write]] = []
        self._users: Counter[str] = Counter()  # queued or being written
        self._queued: Counter[str] = Counter()  # writes ever queued, per account
        self._writing = False
        self._batches = 0  # batches committed (or failed) so far
        self._urgent = False  # somebody waits: write now

    def queue(self, user_id: str, write: Write) -> None:
        self._queue.append((user_id, write))
        self._users[user_id] += 1
        self._queued[user_id] += 1
        if not self._writing:
            self._writing = True
            self._api.run_as_background_process("jwwx_acc_login_writes", self._write)

    def generation(self, user_id: str) -> int:
        """Changes whenever a write of this account is queued (in this process): a read
        of its sessions made at an earlier generation may miss one."""
        return self._queued[user_id]

    async def settled(self, user_id: str) -> None:
        """Once the writes queued for this account are committed."""
        if self._users[user_id] > 0:
            self._urgent = True
        while self._users[user_id] > 0:
            await self._api.sleep(POLL_S)

    async def flush(self) -> None:
        """Once everything queued before this call is committed."""
        if not self._writing:
            return
        self._urgent = True
        target = self._batches + (2 if self._queue else 1)
        while self._writing and self._batches < target:
            await self._api.sleep(POLL_S)

    async def _write(self) -> None:
        try:
            waited = 0.0
            while waited < COALESCE_S and not self._urgent:
                await self._api.sleep(COALESCE_STEP_S)
                waited += COALESCE_STEP_S
            while self._queue:
                self._urgent = False
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
