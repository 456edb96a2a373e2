# SPDX-License-Identifier: AGPL-3.0-or-later
"""The writes of an article page's open (the open counted in jwwx_pubacct_reads, the
audit archive's read record), off the page's answer path and batched: the first open
waits half a second for others (modules/common/coalesce.py), then every open queued
meanwhile is written in one transaction of ours (one row per officer and article) and
one of the audit inbox per `AUDIT_SLICE` read records (one per officer and article,
with its count of opens). A page then costs reads only; 50
readers cost a few commits per interval instead of two per page (on SQLite every commit
queues for the one connection; the profile of session 6 had it at half the page time).

Statistics first wait for what is queued in this process (`flush`); another worker's
queue is at most half a second and a commit behind. A crash between the page's answer and
the commit loses those opens (at most half a second of them), logged when a write fails.
"""

from collections import Counter

from synapse.module_api import ModuleApi

from modules.audit import public as audit
from modules.common.coalesce import CoalescedWriter
from modules.public_accounts.storage import reads as reads_db

# (article id, userid, when ms, audit app id, Matrix user id)
Open = tuple[int, str, int, str, str]
# Audit read records sealed and written per transaction. Sealing (SM4 and HMAC-SM3, ≈ 25 µs
# a record) runs on the reactor: a batch of a thousand opens sealed at once held every
# page in flight for tens of milliseconds (session 15, the benchmark's 50 readers);
# a slice is a few milliseconds, and pages are answered between slices.
AUDIT_SLICE = 128


class OpenRecorder(CoalescedWriter[Open]):
    def __init__(self, api: ModuleApi) -> None:
        super().__init__(api, "jwwx_pubacct_opens", step_s=0.05)

    def record(
        self, article_id: int, userid: str, now: int, app_id: str, user_id: str
    ) -> None:
        self.add((article_id, userid, now, app_id, user_id))

    async def write_batch(self, batch: list[Open]) -> None:
        await self._api.run_db_interaction(
            "jwwx_pubacct_opens",
            reads_db.record_opens_txn,
            [(a, u, t) for a, u, t, _app, _user in batch],
        )
        # One read record per officer and article in the batch, with its count of
        # opens: the records of a batch share one time, so a record per open said
        # nothing more, and each cost a seal here and an open, a hash and an insert in
        # the archiver (whose transaction holds the GIL beside the reactor).
        counts = Counter((app, a, user) for a, _u, _t, app, user in batch)
        reads = list(counts.items())
        for start in range(0, len(reads), AUDIT_SLICE):
            part = reads[start : start + AUDIT_SLICE]
            await audit.record_app_reads(
                self._api,
                [(app, f"article:{a}", user) for (app, a, user), _n in part],
                [n for _key, n in part],
            )

    def describe_loss(self, batch: list[Open]) -> str:
        return f"article pages: {len(batch)} opens not recorded"
