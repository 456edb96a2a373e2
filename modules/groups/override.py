# SPDX-License-Identifier: AGPL-3.0-or-later
"""Admin override for a group whose owner is gone (account deactivated or deleted).

Matrix power levels (room versions up to 11) let only a user at the owner's level
change the owner's level or give anyone that level, and only while joined. Once the
one owner's account is deactivated (Synapse then parts it from every room), nobody can
ever transfer or dissolve the group by the room's own rules, Synapse's
make_room_admin included. The override therefore acts as that owner account for one
step: a member invites it back, the server joins it, it hands ownership on (or
dissolves the group), and it leaves again. The room timeline shows all of it, with a
notice naming the admin. Only for local owners whose account is gone; a present owner
acts for themselves.
"""

import logging
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.errors import (
    GROUP_DISSOLVED,
    GROUP_NOT_FOUND,
    GROUP_OWNER_PRESENT,
    GROUP_OWNER_REMOTE,
    error,
)
from modules.common.synapse.accounts import is_user_deactivated
from modules.common.synapse.errors import Codes
from modules.groups.service import GroupService
from modules.groups.state import POWER_LEVELS, RoomView, levels_of

logger = logging.getLogger(__name__)

REASON = "管理员代为处理：原群主账号已注销"


class OwnerOverride:
    def __init__(self, api: ModuleApi, service: GroupService) -> None:
        self._api = api
        self._service = service

    async def group(self, room_id: str) -> RoomView:
        """The group's state (404 CN_JWWX_GROUP_NOT_FOUND for anything else)."""
        return await self._group(room_id)

    async def _group(self, room_id: str) -> RoomView:
        view = await self._service.view(room_id)
        if not view.exists or not view.is_group:
            raise error(404, GROUP_NOT_FOUND, "群聊不存在")
        return view

    async def owner_gone(self, view: RoomView) -> bool:
        owner = view.owner
        if owner is None:
            return True
        if view.membership(owner) != "join":
            return True
        return self._api.is_mine(owner) and await is_user_deactivated(self._api, owner)

    async def info(self, room_id: str) -> dict[str, Any]:
        view = await self._group(room_id)
        body = self._service.info(view, room_id)
        body["owner_gone"] = await self.owner_gone(view)
        return body

    async def _gone_owner(self, view: RoomView) -> str:
        """The departed owner's account the override acts as; refuses otherwise."""
        if view.dissolved:
            raise error(403, GROUP_DISSOLVED, "该群聊已解散")
        if not await self.owner_gone(view):
            raise error(
                409, GROUP_OWNER_PRESENT, "群主账号仍然有效，请由群主本人转让或解散"
            )
        owner = view.owner
        if owner is None:
            raise error(409, GROUP_OWNER_REMOTE, "该群没有可代为操作的群主账号")
        if not self._api.is_mine(owner):
            raise error(
                409, GROUP_OWNER_REMOTE, "群主不是本服务器的账号，无法代为转让或解散"
            )
        return owner

    async def _reseat(self, view: RoomView, room_id: str, owner: str) -> None:
        """Bring the departed owner's account back into the room for one step: invited
        by the local member most able to (the rules let anyone re-invite the owner)."""
        if view.membership(owner) == "join":
            return
        if view.membership(owner) != "invite":
            needed = view.action_level("invite", 0)
            inviters = sorted(
                (
                    u
                    for u in view.members("join")
                    if self._api.is_mine(u) and view.level(u) >= needed
                ),
                key=lambda u: (-view.level(u), u),
            )
            if not inviters:
                raise error(
                    409, GROUP_OWNER_REMOTE, "群内没有本服务器成员，无法代为处理"
                )
            await self._api.update_room_membership(
                inviters[0], owner, room_id, "invite", {"reason": REASON}
            )
        await self._api.update_room_membership(
            owner, owner, room_id, "join", {"reason": REASON}
        )

    async def transfer(self, admin: str, room_id: str, target: Any) -> dict[str, Any]:
        view = await self._group(room_id)
        if not isinstance(target, str) or not target:
            raise error(400, Codes.INVALID_PARAM, "缺少新群主 user_id")
        if view.membership(target) != "join":
            raise error(400, Codes.INVALID_PARAM, "新群主必须是本群成员")
        if view.creator_power:
            raise error(
                400,
                Codes.INVALID_PARAM,
                f"房间版本 {view.room_version} 的创建者不可变更，无法转让群主",
            )
        owner = await self._gone_owner(view)
        await self._reseat(view, room_id, owner)
        view = await self._service.view(room_id)
        content = dict(view.power_levels)
        users = levels_of(content)
        users[target] = view.config.owner_level
        users.pop(owner, None)
        content["users"] = users
        # One power-levels event, as the old owner: the only sender Matrix allows.
        await self._service.send_event(room_id, owner, POWER_LEVELS, content, "")
        await self._api.update_room_membership(owner, owner, room_id, "leave")
        await self._service.send_notice(
            room_id,
            target,
            f"原群主账号已注销，管理员已将群主转让给 {view.display_name(target)}",
            "owner_transfer",
        )
        logger.info(
            "admin %s made %s owner of %s (was %s)", admin, target, room_id, owner
        )
        return await self.info(room_id)

    async def dissolve(self, admin: str, room_id: str) -> dict[str, Any]:
        view = await self._group(room_id)
        owner = await self._gone_owner(view)
        await self._reseat(view, room_id, owner)
        logger.info("admin %s dissolves %s (owner %s gone)", admin, room_id, owner)
        return await self._service.dissolve(
            owner, room_id, notice_text="原群主账号已注销，管理员已解散该群聊"
        )
