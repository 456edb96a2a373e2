# SPDX-License-Identifier: AGPL-3.0-or-later
"""An admin group's body as given over HTTP, parsed and checked field by field."""

from dataclasses import dataclass
from typing import Any

from admin_api import errors
from admin_api.changes import MAX_LIST, USER_ID, strings
from admin_api.errors import invalid
from admin_api.model import HIDEABLE_FIELDS, RIGHTS
from modules.common.errors import error

MAX_NAME = 64


@dataclass(frozen=True)
class GroupFields:
    """A group body as given (None: not given)."""

    name: str | None = None
    parent_id: int | None = None
    parent_given: bool = False
    members: frozenset[str] | None = None
    scope: frozenset[int] | None = None
    rights: frozenset[str] | None = None
    apps: frozenset[str] | None = None
    hidden_fields: frozenset[str] | None = None


def _department_ids(body: dict[str, Any], key: str) -> frozenset[int] | None:
    value = body.get(key)
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) > MAX_LIST
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise invalid(f"{key} 必须是部门ID（整数）数组")
    return frozenset(value)


def parse_group(body: dict[str, Any], creating: bool) -> GroupFields:
    known = {"name", "parent_id", "members", "scope", "rights", "apps", "hidden_fields"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise invalid(f"未知字段：{', '.join(unknown)}")
    name = body.get("name")
    if name is not None or creating:
        if (
            not isinstance(name, str)
            or not name.strip()
            or len(name.strip()) > MAX_NAME
        ):
            raise invalid(f"name 不能为空，且不超过 {MAX_NAME} 个字符")
        name = name.strip()
    parent = body.get("parent_id")
    if parent is not None and (not isinstance(parent, int) or isinstance(parent, bool)):
        raise invalid("parent_id 必须是管理组ID（整数）或 null")
    fields = GroupFields(
        name=name,
        parent_id=parent,
        parent_given="parent_id" in body,
        members=strings(body, "members"),
        scope=_department_ids(body, "scope"),
        rights=strings(body, "rights"),
        apps=strings(body, "apps"),
        hidden_fields=strings(body, "hidden_fields"),
    )
    bad_rights = sorted((fields.rights or frozenset()) - set(RIGHTS))
    if bad_rights:
        raise error(
            400,
            errors.RIGHT_UNKNOWN,
            f"未知权限：{', '.join(bad_rights)}",
            unknown=bad_rights,
            known=list(RIGHTS),
        )
    bad_fields = sorted((fields.hidden_fields or frozenset()) - set(HIDEABLE_FIELDS))
    if bad_fields:
        raise error(
            400,
            errors.RIGHT_UNKNOWN,
            f"不能隐藏的字段：{', '.join(bad_fields)}",
            unknown=bad_fields,
            known=list(HIDEABLE_FIELDS),
        )
    bad_users = sorted(u for u in fields.members or () if not USER_ID.match(u))
    if bad_users:
        raise invalid(
            f"members 应为 Matrix 用户ID（@账号:域名）：{', '.join(bad_users)}"
        )
    return fields
