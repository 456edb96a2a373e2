# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.docs: collaborative documents (警务文档) held as CRDTs (pycrdt/Yrs), edited
over the Yjs sync protocol on the module's own WebSocket listener, stored as SM4-sealed,
SM3-chained revisions in the homeserver's database.

    modules:
      - module: modules.docs.DocsModule
        config:
          keys: {k1: /data/keys/docs_key}
          current_key_id: k1
          websocket: {port: 8010}

Config: config.py. HTTP: resources.py. WebSocket: websocket.py. docs/documents.md.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common.http import register_resource
from modules.common.jobs import instance_name
from modules.common.runtime import ModuleRuntime
from modules.docs.config import DocsConfig
from modules.docs.identity import Identities
from modules.docs.resources import (
    ADMIN_PREFIX,
    CLIENT_PREFIX,
    DocsAdminResource,
    DocsResource,
)
from modules.docs.service import DocsService


class DocsModule:
    def __init__(self, config: DocsConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self.runtime = ModuleRuntime(api, "docs", __name__)
        homeserver = config.homeserver_url or api.public_baseurl
        self.service = DocsService(
            api,
            config,
            self.runtime,
            Identities(homeserver, config.token_cache_seconds),
        )
        register_resource(api, CLIENT_PREFIX, DocsResource(api, self.service))
        register_resource(
            api, ADMIN_PREFIX, DocsAdminResource(api, self.runtime, self.service)
        )
        ws = config.websocket
        if ws is not None and instance_name(api) == ws.instance:
            self._listen(config)

    def _listen(self, config: DocsConfig) -> None:
        from twisted.internet import reactor as installed

        from modules.docs.websocket import DocFactory

        ws = config.websocket
        assert ws is not None
        factory = DocFactory(self.service, f"ws://{ws.bind_address}:{ws.port}")
        reactor: Any = installed
        reactor.listenTCP(ws.port, factory, interface=ws.bind_address)

    @staticmethod
    def parse_config(config: Any) -> DocsConfig:
        return DocsConfig.parse(config)
