"""Logins as real clients make them: a User-Agent header, the standard /login body."""

import json
from typing import Any

from twisted.internet import reactor
from twisted.web.client import HTTPConnectionPool

import treq

from tests.harness.client import MatrixClient

ACCOUNTS = "/_jwwx/admin/v1/accounts"
DIRECTORY = "/_jwwx/admin/v1/directory"
LOGIN = "/_matrix/client/v3/login"

ANDROID = "Element/1.6.10 (Linux; U; Android 13; SM-S9080 Build/TP1A; Flavour GooglePlay; MatrixAndroidSdk2 1.6.10)"
HARMONY = "Mozilla/5.0 (Phone; OpenHarmony 4.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1 Mobile JwwxClient/1.0"
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Element/1.11.85 Chrome/128.0.0.0 Electron/32.0.0 Safari/537.36"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

_pool = HTTPConnectionPool(reactor, persistent=False)


async def raw_request(
    base_url: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = None,
    user_agent: str | None = None,
    raw: bytes | None = None,
    forwarded_for: str | None = None,
) -> tuple[int, Any]:
    headers = {"Content-Type": ["application/json"]}
    if forwarded_for:
        headers["X-Forwarded-For"] = [forwarded_for]
    if token:
        headers["Authorization"] = [f"Bearer {token}"]
    if user_agent:
        headers["User-Agent"] = [user_agent]
    data = (
        raw
        if raw is not None
        else (None if body is None else json.dumps(body).encode())
    )
    response = await treq.request(
        method, base_url + path, data=data, headers=headers, pool=_pool, timeout=60
    )
    content = await response.content()
    try:
        parsed = json.loads(content) if content else None
    except ValueError:
        parsed = content.decode("utf-8", "replace")
    return response.code, parsed


async def login(
    base_url: str,
    password: str,
    *,
    user: str | None = None,
    identifier: dict[str, Any] | None = None,
    user_agent: str | None = None,
    forwarded_for: str | None = None,
    **extra: Any,
) -> tuple[int, Any]:
    body = {
        "type": "m.login.password",
        "identifier": identifier or {"type": "m.id.user", "user": user},
        "password": password,
        **extra,
    }
    return await raw_request(
        base_url,
        "POST",
        LOGIN,
        body,
        user_agent=user_agent,
        forwarded_for=forwarded_for,
    )


def session_client(base_url: str, session: dict[str, Any]) -> MatrixClient:
    return MatrixClient(base_url, session["user_id"], session["access_token"])
