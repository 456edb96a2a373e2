# SPDX-License-Identifier: AGPL-3.0-or-later
"""Our side's calls to the ministry: POST {peer_url}/relay/v1/{kind}, signed and sealed
with our keys; the answer is sealed with the same key id. A refusal is a RelayError
(status, errcode); the peer being unreachable is whatever treq raises."""

import json
from typing import Any
from urllib.parse import urlsplit

from twisted.internet import reactor
from twisted.web.client import HTTPConnectionPool
from twisted.web.http_headers import Headers

import treq

from bridges.ministry_im import protocol
from bridges.ministry_im.config import MinistryConfig
from bridges.ministry_im.protocol import RelayError


class RelayClient:
    def __init__(self, config: MinistryConfig) -> None:
        self._config = config
        self._base_path = urlsplit(config.peer_url).path.rstrip("/")
        # A connection per request: a kept-alive one the peer has closed meanwhile
        # fails a POST, which is not retried by the client (it is not idempotent).
        self._pool = HTTPConnectionPool(reactor, persistent=False)

    async def call(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        path = f"{self._base_path}{protocol.PREFIX}{kind}"
        headers, body = protocol.request(self._config.ours, path, payload)
        response = await treq.post(
            f"{self._config.peer_url}{protocol.PREFIX}{kind}",
            body,
            headers=Headers({k.encode(): [v.encode()] for k, v in headers.items()}),
            timeout=60,
            pool=self._pool,
        )
        content = await response.content()
        if response.code != 200:
            try:
                answer = json.loads(content)
            except ValueError:
                answer = {}
            if not isinstance(answer, dict):
                answer = {}
            raise RelayError(
                response.code,
                str(answer.get("errcode") or "RELAY_HTTP_ERROR"),
                str(answer.get("error") or content[:200]),
                **{k: v for k, v in answer.items() if k not in ("errcode", "error")},
            )
        key = self._config.ours.sm4_keys[headers[protocol.H_KEY]]
        answer = protocol.open_envelope(key, content)
        if not isinstance(answer, dict):
            raise RelayError(502, "RELAY_BAD_ANSWER", "the answer is not an object")
        return answer
