# SPDX-License-Identifier: AGPL-3.0-or-later
"""Password-auth-provider callback: log in with an initial password (HMAC-SM3 checked).

Synapse asks this callback first for m.login.password; None hands over to Synapse's own
password check. An initial password stops working once the account has a password of
its own (the officer chose one through /account/password). A member whose password was
issued but whose account provisioning has not created yet gets it created by this
login (Synapse checks a locked or deactivated account after this callback, as for
any login), so an import's officers can log in as soon as their passwords exist.

The lookup is one read. modules.accounts runs it inside its own read before the
password check (`lookup_part`, a SELECT it folds into its one statement, handed over
with `prefetched`), so a login costs one statement of ours before Synapse's check
instead of two or three (issue 17, item 4); without
a hand-over (no accounts module, another process, a stale one) the callback reads
itself.
"""

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.storage import Txn
from modules.common.synapse.tables import account_password_txn
from modules.directory.passwords import password_matches
from modules.directory.storage import provisioning as store

# A hand-over is used by the login that made it, within moments (the password check
# follows the read); older ones are ignored, and at most this many are kept.
HANDOVER_TTL_S = 10.0
HANDOVER_MAX = 1000


@dataclass(frozen=True)
class InitialLookup:
    """What a login needs to know of a user's initial password, read in one go."""

    mac: str | None  # the initial password's MAC, if one is issued
    exists: bool  # the account exists (a first login may have to create it)
    own_password: bool  # the account has a password of its own (ends the initial one)

    @property
    def must_change(self) -> bool:
        """The account still has only its initial password (the first-login gate)."""
        return self.mac is not None and not self.own_password


def lookup_txn(txn: Txn, user_id: str) -> InitialLookup:
    """Read-only: the initial password and the account's own password state."""
    mac = store.get_initial_password_txn(txn, user_id)
    if mac is None:
        return InitialLookup(None, True, False)
    exists, own_password = account_password_txn(txn, user_id)
    return InitialLookup(mac, exists, own_password)


def lookup_of(row: tuple[Any, Any, Any] | None) -> InitialLookup:
    """The lookup from the row of store.initial_password_part_sql (None: no row)."""
    if row is None or row[0] is None:
        return InitialLookup(None, True, False)
    return InitialLookup(str(row[0]), row[2] is not None, row[2] == 2)


def qualified(api: ModuleApi, username: str) -> str:
    """The user id a login names (a bare localpart is lowercased, as Synapse does)."""
    if username.startswith("@"):
        return username
    return api.get_qualified_user_id(username.lower())


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
        self._handed: OrderedDict[str, tuple[float, InitialLookup]] = OrderedDict()

    def lookup_part(self, user_id: str) -> tuple[str, tuple[Any, ...]]:
        return store.initial_password_part_sql(), (user_id,)

    def lookup_from(self, row: tuple[Any, Any, Any] | None) -> InitialLookup:
        return lookup_of(row)

    def prefetched(self, user_id: str, lookup: InitialLookup) -> None:
        """The lookup of a login about to be checked (read in the caller's read)."""
        self._handed[user_id] = (time.monotonic(), lookup)
        self._handed.move_to_end(user_id)
        while len(self._handed) > HANDOVER_MAX:
            self._handed.popitem(last=False)

    def _take(self, user_id: str) -> InitialLookup | None:
        handed = self._handed.pop(user_id, None)
        if handed is None or time.monotonic() - handed[0] > HANDOVER_TTL_S:
            return None
        return handed[1]

    async def check_password(
        self, username: str, login_type: str, login_dict: dict[str, Any]
    ) -> tuple[str, None] | None:
        user_id = qualified(self._api, username)
        known = self._take(user_id)
        password = login_dict.get("password")
        if not isinstance(password, str) or not password:
            return None
        if known is None or (known.mac is not None and known.own_password):
            # No hand-over, or a stale initial password to delete (a write).
            known = await self._api.run_db_interaction(
                "jwwx_dir_initial_password", self._read_or_end_txn, user_id
            )
        mac = None if known.own_password else known.mac
        if mac is None or not password_matches(self._key, user_id, password, mac):
            return None
        if not known.exists and not await self._create_on_login(
            user_id[1:].split(":", 1)[0]
        ):
            return None
        return user_id, None

    @staticmethod
    def _read_or_end_txn(txn: Txn, user_id: str) -> InitialLookup:
        found = lookup_txn(txn, user_id)
        if found.mac is not None and found.own_password:
            # The officer chose a password: the initial one stops working for good.
            store.delete_initial_password_txn(txn, user_id)
        return found
