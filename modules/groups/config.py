# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of modules.groups (homeserver.yaml → modules → modules.groups.GroupsModule).

Keys:
  max_members (int ≥ 2, default 500): the group size cap until an admin sets one through
      PUT /_jwwx/admin/v1/groups/settings (the stored setting wins).
  whitelist (list of user ids, default []): users who may create or grow groups beyond
      the cap, until admins store their own list.
  read_status_enabled (bool, default true): whether read-receipt details are offered,
      until admins store the setting.
  admin_level (int, default 50): the power level of group admins (群管理员).
  owner_level (int, default 100): the power level of the owner (群主); exactly one user
      holds it in a group (room versions before 12).
  muted_level (int, default -1): the power level given to a muted member.
  room_version (string, default "11"): the room version of rooms whose /createRoom does
      not ask for one. Version 12 (Synapse's default) makes the creator a permanent owner
      that no power-levels change can demote, so owner transfer needs 11 or earlier.
  recall_window_seconds (int ≥ 0, default 86400): how long after sending an officer
      may recall (redact) his own message, until admins store the setting; 0: no limit. Group owners and admins recall members' messages at any time (the
      room's redact level decides); docs/groups.md, "Recall window".
  join_link_ttl_seconds (int, default 604800): default lifetime of a QR join link.
  join_link_max_ttl_seconds (int, default 2592000): the longest lifetime allowed.
  settings_reload_seconds (number ≥ 0.5, default 5): how soon other workers see edited
      settings (and how often the retention policy is rolled out to rooms).
  media_sweep_seconds (number ≥ 1, default 3600): how often local media older than the
      retention limit are deleted.
  jobs_instance (string, optional): the worker_name of the process that runs this
      module's background jobs, "main" for the main process (modules/common/jobs.py).
"""

import re
from dataclasses import dataclass
from typing import Any

from modules.common.config import ConfigReader
from modules.common.jobs import read_jobs_instance
from modules.common.synapse.errors import ConfigError

MODULE = "modules.groups"
_USER_ID = re.compile(r"^@[^:\s]+:\S+$")


@dataclass(frozen=True)
class GroupsConfig:
    max_members: int = 500
    whitelist: tuple[str, ...] = ()
    read_status_enabled: bool = True
    admin_level: int = 50
    owner_level: int = 100
    muted_level: int = -1
    room_version: str = "11"
    recall_window_seconds: int = 86400
    join_link_ttl_seconds: int = 7 * 86400
    join_link_max_ttl_seconds: int = 30 * 86400
    settings_reload_seconds: float = 5.0
    media_sweep_seconds: float = 3600.0
    jobs_instance: str | None = None  # modules/common/jobs.py

    @staticmethod
    def parse(raw: Any) -> "GroupsConfig":
        reader = ConfigReader(raw, MODULE)
        d = GroupsConfig()
        config = GroupsConfig(
            max_members=reader.integer("max_members", d.max_members, minimum=2),
            whitelist=tuple(reader.string_list("whitelist")),
            read_status_enabled=reader.boolean(
                "read_status_enabled", d.read_status_enabled
            ),
            admin_level=reader.integer("admin_level", d.admin_level, minimum=1),
            owner_level=reader.integer("owner_level", d.owner_level, minimum=2),
            muted_level=reader.integer("muted_level", d.muted_level),
            room_version=reader.string("room_version", d.room_version),
            recall_window_seconds=reader.integer(
                "recall_window_seconds", d.recall_window_seconds, minimum=0
            ),
            join_link_ttl_seconds=reader.integer(
                "join_link_ttl_seconds", d.join_link_ttl_seconds, minimum=60
            ),
            join_link_max_ttl_seconds=reader.integer(
                "join_link_max_ttl_seconds", d.join_link_max_ttl_seconds, minimum=60
            ),
            settings_reload_seconds=reader.number(
                "settings_reload_seconds", d.settings_reload_seconds, minimum=0.5
            ),
            media_sweep_seconds=reader.number(
                "media_sweep_seconds", d.media_sweep_seconds, minimum=1.0
            ),
            jobs_instance=read_jobs_instance(reader),
        )
        reader.finish()
        for index, user_id in enumerate(config.whitelist):
            if not _USER_ID.match(user_id):
                raise ConfigError(
                    f"{MODULE}.whitelist[{index}]: {user_id!r} is not a user id"
                )
        if not config.muted_level < 0 <= config.admin_level < config.owner_level:
            raise ConfigError(
                f"{MODULE}: need muted_level < 0 <= admin_level < owner_level"
            )
        if config.join_link_ttl_seconds > config.join_link_max_ttl_seconds:
            raise ConfigError(
                f"{MODULE}.join_link_ttl_seconds must not exceed join_link_max_ttl_seconds"
            )
        return config
