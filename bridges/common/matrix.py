# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bot's side of the client-server API, with the application service's token (the
bot is the registration's sender). What the bridges need: join, send, edit, read a
chat's recent messages and a member's state, download an image, search the directory on
an officer's behalf, open a direct chat and tell whose access token a request carries.
A bridge with puppets (bridges/ministry_im) calls as one of them with `as_user`
(the application service's `?user_id=`) and gives its own transaction ids, so that a
send retried after a crash posts once."""

import json
import uuid
from typing import Any
from urllib.parse import quote, urlencode

from twisted.web.http_headers import Headers

import treq


class MatrixError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body if isinstance(body, dict) else {}
        self.errcode = self.body.get("errcode")
        self.error = self.body.get("error") or str(body)[:200]
        super().__init__(f"{status} {self.errcode}: {self.error}")

    @property
    def permanent(self) -> bool:
        """A refusal to give up on (not the server being down or busy)."""
        return 400 <= self.status < 500 and self.status not in (408, 429)


def q(value: str) -> str:
    return quote(value, safe="")


class BotClient:
    def __init__(
        self, homeserver_url: str, as_token: str, user_id: str, timeout: float = 60
    ) -> None:
        self._base = homeserver_url
        self._token = as_token
        self._timeout = timeout
        self.user_id = user_id

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        raw: bool = False,
        *,
        as_user: str | None = None,
        data: bytes | None = None,
        content_type: str = "application/json",
    ) -> Any:
        """`body` as JSON, or `data` as `content_type`; as the bot, or as the puppet
        `as_user`. The answer's JSON (`raw`: its bytes); MatrixError unless 200."""
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
            method, url, data=data, headers=Headers(headers), timeout=self._timeout
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

    async def join(self, room_id: str, as_user: str | None = None) -> None:
        await self.request(
            "POST", f"/_matrix/client/v3/join/{q(room_id)}", {}, as_user=as_user
        )

    async def set_display_name(self, name: str) -> None:
        await self.request(
            "PUT",
            f"/_matrix/client/v3/profile/{q(self.user_id)}/displayname",
            {"displayname": name},
        )

    async def send(
        self,
        room_id: str,
        content: dict[str, Any],
        txn_id: str | None = None,
        as_user: str | None = None,
    ) -> str:
        """The event id; a repeated `txn_id` (per path and application service)
        answers the first event instead of posting again."""
        answer = await self.request(
            "PUT",
            f"/_matrix/client/v3/rooms/{q(room_id)}/send/m.room.message/"
            f"{q(txn_id or uuid.uuid4().hex)}",
            content,
            as_user=as_user,
        )
        return str(answer["event_id"])

    async def edit(self, room_id: str, event_id: str, text: str) -> str:
        """Replace the text of the bot's own message (m.replace)."""
        return await self.send(
            room_id,
            {
                "msgtype": "m.notice",
                "body": f"* {text}",
                "m.new_content": {"msgtype": "m.notice", "body": text},
                "m.relates_to": {"rel_type": "m.replace", "event_id": event_id},
            },
        )

    async def members(self, room_id: str, as_user: str | None = None) -> list[str]:
        answer = await self.request(
            "GET",
            f"/_matrix/client/v3/rooms/{q(room_id)}/joined_members",
            as_user=as_user,
        )
        return sorted(answer.get("joined", {}))

    async def member_event_id(self, room_id: str, user_id: str) -> str | None:
        """The event id of the officer's current membership in the chat (where his
        view of the chat's history begins), None when he is not joined."""
        answer = await self.request(
            "GET",
            f"/_matrix/client/v3/rooms/{q(room_id)}/state",
        )
        for event in answer:
            if (
                event.get("type") == "m.room.member"
                and event.get("state_key") == user_id
            ):
                if event.get("content", {}).get("membership") != "join":
                    return None
                return str(event.get("event_id"))
        return None

    async def recent(self, room_id: str, limit: int) -> list[dict[str, Any]]:
        """The chat's latest events, newest first (the bot's own view)."""
        answer = await self.request(
            "GET",
            f"/_matrix/client/v3/rooms/{q(room_id)}/messages",
            params={"dir": "b", "limit": str(limit)},
        )
        return list(answer.get("chunk", []))

    async def event(self, room_id: str, event_id: str) -> dict[str, Any]:
        return dict(
            await self.request(
                "GET",
                f"/_matrix/client/v3/rooms/{q(room_id)}/event/{q(event_id)}",
            )
        )

    async def download(self, mxc: str, as_user: str | None = None) -> bytes:
        """The file, as the bot or `as_user` (the product lets only the members of
        the room it was sent in read a file)."""
        server, _, media_id = mxc[len("mxc://") :].partition("/")
        return bytes(
            await self.request(
                "GET",
                f"/_matrix/client/v1/media/download/{q(server)}/{q(media_id)}",
                raw=True,
                as_user=as_user,
            )
        )

    async def direct_chat(self, user_id: str, name: str) -> str:
        """A new chat of two with `user_id` (invited, marked direct); its room id."""
        answer = await self.request(
            "POST",
            "/_matrix/client/v3/createRoom",
            {
                "preset": "trusted_private_chat",
                "is_direct": True,
                "invite": [user_id],
                "name": name,
            },
        )
        return str(answer["room_id"])

    async def whoami(self, access_token: str) -> str | None:
        """The user whose access token this is (an officer's, not the bot's); None
        when the homeserver does not know it."""
        response = await treq.get(
            self._base + "/_matrix/client/v3/account/whoami",
            headers=Headers({b"Authorization": [f"Bearer {access_token}".encode()]}),
            timeout=30,
        )
        answer = await response.json() if response.code == 200 else {}
        if response.code in (401, 403):
            return None
        if response.code != 200:
            raise MatrixError(response.code, answer)
        user_id = answer.get("user_id")
        return str(user_id) if isinstance(user_id, str) else None

    async def search_directory(self, viewer: str, query: str) -> dict[str, Any]:
        """The directory's member search as `viewer` sees it (delegated_readers)."""
        return dict(
            await self.request(
                "GET",
                "/_jwwx/client/v1/directory/search/members",
                params={"q": query, "limit": "5", "on_behalf_of": viewer},
            )
        )
