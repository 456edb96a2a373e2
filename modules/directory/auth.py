# SPDX-License-Identifier: AGPL-3.0-or-later
"""Password-auth-provider callback: log in with an initial password (HMAC-SM3 checked).

Synapse asks this callback first for m.login.password; None hands over to Synapse's own
password check. An initial password stops working once the account has a password of
its own (the officer chose one through /account/password). A member whose password was
issued but whose account provisioning has not created yet gets it created by this
login (Synapse checks a locked or deactivated account after this callback, as for
any login), so an import's officers can log in as soon as their passwords exist.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.storage import Txn
from modules.common.synapse.tables import account_password_txn
from modules.directory.passwords import password_matches
from modules.directory.storage import provisioning as store


class InitialPasswordAuth:
    def __init__(
        self,
        api: ModuleApi,
        password_key: bytes,
        create_on_login: Callable[[str], Awaitable[bool]],
    ) -> None:
        self._api = api
        self._key = password_key
        self._create_on_login = create_on_login

    async def check_password(
        self, username: str, login_type: str, login_dict: dict[str, Any]
    ) -> tuple[str, None] | None:
        password = login_dict.get("password")
        if not isinstance(password, str) or not password:
            return None
        user_id = (
            username
            if username.startswith("@")
            else self._api.get_qualified_user_id(username.lower())
        )

        def lookup_txn(txn: Txn) -> tuple[str | None, bool]:
            mac = store.get_initial_password_txn(txn, user_id)
            if mac is None:
                return None, True
            exists, own_password = account_password_txn(txn, user_id)
            if own_password:
                store.delete_initial_password_txn(txn, user_id)
                return None, True
            return mac, exists

        mac, exists = await self._api.run_db_interaction(
            "jwwx_dir_initial_password", lookup_txn
        )
        if mac is None or not password_matches(self._key, user_id, password, mac):
            return None
        if not exists and not await self._create_on_login(user_id[1:].split(":", 1)[0]):
            return None
        return user_id, None
