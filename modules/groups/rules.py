# SPDX-License-Identifier: AGPL-3.0-or-later
"""The group rules, enforced on every event whoever sends it (clients, server admins,
other modules, other servers):
- state events, membership included: the adapter's state event rule sees each one with
  the room state before it (`check_state_event`), local and remote;
- messages and other non-state events: the spam checker (`check_event_for_spam`) reads
  only the group's own state event (a cached lookup), so a message into a big group
  does not load its whole membership; a redaction also reads the event it redacts
  (the recall window, recall.py) — in every room, 1:1 chats included;
- `on_create_room` sees every /createRoom, server admins' included (the spam
  checker's invite/join callbacks skip server admins).
"""

from typing import Any, Literal

from synapse.module_api import ModuleApi

from modules.common.errors import (
    GROUP_DISSOLVED,
    GROUP_FULL,
    GROUP_OWNER_CANNOT_LEAVE,
    GROUP_OWNER_ONLY,
    GROUP_SINGLE_OWNER,
    GROUP_UPGRADE_REFUSED,
    RETENTION_FIXED,
    error,
)
from modules.common.synapse.accounts import is_user_deactivated
from modules.common.synapse.errors import Codes, SynapseError
from modules.common.synapse.patches import rooms_being_shut_down
from modules.groups.config import GroupsConfig
from modules.groups.recall import REDACTION, RecallWindow
from modules.groups.retention import RETENTION_TYPE
from modules.groups.settings import SettingsCache
from modules.groups.state import (
    ANNOUNCEMENT_TYPE,
    CREATE,
    GROUP_TYPE,
    MEMBER,
    POWER_LEVELS,
    RoomView,
    StateMap,
    levels_of,
)

OWNER_ONLY_STATE = ("m.room.name", "m.room.topic", "m.room.avatar", ANNOUNCEMENT_TYPE)
TOMBSTONE = "m.room.tombstone"
NOT_SPAM: Literal["NOT_SPAM"] = "NOT_SPAM"
SpamResult = Literal["NOT_SPAM"] | tuple[Codes, dict[str, Any]]


def dissolved() -> SynapseError:
    return error(403, GROUP_DISSOLVED, "该群聊已解散")


def group_full(limit: int) -> SynapseError:
    return error(
        403,
        GROUP_FULL,
        f"群成员人数已达上限（{limit}人），无法继续邀请或加入",
        **{"cn.jwwx.limit": limit},
    )


