# SPDX-License-Identifier: AGPL-3.0-or-later
"""The sweep: the index forgets what Synapse purged without an event in the stream
(retention purge jobs, the purge-history and delete-room admin APIs) or redacted while
the index was behind. It walks the index in stream order, a batch per tick, and
drops every row whose event Synapse no longer has unredacted; then starts over."""

import logging

from synapse.module_api import ModuleApi

from modules.common.synapse.events import unredacted_event_ids
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
        try:
            rows = await self._api.run_db_interaction(
                "jwwx_search_sweep_read",
                storage.docs_after_txn,
                self._after,
                self._config.sweep_batch,
            )
            self._after = rows[-1][0] if len(rows) >= self._config.sweep_batch else 0
            ids = [event_id for _ordering, event_id in rows]
            present = await unredacted_event_ids(self._api, ids)
            gone = [event_id for event_id in ids if event_id not in present]
            if not gone:
                return 0
            dropped = await self._api.run_db_interaction(
                "jwwx_search_sweep_forget", storage.forget_txn, gone
            )
            logger.info("search: forgot %d purged or redacted event(s)", dropped)
            return int(dropped)
        finally:
            self._running = False
