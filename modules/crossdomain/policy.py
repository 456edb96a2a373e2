# SPDX-License-Identifier: AGPL-3.0-or-later
"""A peer domain's policy (pure: no I/O): which of our units may talk with it, which
directory subtrees and fields it may search, which apps it may reach.

    {"units": [12, 40] or "*",
     "directory": {"departments": [12], "fields": ["position", "departments"]},
     "apps": [1000002]}

units: departments (with everything below them) whose members may invite the peer's
    users and be invited by them; "*" every member. Default: none.
directory.departments: subtrees the peer's officers find by name or pinyin (an officer's
    visibility inside them: hidden stays hidden). Default: none.
directory.fields: member fields published besides userid, user_id and name, among
    FIELDS (and only if officers here may see them too). Default: none.
apps: open-API apps (agentid) the peer's officers may reach. Default: none.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from modules.common.errors import error
from modules.common.synapse.errors import Codes

ALL = "*"
FIELDS = ("gender", "position", "telephone", "mobile", "email", "avatar", "departments")
ALWAYS = ("userid", "user_id", "name")
MAX_IDS = 1000


@dataclass(frozen=True)
class PeerPolicy:
    units: frozenset[int] | None = frozenset()  # None: every unit ("*")
    directory_departments: tuple[int, ...] = ()
    directory_fields: tuple[str, ...] = ()
    apps: tuple[int, ...] = ()

    def unit_permitted(self, department_ids: Iterable[int]) -> bool:
        """department_ids: a member's departments with all their ancestors."""
        if self.units is None:
            return True
        return not self.units.isdisjoint(department_ids)

    def published_member(self, member: dict[str, Any]) -> dict[str, Any]:
        keep = set(ALWAYS) | set(self.directory_fields)
        return {k: v for k, v in member.items() if k in keep}

    def to_json(self) -> dict[str, Any]:
        return {
            "units": ALL if self.units is None else sorted(self.units),
            "directory": {
                "departments": list(self.directory_departments),
                "fields": list(self.directory_fields),
            },
            "apps": list(self.apps),
        }


NOTHING = PeerPolicy()


def _invalid(message: str) -> Exception:
    return error(400, Codes.INVALID_PARAM, message)


def _ids(value: Any, name: str) -> tuple[int, ...]:
    if not isinstance(value, list) or len(value) > MAX_IDS:
        raise _invalid(f"{name} 必须是不超过 {MAX_IDS} 个整数的列表")
    for item in value:
        if not isinstance(item, int) or isinstance(item, bool) or item < 1:
            raise _invalid(f"{name} 中的 {item!r} 不是正整数")
    return tuple(dict.fromkeys(value))


def parse_policy(body: dict[str, Any]) -> PeerPolicy:
    """The admin API's body; 400 M_INVALID_PARAM naming the key on anything wrong."""
    unknown = set(body) - {"units", "directory", "apps"}
    if unknown:
        raise _invalid(f"未知字段: {', '.join(sorted(unknown))}")
    raw_units = body.get("units", [])
    units = None if raw_units == ALL else frozenset(_ids(raw_units, "units"))
    directory = body.get("directory", {})
    if not isinstance(directory, dict):
        raise _invalid("directory 必须是对象")
    unknown = set(directory) - {"departments", "fields"}
    if unknown:
        raise _invalid(f"directory 中的未知字段: {', '.join(sorted(unknown))}")
    departments = _ids(directory.get("departments", []), "directory.departments")
    fields = directory.get("fields", [])
    if not isinstance(fields, list) or any(f not in FIELDS for f in fields):
        raise _invalid(f"directory.fields 只能包含: {', '.join(FIELDS)}")
    apps = _ids(body.get("apps", []), "apps")
    return PeerPolicy(units, departments, tuple(dict.fromkeys(fields)), apps)


def policy_of(stored: dict[str, Any] | None) -> PeerPolicy:
    return NOTHING if stored is None else parse_policy(stored)
