# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bridge process: one listener on bridge_url for Synapse (/_matrix/app/v1/...,
outbound.py), the ministry (/relay/v1/{kind}, inbound.py) and the launcher's probe
(GET /health: status and the backlog of both queues), plus the worker draining both
queues (worker.py)."""

import logging
from typing import Any
from urllib.parse import urlsplit

from twisted.internet import defer
from twisted.web import server

from bridges.common.registration import ensure_token
from bridges.ministry_im import protocol
from bridges.ministry_im.config import MinistryConfig
from bridges.ministry_im.inbound import Inbound
from bridges.ministry_im.matrix import MatrixClient
from bridges.ministry_im.outbound import AppService
from bridges.ministry_im.relay_client import RelayClient
from bridges.ministry_im.storage import BridgeStore
from bridges.ministry_im.worker import Worker
from modules.common.http import StandaloneResource

logger = logging.getLogger(__name__)


class BridgeHandler:
    def __init__(
        self, store: BridgeStore, appservice: AppService, inbound: Inbound
    ) -> None:
        self._store = store
        self._appservice = appservice
        self._inbound = inbound

    async def handle(self, request: Any) -> tuple[int, Any]:
        path = request.path.decode("latin-1")
        if path == "/health" and request.method == b"GET":
            return 200, {"status": "ok", "backlog": self._store.backlog()}
        if path.startswith("/_matrix/app/v1/"):
            return await self._appservice.handle(request)
        if path.startswith(protocol.PREFIX):
            return await self._inbound.handle(request, path[len(protocol.PREFIX) :])
        return 404, {"errcode": "M_UNRECOGNIZED", "error": "unknown path"}


def serve(config: MinistryConfig) -> int:
    """Listen on bridge_url's host and port until stopped (SIGTERM/SIGINT)."""
    from twisted.internet import reactor as installed

    reactor: Any = installed
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    store = BridgeStore(config.database)
    matrix = MatrixClient(
        config.homeserver_url,
        ensure_token(config.as_token_file),
        config.bot_user_id,
    )
    relay = RelayClient(config)
    worker = Worker(config, store, matrix, relay)
    appservice = AppService(
        config, store, matrix, relay, ensure_token(config.hs_token_file), worker.wake
    )
    inbound = Inbound(config, store, matrix, worker.wake)
    handler = BridgeHandler(store, appservice, inbound)
    where = urlsplit(config.bridge_url)
    port = where.port or (443 if where.scheme == "https" else 80)
    reactor.listenTCP(
        port,
        server.Site(StandaloneResource(handler.handle)),
        interface=where.hostname or "127.0.0.1",
    )
    reactor.callWhenRunning(lambda: defer.ensureDeferred(worker.run(reactor)))
    reactor.addSystemEventTrigger("before", "shutdown", worker.stop)
    logger.info(
        "ministry bridge on %s:%s, peer %s at %s",
        where.hostname,
        port,
        config.peer_id,
        config.peer_url,
    )
    try:
        reactor.run()
    finally:
        store.close()
    return 0
