# SPDX-License-Identifier: AGPL-3.0-or-later
"""QR join links (群二维码): created by members who may invite, previewed and used by
officers who may see the creator in the directory, revoked with the creator's right to
invite."""

import base64
import io
import secrets
from typing import Any
from urllib.parse import quote

import segno

from modules.common import registry
from modules.common.errors import (
    GROUP_DISSOLVED,
    JOIN_LINK_EXPIRED,
    JOIN_LINK_INVALID,
    JOIN_LINK_REVOKED,
    error,
)
from modules.directory import public as directory_public
from modules.groups import storage
from modules.groups.core import GroupCore, forbidden, invalid
from modules.groups.state import RoomView

JOIN_PATH = "/_jwwx/client/v1/groups/join/"


def qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()


class JoinLinks(GroupCore):
    # Join links

    def link_url(self, token: str) -> str:
        return self._api.public_baseurl.rstrip("/") + JOIN_PATH + quote(token)

    def link_json(self, link: storage.JoinLink) -> dict[str, Any]:
        body = link.as_json()
        body["url"] = self.link_url(link.token)
        return body

    async def create_link(self, user_id: str, room_id: str, ttl: Any) -> dict[str, Any]:
        view = await self.group_view(user_id, room_id)
        if ttl is None:
            ttl = self._config.join_link_ttl_seconds
        if (
            isinstance(ttl, bool)
            or not isinstance(ttl, int)
            or not 1 <= ttl <= self._config.join_link_max_ttl_seconds
        ):
            raise invalid(
                f"ttl_seconds 应为 1 到 {self._config.join_link_max_ttl_seconds} 之间的整数"
            )
        if not view.can_manage(user_id):
            raise forbidden("只有群主和管理员可以生成群二维码")
        now = self._api.get_current_time_msec()
        link = storage.JoinLink(
            secrets.token_urlsafe(18),
            room_id,
            user_id,
            now,
            now + ttl * 1000,
            None,
            None,
            0,
        )
        await self._api.run_db_interaction(
            "jwwx_groups_insert_link", storage.insert_link_txn, link
        )
        body = self.link_json(link)
        body["qr_png_base64"] = base64.b64encode(qr_png(body["url"])).decode("ascii")
        return body

    async def list_links(self, user_id: str, room_id: str) -> dict[str, Any]:
        view = await self.group_view(user_id, room_id)
        if not view.can_manage(user_id):
            raise forbidden("只有群主和管理员可以查看群二维码")
        links = await self._api.run_db_interaction(
            "jwwx_groups_list_links", storage.list_links_txn, room_id
        )
        return {"links": [self.link_json(link) for link in links]}

    async def _room_link(
        self, user_id: str, room_id: str, token: str
    ) -> storage.JoinLink:
        view = await self.group_view(user_id, room_id)
        if not view.can_manage(user_id):
            raise forbidden("只有群主和管理员可以管理群二维码")
        link = await self._api.run_db_interaction(
            "jwwx_groups_get_link", storage.get_link_txn, token
        )
        if link is None or link.room_id != room_id:
            raise error(404, JOIN_LINK_INVALID, "二维码不存在")
        return link

    async def revoke_link(
        self, user_id: str, room_id: str, token: str
    ) -> dict[str, Any]:
        await self._room_link(user_id, room_id, token)
        await self._api.run_db_interaction(
            "jwwx_groups_revoke_link",
            storage.revoke_link_txn,
            token,
            user_id,
            self._api.get_current_time_msec(),
        )
        return {}

    async def link_png(self, user_id: str, room_id: str, token: str) -> bytes:
        link = await self._room_link(user_id, room_id, token)
        return qr_png(self.link_url(link.token))

    async def _usable_link(self, token: str) -> tuple[storage.JoinLink, RoomView]:
        link = await self._api.run_db_interaction(
            "jwwx_groups_get_link", storage.get_link_txn, token
        )
        if link is None:
            raise error(404, JOIN_LINK_INVALID, "二维码无效")
        if link.revoked_ts is not None:
            raise error(403, JOIN_LINK_REVOKED, "该群二维码已被撤销")
        if link.expires_ts <= self._api.get_current_time_msec():
            raise error(403, JOIN_LINK_EXPIRED, "该群二维码已过期")
        view = await self.view(link.room_id)
        if view.dissolved:
            raise error(403, GROUP_DISSOLVED, "该群聊已解散")
        if (
            not view.exists
            or view.membership(link.created_by) != "join"
            or not view.can_manage(link.created_by)
        ):
            # The creator left or lost the right to invite: the link died with it.
            raise error(403, JOIN_LINK_REVOKED, "该群二维码已失效")
        return link, view

    async def preview_link(self, user_id: str, token: str) -> dict[str, Any]:
        link, view = await self._usable_link(token)
        return {
            "room_id": link.room_id,
            "name": view.name,
            "member_count": len(view.members("join")),
            "expires_ts": link.expires_ts,
            "joined": view.membership(user_id) == "join",
        }

    async def join_by_link(self, user_id: str, token: str) -> dict[str, Any]:
        link, view = await self._usable_link(token)
        room_id = link.room_id
        if view.membership(user_id) == "join":
            return {"room_id": room_id, "already_joined": True}
        await self._check_directory_visibility(user_id, link.created_by)
        owner = view.owner
        if owner is None or view.membership(owner) != "join":
            raise error(403, JOIN_LINK_REVOKED, "该群二维码已失效")
        if view.membership(user_id) != "invite":
            # The invite is the owner's: the size cap and owner-only rules see it.
            await self._api.update_room_membership(
                owner, user_id, room_id, "invite", {"reason": "扫描群二维码加入"}
            )
        await self._api.update_room_membership(user_id, user_id, room_id, "join")
        await self._api.run_db_interaction(
            "jwwx_groups_count_link_use", storage.count_use_txn, token
        )
        return {"room_id": room_id, "already_joined": False}

    async def _check_directory_visibility(self, user_id: str, creator: str) -> None:
        """An officer who may not see the link's creator in the directory (hidden or
        restricted departments) may not join through it either."""
        try:
            directory = registry.lookup(self._api, directory_public.SERVICE)
        except registry.ServiceMissingError:
            return
        await directory.runtime.ready()

        admin = await self._api.is_user_admin(user_id)
        if admin:
            return

        def check_txn(txn: Any) -> bool:
            creator_local = creator.split(":", 1)[0].lstrip("@")
            if directory_public.get_member_txn(txn, creator_local) is None:
                return True  # not a directory member (a bot, a service account)
            viewer = directory_public.viewer_txn(
                txn, user_id, user_id.split(":", 1)[0].lstrip("@"), False
            )
            return bool(
                directory_public.is_visible_txn(txn, creator_local, viewer.visibility)
            )

        if not await self._api.run_db_interaction(
            "jwwx_groups_link_visibility", check_txn
        ):
            raise forbidden("你无权通过该二维码加入群聊")
