# SPDX-License-Identifier: AGPL-3.0-or-later
"""The writes of a successful login (its log entry, its session row, the cleared failure
count, the log entries of the sessions it signed out), off the login's answer path and
coalesced (modules/common/coalesce.py: the first write waits half a second for others,
and every write queued while a transaction commits goes into the next one). On SQLite each commit queues for the one
connection Synapse also needs; a shift change's logins then share commits instead of
paying one each (issue 17, item 4).

A batch is folded into one statement per table and kind (`write_batch_txn`): the log
entries in one multi-row INSERT (ids in the order queued), the cleared failures in one
DELETE, the session rows in one upsert, the forgotten sessions and finished entries in
one round trip each — a handful of statements whatever the number of logins (it was
about four per login, each a round trip holding the connection on PostgreSQL). A
session row queued and forgotten in the same batch ends as the last of the two did.

Order is kept per process: the writes run in the order they were queued, a login of the
same account first waits for the earlier one's writes (`settled`), and readers of the
log and the sessions wait for everything queued before them (`flush`). A crash between
the answer and the commit (at most half a second and a commit) loses those rows.
"""

from collections import Counter
from dataclasses import dataclass, field

from synapse.module_api import ModuleApi

from modules.accounts import storage
from modules.common.coalesce import POLL_S, CoalescedWriter
from modules.common.storage import Txn


@dataclass
class LoginWrite:
    """What one login (or the sign-outs it caused) writes."""

    user_id: str
    entries: list[storage.LogEntry] = field(default_factory=list)  # in this order
    clear_failures: bool = False  # the account's failure count and lock
    finish: tuple[int, str | None] | None = None  # (log id, device): result "ok"
    session: storage.SessionRow | None = None
    forget: list[str] = field(default_factory=list)  # the account's devices


def write_batch_txn(txn: Txn, batch: list[LoginWrite]) -> None:
    cleared = sorted({w.user_id for w in batch if w.clear_failures})
    storage.clear_user_failures_txn(txn, cleared)
    storage.add_logs_txn(txn, [e for w in batch for e in w.entries])
    storage.finish_logs_txn(
        txn, [(w.finish[0], "ok", w.finish[1]) for w in batch if w.finish]
    )
    # Per (account, device), the last write queued decides: a row or none.
    sessions: dict[tuple[str, str], storage.SessionRow | None] = {}
    for w in batch:
        if w.session is not None:
            sessions[(w.user_id, w.session.device_id)] = w.session
        for device_id in w.forget:
            sessions[(w.user_id, device_id)] = None
    storage.add_sessions_txn(txn, [row for row in sessions.values() if row])
    storage.forget_session_keys_txn(
        txn, [key for key, row in sessions.items() if row is None]
    )


class LoginWrites(CoalescedWriter[LoginWrite]):
    def __init__(self, api: ModuleApi) -> None:
        super().__init__(api, "jwwx_acc_login_writes")
        self._users: Counter[str] = Counter()  # queued or being written
        self._queued: Counter[str] = Counter()  # writes ever queued, per account

    def queue(self, write: LoginWrite) -> None:
        self._users[write.user_id] += 1
        self._queued[write.user_id] += 1
        self.add(write)

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

    async def write_batch(self, batch: list[LoginWrite]) -> None:
        await self._api.run_db_interaction(
            "jwwx_acc_login_writes", write_batch_txn, batch
        )

    def describe_loss(self, batch: list[LoginWrite]) -> str:
        users = ", ".join(sorted({w.user_id for w in batch}))
        return f"login log: {len(batch)} queued write(s) lost ({users})"

    def batch_done(self, batch: list[LoginWrite]) -> None:
        for write in batch:
            self._users[write.user_id] -= 1
            if self._users[write.user_id] <= 0:
                del self._users[write.user_id]
