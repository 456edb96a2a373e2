# SPDX-License-Identifier: AGPL-3.0-or-later
"""Group operations behind the client API. Each checks the caller against the room's
current state, then acts through the ModuleApi as the caller (or, where Matrix power
levels require it, as the owner on an admin's behalf); the rules in rules.py check the
resulting events again, like any client's."""

import base64
import io
import logging
import secrets
from typing import Any
from urllib.parse import quote

import segno
from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.errors import (
    GROUP_DISSOLVED,
    GROUP_FORBIDDEN,
    GROUP_NOT_FOUND,
    JOIN_LINK_EXPIRED,
    JOIN_LINK_INVALID,
    JOIN_LINK_REVOKED,
    READ_STATUS_DISABLED,
    error,
)
from modules.common.storage import fold
from modules.common.synapse.errors import Codes, SynapseError
from modules.common.synapse.events import get_event_with_position
from modules.common.synapse.rooms import (
    forget_room,
    joined_rooms,
    latest_event_id,
    mark_room_read,
)
from modules.common.synapse.tables import public_read_positions_txn
from modules.groups import storage
from modules.groups.config import GroupsConfig
from modules.groups.settings import SettingsCache
from modules.groups.state import (
    ANNOUNCEMENT_TYPE,
    GROUP_TYPE,
    NOTICE_FIELD,
    POWER_LEVELS,
    STATE_FILTER,
    RoomView,
    levels_of,
)

logger = logging.getLogger(__name__)

JOIN_PATH = "/_jwwx/client/v1/groups/join/"
MAX_ANNOUNCEMENT = 4000
MAX_NAME = 100


def forbidden(message: str) -> SynapseError:
    return error(403, GROUP_FORBIDDEN, message)


def not_found() -> SynapseError:
    return error(404, GROUP_NOT_FOUND, "群聊不存在或你不是群成员")


def invalid(message: str) -> SynapseError:
    return error(400, Codes.INVALID_PARAM, message)


