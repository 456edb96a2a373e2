# SPDX-License-Identifier: AGPL-3.0-or-later
"""Password-auth-provider callback: log in with an initial password (HMAC-SM3 checked).

Synapse asks this callback first for m.login.password; None hands over to Synapse's own
password check. An initial password stops working once the account has a password of
its own (the officer chose one through /account/password).
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common.storage import Txn
from modules.common.synapse.tables import has_own_password_txn
from modules.directory.passwords import password_matches
from modules.directory.storage import provisioning as store


class InitialPasswordAuth:
    def __init__(self, api: ModuleApi, password_key: bytes) -> None:
        self._api = api
        self._key = password_key

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

        def lookup_txn(txn: Txn) -> str | None:
            mac = store.get_initial_password_txn(txn, user_id)
            if mac is not None and has_own_password_txn(txn, user_id):
                store.delete_initial_password_txn(txn, user_id)
                return None
            return mac

        mac = await self._api.run_db_interaction(
            "jwwx_dir_initial_password", lookup_txn
        )
        if mac is not None and password_matches(self._key, user_id, password, mac):
            return user_id, None
        return None
