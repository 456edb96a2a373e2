# SPDX-License-Identifier: AGPL-3.0-or-later
"""Favourites (收藏): copies of messages an officer keeps, searchable, re-sendable.

A favourite copies the message's content when it is favourited (so it stays when the
message is later edited, redacted or expires); media are re-referenced (the same mxc URI),
not copied. Burn-after-read messages cannot be favourited: their content must vanish.
"""

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.errors import FAVORITE_NOT_ALLOWED, FAVORITE_NOT_FOUND, error
from modules.common.mxc import mxc_uris
from modules.common.storage import fold
from modules.common.synapse.errors import Codes
from modules.common.synapse.events import event_visible_to
from modules.favorites import public, storage
from modules.favorites.config import FavoritesConfig

MESSAGE_TYPES = ("m.room.message", "m.sticker")
BURN_FIELDS = ("org.matrix.self_destruct", "cn.jwwx.burn_after_read")
# Not carried into a re-sent favourite: relations, edits, mentions, our notices.
DROPPED_ON_SEND = (
    "m.relates_to",
    "m.new_content",
    "m.mentions",
    "cn.jwwx.notice",
    *BURN_FIELDS,
)


def search_text(content: Mapping[str, Any]) -> str:
    parts = []
    for key in ("body", "filename"):
        value = content.get(key)
        if isinstance(value, str):
            parts.append(value)
    info = content.get("info")
    if isinstance(info, Mapping) and isinstance(info.get("name"), str):
        parts.append(info["name"])
    return fold("\n".join(parts))


def not_found() -> Any:
    return error(404, FAVORITE_NOT_FOUND, "收藏不存在")


class FavoritesService:
    def __init__(self, api: ModuleApi, config: FavoritesConfig) -> None:
        self._api = api
        self._config = config

    async def add(self, user_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        room_id, event_id = body.get("room_id"), body.get("event_id")
        if not isinstance(room_id, str) or not room_id:
            raise error(400, Codes.MISSING_PARAM, "缺少 room_id")
        if not isinstance(event_id, str) or not event_id:
            raise error(400, Codes.MISSING_PARAM, "缺少 event_id")
        existing = await self._api.run_db_interaction(
            "jwwx_fav_by_event", storage.by_event_txn, user_id, event_id
        )
        if existing is not None:
            return existing.as_json()
        event = await event_visible_to(self._api, user_id, room_id, event_id)
        if event is None:
            raise error(404, Codes.NOT_FOUND, "消息不存在或你无权查看")
        if event.type not in MESSAGE_TYPES:
            raise error(400, FAVORITE_NOT_ALLOWED, "只能收藏消息")
        content = dict(event.content)
        if not content:
            raise error(400, FAVORITE_NOT_ALLOWED, "消息已撤回，无法收藏")
        if any(content.get(f) is not None for f in BURN_FIELDS) or (
            await self._burns_with_a_message(event_id)
        ):
            raise error(403, FAVORITE_NOT_ALLOWED, "阅后即焚消息不能收藏")
        kind = str(content.get("msgtype", event.type))
        favorite = storage.Favorite(
            secrets.token_hex(8),
            user_id,
            room_id,
            event_id,
            event.sender,
            event.type,
            kind,
            content,
            int(event.origin_server_ts),
            self._api.get_current_time_msec(),
        )

        def insert_txn(txn: Any) -> None:
            if storage.count_txn(txn, user_id) >= self._config.max_favorites:
                raise error(
                    400,
                    Codes.RESOURCE_LIMIT_EXCEEDED,
                    f"收藏数量已达上限（{self._config.max_favorites}）",
                )
            storage.insert_txn(txn, favorite, search_text(content), mxc_uris(content))

        await self._api.run_db_interaction("jwwx_fav_insert", insert_txn)
        return favorite.as_json()

    async def _burns_with_a_message(self, event_id: str) -> bool:
        """An edit, reply or reaction of a burn-after-read message burns with it
        (modules.burn tracks them): a favourite would keep a copy."""
        try:
            burn = registry.lookup(self._api, public.BURN)
        except registry.ServiceMissingError:
            return False
        return event_id in await burn.tracked_event_ids([event_id])

    async def get(self, user_id: str, favorite_id: str) -> storage.Favorite:
        favorite = await self._api.run_db_interaction(
            "jwwx_fav_get", storage.get_txn, user_id, favorite_id
        )
        if favorite is None:
            raise not_found()
        return favorite

    async def remove(self, user_id: str, favorite_id: str) -> None:
        if not await self._api.run_db_interaction(
            "jwwx_fav_delete", storage.delete_txn, user_id, favorite_id
        ):
            raise not_found()

    async def list(
        self, user_id: str, query: str | None, limit: int, offset: int
    ) -> dict[str, Any]:
        term = fold(query.strip()) if query else None
        found = await self._api.run_db_interaction(
            "jwwx_fav_list", storage.list_txn, user_id, term, limit + 1, offset
        )
        more = len(found) > limit
        return {
            "favorites": [f.as_json() for f in found[:limit]],
            "next_from": str(offset + limit) if more else None,
        }

    async def send(
        self, user_id: str, favorite_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        favorite = await self.get(user_id, favorite_id)
        room_id = body.get("room_id")
        if not isinstance(room_id, str) or not room_id:
            raise error(400, Codes.MISSING_PARAM, "缺少 room_id")
        state = await self._api.get_room_state(room_id, [("m.room.member", user_id)])
        member = state.get(("m.room.member", user_id))
        if member is None or member.content.get("membership") != "join":
            raise error(403, Codes.FORBIDDEN, "你不在该会话中")
        content = {
            k: v for k, v in favorite.content.items() if k not in DROPPED_ON_SEND
        }
        # A new message with the same content (media re-referenced), sent as the officer:
        # the keyword filter, mute and group rules judge it like any other.
        event = await self._api.create_and_send_event_into_room(
            {
                "type": favorite.event_type,
                "room_id": room_id,
                "sender": user_id,
                "content": content,
            }
        )
        return {"event_id": event.event_id, "room_id": room_id}

    async def favourited_local_media(self, media_ids: Sequence[str]) -> set[str]:
        """Which of these local media some favourite re-references (retention keeps
        them: favourites are not chat records)."""
        prefix = f"mxc://{self._api.server_name}/"
        found = await self._api.run_db_interaction(
            "jwwx_fav_media",
            storage.favourited_txn,
            [prefix + media_id for media_id in media_ids],
        )
        return {mxc[len(prefix) :] for mxc in found}
