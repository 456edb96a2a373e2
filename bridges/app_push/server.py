# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bridge's HTTP side: POST /_jwwx/app_push/v1/messages. Each request is verified in
full (protocol.verify_push: app, signature, freshness, nonce, body) before anything is
delivered; a push with the same `msgid` from the same app within the nonce window gets
the first answer again and is not delivered twice. Delivery answers what the open API
answered, plus the push's msgid."""

import json
import logging
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

from twisted.web import server

from bridges.app_push.config import AppPushConfig
from bridges.app_push.delivery import OpenApiDelivery
from bridges.app_push.protocol import PATH, NonceCache, PushError, verify_push
from modules.common.http import StandaloneResource

logger = logging.getLogger(__name__)
MAX_REMEMBERED = 100_000
UPSTREAM_FAILED = -1  # WeCom's "system busy"


class PushHandler:
    def __init__(self, config: AppPushConfig, delivery: OpenApiDelivery) -> None:
        self._config = config
        self._delivery = delivery
        self._nonces = NonceCache(config.clock_skew_seconds)
        # (app_id, msgid) -> (when, answer): the sender's retries are answered again.
        self._answers: OrderedDict[tuple[str, str], tuple[float, dict[str, Any]]] = (
            OrderedDict()
        )

    async def handle(self, request: Any) -> tuple[int, dict[str, Any]]:
        if request.method != b"POST":
            return 405, {"errcode": 40058, "errmsg": "POST only"}
        try:
            return await self._push(request)
        except PushError as e:
            return e.status, e.body()
        except Exception:
            logger.exception("push failed")
            return 502, {"errcode": UPSTREAM_FAILED, "errmsg": "delivery failed"}

    def _remembered(self, key: tuple[str, str]) -> dict[str, Any] | None:
        now = time.monotonic()
        while self._answers:
            oldest_key, (when, _answer) = next(iter(self._answers.items()))
            if (
                now - when < self._config.clock_skew_seconds
                and len(self._answers) <= MAX_REMEMBERED
            ):
                break
            self._answers.pop(oldest_key)
        found = self._answers.get(key)
        return None if found is None else found[1]

    async def _push(self, request: Any) -> tuple[int, dict[str, Any]]:
        if request.path != PATH.encode():
            return 404, {"errcode": 48001, "errmsg": "unknown path"}
        body = request.content.read(self._config.max_body_bytes + 1)
        headers = {
            k.decode("latin-1").lower(): v[0].decode("latin-1")
            for k, v in request.requestHeaders.getAllRawHeaders()
        }
        push = verify_push(self._config, self._nonces, headers, body)
        app = self._config.app(push.app_id)
        assert app is not None  # verify_push found it
        key = (push.app_id, push.msgid) if push.msgid else None
        if key is not None:
            again = self._remembered(key)
            if again is not None:
                return 200, {**again, "duplicate": True}
        answer = await self._delivery.send(app, json.loads(body))
        answer["push_msgid"] = push.msgid
        if key is not None and answer.get("errcode") == 0:
            self._answers[key] = (time.monotonic(), answer)
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
    handler = PushHandler(config, OpenApiDelivery(config))
    site = server.Site(StandaloneResource(handler.handle))
    reactor.listenTCP(port, site, interface=where.hostname or "127.0.0.1")
    logger.info(
        "app push bridge on %s:%s, %d apps", where.hostname, port, len(config.apps)
    )
    reactor.run()
    return 0
