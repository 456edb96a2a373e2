# SPDX-License-Identifier: AGPL-3.0-or-later
"""A minimal blocking HTTP/JSON client for benchmarks: one keep-alive connection per
client (use one client per thread), loopback only, a timeout on every request."""

import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"


class HttpError(Exception):
    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {path} → HTTP {status}: {str(body)[:300]}")
        self.status = status
        self.body = body


class Client:
    def __init__(self, base_url: str, token: str = "", timeout: float = 60.0) -> None:
        parts = urlsplit(base_url)
        if parts.hostname != LOOPBACK or parts.port is None:
            raise ValueError(f"benchmarks only talk to {LOOPBACK}: {base_url}")
        self.port = parts.port
        self.token = token
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(
                LOOPBACK, self.port, timeout=self.timeout
            )
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        timeout: float | None = None,
    ) -> tuple[int, Any]:
        """(status, parsed JSON or text); reconnects once if the kept-alive socket died."""
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        for attempt in (1, 2):
            conn = self._connection()
            conn.timeout = self.timeout if timeout is None else timeout
            if conn.sock is not None:
                conn.sock.settimeout(conn.timeout)
            try:
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                content = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError):
                self.close()
                if attempt == 2:
                    raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            parsed = json.loads(content) if content else None
        except ValueError:
            parsed = content.decode("utf-8", "replace")
        return response.status, parsed

    def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        status, parsed = self.request(method, path, body, **kw)
        if status != 200:
            raise HttpError(method, path, status, parsed)
        return parsed

    def timed(self, method: str, path: str, body: Any = None) -> tuple[float, int, Any]:
        """(seconds, status, parsed) of one request, end to end on this client."""
        started = time.perf_counter()
        status, parsed = self.request(method, path, body)
        return time.perf_counter() - started, status, parsed
