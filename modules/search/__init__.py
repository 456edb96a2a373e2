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
        if self.runtime.is_ready:
            await self.sweeper.sweep()

    @property
    def index_position(self) -> int | None:
        return self.indexer.position

    async def forget(self, event_ids: list[str]) -> None:
        await self.searcher.forget(event_ids)

    @staticmethod
    def parse_config(config: Any) -> SearchConfig:
        return SearchConfig.parse(config)
