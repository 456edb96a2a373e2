# SPDX-License-Identifier: AGPL-3.0-or-later
"""A tiny blocking JSON client for the launcher's own calls to the local server."""

import json
import urllib.error
import urllib.request
from typing import Any


class HttpError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


def request_json(
    method: str,
    url: str,
    body: Any = None,
    token: str | None = None,
    timeout: float = 10.0,
    raw: bytes | None = None,
) -> Any:
    data = (
        raw
        if raw is not None
        else (None if body is None else json.dumps(body).encode("utf-8"))
    )
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
        raise HttpError(e.code, parsed) from e
    return json.loads(raw) if raw else None
