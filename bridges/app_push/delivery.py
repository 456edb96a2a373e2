# SPDX-License-Identifier: AGPL-3.0-or-later
"""Delivery of a verified push through the source app's open-API app: gettoken with its
secret (the token kept until shortly before it expires, fetched again when the server
says it expired), then message/send with the app's agentid. The open API then does what
it does for any self-built app: the visible range decides who can be reached, the
officer reads the push in the app's conversation, the keyword filter, the audit archive
and the per-app statistics see it."""

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from twisted.web.http_headers import Headers

import treq

from bridges.app_push.config import AppPushConfig, PushApp

TOKEN_EXPIRED = (40014, 42001)  # invalid / expired access_token
MARGIN_SECONDS = 300


@dataclass
class _Token:
    value: str
    expires: float


class OpenApiDelivery:
    def __init__(self, config: AppPushConfig) -> None:
        self._config = config
        self._tokens: dict[str, _Token] = {}

    async def _call(
        self, path: str, params: dict[str, str], body: Any = None
    ) -> dict[str, Any]:
        url = f"{self._config.homeserver_url}/cgi-bin/{path}?{urlencode(params)}"
        if body is None:
            response = await treq.get(url, timeout=30)
        else:
            response = await treq.post(
                url,
                json.dumps(body, ensure_ascii=False).encode("utf-8"),
                headers=Headers(
                    {b"Content-Type": [b"application/json; charset=utf-8"]}
                ),
                timeout=30,
            )
        answer = json.loads(await response.content())
        if not isinstance(answer, dict):
            raise ValueError("the open API answered something that is not an object")
        return answer

    async def _token(self, app: PushApp, fresh: bool = False) -> str | dict[str, Any]:
        """The app's access token, or the open API's refusal of its secret."""
        held = self._tokens.get(app.app_id)
        if held is not None and not fresh and held.expires > time.monotonic():
            return held.value
        answer = await self._call(
            "gettoken", {"corpid": self._config.corpid, "corpsecret": app.corpsecret}
        )
        if answer.get("errcode") != 0:
            return answer
        lifetime = int(answer.get("expires_in", 7200)) - MARGIN_SECONDS
        self._tokens[app.app_id] = _Token(
            str(answer["access_token"]), time.monotonic() + max(60, lifetime)
        )
        return str(answer["access_token"])

    async def send(self, app: PushApp, message: dict[str, Any]) -> dict[str, Any]:
        """message/send of `message` (the push's body) as the app; the open API's answer
        (errcode 0 with invaliduser/invalidparty/invalidtag and msgid, or its error)."""
        body = {k: v for k, v in message.items() if k != "msgid"}
        body["agentid"] = app.agentid
        for fresh in (False, True):
            token = await self._token(app, fresh)
            if isinstance(token, dict):
                return token
            answer = await self._call("message/send", {"access_token": token}, body)
            if answer.get("errcode") not in TOKEN_EXPIRED:
                return answer
        return answer
