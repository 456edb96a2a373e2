# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.search: a CJK-aware index of message text (搜索), fed from Synapse's event
stream after a durable cursor, answering the standard POST /_matrix/client/v3/search
and our clients' unified search. docs/search.md.

    modules:
      - module: modules.search.SearchModule
        config: {}

Config keys: config.py. Tokenisation: text.py. What is indexed: extract.py. Indexer:
indexer.py; the sweep of purged events: sweeper.py; queries and visibility:
searcher.py; HTTP: resources.py; SQL: storage.py.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.http import register_resource
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.patches import serve_message_search
from modules.search import public
from modules.search.config import SearchConfig
from modules.search.indexer import Indexer
from modules.search.resources import PREFIX, SearchResource
from modules.search.searcher import Searcher
from modules.search.sweeper import Sweeper

SWEEP_QUIET_MS = 3000  # no message indexed for this long: the server is idle
SWEEP_BUSY_INTERVAL_S = 60


class SearchModule:
    def __init__(self, config: SearchConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self.runtime = ModuleRuntime(api, "search", __name__, on_ready=self._on_ready)
        # The indexer and the sweep run on the one process `jobs_instance` names.
        self.jobs = self.runtime.place_jobs(config.jobs_instance)
        self.indexer = Indexer(api, config, self.jobs)
        self.searcher = Searcher(api, config)
        self.sweeper = Sweeper(api, config)
        self._swept_ms = 0
        registry.publish(api, public.SERVICE, self)
        if config.serve_matrix_search:
            serve_message_search(self.searcher)
        register_resource(api, PREFIX, SearchResource(api, self.runtime, self.searcher))
        self.indexer.start()
        if config.sweep_interval_seconds:
            self.jobs.every(
                self._sweep, config.sweep_interval_seconds * 1000, "jwwx_search_sweep"
            )

    async def _on_ready(self) -> None:
        self.indexer.enable()

    async def _sweep(self) -> None:
        if not self.runtime.is_ready:
            return
        # The sweep yields to traffic: on SQLite its read of sweep_batch rows holds the
        # one connection messages are persisted through. While messages flow it runs
        # at most every SWEEP_BUSY_INTERVAL_S (purged rows are also filtered out of
        # every search answer, so a later sweep loses nothing).
        now = int(self._api.get_current_time_msec())
        busy = now - self.indexer.moved_ms < SWEEP_QUIET_MS
        if busy and now - self._swept_ms < SWEEP_BUSY_INTERVAL_S * 1000:
            return
        self._swept_ms = now
        await self.sweeper.sweep()

    @property
    def index_position(self) -> int | None:
        return self.indexer.position

    async def forget(self, event_ids: list[str]) -> None:
        await self.searcher.forget(event_ids)

    @staticmethod
    def parse_config(config: Any) -> SearchConfig:
        return SearchConfig.parse(config)
