# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bridge's HTTP side: POST /_jwwx/app_push/v1/messages. Each request is verified in
full (protocol.verify_push: app, signature, freshness, nonce, body) before anything is
delivered; a push with the same `msgid` from the same app within `msgid_window_seconds`
gets the first answer again and is not delivered twice, also after a restart (nonces
and answers are journalled, memory.py) and also while the first is still being
delivered (a retry arriving meanwhile waits for it: one process holds the bridge). Delivery answers what the open API answered,
plus the push's msgid.

Once started it lists its apps on the officers' workbench (workbench.py).
Also: GET /health (the launcher's supervisor probes it; with the workbench sync's state) and the application-service
API Synapse calls once the registration is loaded (transactions acknowledged, user and
room queries answered "not here": the bridge creates nothing on demand)."""

import hmac
import json
import logging
import re
import time
from typing import Any
from urllib.parse import urlsplit

from twisted.internet import defer
from twisted.web import server

from bridges.app_push.config import AppPushConfig
from bridges.app_push.delivery import OpenApiDelivery
from bridges.app_push.memory import PushMemory
from bridges.app_push.protocol import PATH, PushError, verify_push
from bridges.app_push.workbench import WorkbenchSync
from bridges.common.matrix import BotClient
from bridges.common.registration import ensure_token
from modules.common.http import StandaloneResource

logger = logging.getLogger(__name__)
UPSTREAM_FAILED = -1  # WeCom's "system busy"
HEALTH = b"/health"
_AS_API = re.compile(rb"^/_matrix/app/v1/(transactions|users|rooms|ping)(/|$)")


class PushHandler:
    def __init__(
        self,
        config: AppPushConfig,
        delivery: OpenApiDelivery,
        memory: PushMemory,
        hs_token: str,
        workbench: WorkbenchSync | None = None,
    ) -> None:
        self._config = config
        self._workbench = workbench
        self._delivery = delivery
        self._memory = memory
        self._hs_token = hs_token
        # Pushes being delivered, by (app, msgid): the retries waiting for each.
        self._in_flight: dict[tuple[str, str], list[defer.Deferred[None]]] = {}

    async def handle(self, request: Any) -> tuple[int, dict[str, Any]]:
        if request.path == HEALTH and request.method == b"GET":
            health: dict[str, Any] = {"status": "ok", "apps": len(self._config.apps)}
            if self._workbench is not None:
                health["workbench"] = self._workbench.state
            return 200, health
        if _AS_API.match(request.path):
            return self._appservice(request)
        if request.method != b"POST":
            return 405, {"errcode": 40058, "errmsg": "POST only"}
        try:
            return await self._push(request)
        except PushError as e:
            return e.status, e.body()
        except Exception:
            logger.exception("push failed")
            return 502, {"errcode": UPSTREAM_FAILED, "errmsg": "delivery failed"}

    def _appservice(self, request: Any) -> tuple[int, dict[str, Any]]:
        """Synapse's calls to the application service (the registration's hs_token)."""
        given = (request.getHeader("authorization") or "").removeprefix("Bearer ")
        if not given:
            given = (request.args.get(b"access_token") or [b""])[0].decode("latin-1")
        if not hmac.compare_digest(given.encode(), self._hs_token.encode()):
            return 403, {"errcode": "M_FORBIDDEN", "error": "bad hs_token"}
        if request.path.startswith(b"/_matrix/app/v1/transactions/"):
            return 200, {}  # nothing in them is the bridge's: receipts are counted
        if request.path == b"/_matrix/app/v1/ping":
            return 200, {}
        return 404, {"errcode": "M_NOT_FOUND", "error": "the bridge creates nothing"}

    async def _push(self, request: Any) -> tuple[int, dict[str, Any]]:
        if request.path != PATH.encode():
            return 404, {"errcode": 48001, "errmsg": "unknown path"}
        body = request.content.read(self._config.max_body_bytes + 1)
        headers = {
            k.decode("latin-1").lower(): v[0].decode("latin-1")
            for k, v in request.requestHeaders.getAllRawHeaders()
        }
        push = verify_push(self._config, self._memory, headers, body)
        app = self._config.app(push.app_id)
        assert app is not None  # verify_push found it
        key = (push.app_id, push.msgid) if push.msgid else None
        while key is not None:
            again = self._memory.answer(key[0], key[1], time.time())
            if again is not None:
                return 200, {**again, "duplicate": True}
            waiting = self._in_flight.get(key)
            if waiting is None:
                self._in_flight[key] = []
                break
            # The same msgid is being delivered: its answer (or, if it failed, this
            # retry's own turn) comes once it is done.
            turn: defer.Deferred[None] = defer.Deferred()
            waiting.append(turn)
            await turn
        try:
            answer = await self._delivery.send(app, json.loads(body))
            answer["push_msgid"] = push.msgid
            if key is not None and answer.get("errcode") == 0:
                self._memory.remember(key[0], key[1], answer, time.time())
        finally:
            if key is not None:
                for turn in self._in_flight.pop(key, []):
                    turn.callback(None)
        logger.info(
            "push from %s msgid=%s: errcode %s",
            push.app_id,
            push.msgid,
            answer.get("errcode"),
        )
        return (200 if answer.get("errcode") == 0 else 400), answer


def serve(config: AppPushConfig) -> int:
    """Listen on bridge_url's host and port until stopped (SIGTERM/SIGINT)."""
    from twisted.internet import reactor as installed

    reactor: Any = installed
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    where = urlsplit(config.bridge_url)
    port = where.port or (443 if where.scheme == "https" else 80)
    memory = PushMemory(
        config.state_file,
        config.clock_skew_seconds,
        config.msgid_window_seconds,
        time.time(),
    )
    bot = BotClient(
        config.homeserver_url, ensure_token(config.as_token_file), config.bot_user_id
    )
    workbench = WorkbenchSync(config, bot, reactor)
    handler = PushHandler(
        config,
        OpenApiDelivery(config),
        memory,
        ensure_token(config.hs_token_file),
        workbench,
    )
    site = server.Site(StandaloneResource(handler.handle))
    reactor.listenTCP(port, site, interface=where.hostname or "127.0.0.1")
    reactor.callWhenRunning(workbench.start)
    logger.info(
        "app push bridge on %s:%s, %d apps", where.hostname, port, len(config.apps)
    )
    try:
        reactor.run()
    finally:
        memory.close()
    return 0
