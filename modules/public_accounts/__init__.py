# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.public_accounts: public accounts (公众号).

An account has owners and editors, subscribers (by department, tag, everyone, and
officers' own follow/unfollow) and one read-only conversation per subscriber (the open
API's broadcast rooms, its bot the only poster). Articles are sanitised HTML pages at
stable URLs served here; pushes put a card into the conversation (now or scheduled),
edits change page and card in place, a silent withdraw removes every copy. Statistics
per article and account, exported as XLSX. docs/pubaccounts.md.

    modules:
      - module: modules.public_accounts.PublicAccountsModule
        config: {}

Config keys: modules/public_accounts/config.py. HTTP: resources/admin.py
(/_jwwx/admin/v1/pubaccounts, admins, owners and editors), resources/client.py
(/_jwwx/client/v1/pubaccounts, officers and the article pages).
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.http import register_resource
from modules.common.runtime import ModuleRuntime
from modules.public_accounts import public
from modules.public_accounts.accounts import Accounts
from modules.public_accounts.config import PublicAccountsConfig
from modules.public_accounts.pages import PAGE_PATH, Pages
from modules.public_accounts.publishing import Publisher
from modules.public_accounts.resources.admin import (
    ADMIN_PREFIX,
    PublicAccountsAdminResource,
)
from modules.public_accounts.resources.client import (
    CLIENT_PREFIX,
    PublicAccountsClientResource,
)


class PublicAccountsModule:
    def __init__(self, config: PublicAccountsConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        # Once the schema is there, the page's signing key is read (pages is made
        # below; the migration runs later, on the reactor).
        self.runtime = ModuleRuntime(
            api, "public_accounts", __name__, on_ready=lambda: self.pages.warm()
        )
        self.jobs = self.runtime.place_jobs(config.jobs_instance)
        base = (config.page_base_url or api.public_baseurl).rstrip("/")
        self._page_base = f"{base}{PAGE_PATH}"
        self.accounts = Accounts(api, config)
        self.publisher = Publisher(api, config, self.accounts, self.url_of)
        self.accounts.on_room_created = self.publisher.replay
        self.pages = Pages(api, config, self.accounts, self.publisher)
        registry.publish(api, public.SERVICE, self)
        api.register_spam_checker_callbacks(
            user_may_join_room=self.accounts.user_may_join_room
        )
        register_resource(
            api,
            ADMIN_PREFIX,
            PublicAccountsAdminResource(
                api, self.runtime, self.accounts, self.publisher, self.url_of
            ),
        )
        register_resource(
            api,
            CLIENT_PREFIX,
            PublicAccountsClientResource(api, self.runtime, self.accounts, self.pages),
        )
        self.jobs.every(
            self._run_due,
            config.schedule_poll_seconds * 1000,
            "jwwx_pubacct_scheduler",
        )
        if config.sweep_interval_seconds:
            self.jobs.every(
                self._sweep,
                config.sweep_interval_seconds * 1000,
                "jwwx_pubacct_sweep",
            )

    def url_of(self, article_id: int) -> str:
        """The stable URL of an article's page."""
        return f"{self._page_base}/{article_id}"

    async def _run_due(self) -> None:
        if self.runtime.is_ready:
            await self.publisher.run_due()
            await self.publisher.retry_removals()

    async def _sweep(self) -> None:
        if self.runtime.is_ready:
            await self.accounts.sweep()

    @staticmethod
    def parse_config(config: Any) -> PublicAccountsConfig:
        return PublicAccountsConfig.parse(config)
