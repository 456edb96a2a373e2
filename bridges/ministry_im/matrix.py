# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bridge's client-server calls, with the application service's token, as the bot
or as a puppet (`?user_id=`). Sends use a caller-given transaction id: Synapse answers
a repeated (path, application service) with the first event, so a send retried after a
crash does not post twice."""

import json
from typing import Any
from urllib.parse import quote, urlencode

from twisted.web.http_headers import Headers

import treq


class MatrixError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body if isinstance(body, dict) else {}
        self.errcode = str(self.body.get("errcode") or "")
        super().__init__(f"{status} {self.errcode}: {self.body.get('error') or body!r}")

    @property
    def permanent(self) -> bool:
        """A refusal to give up on (not the server being down or busy)."""
        return 400 <= self.status < 500 and self.status not in (408, 429)


def q(value: str) -> str:
    return quote(value, safe="")


class MatrixClient:
    def __init__(self, homeserver_url: str, as_token: str) -> None:
        self._base = homeserver_url
        self._token = as_token

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        as_user: str | None = None,
        params: dict[str, str] | None = None,
        data: bytes | None = None,
        content_type: str = "application/json",
        raw: bool = False,
    ) -> Any:
        args = dict(params or {})
        if as_user is not None:
            args["user_id"] = as_user
        url = self._base + path + ("?" + urlencode(args) if args else "")
        headers = {b"Authorization": [f"Bearer {self._token}".encode()]}
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        if data is not None:
            headers[b"Content-Type"] = [content_type.encode()]
        response = await treq.request(
            method, url, data=data, headers=Headers(headers), timeout=120
        )
        content = await response.content()
        if raw and response.code == 200:
            return content
        try:
            answer = json.loads(content) if content else {}
        except ValueError:
            answer = content[:200]
        if response.code != 200:
            raise MatrixError(response.code, answer)
        return answer

    async def ensure_puppet(self, user_id: str, name: str) -> None:
        """Register the puppet once, named after the ministry user (a later rename
        would post a member event into every room it is in: not on each message)."""
        localpart = user_id[1:].partition(":")[0]
        try:
            await self.request(
                "POST",
                "/_matrix/client/v3/register",
                {"type": "m.login.application_service", "username": localpart},
            )
        except MatrixError as e:
            if e.errcode != "M_USER_IN_USE":
                raise
            return
        if name:
            await self.request(
                "PUT",
                f"/_matrix/client/v3/profile/{q(user_id)}/displayname",
                {"displayname": name},
                as_user=user_id,
            )

    async def create_room(
        self, as_user: str, name: str, invite: list[str], direct: bool
    ) -> str:
        body: dict[str, Any] = {"preset": "private_chat", "invite": invite}
        if name:
            body["name"] = name
        if direct:
            body["is_direct"] = True
        answer = await self.request(
            "POST", "/_matrix/client/v3/createRoom", body, as_user=as_user
        )
        return str(answer["room_id"])

    async def join(self, room_id: str, as_user: str | None = None) -> None:
        await self.request(
            "POST", f"/_matrix/client/v3/join/{q(room_id)}", {}, as_user=as_user
        )

    async def leave(self, room_id: str, as_user: str) -> None:
        await self.request(
            "POST", f"/_matrix/client/v3/rooms/{q(room_id)}/leave", {}, as_user=as_user
        )

    async def invite(self, room_id: str, user_id: str, as_user: str) -> None:
        await self.request(
            "POST",
            f"/_matrix/client/v3/rooms/{q(room_id)}/invite",
            {"user_id": user_id},
            as_user=as_user,
        )

    async def send(
        self, room_id: str, content: dict[str, Any], txn_id: str, as_user: str | None
    ) -> str:
        answer = await self.request(
            "PUT",
            f"/_matrix/client/v3/rooms/{q(room_id)}/send/m.room.message/{q(txn_id)}",
            content,
            as_user=as_user,
        )
        return str(answer["event_id"])

    async def read_receipt(self, room_id: str, event_id: str, as_user: str) -> None:
        await self.request(
            "POST",
            f"/_matrix/client/v3/rooms/{q(room_id)}/receipt/m.read/{q(event_id)}",
            {},
            as_user=as_user,
        )

    async def upload(self, data: bytes, name: str, mimetype: str, as_user: str) -> str:
        answer = await self.request(
            "POST",
            "/_matrix/media/v3/upload",
            as_user=as_user,
            params={"filename": name},
            data=data,
            content_type=mimetype,
        )
        return str(answer["content_uri"])

    async def download(self, mxc: str, as_user: str | None) -> bytes:
        """The file, as a member of the room it was sent in (the product lets only
        them read a file)."""
        server, _, media_id = mxc[len("mxc://") :].partition("/")
        return bytes(
            await self.request(
                "GET",
                f"/_matrix/client/v1/media/download/{q(server)}/{q(media_id)}",
                as_user=as_user,
                raw=True,
            )
        )

    # modules.crossdomain's routes for bridges (the registration id is the key).

    async def may_talk(self, user_id: str) -> bool:
        answer = await self.request(
            "GET",
            "/_jwwx/client/v1/crossdomain/bridge/permitted",
            params={"officer": user_id},
        )
        return bool(answer.get("permitted"))

    async def directory(self, query: str, limit: int) -> dict[str, Any]:
        return dict(
            await self.request(
                "GET",
                "/_jwwx/client/v1/crossdomain/bridge/directory/search",
                params={"q": query, "limit": str(limit)},
            )
        )