def qr_png(text: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()


class GroupService:
    def __init__(
        self, api: ModuleApi, config: GroupsConfig, settings: SettingsCache
    ) -> None:
        self._api = api
        self._config = config
        self._settings = settings

    # State

    async def view(self, room_id: str) -> RoomView:
        try:
            state = await self._api.get_room_state(room_id, STATE_FILTER)
        except SynapseError:
            state = {}
        return RoomView(state, self._config)

    async def member_view(self, user_id: str, room_id: str) -> RoomView:
        """The room, if the caller is joined to it; 404 otherwise (no leak)."""
        view = await self.view(room_id)
        if not view.exists or view.membership(user_id) != "join":
            raise not_found()
        return view

    async def group_view(self, user_id: str, room_id: str) -> RoomView:
        view = await self.member_view(user_id, room_id)
        if not view.is_group:
            raise error(404, GROUP_NOT_FOUND, "该会话不是群聊")
        return view

    def info(self, view: RoomView, room_id: str) -> dict[str, Any]:
        announcement = view.content(ANNOUNCEMENT_TYPE) or None
        admins = sorted(
            u for u in view.members("join") if view.is_admin(u) and not view.is_owner(u)
        )
        return {
            "room_id": room_id,
            "name": view.name,
            "owner": view.owner,
            "admins": admins,
            "member_count": len(view.members("join")),
            "invited_count": len(view.members("invite")),
            "max_members": self._settings.current.max_members,
            "owner_only_manage": view.owner_only,
            "mute_all": view.mute_all,
            "muted": view.muted,
            "announcement": announcement,
            "dissolved": view.dissolved,
        }

    async def send_event(
        self,
        room_id: str,
        sender: str,
        event_type: str,
        content: dict[str, Any],
        state_key: str | None = None,
    ) -> str:
        event: dict[str, Any] = {
            "type": event_type,
            "room_id": room_id,
            "sender": sender,
            "content": content,
        }
        if state_key is not None:
            event["state_key"] = state_key
        sent = await self._api.create_and_send_event_into_room(event)
        return str(sent.event_id)

    async def send_notice(self, room_id: str, sender: str, text: str, kind: str) -> str:
        return await self.send_event(
            room_id,
            sender,
            "m.room.message",
            {"msgtype": "m.notice", "body": text, NOTICE_FIELD: kind},
        )

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
        directory = registry.lookup(self._api, "directory")
        await directory.runtime.ready()
        from modules.directory.errors import DirectoryError
        from modules.directory.visibility import viewer_txn

        admin = await self._api.is_user_admin(user_id)
        localpart = user_id.split(":", 1)[0].lstrip("@")

        def read_txn(txn: Any) -> list[str]:
            viewer = viewer_txn(txn, user_id, localpart, admin)
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
        except DirectoryError as e:
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

    # Read-receipt details

    async def receipts(
        self, user_id: str, room_id: str, event_id: str
    ) -> dict[str, Any]:
        view = await self.member_view(user_id, room_id)
        if not self._settings.current.read_status_enabled:
            raise error(403, READ_STATUS_DISABLED, "管理员已关闭已读状态功能")
        found = await get_event_with_position(self._api, event_id)
        if found is None or found[0].room_id != room_id:
            raise error(404, Codes.NOT_FOUND, "消息不存在")
        event, position = found
        if event.sender != user_id and not view.is_admin(user_id):
            raise forbidden("只有发送者和群主、管理员可以查看已读详情")
        relates = event.content.get("m.relates_to")
        thread = None
        if isinstance(relates, dict) and relates.get("rel_type") == "m.thread":
            thread = relates.get("event_id")
        positions = await self._api.run_db_interaction(
            "jwwx_groups_read_positions", public_read_positions_txn, room_id, thread
        )
        read: list[dict[str, str]] = []
        unread: list[dict[str, str]] = []
        for member in view.members("join"):
            if member == event.sender:
                continue
            metadata = getattr(view.member_event(member), "internal_metadata", None)
            joined_at = getattr(metadata, "stream_ordering", None)
            if joined_at is not None and joined_at > position:
                continue  # joined after the message
            entry = {"user_id": member, "name": view.display_name(member)}
            (read if positions.get(member, -1) >= position else unread).append(entry)
        return {
            "event_id": event_id,
            "sender": event.sender,
            "read": read,
            "unread": unread,
            "read_count": len(read),
            "unread_count": len(unread),
        }

    # Mark all read

    async def mark_all_read(self, user_id: str) -> dict[str, Any]:
        marked = 0
        for room_id in await joined_rooms(self._api, user_id):
            event_id = await latest_event_id(self._api, room_id)
            if event_id is None:
                continue
            await mark_room_read(self._api, user_id, room_id, event_id)
            marked += 1
        return {"rooms": marked}

    # Saved groups (保存到通讯录)

    async def save(self, user_id: str, room_id: str) -> dict[str, Any]:
        await self.group_view(user_id, room_id)
        await self._api.run_db_interaction(
            "jwwx_groups_save",
            storage.save_group_txn,
            user_id,
            room_id,
            self._api.get_current_time_msec(),
        )
        return {}

    async def unsave(self, user_id: str, room_id: str) -> dict[str, Any]:
        if not await self._api.run_db_interaction(
            "jwwx_groups_unsave", storage.unsave_group_txn, user_id, room_id
        ):
            raise error(404, GROUP_NOT_FOUND, "通讯录中没有该群聊")
        return {}

    async def saved(self, user_id: str, query: str | None) -> dict[str, Any]:
        """The saved groups the officer is still in, newest first; `query` filters by
        group name (case-insensitive)."""
        room_ids = await self._api.run_db_interaction(
            "jwwx_groups_saved", storage.saved_groups_txn, user_id
        )
        term = fold(query.strip()) if query else ""
        groups = []
        for room_id in room_ids:
            view = await self.view(room_id)
            if not view.exists or view.membership(user_id) != "join":
                continue
            name = view.name or ""
            if term and term not in fold(name):
                continue
            groups.append(
                {
                    "room_id": room_id,
                    "name": view.name,
                    "member_count": len(view.members("join")),
                    "owner": view.owner,
                }
            )
        return {"groups": groups}

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
            directory = registry.lookup(self._api, "directory")
        except registry.ServiceMissingError:
            return
        await directory.runtime.ready()
        from modules.directory.storage.members import get_member_txn, is_visible_txn
        from modules.directory.visibility import viewer_txn

        admin = await self._api.is_user_admin(user_id)
        if admin:
            return

        def check_txn(txn: Any) -> bool:
            creator_local = creator.split(":", 1)[0].lstrip("@")
            if get_member_txn(txn, creator_local) is None:
                return True  # not a directory member (a bot, a service account)
            viewer = viewer_txn(
                txn, user_id, user_id.split(":", 1)[0].lstrip("@"), False
            )
            return bool(is_visible_txn(txn, creator_local, viewer.visibility))

        if not await self._api.run_db_interaction(
            "jwwx_groups_link_visibility", check_txn
        ):
            raise forbidden("你无权通过该二维码加入群聊")
