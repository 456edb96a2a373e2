# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.docs: collaborative documents (警务文档) held as CRDTs (pycrdt/Yrs), edited
over the Yjs sync protocol by WebSocket (on Synapse's own listener, or a port of the
module's own), stored as SM4-sealed,
SM3-chained revisions in the homeserver's database.

    modules:
      - module: modules.docs.DocsModule
        config:
          keys: {k1: /data/keys/docs_key}
          current_key_id: k1
          websocket: {instance: main}   # or {port: 8010}: a listener of its own

Config: config.py. HTTP: resources.py. WebSocket: websocket.py. Comments: comments.py.
Tasks: tasks.py, task_service.py, bot.py. Collection forms: forms.py,
form_service.py, form_resources.py. Templates, Word export, sharing into a chat:
extras.py. Units (quotas, document admins): units.py, admin_service.py.
The editor page (clients/docs) at /_jwwx/docs/app/: page.py; the collection form page
(clients/docs/form) at /_jwwx/docs/form/: form_page.py. docs/documents.md.
"""

from dataclasses import replace
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.http import register_resource, register_websocket
from modules.common.jobs import instance_name
from modules.common.runtime import ModuleRuntime
from modules.common.static import serve_page
from modules.docs.bot import DocsBot
from modules.docs.config import DocsConfig, WebSocketConfig
from modules.docs.extras import DocExtras
from modules.docs.form_page import FormPageResource
from modules.docs.form_service import FormService
from modules.docs.identity import Identities
from modules.docs.page import DEFAULT_DIST, page_resource
from modules.docs.resources import (
    ADMIN_PREFIX,
    CLIENT_PREFIX,
    DocsAdminResource,
    DocsResource,
)
from modules.docs.service import DocsService
from modules.docs.task_service import TaskService


class DocsModule:
    def __init__(self, config: DocsConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self.runtime = ModuleRuntime(api, "docs", __name__)
        homeserver = config.homeserver_url or api.public_baseurl
        if config.websocket is not None:
            config = replace(
                config, websocket=config.websocket.resolved(api.public_baseurl)
            )
            self._config = config
        self.service = DocsService(
            api,
            config,
            self.runtime,
            Identities(homeserver, config.token_cache_seconds),
        )
        bot = DocsBot(api, config.bot_localpart, config.bot_name)
        self.service.tasks = TaskService(self.service, bot)
        self.service.extras = DocExtras(self.service)
        self.service.forms = FormService(self.service, bot)
        register_resource(api, CLIENT_PREFIX, DocsResource(api, self.service))
        register_resource(
            api, ADMIN_PREFIX, DocsAdminResource(api, self.runtime, self.service)
        )
        public_url = config.websocket.public_url if config.websocket else None
        serve_page(api, "docs_editor", page_resource(api, DEFAULT_DIST, public_url))
        serve_page(api, "docs_form", FormPageResource(api))
        ws = config.websocket
        if ws is not None and instance_name(api) == ws.instance:
            self._listen(ws)

    def _listen(self, ws: WebSocketConfig) -> None:
        from modules.docs.websocket import PATH, DocFactory

        if ws.port is None:  # on Synapse's own listener, behind its port
            factory = DocFactory(self.service, ws.public_url or "ws://localhost")
            register_websocket(self._api, PATH.rstrip("/"), factory)
            return
        from twisted.internet import reactor as installed

        factory = DocFactory(self.service, f"ws://{ws.bind_address}:{ws.port}")
        reactor: Any = installed
        reactor.listenTCP(ws.port, factory, interface=ws.bind_address)

    @staticmethod
    def parse_config(config: Any) -> DocsConfig:
        return DocsConfig.parse(config)
