# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other modules may use of modules.public_accounts (its declared surface): the
accounts an officer's client lists (modules.search's unified search, kind `apps`)."""

from collections.abc import Sequence
from typing import Any, Protocol

from modules.common import registry
from modules.common.runtime import ModuleRuntime


class AccountsForOfficers(Protocol):
    async def officer_list(self, userid: str) -> Sequence[dict[str, Any]]:
        """What GET /_jwwx/client/v1/pubaccounts lists for this officer (by userid,
        the localpart): [{"id", "name", "description", "avatar", "subscribed",
        "allow_unfollow"}]."""
        ...


class PublicAccountsService(Protocol):
    """modules.public_accounts' service in the registry."""

    @property
    def runtime(self) -> ModuleRuntime: ...

    @property
    def accounts(self) -> AccountsForOfficers: ...


SERVICE: registry.Service[PublicAccountsService] = registry.Service("public_accounts")
