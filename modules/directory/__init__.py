# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.directory: the organisation directory (通讯录).

Departments (a tree of any depth), members (each a Matrix account @userid:server),
tags, favourite contacts, visibility rules, pinyin search, CSV/XLSX import and XLSX
export, and background provisioning of accounts with initial passwords sent by e-mail.

    modules:
      - module: modules.directory.DirectoryModule
        config:
          secret_path: /path/to/data/keys/directory_secret

Config keys: modules/directory/config.py (and mailer.py for `mail`). HTTP:
resources/client.py (officers) and resources/admin.py (admins). docs/directory.md.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.backlog import count_backlog
from modules.common.http import register_resource
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.patches import (
    add_profile_query_check,
    serve_user_directory_search,
)
from modules.directory import public
from modules.directory.admin import DirectoryAdmin
from modules.directory.auth import InitialPasswordAuth
from modules.directory.config import DirectoryConfig
from modules.directory.provisioning import Provisioner
from modules.directory.reader import DirectoryReader
from modules.directory.resources.admin import ADMIN_PREFIX, DirectoryAdminResource
from modules.directory.resources.client import CLIENT_PREFIX, DirectoryClientResource
from modules.directory.searching import DirectorySearch
from modules.directory.storage import provisioning as provisioning_store
from modules.directory.user_directory import UserDirectoryFilter

MAIL_POLL_SECONDS = 5.0


class DirectoryModule:
    def __init__(self, config: DirectoryConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self.runtime = ModuleRuntime(api, "directory", __name__)
        self.reader = DirectoryReader(api.server_name, config.visible_fields)
        self.jobs = self.runtime.place_jobs(config.jobs_instance)
        self.provisioner = Provisioner(api, config, self.jobs)
        self.admin = DirectoryAdmin(api, self.reader, self.provisioner)
        self.search = DirectorySearch(api, self.runtime, self.reader)
        # Other modules (open API, groups, accounts, watermark) use the directory
        # through this service and the reads of public.py.
        registry.publish(api, public.SERVICE, self)
        self.initial_passwords = InitialPasswordAuth(
            api, self.provisioner.password_key, self.provisioner.create_on_login
        )
        api.register_password_auth_provider_callbacks(
            auth_checkers={
                ("m.login.password", ("password",)): (
                    self.initial_passwords.check_password
                )
            }
        )
        search_filter = UserDirectoryFilter(api)
        # A directory change (restricted department, a member moved) reaches Synapse's
        # user search at once on this process; other workers within VIEWER_TTL_S.
        self.admin.on_change.append(search_filter.forget_viewers)
        api.register_spam_checker_callbacks(
            check_username_for_spam=search_filter.check_username_for_spam
        )
        add_profile_query_check(api, search_filter.may_read_profile)
        if config.serve_user_directory_search:
            serve_user_directory_search(search_filter)
        register_resource(
            api,
            CLIENT_PREFIX,
            DirectoryClientResource(api, config, self.runtime, self.reader),
        )
        register_resource(
            api,
            ADMIN_PREFIX,
            DirectoryAdminResource(api, config, self.runtime, self.reader, self.admin),
        )
        # Provisioning and mail run on the one process `jobs_instance` names.
        self.jobs.every(
            self._provision_tick,
            config.provisioning_interval_seconds * 1000,
            "jwwx_directory_provision",
        )
        count_backlog(
            api,
            self.jobs,
            "provisioning",
            provisioning_store.pending_account_count_txn,
        )
        if config.mail is not None:
            self.jobs.every(
                self._mail_tick, MAIL_POLL_SECONDS * 1000, "jwwx_directory_mail"
            )
            count_backlog(
                api, self.jobs, "mail", provisioning_store.queued_mail_count_txn
            )

    @property
    def password_key(self) -> bytes:
        return self.provisioner.password_key

    async def _provision_tick(self) -> None:
        if self.runtime.is_ready:
            await self.provisioner.tick()

    async def _mail_tick(self) -> None:
        if self.runtime.is_ready:
            await self.provisioner.send_due_mail()

    @staticmethod
    def parse_config(config: Any) -> DirectoryConfig:
        return DirectoryConfig.parse(config)