class GroupRules:
    def __init__(
        self, api: ModuleApi, config: GroupsConfig, settings: SettingsCache
    ) -> None:
        self._api = api
        self._config = config
        self._settings = settings
        self._recall = RecallWindow(api, settings)
        # Synapse's admin shutdown/delete makes the owner leave too (docs/groups.md).
        self._shutting_down = rooms_being_shut_down(api)

    async def on_create_room(
        self, requester: Any, room_config: dict[str, Any], is_admin: bool
    ) -> None:
        user_id = str(requester.user.to_string())
        room_config.setdefault("room_version", self._config.room_version)
        invites = room_config.get("invite") or []
        if isinstance(invites, list):
            settings = self._settings.current
            size = len({str(u) for u in invites} - {user_id}) + 1
            if size > settings.max_members and not settings.exempt(user_id):
                raise group_full(settings.max_members)
        initial = room_config.get("initial_state")
        initial = [
            entry
            for entry in (initial if isinstance(initial, list) else [])
            if not (isinstance(entry, dict) and entry.get("type") == RETENTION_TYPE)
        ]
        policy = self._settings.current.retention_policy()
        if policy:
            initial.append({"type": RETENTION_TYPE, "state_key": "", "content": policy})
        room_config["initial_state"] = initial
        direct = room_config.get("is_direct") is True
        if direct or room_config.get("preset") == "trusted_private_chat":
            return
        group_state = {"owner_only_manage": False}
        kept = []
        for entry in initial:
            if isinstance(entry, dict) and entry.get("type") == GROUP_TYPE:
                content = entry.get("content")
                if isinstance(content, dict):
                    group_state["owner_only_manage"] = (
                        content.get("owner_only_manage") is True
                    )
                continue
            kept.append(entry)
        kept.append({"type": GROUP_TYPE, "state_key": "", "content": group_state})
        room_config["initial_state"] = kept

    async def check_event_for_spam(self, event: Any) -> SpamResult:
        """Non-state events: nothing is sent into a dissolved group; an officer's
        own message is recalled only within the recall window (recall.py)."""
        if event.is_state():
            return NOT_SPAM  # the state event rule checks them, with the state
        if event.type == REDACTION:
            await self._recall.check(event)
        found = await self._api.get_room_state(event.room_id, [(GROUP_TYPE, "")])
        group = found.get((GROUP_TYPE, ""))
        if group is None or group.content.get("dissolved") is not True:
            return NOT_SPAM
        if self._api.is_mine(event.sender):
            raise dissolved()
        return Codes.FORBIDDEN, {"errcode": GROUP_DISSOLVED}  # remote: soft-failed

    async def check_state_event(self, event: Any, state: StateMap) -> bool:
        if event.type == CREATE:
            return True
        view = RoomView(state, self._config)
        if view.dissolved:
            if event.type == MEMBER and event.content.get("membership") == "leave":
                return True
            raise dissolved()
        if event.type == RETENTION_TYPE:
            if dict(event.content) != self._settings.current.retention_policy():
                raise error(
                    403, RETENTION_FIXED, "聊天记录保存期限由管理员统一设置，不能修改"
                )
            return True
        if event.type == TOMBSTONE and view.is_group:
            # Room upgrades replace a group by a new room that has none of its rules,
            # announcement, links or members; groups are never upgraded (docs/groups.md).
            raise error(
                403,
                GROUP_UPGRADE_REFUSED,
                "群聊不支持升级房间版本：升级会生成一个没有群规则、群公告和成员的新房间",
            )
        if event.type == MEMBER:
            await self._check_membership(event, view)
        elif view.is_group:
            self._check_group_state(event, view)
        return True

    async def _check_membership(self, event: Any, view: RoomView) -> None:
        membership = event.content.get("membership")
        target = event.state_key
        sender = event.sender
        before = view.membership(target)
        # The owner always has a seat: the admin override brings a departed owner's
        # account back for one step (override.py), past the cap and the switch.
        returning_owner = view.is_group and view.is_owner(target)
        if (
            membership in ("invite", "join")
            and before not in ("invite", "join")
            and not returning_owner
        ):
            settings = self._settings.current
            if view.size + 1 > settings.max_members and not settings.exempt(
                sender, view.owner
            ):
                raise group_full(settings.max_members)
        if not view.is_group:
            return
        if (
            membership == "invite"
            and before not in ("invite", "join")
            and view.owner_only
            and not view.is_owner(sender)
            and not returning_owner
        ):
            raise error(403, GROUP_OWNER_ONLY, "本群仅群主可以邀请成员")
        if (
            membership in ("leave", "ban")
            and sender != target
            and view.owner_only
            and not view.is_owner(sender)
        ):
            raise error(403, GROUP_OWNER_ONLY, "本群仅群主可以移除成员")
        if membership == "leave" and sender == target and view.is_owner(target):
            others = [u for u in view.members("join") if u != target]
            # Forced leaves pass: the server admin's room shutdown/delete (every local
            # member leaves as if asking), and a deactivated account being parted.
            if (
                others
                and not self._shutting_down(event.room_id)
                and not await is_user_deactivated(self._api, target)
            ):
                raise error(
                    403,
                    GROUP_OWNER_CANNOT_LEAVE,
                    "群主不能直接退出群聊，请先转让群主或解散群聊",
                )

    def _check_group_state(self, event: Any, view: RoomView) -> None:
        sender = event.sender
        if view.owner_only and event.type in OWNER_ONLY_STATE:
            if not view.is_owner(sender):
                raise error(403, GROUP_OWNER_ONLY, "本群仅群主可以修改群名称、群公告等")
        elif event.type == ANNOUNCEMENT_TYPE and not view.is_admin(sender):
            raise error(403, GROUP_OWNER_ONLY, "仅群主和管理员可以发布群公告")
        if event.type == GROUP_TYPE and not view.is_owner(sender):
            raise error(403, GROUP_OWNER_ONLY, "仅群主可以修改群设置")
        if event.type == POWER_LEVELS and not view.creator_power:
            self._check_single_owner(event, view)

    def _check_single_owner(self, event: Any, view: RoomView) -> None:
        level = self._config.owner_level
        before = [u for u, v in levels_of(view.power_levels).items() if v >= level]
        after = [u for u, v in levels_of(event.content).items() if v >= level]
        if len(after) > 1 or (before and not after):
            raise error(
                403,
                GROUP_SINGLE_OWNER,
                "群主有且只能有一位：请使用转让群主，或将管理员设为低于群主的级别",
            )
