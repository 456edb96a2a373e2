# SPDX-License-Identifier: AGPL-3.0-or-later
"""Officers open documents with their own Matrix access token (no second login): the
WebSocket handshake's token is checked with the homeserver's whoami and the answer
kept briefly (token_cache_seconds), keyed by the token's SM3 so the cache holds no
tokens. A refused token is not cached (a fresh login is seen at once)."""

import json
import time
from collections import OrderedDict

from twisted.web.http_headers import Headers

import treq

from modules.common.gm import sm3
from modules.common.synapse.runtime import await_foreign

CACHE_SIZE = 10000


class TokenRefusedError(Exception):
    def __init__(self, status: int, errcode: str) -> None:
        super().__init__(errcode)
        self.status = status
        self.errcode = errcode


class Identities:
    def __init__(self, homeserver_url: str, cache_seconds: int) -> None:
        self._url = homeserver_url.rstrip("/") + "/_matrix/client/v3/account/whoami"
        self._ttl = cache_seconds
        self._cache: OrderedDict[bytes, tuple[str, float]] = OrderedDict()

    async def user_id(self, token: str) -> str:
        key = sm3(token.encode("utf-8"))
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        # treq's Deferreds are plain Twisted ones: awaited without losing the log
        # context of the socket's checks.
        code, body = await await_foreign(self._whoami(token))
        try:
            answer = json.loads(body)
        except ValueError:
            answer = {}
        if code != 200 or not isinstance(answer.get("user_id"), str):
            raise TokenRefusedError(code, str(answer.get("errcode", "M_UNKNOWN")))
        user_id: str = answer["user_id"]
        if self._ttl > 0:
            self._cache[key] = (user_id, now + self._ttl)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return user_id

    async def _whoami(self, token: str) -> tuple[int, bytes]:
        response = await treq.get(
            self._url, headers=Headers({"Authorization": ["Bearer " + token]})
        )
        return int(response.code), bytes(await response.content())
