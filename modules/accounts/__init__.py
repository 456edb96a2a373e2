# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.accounts: first-login password change, password policy, login log, lockout,
per-platform device limits, admin kick-offline, phone-number login (docs/accounts.md).

    modules:
      - module: modules.accounts.AccountsModule
        config: {}          # every key has a default: modules/accounts/config.py

Synapse extension points: a request check and login hooks installed through
modules.common.synapse (see gate.py and login.py for why), the module's own
HTTP resources (resources.py), and a looping call that prunes the login log.
"""

import datetime
from typing import Any

from synapse.module_api import ModuleApi

from modules.accounts import public, storage
from modules.accounts.activity import FLUSH_SECONDS, ActivityRecorder
from modules.accounts.config import AccountsConfig
from modules.accounts.gate import FirstLoginGate
from modules.accounts.login import LoginGuard
from modules.accounts.mfa import LOGIN_TYPE as MFA_LOGIN_TYPE
from modules.accounts.mfa import Mfa
from modules.accounts.policy import describe
from modules.accounts.resources import (
    ADMIN_PREFIX,
    CLIENT_PREFIX,
    AccountsAdminResource,
    AccountsClientResource,
)
from modules.accounts.security_policy import SecurityPolicies
from modules.common import registry
from modules.common.http import register_resource
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.patches import add_login_hooks, add_request_check

PRUNE_INTERVAL_MS = 3600 * 1000
DAY_MS = 24 * 3600 * 1000


class AccountsModule:
    def __init__(self, config: AccountsConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self.runtime = ModuleRuntime(api, "accounts", __name__)
        self.policies = SecurityPolicies(api, self.runtime, config)
        self.mfa = Mfa(api, self.runtime, config.mfa, self.policies)
        self.activity = ActivityRecorder(api, self.runtime)
        self.gate = FirstLoginGate(
            api, self.runtime, config.password_policy, self.mfa, self.activity
        )
        self.guard = LoginGuard(
            api, self.runtime, config, self.mfa, self.policies, self.gate
        )
        if self.mfa.available:
            # Listed in GET /login flows, so clients can discover it.
            api.register_password_auth_provider_callbacks(
                auth_checkers={
                    (MFA_LOGIN_TYPE, ("password", "code")): self.mfa.check_login
                }
            )
        registry.publish(api, public.SERVICE, self.mfa)
        add_request_check(api, self.gate.check)
        add_login_hooks(api, self.guard)
        register_resource(
            api,
            CLIENT_PREFIX,
            AccountsClientResource(
                api, self.gate, describe(config.password_policy), self.mfa
            ),
        )
        register_resource(
            api,
            ADMIN_PREFIX,
            AccountsAdminResource(
                api,
                self.runtime,
                self.gate,
                self.guard,
                config.sms,
                self.mfa,
                self.policies,
                self.activity,
            ),
        )
        api.looping_background_call(
            self.activity.flush,
            FLUSH_SECONDS * 1000,
            desc="jwwx_accounts_activity",
            run_on_all_instances=True,
        )
        self.jobs = self.runtime.place_jobs(config.jobs_instance)
        self.jobs.every(self._prune, PRUNE_INTERVAL_MS, "jwwx_accounts_prune")

    async def _prune(self) -> None:
        if not self.runtime.is_ready:
            return
        cutoff = self._api.get_current_time_msec() - (
            self._config.login_log_retention_days * DAY_MS
        )
        await self._api.run_db_interaction(
            "jwwx_acc_prune", storage.prune_log_txn, cutoff
        )
        oldest_day = datetime.date.fromtimestamp(cutoff / 1000).isoformat()
        await self._api.run_db_interaction(
            "jwwx_acc_prune_activity", storage.prune_activity_txn, oldest_day
        )

    @staticmethod
    def parse_config(config: Any) -> AccountsConfig:
        return AccountsConfig.parse(config)
