# SPDX-License-Identifier: AGPL-3.0-or-later
"""An officer's real Matrix client, matrix-nio (asyncio, aiohttp), over HTTPS.

nio runs on asyncio and the tests on Twisted: each call runs in a worker thread with
its own asyncio loop and a fresh AsyncClient logged in with the officer's token,
trusting only the test CA.

    officer = NioOfficer(server.https_url, user_id, token, ca_cert)
    room_id = await officer.call(lambda c: officer.create_room(c, invite=[...]))
"""

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from twisted.internet import threads

from nio import (
    AsyncClient,
    JoinResponse,
    RoomCreateResponse,
    RoomInviteResponse,
    RoomMessagesResponse,
    RoomSendResponse,
)

T = TypeVar("T")


class NioOfficer:
    def __init__(self, https_url: str, user_id: str, token: str, ca_cert: Path) -> None:
        self.https_url = https_url
        self.user_id = user_id
        self.token = token
        self._tls = ssl.create_default_context(cafile=str(ca_cert))

    def _run(self, fn: Callable[[AsyncClient], Awaitable[T]]) -> T:
        async def session() -> T:
            client = AsyncClient(self.https_url, self.user_id, ssl=self._tls)  # type: ignore[arg-type]
            client.access_token = self.token
            client.user_id = self.user_id
            try:
                return await fn(client)
            finally:
                await client.close()

        return asyncio.run(session())

    async def call(self, fn: Callable[[AsyncClient], Awaitable[T]]) -> T:
        result: T = await threads.deferToThread(self._run, fn)
        return result

    # Steps an officer takes (each returns nio's response or a plain value).

    async def create_room(self, invite: list[str]) -> str:
        async def step(c: AsyncClient) -> str:
            answer = await c.room_create(invite=invite, is_direct=False)
            assert isinstance(answer, RoomCreateResponse), answer
            return str(answer.room_id)

        return await self.call(step)

    async def invite(self, room_id: str, user_id: str) -> Any:
        async def step(c: AsyncClient) -> Any:
            return await c.room_invite(room_id, user_id)

        return await self.call(step)

    async def join(self, room_id: str, timeout: float = 60.0) -> None:
        """Join once the invite has arrived (federation delivers it asynchronously)."""

        async def step(c: AsyncClient) -> None:
            deadline = time.monotonic() + timeout
            while True:
                answer = await c.join(room_id)
                if isinstance(answer, JoinResponse):
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"join {room_id}: {answer}")
                await asyncio.sleep(0.2)

        await self.call(step)

    async def send_text(self, room_id: str, text: str) -> Any:
        async def step(c: AsyncClient) -> Any:
            return await c.room_send(
                room_id, "m.room.message", {"msgtype": "m.text", "body": text}
            )

        return await self.call(step)

    async def wait_for_event(
        self,
        room_id: str,
        match: Callable[[dict[str, Any]], bool],
        timeout: float = 60.0,
    ) -> dict[str, Any]:
        """The first event in the room (newest 50) that `match`es, as raw JSON."""

        async def step(c: AsyncClient) -> dict[str, Any]:
            deadline = time.monotonic() + timeout
            while True:
                answer = await c.room_messages(room_id, start=None, limit=50)
                if isinstance(answer, RoomMessagesResponse):
                    for event in answer.chunk:
                        source = dict(event.source)
                        if match(source):
                            return source
                if time.monotonic() > deadline:
                    raise AssertionError(f"no matching event in {room_id}: {answer}")
                await asyncio.sleep(0.2)

        return await self.call(step)


__all__ = ["NioOfficer", "RoomInviteResponse", "RoomSendResponse"]
