# SPDX-License-Identifier: AGPL-3.0-or-later
"""The bridge's client-server calls: bridges/common's BotClient (the application
service's token, as the bot or as a puppet with `as_user`, caller-given transaction
ids so that a send retried after a crash does not post twice) and what only this
bridge does: puppets, portal rooms, receipts, uploads, and modules.crossdomain's routes
for bridges."""

from typing import Any

from bridges.common.matrix import BotClient, MatrixError, q

__all__ = ["MatrixClient", "MatrixError"]

TIMEOUT_SECONDS = 120  # a file of several MiB up or down


class MatrixClient(BotClient):
    def __init__(self, homeserver_url: str, as_token: str, bot_user_id: str) -> None:
        super().__init__(homeserver_url, as_token, bot_user_id, TIMEOUT_SECONDS)

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
        self, as_user: str, name: str, invite: list[str], direct: bool, alias: str
    ) -> str:
        """A portal room with the local alias `alias` (M_ROOM_IN_USE when it exists
        already). The alias is not the room's canonical alias: clients keep naming
        the room after its name or members."""
        body: dict[str, Any] = {
            "preset": "private_chat",
            "invite": invite,
            "room_alias_name": alias,
            "initial_state": [
                {"type": "m.room.canonical_alias", "state_key": "", "content": {}}
            ],
        }
        if name:
            body["name"] = name
        if direct:
            body["is_direct"] = True
        answer = await self.request(
            "POST", "/_matrix/client/v3/createRoom", body, as_user=as_user
        )
        return str(answer["room_id"])

    async def resolve_alias(self, alias: str) -> str:
        answer = await self.request(
            "GET", f"/_matrix/client/v3/directory/room/{q(alias)}"
        )
        return str(answer["room_id"])

    async def room_creator(self, room_id: str, as_user: str) -> str | None:
        """Who created the room (its m.room.create's sender), as a member sees it;
        None when `as_user` may not read its state."""
        try:
            state = await self.request(
                "GET", f"/_matrix/client/v3/rooms/{q(room_id)}/state", as_user=as_user
            )
        except MatrixError as e:
            if e.permanent:
                return None
            raise
        create = [e for e in state if e.get("type") == "m.room.create"]
        return str(create[0].get("sender")) if create else None

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

    async def redact(
        self, room_id: str, event_id: str, txn_id: str, as_user: str, reason: str
    ) -> str:
        """Redact `event_id` as `as_user` (its sender); a repeated `txn_id` answers
        the first redaction."""
        answer = await self.request(
            "PUT",
            f"/_matrix/client/v3/rooms/{q(room_id)}/redact/{q(event_id)}/{q(txn_id)}",
            {"reason": reason},
            as_user=as_user,
        )
        return str(answer["event_id"])

    async def room_name(self, room_id: str, as_user: str | None) -> str:
        """The room's name ("" when it has none), as one of its members."""
        try:
            answer = await self.request(
                "GET",
                f"/_matrix/client/v3/rooms/{q(room_id)}/state/m.room.name",
                as_user=as_user,
            )
        except MatrixError as e:
            if e.status == 404:
                return ""
            raise
        return str(answer.get("name") or "")

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
            params={"filename": name},
            as_user=as_user,
            data=data,
            content_type=mimetype,
        )
        return str(answer["content_uri"])

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
