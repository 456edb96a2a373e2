# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.groups: WeChat-style group management on Matrix rooms, enforced server-side.

Size cap with a whitelist, the owner-only switch, one owner (transfer, cannot leave),
mute all / mute members, announcements (cn.jwwx.announcement), dissolve, read-receipt
details, QR join links, mark-all-read.

    modules:
      - module: modules.groups.GroupsModule
        config:
          max_members: 500

Config keys: modules/groups/config.py. HTTP: modules/groups/resources.py. docs/groups.md.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common.http import register_resource
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.state_rules import add_state_event_rule
from modules.groups.config import GroupsConfig
from modules.groups.override import OwnerOverride
from modules.groups.resources import (
    ADMIN_PREFIX,
    CLIENT_PREFIX,
    MESSAGES_PREFIX,
    GroupsAdminResource,
    GroupsResource,
    MessagesResource,
)
from modules.groups.retention import RetentionApplier
from modules.groups.rules import GroupRules
from modules.groups.service import GroupService
from modules.groups.settings import SettingsCache


class GroupsModule:
    def __init__(self, config: GroupsConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self.settings = SettingsCache(api, config)
        self.runtime = ModuleRuntime(
            api, "groups", __name__, on_ready=self.settings.load
        )
        self.rules = GroupRules(api, config, self.settings)
        self.service = GroupService(api, config, self.settings)
        self.override = OwnerOverride(api, self.service)
        self.retention = RetentionApplier(api, config, self.settings)
        api.register_third_party_rules_callbacks(
            on_create_room=self.rules.on_create_room
        )
        # No check_event_allowed: it would load the whole room state for every message.
        api.register_spam_checker_callbacks(
            check_event_for_spam=self.rules.check_event_for_spam
        )
        add_state_event_rule(api, self.rules.check_state_event)
        register_resource(
            api, CLIENT_PREFIX, GroupsResource(api, self.runtime, self.service)
        )
        register_resource(
            api, MESSAGES_PREFIX, MessagesResource(api, self.runtime, self.service)
        )
        register_resource(
            api,
            ADMIN_PREFIX,
            GroupsAdminResource(api, self.runtime, self.settings, self.override),
        )
        api.looping_background_call(
            self._reload,
            config.settings_reload_seconds * 1000,
            desc="jwwx_groups_reload_settings",
            run_on_all_instances=True,
        )

        # The retention roll-out and media sweep run on the process `jobs_instance`
        # names.
        self.jobs = self.runtime.place_jobs(config.jobs_instance)
        self.jobs.every(
            self._retention_tick,
            config.settings_reload_seconds * 1000,
            "jwwx_groups_retention",
        )

    async def _reload(self) -> None:
        if self.runtime.is_ready:
            await self.settings.load()

    async def _retention_tick(self) -> None:
        # The settings: as fresh as _reload (same interval) keeps them.
        if self.runtime.is_ready:
            await self.retention.tick()

    @staticmethod
    def parse_config(config: Any) -> GroupsConfig:
        return GroupsConfig.parse(config)
