# SPDX-License-Identifier: AGPL-3.0-or-later
"""Admin settings of groups: size cap, its whitelist, read-status switch, retention, the
officers' recall window.

Stored in jwwx_groups_settings (one JSON value per name); config values are the defaults.
Every process keeps a copy and re-reads it every `settings_reload_seconds`, so the rules
that run on every event never touch the database.
"""

import logging
import re
from dataclasses import dataclass, replace
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.errors import error
from modules.common.synapse.errors import Codes
from modules.groups.config import GroupsConfig
from modules.groups.storage import get_settings_txn, put_settings_txn

logger = logging.getLogger(__name__)

_USER_ID = re.compile(r"^@[^:\s]+:\S+$")
MAX_WHITELIST = 10000
MAX_RECALL_WINDOW = 365 * 86400


@dataclass(frozen=True)
class GroupSettings:
    max_members: int
    whitelist: frozenset[str]
    read_status_enabled: bool
    # Days chat records are kept; None: forever.
    retention_days: float | None = None
    # Seconds after sending in which an officer may recall his own message; 0: no limit.
    recall_window_seconds: int = 86400

    def retention_policy(self) -> dict[str, int]:
        """The m.room.retention content every room carries (empty: keep forever)."""
        if self.retention_days is None:
            return {}
        return {"max_lifetime": int(self.retention_days * 86_400_000)}

    def as_json(self) -> dict[str, Any]:
        return {
            "max_members": self.max_members,
            "whitelist": sorted(self.whitelist),
            "read_status_enabled": self.read_status_enabled,
            "retention_days": self.retention_days,
            "recall_window_seconds": self.recall_window_seconds,
        }

    def exempt(self, *user_ids: str | None) -> bool:
        return any(u is not None and u in self.whitelist for u in user_ids)


def defaults(config: GroupsConfig) -> GroupSettings:
    return GroupSettings(
        config.max_members,
        frozenset(config.whitelist),
        config.read_status_enabled,
        recall_window_seconds=config.recall_window_seconds,
    )


def apply_stored(base: GroupSettings, stored: dict[str, Any]) -> GroupSettings:
    settings = base
    if isinstance(stored.get("max_members"), int):
        settings = replace(settings, max_members=int(stored["max_members"]))
    if isinstance(stored.get("whitelist"), list):
        settings = replace(settings, whitelist=frozenset(stored["whitelist"]))
    if isinstance(stored.get("read_status_enabled"), bool):
        settings = replace(
            settings, read_status_enabled=bool(stored["read_status_enabled"])
        )
    if "retention_days" in stored:
        value = stored["retention_days"]
        days = float(value) if isinstance(value, int | float) else None
        settings = replace(settings, retention_days=days)
    window = stored.get("recall_window_seconds")
    if isinstance(window, int) and not isinstance(window, bool):
        settings = replace(settings, recall_window_seconds=window)
    return settings


def validate_update(body: dict[str, Any]) -> dict[str, Any]:
    """The settings in a PUT body, checked; 400 M_INVALID_PARAM names the bad field."""
    known = {
        "max_members",
        "whitelist",
        "read_status_enabled",
        "retention_days",
        "recall_window_seconds",
    }
    unknown = sorted(set(body) - known)
    if unknown:
        raise error(400, Codes.INVALID_PARAM, f"未知的设置项：{', '.join(unknown)}")
    if not body:
        raise error(400, Codes.MISSING_PARAM, "请至少提供一个设置项")
    values: dict[str, Any] = {}
    if "max_members" in body:
        value = body["max_members"]
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 2 <= value <= 100000
        ):
            raise error(
                400, Codes.INVALID_PARAM, "max_members 应为 2 到 100000 之间的整数"
            )
        values["max_members"] = value
    if "whitelist" in body:
        value = body["whitelist"]
        if not isinstance(value, list) or len(value) > MAX_WHITELIST:
            raise error(400, Codes.INVALID_PARAM, "whitelist 必须是用户ID数组")
        for index, item in enumerate(value):
            if not isinstance(item, str) or not _USER_ID.match(item):
                raise error(
                    400, Codes.INVALID_PARAM, f"whitelist[{index}] 不是合法的用户ID"
                )
        values["whitelist"] = sorted(set(value))
    if "read_status_enabled" in body:
        value = body["read_status_enabled"]
        if not isinstance(value, bool):
            raise error(
                400, Codes.INVALID_PARAM, "read_status_enabled 必须是 true 或 false"
            )
        values["read_status_enabled"] = value
    if "retention_days" in body:
        value = body["retention_days"]
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value <= 36500
        ):
            raise error(
                400,
                Codes.INVALID_PARAM,
                "retention_days 应为大于 0、不超过 36500 的天数，或 null（永久保存）",
            )
        values["retention_days"] = value
    if "recall_window_seconds" in body:
        value = body["recall_window_seconds"]
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 0 <= value <= MAX_RECALL_WINDOW
        ):
            raise error(
                400,
                Codes.INVALID_PARAM,
                "recall_window_seconds 应为 0 到 31536000 之间的整数秒（0 表示不限）",
            )
        values["recall_window_seconds"] = value
    return values


class SettingsCache:
    def __init__(self, api: ModuleApi, config: GroupsConfig) -> None:
        self._api = api
        self._base = defaults(config)
        self.current = self._base

    async def load(self) -> None:
        stored = await self._api.run_db_interaction(
            "jwwx_groups_get_settings", get_settings_txn
        )
        self.current = apply_stored(self._base, stored)

    async def update(self, values: dict[str, Any], by: str) -> GroupSettings:
        now = self._api.get_current_time_msec()
        await self._api.run_db_interaction(
            "jwwx_groups_put_settings", put_settings_txn, values, by, now
        )
        await self.load()
        return self.current
