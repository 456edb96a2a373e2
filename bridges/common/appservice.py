# SPDX-License-Identifier: AGPL-3.0-or-later
"""The application-service side every bridge has: what Synapse calls (the Application
Service API) and the bridge's listener.

PUT /_matrix/app/v1/transactions/{txnId}: the events of the chats the bot is in, each
handed to `on_event`; a transaction seen before is answered again and not handled
twice (Synapse retries until it gets 200). Every call must carry the registration's
hs_token (Authorization: Bearer, or ?access_token= from older servers): 401/403
otherwise. /users and /rooms queries answer 404 (the bot is the registration's sender,
created by Synapse), /ping answers {}. GET /health (no token) answers {"status": "ok"}
for the launcher's supervisor."""

import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any
from urllib.parse import parse_qs, urlsplit

from twisted.internet import defer
from twisted.web import server

from bridges.common.matrix import BotClient
from modules.common.http import StandaloneResource

logger = logging.getLogger(__name__)
MAX_BODY = 16 * 1024 * 1024
REMEMBERED_TRANSACTIONS = 1000
Handle = Callable[[Any], Awaitable[tuple[int, Any]]]


def bearer_token(request: Any) -> str | None:
    header = request.getHeader(b"Authorization")
    if header and header.startswith(b"Bearer "):
        return str(header[7:].decode("latin-1"))
    query = parse_qs(urlsplit(request.uri.decode("latin-1")).query)
    return query.get("access_token", [None])[0]


class TransactionHandler:
    def __init__(
        self,
        hs_token: str,
        on_event: Callable[[dict[str, Any]], Coroutine[Any, Any, None]],
    ) -> None:
        self._hs_token = hs_token
        self._on_event = on_event
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def handle(self, request: Any) -> tuple[int, Any]:
        if request.method == b"GET" and request.path == b"/health":
            return 200, {"status": "ok"}  # the launcher's probe: no secret needed
        token = bearer_token(request)
        if token is None:
            return 401, {"errcode": "M_UNAUTHORIZED", "error": "no hs_token"}
        if token != self._hs_token:
            return 403, {"errcode": "M_FORBIDDEN", "error": "wrong hs_token"}
        path = urlsplit(request.uri.decode("latin-1")).path
        parts = [p for p in path.split("/") if p]
        if parts[:3] == ["_matrix", "app", "v1"]:
            parts = parts[3:]
        if request.method == b"PUT" and len(parts) == 2 and parts[0] == "transactions":
            return self._transaction(parts[1], request.content.read(MAX_BODY + 1))
        if request.method == b"POST" and parts == ["ping"]:
            return 200, {}
        if request.method == b"GET" and parts[:1] in (["users"], ["rooms"]):
            return 404, {"errcode": "M_NOT_FOUND", "error": "not ours"}
        return 404, {"errcode": "M_UNRECOGNIZED", "error": "unknown endpoint"}

    def _transaction(self, txn_id: str, body: bytes) -> tuple[int, Any]:
        if txn_id in self._seen:
            return 200, {}
        if len(body) > MAX_BODY:
            return 413, {"errcode": "M_TOO_LARGE", "error": "transaction too large"}
        try:
            events = json.loads(body).get("events", [])
        except (ValueError, AttributeError):
            return 400, {"errcode": "M_NOT_JSON", "error": "not a JSON object"}
        self._seen[txn_id] = None
        while len(self._seen) > REMEMBERED_TRANSACTIONS:
            self._seen.popitem(last=False)
        for event in events if isinstance(events, list) else []:
            if isinstance(event, dict):
                defer.ensureDeferred(self._on_event(event))
        return 200, {}


async def introduce(bot: BotClient, name: str) -> None:
    """Set the bot's display name once the homeserver answers."""
    from twisted.internet import reactor, task

    for _ in range(120):
        try:
            await bot.set_display_name(name)
            return
        except Exception as e:  # the homeserver may still be starting
            logger.info("display name not set yet: %s", e)
            await task.deferLater(reactor, 1.0, lambda: None)


def listen(bridge_url: str, handle: Handle) -> int:
    """Serve `handle` on bridge_url's host and port; the port."""
    from twisted.internet import reactor as installed

    reactor: Any = installed
    where = urlsplit(bridge_url)
    port = where.port or (443 if where.scheme == "https" else 80)
    reactor.listenTCP(
        port,
        server.Site(StandaloneResource(handle)),
        interface=where.hostname or "127.0.0.1",
    )
    return port
