# SPDX-License-Identifier: AGPL-3.0-or-later
"""The writes of a successful login (its log entry, its session row, the cleared failure
count, the log entries of the sessions it signed out), off the login's answer path and
coalesced (modules/common/coalesce.py: the first write waits half a second for others,
and every write queued while a transaction commits goes into the next one). On SQLite each commit queues for the one
connection Synapse also needs; a shift change's logins then share commits instead of
paying one each (issue 17, item 4).

Order is kept per process: the writes run in the order they were queued, a login of the
same account first waits for the earlier one's writes (`settled`), and readers of the
log and the sessions wait for everything queued before them (`flush`). A crash between
the answer and the commit (at most half a second and a commit) loses those rows.
"""

from collections import Counter
from collections.abc import Callable
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.coalesce import POLL_S, CoalescedWriter
from modules.common.storage import Txn

Write = Callable[[Txn], Any]


def _write_all_txn(txn: Txn, batch: list[tuple[str, Write]]) -> None:
    for _user, write in batch:
        write(txn)


class LoginWrites(CoalescedWriter[tuple[str, Write]]):
    def __init__(self, api: ModuleApi) -> None:
        super().__init__(api, "jwwx_acc_login_writes")
        self._users: Counter[str] = Counter()  # queued or being written
        self._queued: Counter[str] = Counter()  # writes ever queued, per account

    def queue(self, user_id: str, write: Write) -> None:
        self._users[user_id] += 1
        self._queued[user_id] += 1
        self.add((user_id, write))

    def generation(self, user_id: str) -> int:
        """Changes whenever a write of this account is queued (in this process): a read
        of its sessions made at an earlier generation may miss one."""
        return self._queued[user_id]

    async def settled(self, user_id: str) -> None:
        """Once the writes queued for this account are committed."""
        if self._users[user_id] > 0:
            self.hurry()
        while self._users[user_id] > 0:
            await self._api.sleep(POLL_S)

    async def write_batch(self, batch: list[tuple[str, Write]]) -> None:
        await self._api.run_db_interaction(
            "jwwx_acc_login_writes", _write_all_txn, batch
        )

    def describe_loss(self, batch: list[tuple[str, Write]]) -> str:
        users = ", ".join(sorted({u for u, _w in batch}))
        return f"login log: {len(batch)} queued write(s) lost ({users})"

    def batch_done(self, batch: list[tuple[str, Write]]) -> None:
        for user_id, _write in batch:
            self._users[user_id] -= 1
            if self._users[user_id] <= 0:
                del self._users[user_id]
