# SPDX-License-Identifier: AGPL-3.0-or-later
"""The sweep: the index forgets what Synapse purged without an event in the stream
(retention purge jobs, the purge-history and delete-room admin APIs). Each tick checks
the next `sweep_batch` indexed events against Synapse's events table in one
transaction (no event is loaded, so Synapse's caches are untouched) and drops those
that are gone; after the last row it starts over. Redactions need no sweep: they come
through the stream (indexer.py), and searches check every hit anyway."""

import logging

from synapse.module_api import ModuleApi

from modules.common.storage import Txn
from modules.common.synapse.tables import existing_event_ids_txn
from modules.search import storage
from modules.search.config import SearchConfig

logger = logging.getLogger(__name__)


class Sweeper:
    def __init__(self, api: ModuleApi, config: SearchConfig) -> None:
        self._api = api
        self._config = config
        self._after = 0
        self._running = False

    async def sweep(self) -> int:
        """One batch; how many rows it dropped."""
        if self._running:
            return 0
        self._running = True
        limit = self._config.sweep_batch

        def sweep_txn(txn: Txn) -> tuple[int, int]:
            rows = storage.docs_after_txn(txn, self._after, limit)
            ids = [event_id for _ordering, event_id in rows]
            present = existing_event_ids_txn(txn, ids)
            gone = [event_id for event_id in ids if event_id not in present]
            dropped = storage.forget_txn(txn, gone) if gone else 0
            return (rows[-1][0] if len(rows) >= limit else 0), dropped

        try:
            self._after, dropped = await self._api.run_db_interaction(
                "jwwx_search_sweep", sweep_txn
            )
        finally:
            self._running = False
        if dropped:
            logger.info("search: forgot %d purged event(s)", dropped)
        return int(dropped)
