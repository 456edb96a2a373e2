# SPDX-License-Identifier: AGPL-3.0-or-later
"""Creating and managing a group: creation (with a department's members), the
owner-only switch, owner transfer and admins, mute, the announcement, dissolution."""

import logging
from typing import Any

from modules.common import registry
from modules.common.errors import error
from modules.common.synapse.errors import Codes, SynapseError
from modules.common.synapse.rooms import forget_room
from modules.directory import public as directory_public
from modules.groups import storage
from modules.groups.core import GroupCore, forbidden, invalid, not_found
from modules.groups.state import (
    ANNOUNCEMENT_TYPE,
    GROUP_TYPE,
    NOTICE_FIELD,
    POWER_LEVELS,
    RoomView,
    levels_of,
)

logger = logging.getLogger(__name__)

MAX_ANNOUNCEMENT = 4000
MAX_NAME = 100


class GroupManagement(GroupCore):
    # Creation

    async def create(self, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            raise invalid(f"群名称 name 必须是 1 到 {MAX_NAME} 个字符")
        invite = body.get("invite", [])
        if not isinstance(invite, list) or not all(isinstance(u, str) for u in invite):
            raise invalid("invite 必须是用户ID数组")
        owner_only = body.get("owner_only_manage", False)
        if not isinstance(owner_only, bool):
            raise invalid("owner_only_manage 必须是 true 或 false")
        department = body.get("department_id")
        invitees = [u for u in dict.fromkeys(invite) if u != user_id]
        if department is not None:
            if isinstance(department, bool) or not isinstance(department, int):
                raise invalid("department_id 必须是整数")
            for member in await self.department_members(user_id, department):
                if member != user_id and member not in invitees:
                    invitees.append(member)
        room_config: dict[str, Any] = {
            "preset": "private_chat",
            "name": name.strip(),
            "invite": invitees,
            "initial_state": [
                {
                    "type": GROUP_TYPE,
                    "state_key": "",
                    "content": {"owner_only_manage": owner_only},
                }
            ],
            "power_level_content_override": {"invite": 0},
        }
        topic = body.get("topic")
        if topic is not None:
            if not isinstance(topic, str):
                raise invalid("topic 必须是字符串")
            room_config["topic"] = topic
        room_id, _alias = await self._api.create_room(user_id, room_config)
        return {"room_id": room_id, "invited": invitees}

    async def department_members(self, user_id: str, department_id: int) -> list[str]:
        """The Matrix ids of a department's members the caller may see (its direct
        members), through the directory module's own visibility rules."""
        directory = registry.lookup(self._api, directory_public.SERVICE)
        await directory.runtime.ready()

        admin = await self._api.is_user_admin(user_id)
        localpart = user_id.split(":", 1)[0].lstrip("@")

        def read_txn(txn: Any) -> list[str]:
            viewer = directory_public.viewer_txn(txn, user_id, localpart, admin)
            found: list[str] = []
            offset = 0
            while True:
                page = directory.reader.children_txn(
                    txn, viewer, department_id, 500, offset
                )
                found.extend(str(m["user_id"]) for m in page["members"])
                if page["next_from"] is None:
                    return found
                offset = int(page["next_from"])

        try:
            members = await self._api.run_db_interaction(
                "jwwx_groups_department_members", read_txn
            )
        except directory_public.DirectoryError as e:
            raise e.to_synapse() from e
        existing = []
        for member in members:
            if await self._api.check_user_exists(member):
                existing.append(member)
        return existing

    # Settings, owner and admins

    async def set_owner_only(
        self, user_id: str, room_id: str, value: Any
    ) -> dict[str, Any]:
        view = await self.group_view(user_id, room_id)
        if not isinstance(value, bool):
            raise invalid("owner_only_manage 必须是 true 或 false")
        if not view.is_owner(user_id):
            raise forbidden("只有群主可以修改群设置")
        content = dict(view.group)
        content["owner_only_manage"] = value
        await self.send_event(room_id, user_id, GROUP_TYPE, content, "")
        text = "群主开启了“仅群主可管理”" if value else "群主关闭了“仅群主可管理”"
        await self.send_notice(room_id, user_id, text, "owner_only")
        return self.info(await self.view(room_id), room_id)

    async def transfer(self, user_id: str, room_id: str, target: Any) -> dict[str, Any]:
        view = await self.group_view(user_id, room_id)
        if not isinstance(target, str) or not target:
            raise invalid("缺少新群主 user_id")
        if not view.is_owner(user_id):
            raise forbidden("只有群主可以转让群主")
        if target == user_id:
            raise invalid("不能转让给自己")
        if view.membership(target) != "join":
            raise invalid("新群主必须是本群成员")
        if view.creator_power:
            raise error(
                400,
                Codes.INVALID_PARAM,
                f"房间版本 {view.room_version} 的创建者不可变更，无法转让群主",
            )
        content = dict(view.power_levels)
        users = levels_of(content)
        users[target] = self._config.owner_level
        users[user_id] = self._config.admin_level
        content["users"] = users
        # One power-levels event: the new owner and the old one change together.
        await self.send_event(room_id, user_id, POWER_LEVELS, content, "")
        await self.send_notice(
            room_id,
            user_id,
            f"{view.display_name(user_id)} 已将群主转让给 {view.display_name(target)}",
            "owner_transfer",
        )
        return self.info(await self.view(room_id), room_id)

    async def _power_sender(self, view: RoomView, user_id: str) -> str:
        """Who sends a power-levels change an admin asked for: the admin if Matrix lets
        them, otherwise the owner on their behalf (the notice names the admin)."""
        if view.level(user_id) >= view.required_level(POWER_LEVELS):
            return user_id
        owner = view.owner
        if owner is None or view.membership(owner) != "join":
            raise forbidden("群主不在群内，无法修改权限")
        return owner

    async def set_admin(
        self, user_id: str, room_id: str, target: str, admin: Any
    ) -> dict[str, Any]:
        view = await self.group_view(user_id, room_id)
        if not isinstance(admin, bool):
            raise invalid("admin 必须是 true 或 false")
        if not view.is_owner(user_id):
            raise forbidden("只有群主可以设置管理员")
        if view.membership(target) != "join" or view.is_owner(target):
            raise invalid("只能将群成员（群主除外）设为管理员")
        content = dict(view.power_levels)
        users = levels_of(content)
        if admin:
            users[target] = self._config.admin_level
        else:
            users.pop(target, None)
        content["users"] = users
        await self.send_event(room_id, user_id, POWER_LEVELS, content, "")
        action = "设为管理员" if admin else "取消了管理员"
        await self.send_notice(
            room_id,
            user_id,
            f"群主将 {view.display_name(target)} {action}",
            "admin",
        )
        return self.info(await self.view(room_id), room_id)

    # Mute

    async def mute_all(self, user_id: str, room_id: str, on: Any) -> dict[str, Any]:
        view = await self.group_view(user_id, room_id)
        if not isinstance(on, bool):
            raise invalid("mute_all 必须是 true 或 false")
        if not view.is_admin(user_id):
            raise forbidden("只有群主和管理员可以设置全员禁言")
        content = dict(view.power_levels)
        content["events_default"] = self._config.admin_level if on else 0
        sender = await self._power_sender(view, user_id)
        await self.send_event(room_id, sender, POWER_LEVELS, content, "")
        who = view.display_name(user_id)
        text = f"{who} 开启了全员禁言" if on else f"{who} 关闭了全员禁言"
        await self.send_notice(room_id, user_id, text, "mute_all")
        return self.info(await self.view(room_id), room_id)

    async def mute_members(
        self, user_id: str, room_id: str, targets: Any, muted: Any
    ) -> dict[str, Any]:
        view = await self.group_view(user_id, room_id)
        if not isinstance(muted, bool):
            raise invalid("muted 必须是 true 或 false")
        if (
            not isinstance(targets, list)
            or not targets
            or not all(isinstance(t, str) for t in targets)
        ):
            raise invalid("user_ids 必须是非空的用户ID数组")
        if not view.is_admin(user_id):
            raise forbidden("只有群主和管理员可以禁言成员")
        for target in targets:
            if view.membership(target) != "join":
                raise invalid(f"{target} 不是本群成员")
            if view.is_admin(target):
                raise forbidden("不能禁言群主或管理员")
        content = dict(view.power_levels)
        users = levels_of(content)
        for target in targets:
            if muted:
                users[target] = self._config.muted_level
            else:
                users.pop(target, None)
        content["users"] = users
        sender = await self._power_sender(view, user_id)
        await self.send_event(room_id, sender, POWER_LEVELS, content, "")
        names = "、".join(view.display_name(t) for t in targets)
        action = "禁言" if muted else "解除禁言"
        await self.send_notice(
            room_id,
            user_id,
            f"{view.display_name(user_id)} 将 {names} {action}",
            "mute",
        )
        return self.info(await self.view(room_id), room_id)

    # Announcement

    async def announce(self, user_id: str, room_id: str, text: Any) -> dict[str, Any]:
        view = await self.group_view(user_id, room_id)
        if (
            not isinstance(text, str)
            or not text.strip()
            or len(text) > MAX_ANNOUNCEMENT
        ):
            raise invalid(f"群公告 text 必须是 1 到 {MAX_ANNOUNCEMENT} 个字符")
        if not view.can_manage(user_id):
            if view.owner_only:
                raise forbidden("本群仅群主可以发布群公告")
            raise forbidden("只有群主和管理员可以发布群公告")
        # The message first: a keyword-filtered text then changes nothing. It is an
        # m.text with an @room mention (m.notice is never notified by the default push
        # rules), marked cn.jwwx.notice = "announcement" for clients that show it apart.
        body = f"@room 【群公告】{text}"
        notice_id = await self.send_event(
            room_id,
            user_id,
            "m.room.message",
            {
                "msgtype": "m.text",
                "body": body,
                "m.mentions": {"room": True},
                NOTICE_FIELD: "announcement",
            },
        )
        content = {
            "text": text,
            "updated_by": user_id,
            "updated_ts": self._api.get_current_time_msec(),
            "event_id": notice_id,
        }
        await self.send_event(room_id, user_id, ANNOUNCEMENT_TYPE, content, "")
        return {"announcement": content}

    async def announcement(self, user_id: str, room_id: str) -> dict[str, Any]:
        view = await self.group_view(user_id, room_id)
        return {"announcement": view.content(ANNOUNCEMENT_TYPE) or None}

    # Dissolve

    async def dissolve(
        self, user_id: str, room_id: str, notice_text: str = "群主已解散该群聊"
    ) -> dict[str, Any]:
        view = await self.view(room_id)
        if not view.exists or not view.is_group:
            raise not_found()
        if view.dissolved:
            # Finishing a dissolution (a retry, or the owner's client set the flag).
            finisher = view.group.get("dissolved_by") == user_id or (
                view.is_owner(user_id) and view.membership(user_id) == "join"
            )
            if not finisher:
                raise not_found()
        else:
            if view.membership(user_id) != "join":
                raise not_found()
            if not view.is_owner(user_id):
                raise forbidden("只有群主可以解散群聊")
            await self.send_notice(room_id, user_id, notice_text, "dissolved")
            content = dict(view.group)
            content.update(
                dissolved=True,
                dissolved_by=user_id,
                dissolved_ts=self._api.get_current_time_msec(),
            )
            await self.send_event(room_id, user_id, GROUP_TYPE, content, "")
        now = self._api.get_current_time_msec()
        await self._api.run_db_interaction(
            "jwwx_groups_revoke_room_links",
            storage.revoke_room_links_txn,
            room_id,
            user_id,
            now,
        )
        view = await self.view(room_id)
        removed = []
        for member in view.members("join", "invite", "knock"):
            if member == user_id:
                continue
            await self._api.update_room_membership(
                user_id, member, room_id, "leave", {"reason": "群聊已解散"}
            )
            removed.append(member)
        if view.membership(user_id) == "join":
            await self._api.update_room_membership(user_id, user_id, room_id, "leave")
        # Off everyone's room list; the history stays in the database for audit.
        for member in [*removed, user_id]:
            if self._api.is_mine(member):
                try:
                    await forget_room(self._api, member, room_id)
                except SynapseError:
                    logger.warning("could not forget %s for %s", room_id, member)
        return {"room_id": room_id, "dissolved": True, "removed": removed}
