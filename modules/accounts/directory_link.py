# SPDX-License-Identifier: AGPL-3.0-or-later
"""What modules.accounts reads from the directory (the lead's module), in one place.

The directory is optional: without it there are no initial passwords and no mobiles.
"""

import re
from dataclasses import dataclass

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.storage import Txn
from modules.common.synapse.tables import has_own_password_txn
from modules.directory import public as directory

_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class InitialState:
    """An account whose initial password is still its only password."""

    mac: str
    mobile: str | None


def directory_key(api: ModuleApi) -> bytes | None:
    """The directory's initial-password key, or None without the directory module."""
    try:
        return bytes(registry.lookup(api, directory.SERVICE).password_key)
    except registry.ServiceMissingError:
        return None


def initial_logins(api: ModuleApi) -> directory.InitialPasswordLogins | None:
    """The directory's initial-password check of /login, or None without the directory."""
    try:
        return registry.lookup(api, directory.SERVICE).initial_passwords
    except registry.ServiceMissingError:
        return None


def must_change_txn(txn: Txn, user_id: str) -> bool:
    """True while the account still logs in with an initial password only."""
    mac = directory.get_initial_password_txn(txn, user_id)
    return mac is not None and not has_own_password_txn(txn, user_id)


def initial_mac_txn(txn: Txn, user_id: str) -> str | None:
    return directory.get_initial_password_txn(txn, user_id)


def mobile_of_txn(txn: Txn, userid: str) -> str | None:
    member = directory.get_member_txn(txn, userid)
    return member.mobile if member is not None and member.mobile else None


def is_initial_password(
    key: bytes | None, user_id: str, password: str, mac: str | None
) -> bool:
    return (
        key is not None
        and mac is not None
        and directory.password_matches(key, user_id, password, mac)
    )


def phone_candidates(country: str | None, phone: str) -> list[str]:
    """The spellings a mobile may have in the directory (it stores what admins typed)."""
    digits = "".join(_DIGITS.findall(phone))
    if not digits:
        return []
    national = digits
    if (
        (country or "CN").upper() == "CN"
        and len(digits) == 13
        and digits.startswith("86")
    ):
        national = digits[2:]
    return list(
        dict.fromkeys(
            [
                national,
                "+86" + national,
                "86" + national,
                "+86 " + national,
                phone.strip(),
            ]
        )
    )


def userid_by_phone_txn(txn: Txn, candidates: list[str]) -> str | None:
    for candidate in candidates:
        userid = directory.member_by_mobile_txn(txn, candidate)
        if userid is not None:
            return userid
    return None


def in_departments_txn(txn: Txn, userid: str, department_ids: list[int]) -> bool:
    """True when the member belongs to one of the departments or to a sub-department."""
    member = directory.get_member_txn(txn, userid)
    if member is None or not department_ids:
        return False
    own = directory.get_departments_txn(
        txn, [m.department_id for m in member.memberships]
    )
    wanted = {f"/{d}/" for d in department_ids}
    return any(
        f"/{part}/" in wanted
        for department in own.values()
        for part in department.path.strip("/").split("/")
    )
