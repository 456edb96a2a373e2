# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other modules may use of modules.public_accounts (its declared surface): the
accounts an officer's client lists (modules.search's unified search, kind `apps`) and
the conversation a workbench entry of an account opens (modules.workbench)."""

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

    async def conversation(self, account_id: int, userid: str) -> dict[str, Any] | None:
        """What a workbench entry of the account opens for this officer (None: no
        such account): {"pubaccount_id", "name", "avatar", "subscribed", "room_id"}
        (room_id: his joined room of the account, else null)."""
        ...


class PublicAccountsService(Protocol):
    """modules.public_accounts' service in the registry."""

    @property
    def runtime(self) -> ModuleRuntime: ...

    @property
    def accounts(self) -> AccountsForOfficers: ...


SERVICE: registry.Service[PublicAccountsService] = registry.Service("public_accounts")
