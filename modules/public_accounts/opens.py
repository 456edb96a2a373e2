# SPDX-License-Identifier: AGPL-3.0-or-later
"""The writes of an article page's open (the open counted in jwwx_pubacct_reads, the
audit archive's read record), off the page's answer path and batched: the first open
waits COALESCE_S for others, then every open queued meanwhile is written in one
transaction of ours and one of the audit inbox. A page then costs reads only; 50
readers cost two commits per interval instead of two per page (on SQLite every commit
queues for the one connection; the profile of session 6 had it at half the page time).

Statistics first wait for what is queued in this process (`flush`); another worker's
queue is at most COALESCE_S and a commit behind. A crash between the page's answer and
the commit loses those opens (at most COALESCE_S of them), logged when a write fails.
"""

import logging

from synapse.module_api import ModuleApi

from modules.audit import public as audit
from modules.public_accounts.storage import reads as reads_db

logger = logging.getLogger(__name__)

COALESCE_S = 0.5
POLL_S = 0.01

# (article id, userid, when ms, audit app id, Matrix user id)
Open = tuple[int, str, int, str, str]


class OpenRecorder:
    def __init__(self, api: ModuleApi) -> None:
        self._api = api
        self._queue: list[Open] = []
        self._writing = False
        self._urgent = False
        self._batches = 0  # batches written (or failed) so far

    def record(
        self, article_id: int, userid: str, now: int, app_id: str, user_id: str
    ) -> None:
        self._queue.append((article_id, userid, now, app_id, user_id))
        if not self._writing:
            self._writing = True
            self._api.run_as_background_process("jwwx_pubacct_opens", self._write)

    async def flush(self) -> None:
        """Once every open queued before this call is written."""
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
                await self._api.sleep(POLL_S * 5)
                waited += POLL_S * 5
            while self._queue:
                self._urgent = False
                batch, self._queue = self._queue, []
                try:
                    await self._api.run_db_interaction(
                        "jwwx_pubacct_opens",
                        reads_db.record_opens_txn,
                        [(a, u, t) for a, u, t, _app, _user in batch],
                    )
                    await audit.record_app_reads(
                        self._api,
                        [(app, f"article:{a}", user) for a, _u, _t, app, user in batch],
                    )
                except Exception:
                    logger.exception("article pages: %d opens not recorded", len(batch))
                finally:
                    self._batches += 1
        finally:
            self._writing = False
