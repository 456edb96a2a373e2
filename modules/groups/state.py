# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reading a group's rules from its Matrix room state.

A group is a room with a `cn.jwwx.group` state event (state key ""), content
`{"owner_only_manage": bool, "dissolved": bool, "dissolved_by", "dissolved_ts"}`.
Owner and admins are power levels: the owner is the one user at `owner_level` (in room
versions from 12 on: the room's creators), admins are at `admin_level` or above.
"""

from collections.abc import Mapping
from typing import Any

from modules.common.synapse.rooms import room_version_has_creator_power
from modules.groups.config import GroupsConfig

GROUP_TYPE = "cn.jwwx.group"
ANNOUNCEMENT_TYPE = "cn.jwwx.announcement"
NOTICE_FIELD = "cn.jwwx.notice"
MEMBER = "m.room.member"
POWER_LEVELS = "m.room.power_levels"
CREATE = "m.room.create"
# What a view needs of the state (filter for api.get_room_state).
STATE_FILTER: list[tuple[str, str | None]] = [
    (CREATE, ""),
    (POWER_LEVELS, ""),
    (GROUP_TYPE, ""),
    (ANNOUNCEMENT_TYPE, ""),
    ("m.room.name", ""),
    (MEMBER, None),
]

StateMap = Mapping[tuple[str, str], Any]


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return default
    return default


def levels_of(content: Mapping[str, Any]) -> dict[str, int]:
    users = content.get("users")
    if not isinstance(users, Mapping):
        return {}
    return {str(u): _int(v, 0) for u, v in users.items()}


class RoomView:
    """A read-only view of one room's state (events keyed by (type, state_key))."""

    def __init__(self, state: StateMap, config: GroupsConfig) -> None:
        self.state = state
        self.config = config

    def content(self, event_type: str, state_key: str = "") -> dict[str, Any]:
        event = self.state.get((event_type, state_key))
        content = getattr(event, "content", None) if event is not None else None
        return dict(content) if isinstance(content, Mapping) else {}

    @property
    def exists(self) -> bool:
        return (CREATE, "") in self.state

    @property
    def room_version(self) -> str:
        return str(self.content(CREATE).get("room_version", "1"))

    @property
    def creator_power(self) -> bool:
        return room_version_has_creator_power(self.room_version)

    @property
    def creators(self) -> list[str]:
        create = self.state.get((CREATE, ""))
        if create is None:
            return []
        extra = self.content(CREATE).get("additional_creators")
        others = (
            [u for u in extra if isinstance(u, str)] if isinstance(extra, list) else []
        )
        return [create.sender, *others]

    @property
    def is_group(self) -> bool:
        return (GROUP_TYPE, "") in self.state

    @property
    def group(self) -> dict[str, Any]:
        return self.content(GROUP_TYPE)

    @property
    def dissolved(self) -> bool:
        return self.group.get("dissolved") is True

    @property
    def owner_only(self) -> bool:
        return self.group.get("owner_only_manage") is True

    @property
    def power_levels(self) -> dict[str, Any]:
        return self.content(POWER_LEVELS)

    def level(self, user_id: str) -> int:
        if self.creator_power and user_id in self.creators:
            return 2**53
        users = levels_of(self.power_levels)
        if user_id in users:
            return users[user_id]
        return _int(self.power_levels.get("users_default"), 0)

    def required_level(self, event_type: str, state: bool = True) -> int:
        events = self.power_levels.get("events")
        if isinstance(events, Mapping) and event_type in events:
            return _int(events[event_type], 0)
        key = "state_default" if state else "events_default"
        return _int(self.power_levels.get(key), 50 if state else 0)

    def action_level(self, action: str, default: int) -> int:
        """The level an action of the power levels needs ("invite", "kick", ...)."""
        return _int(self.power_levels.get(action), default)

    @property
    def owners(self) -> list[str]:
        if self.creator_power:
            return self.creators
        levels = levels_of(self.power_levels)
        return sorted(u for u, v in levels.items() if v >= self.config.owner_level)

    @property
    def owner(self) -> str | None:
        owners = self.owners
        return owners[0] if owners else None

    def is_owner(self, user_id: str) -> bool:
        return user_id in self.owners

    def is_admin(self, user_id: str) -> bool:
        """Owner or group admin."""
        return self.is_owner(user_id) or self.level(user_id) >= self.config.admin_level

    def can_manage(self, user_id: str) -> bool:
        """Rename, invite, remove, announce: the owner; admins too unless owner-only."""
        if self.is_owner(user_id):
            return True
        return not self.owner_only and self.is_admin(user_id)

    def membership(self, user_id: str) -> str | None:
        value = self.content(MEMBER, user_id).get("membership")
        return str(value) if isinstance(value, str) else None

    def members(self, *memberships: str) -> list[str]:
        return sorted(
            key
            for (event_type, key), event in self.state.items()
            if event_type == MEMBER
            and getattr(event, "content", {}).get("membership") in memberships
        )

    @property
    def size(self) -> int:
        """Members counted by the size cap: joined and invited."""
        return len(self.members("join", "invite"))

    @property
    def mute_all(self) -> bool:
        return (
            _int(self.power_levels.get("events_default"), 0) >= self.config.admin_level
        )

    @property
    def muted(self) -> list[str]:
        return sorted(
            u
            for u, v in levels_of(self.power_levels).items()
            if v <= self.config.muted_level
        )

    def display_name(self, user_id: str) -> str:
        name = self.content(MEMBER, user_id).get("displayname")
        if isinstance(name, str) and name.strip():
            return name
        return user_id.split(":", 1)[0].lstrip("@")

    def member_event(self, user_id: str) -> Any:
        return self.state.get((MEMBER, user_id))

    @property
    def name(self) -> str | None:
        name = self.content("m.room.name").get("name")
        return name if isinstance(name, str) else None
