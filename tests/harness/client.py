# SPDX-License-Identifier: AGPL-3.0-or-later
"""A small Matrix client over real HTTP (treq), as an officer's app would use it."""

import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from twisted.internet import reactor, task
from twisted.web.client import HTTPConnectionPool

import pyotp
import treq

# Non-persistent connections: trial must not find sockets left open after a test.
_pool = HTTPConnectionPool(reactor, persistent=False)

# The admin API's second factor (admin_api/sessions.py): an admin client refused with
# one of these enrols an authenticator if its account has none, passes TOTP and retries.
SECOND_FACTOR_REFUSALS = (
    "CN_JWWX_ADMIN_SECOND_FACTOR_REQUIRED",
    "CN_JWWX_ADMIN_SESSION_EXPIRED",
)
ENROL_PATH = "/_jwwx/client/v1/accounts/mfa/totp"
VERIFY_PATH = "/_jwwx/admin/v1/admins/session/verify"
STEP = 30
# Per (server, user): the authenticator's secret and the last time step used (a step
# is accepted once), shared by every client of the account.
_totp_secrets: dict[tuple[str, str], str] = {}
_last_steps: dict[tuple[str, str], int] = {}


class MatrixClient:
    def __init__(self, base_url: str, user_id: str = "", token: str = "") -> None:
        self.base_url = base_url
        self.user_id = user_id
        self.token = token
        self.next_batch: str | None = None
        # False: see the admin API's second-factor refusals (tests of them).
        self.auto_second_factor = True

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        raw: bytes | None = None,
        timeout: float = 60.0,
        content_type: str = "application/json",
    ) -> tuple[int, Any]:
        headers = {"Content-Type": [content_type]}
        use_token = self.token if token is None else token
        if use_token:
            headers["Authorization"] = [f"Bearer {use_token}"]
        data = (
            raw
            if raw is not None
            else (None if body is None else json.dumps(body).encode())
        )
        response = await treq.request(
            method,
            self.base_url + path,
            data=data,
            headers=headers,
            pool=_pool,
            timeout=timeout,
        )
        content = await response.content()
        try:
            parsed = json.loads(content) if content else None
        except ValueError:
            parsed = content.decode("utf-8", "replace")
        if (
            response.code == 403
            and isinstance(parsed, dict)
            and parsed.get("errcode") in SECOND_FACTOR_REFUSALS
            and self.auto_second_factor
            and token is None
        ):
            await self.pass_second_factor()
            return await self.request(
                method,
                path,
                body,
                token=token,
                raw=raw,
                timeout=timeout,
                content_type=content_type,
            )
        return response.code, parsed

    # The admin API's second factor

    async def totp_code(self) -> str:
        """The authenticator's code for the next unused time step (waits when both
        steps the server accepts around now are used)."""
        key = (self.base_url, self.user_id)
        now_step = int(time.time() // STEP)
        step = max(now_step, _last_steps.get(key, 0) + 1)
        if step > now_step + 1:
            wait = (step - 1) * STEP - time.time() + 0.5
            await task.deferLater(reactor, wait, lambda: None)
        _last_steps[key] = step
        return str(pyotp.TOTP(_totp_secrets[key]).at(step * STEP))

    async def pass_second_factor(self) -> dict[str, Any]:
        """Enrol an authenticator if this account has none, then pass TOTP for this
        session (POST /_jwwx/admin/v1/admins/session/verify)."""
        key = (self.base_url, self.user_id)
        saved, self.auto_second_factor = self.auto_second_factor, False
        try:
            if key not in _totp_secrets:
                _totp_secrets[key] = (await self.ok("POST", ENROL_PATH))["secret"]
            return dict(
                await self.ok("POST", VERIFY_PATH, {"code": await self.totp_code()})
            )
        finally:
            self.auto_second_factor = saved

    async def ok(self, method: str, path: str, body: Any = None) -> Any:
        """request(), asserting a 200 answer."""
        status, parsed = await self.request(method, path, body)
        if status != 200:
            raise AssertionError(f"{method} {path} → {status}: {parsed}")
        return parsed

    # Rooms and messages

    async def create_room(self, **body: Any) -> str:
        result = await self.ok("POST", "/_matrix/client/v3/createRoom", body)
        return str(result["room_id"])

    async def join(self, room_id: str) -> None:
        await self.ok("POST", f"/_matrix/client/v3/join/{quote(room_id)}", {})

    async def send(
        self, room_id: str, content: dict[str, Any], event_type: str = "m.room.message"
    ) -> tuple[int, Any]:
        txn = uuid.uuid4().hex
        path = f"/_matrix/client/v3/rooms/{quote(room_id)}/send/{event_type}/{txn}"
        return await self.request("PUT", path, content)

    async def send_text(self, room_id: str, text: str, **extra: Any) -> tuple[int, Any]:
        return await self.send(room_id, {"msgtype": "m.text", "body": text, **extra})

    async def messages(self, room_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The room's timeline, newest first, as /messages returns it."""
        path = f"/_matrix/client/v3/rooms/{quote(room_id)}/messages?dir=b&limit={limit}"
        result = await self.ok("GET", path)
        return list(result["chunk"])

    # Sync

    async def sync(self, timeout_ms: int = 0) -> dict[str, Any]:
        path = f"/_matrix/client/v3/sync?timeout={timeout_ms}"
        if self.next_batch:
            path += f"&since={quote(self.next_batch)}"
        result = await self.ok("GET", path)
        self.next_batch = result["next_batch"]
        return dict(result)

    async def sync_timeline_until(
        self,
        room_id: str,
        predicate: Callable[[dict[str, Any]], bool],
        attempts: int = 20,
    ) -> list[dict[str, Any]]:
        """Long-poll /sync until an event of room_id matches; return all events seen."""
        seen: list[dict[str, Any]] = []
        for _ in range(attempts):
            result = await self.sync(timeout_ms=1000)
            rooms = result.get("rooms", {})
            for section in ("join", "leave"):
                room = rooms.get(section, {}).get(room_id)
                if room:
                    seen.extend(room.get("timeline", {}).get("events", []))
            if any(predicate(e) for e in seen):
                return seen
        raise AssertionError(
            f"no matching event in {room_id} after {attempts} syncs: {seen}"
        )
