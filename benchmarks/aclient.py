# SPDX-License-Identifier: AGPL-3.0-or-later
"""Asynchronous HTTP for simulated clients: one aiohttp session (one keep-alive pool)
shared by every simulated user in the process, loopback only, a timeout on every
request. Failures become answers with status 0, so callers count them as errors."""

import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from benchmarks.client import LOOPBACK

CLIENT = "/_matrix/client/v3"
_txn_ids = itertools.count()


@dataclass
class Answer:
    status: int  # 0: no HTTP answer (timeout, connection error)
    body: Any
    seconds: float
    location: str = ""  # Location header of a redirect
    connect_seconds: float = 0.0  # of `seconds`: a new connection's creation, if any
    # Of `seconds`: until the request's headers were handed to the socket (the load
    # generator's own queueing, connection set-up and writing: what passes before the
    # server can see the request); 0 when not traced.
    sent_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == 200

    def error(self) -> str:
        return f"HTTP {self.status} {str(self.body)[:120]}"


class Http:
    """`async with Http(base_url) as http:` one pool for all simulated clients."""

    def __init__(self, base_url: str, user_agent: str = "") -> None:
        if urlsplit(base_url).hostname != LOOPBACK:
            raise ValueError(f"benchmarks only talk to {LOOPBACK}: {base_url}")
        self.base_url = base_url
        # On ours the User-Agent decides the device class (session limits) and whether a
        # login is "from a new device" (a notice); aiohttp's own is class "other".
        self.user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None
        # Every new connection of the pool: seconds from its creation's start to end
        # (TCP connect to loopback, and the pool's own work), in order.
        self.connections: list[float] = []

    def _trace(self) -> aiohttp.TraceConfig:
        trace = aiohttp.TraceConfig()

        async def start(_s: Any, context: Any, _p: Any) -> None:
            context.connect_began = time.perf_counter()

        async def end(_s: Any, context: Any, _p: Any) -> None:
            began = getattr(context, "connect_began", None)
            if began is not None:
                took = time.perf_counter() - began
                self.connections.append(took)
                if isinstance(context.trace_request_ctx, dict):
                    context.trace_request_ctx["connect"] = took

        async def sent(_s: Any, context: Any, _p: Any) -> None:
            if isinstance(context.trace_request_ctx, dict):
                context.trace_request_ctx["sent"] = time.perf_counter()

        trace.on_connection_create_start.append(start)
        trace.on_connection_create_end.append(end)
        trace.on_request_headers_sent.append(sent)
        return trace

    async def __aenter__(self) -> "Http":
        # limit=0: as many connections as concurrent requests (every /sync long-poll
        # holds one); idle ones are kept alive and reused.
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=60)
        headers = {"User-Agent": self.user_agent} if self.user_agent else None
        self._session = aiohttp.ClientSession(
            self.base_url,
            connector=connector,
            headers=headers,
            trace_configs=[self._trace()],
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def renew(self) -> None:
        """A new pool on the same address (the server behind it restarted: kept
        connections are gone); every MatrixUser of this Http keeps its token."""
        await self.__aexit__()
        await self.__aenter__()

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str = "",
        timeout: float = 60.0,
        redirects: bool = True,
        raw: bytes | None = None,
        content_type: str = "",
    ) -> Answer:
        assert self._session is not None, "use `async with Http(...)`"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if content_type:
            headers["Content-Type"] = content_type
        data: str | bytes | None = raw
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        traced: dict[str, float] = {}
        try:
            async with self._session.request(
                method,
                path,
                data=data,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=redirects,
                trace_request_ctx=traced,
            ) as response:
                raw = await response.read()
                seconds = time.perf_counter() - started
                try:
                    parsed = json.loads(raw) if raw else None
                except ValueError:
                    parsed = raw[:200].decode("utf-8", "replace")
                location = response.headers.get("Location", "")
                return Answer(
                    response.status,
                    parsed,
                    seconds,
                    location,
                    traced.get("connect", 0.0),
                    traced["sent"] - started if "sent" in traced else 0.0,
                )
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            return Answer(0, f"{type(e).__name__}: {e}", time.perf_counter() - started)


@dataclass
class MatrixUser:
    """A logged-in simulated Matrix user."""

    http: Http
    user_id: str
    token: str

    async def call(
        self, method: str, path: str, body: Any = None, timeout: float = 60.0
    ) -> Answer:
        return await self.http.request(
            method, path, body, token=self.token, timeout=timeout
        )

    async def send_text(self, room_id: str, text: str, extra: dict[str, Any]) -> Answer:
        txn = f"b{next(_txn_ids)}.{time.time_ns()}"
        path = f"{CLIENT}/rooms/{quote(room_id)}/send/m.room.message/{txn}"
        return await self.call(
            "PUT", path, {"msgtype": "m.text", "body": text, **extra}
        )

    async def create_room(self, **fields: Any) -> str:
        answer = await self.call("POST", f"{CLIENT}/createRoom", fields)
        if not answer.ok:
            raise RuntimeError(f"createRoom as {self.user_id}: {answer.error()}")
        return str(answer.body["room_id"])

    async def join(self, room_id: str) -> None:
        answer = await self.call("POST", f"{CLIENT}/join/{quote(room_id)}", {})
        if not answer.ok:
            raise RuntimeError(f"join {room_id} as {self.user_id}: {answer.error()}")


async def login(http: Http, localpart: str, password: str) -> tuple[Answer, str]:
    """m.login.password; (answer, access token or "")."""
    answer = await http.request(
        "POST",
        f"{CLIENT}/login",
        {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": localpart},
            "password": password,
        },
    )
    token = answer.body.get("access_token", "") if answer.ok else ""
    return answer, str(token)
