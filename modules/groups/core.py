# SPDX-License-Identifier: AGPL-3.0-or-later
"""The core of group operations (service.py puts them together): the room's current
state as the caller sees it, the errors every operation answers, and sending events."""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common.errors import GROUP_FORBIDDEN, GROUP_NOT_FOUND, error
from modules.common.synapse.errors import Codes, SynapseError
from modules.groups.config import GroupsConfig
from modules.groups.settings import SettingsCache
from modules.groups.state import ANNOUNCEMENT_TYPE, NOTICE_FIELD, STATE_FILTER, RoomView


def forbidden(message: str) -> SynapseError:
    return error(403, GROUP_FORBIDDEN, message)


def not_found() -> SynapseError:
    return error(404, GROUP_NOT_FOUND, "群聊不存在或你不是群成员")


def invalid(message: str) -> SynapseError:
    return error(400, Codes.INVALID_PARAM, message)


class GroupCore:
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

    def client_settings(self) -> dict[str, Any]:
        """What officers' clients obey (GET /_jwwx/client/v1/groups/settings): the
        recall window, so that 撤回 and 编辑 are offered only while the server allows."""
        return {"recall_window_seconds": self._settings.current.recall_window_seconds}

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
