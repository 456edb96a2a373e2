# SPDX-License-Identifier: AGPL-3.0-or-later
"""The application-service side every bridge has: what Synapse calls (the Application
Service API) and the bridge's listener.

PUT /_matrix/app/v1/transactions/{txnId}: the events of the chats the bot is in, each
handed to `on_event`; a transaction seen before is answered again and not handled
twice (Synapse retries until it gets 200). Every call must carry the registration's
hs_token (Authorization: Bearer, or ?access_token= from older servers): 401/403
otherwise. /users and /rooms queries answer 404 (the bot is the registration's sender,
created by Synapse), /ping answers {}. GET /health (no token) answers {"status": "ok"}
for the launcher's supervisor.

When Synapse hears 200 it never sends those events again, so what `on_event` had not
done yet is lost if the bridge stops right then. Two ways to answer:
- `await_events=False` (the default): 200 at once, each event handled in the
  background — for bots whose handling is slow (a model's answer, an SMTP round trip)
  and whose officers see an unanswered message (Synapse sends an application service
  one transaction at a time: awaiting slow work would make everyone wait for it).
- `await_events=True`: each event's `on_event` is awaited, in order, before the answer
  (it should be quick: store the event, then work from the store). When one raises,
  the answer is 500 and the transaction is not remembered, so Synapse sends it again
  (with backoff) and every event of it is handed over once more: `on_event` must do
  nothing twice for one event id (a bridge that stores first, e.g. keyed by event id).
`on_ephemeral` gets the transaction's ephemeral events after its events (receipts,
with the registration's receive_ephemeral; awaited with the events), `after` is called
once a transaction is taken (e.g. to wake the bridge's queue worker)."""

import hmac
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
NOT_TAKEN: tuple[int, Any] = (
    500,
    {"errcode": "M_UNKNOWN", "error": "not taken, send it again"},
)


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
        await_events: bool = False,
        on_ephemeral: Callable[[dict[str, Any]], None] | None = None,
        after: Callable[[], None] | None = None,
    ) -> None:
        self._hs_token = hs_token
        self._on_event = on_event
        self._await_events = await_events
        self._on_ephemeral = on_ephemeral
        self._after = after
        self._seen: OrderedDict[str, None] = OrderedDict()
        # await_events: transactions being taken, with the calls waiting for them.
        self._taking: dict[str, list[defer.Deferred[tuple[int, Any]]]] = {}

    async def handle(self, request: Any) -> tuple[int, Any]:
        if request.method == b"GET" and request.path == b"/health":
            return 200, {"status": "ok"}  # the launcher's probe: no secret needed
        token = bearer_token(request)
        if token is None:
            return 401, {"errcode": "M_UNAUTHORIZED", "error": "no hs_token"}
        if not hmac.compare_digest(token.encode(), self._hs_token.encode()):
            return 403, {"errcode": "M_FORBIDDEN", "error": "wrong hs_token"}
        path = urlsplit(request.uri.decode("latin-1")).path
        parts = [p for p in path.split("/") if p]
        if parts[:3] == ["_matrix", "app", "v1"]:
            parts = parts[3:]
        if request.method == b"PUT" and len(parts) == 2 and parts[0] == "transactions":
            return await self._transaction(parts[1], request.content.read(MAX_BODY + 1))
        if request.method == b"POST" and parts == ["ping"]:
            return 200, {}
        if request.method == b"GET" and parts[:1] in (["users"], ["rooms"]):
            return 404, {"errcode": "M_NOT_FOUND", "error": "not ours"}
        return 404, {"errcode": "M_UNRECOGNIZED", "error": "unknown endpoint"}

    async def _take(
        self,
        txn_id: str,
        events: list[dict[str, Any]],
        ephemeral: list[dict[str, Any]],
    ) -> tuple[int, Any]:
        """await_events: every event handled, in order; 500 when one failed."""
        try:
            for event in events:
                await self._on_event(event)
            self._ephemeral(ephemeral)
        except Exception:
            logger.exception("transaction %s not taken: Synapse sends it again", txn_id)
            return NOT_TAKEN
        return 200, {}

    async def _transaction(self, txn_id: str, body: bytes) -> tuple[int, Any]:
        if txn_id in self._seen:
            return 200, {}
        if len(body) > MAX_BODY:
            return 413, {"errcode": "M_TOO_LARGE", "error": "transaction too large"}
        try:
            parsed = json.loads(body)
            events = _dicts(parsed.get("events", []))
            ephemeral = _dicts(
                parsed.get("ephemeral") or parsed.get("de.sorunome.msc2409.ephemeral")
            )
        except (ValueError, AttributeError):
            return 400, {"errcode": "M_NOT_JSON", "error": "not a JSON object"}
        if self._await_events:
            # Synapse may send the transaction again while it is still being taken
            # (its request timed out): the second call waits for the first's answer.
            if txn_id in self._taking:
                waiter: defer.Deferred[tuple[int, Any]] = defer.Deferred()
                self._taking[txn_id].append(waiter)
                return await waiter
            self._taking[txn_id] = []
            answer = NOT_TAKEN
            try:
                answer = await self._take(txn_id, events, ephemeral)
            finally:
                for waiter in self._taking.pop(txn_id):
                    waiter.callback(answer)
            if answer[0] != 200:
                return answer
        self._seen[txn_id] = None
        while len(self._seen) > REMEMBERED_TRANSACTIONS:
            self._seen.popitem(last=False)
        if not self._await_events:
            for event in events:
                defer.ensureDeferred(self._on_event(event))
            self._ephemeral(ephemeral)
        if self._after is not None:
            self._after()
        return 200, {}

    def _ephemeral(self, events: list[dict[str, Any]]) -> None:
        if self._on_ephemeral is not None:
            for event in events:
                self._on_ephemeral(event)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


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
