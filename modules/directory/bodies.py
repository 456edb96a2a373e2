# SPDX-License-Identifier: AGPL-3.0-or-later
"""Validate admin JSON bodies. Member bodies go through the same rules as an import row,
so the API and the Excel import can never disagree about what a valid member is."""

import re
from typing import Any

from modules.directory import errors
from modules.directory.errors import DirectoryError
from modules.directory.importer import parse_members
from modules.directory.records import ImportRejectedError, MemberRecord
from modules.directory.storage.members import Member

MAX_NAME = 64


def _invalid(message: str) -> DirectoryError:
    return DirectoryError(errors.INVALID_FIELD, message)


def _bool(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise _invalid(f"{key} 必须是 true 或 false")
    return value


def _int(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key, default)
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not -(2**31) <= value < 2**31
    ):
        raise _invalid(f"{key} 必须是整数")
    return value


def department_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _invalid("部门名称不能为空")
    name = value.strip()
    if len(name) > MAX_NAME or "/" in name or ";" in name or "；" in name:
        raise _invalid(f"部门名称不能超过 {MAX_NAME} 个字符，且不能包含“/”或“;”")
    return name


def parent_id(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _invalid("parent_id 必须是正整数或 null")
    return value


def department_create(body: dict[str, Any]) -> dict[str, Any]:
    department_id = body.get("id")
    if department_id is not None and (
        isinstance(department_id, bool)
        or not isinstance(department_id, int)
        or department_id < 1
    ):
        raise _invalid("id 必须是正整数")
    if "parent_id" not in body:
        raise DirectoryError(errors.INVALID_FIELD, "缺少 parent_id（根部门填 null）")
    return {
        "department_id": department_id,
        "name": department_name(body.get("name")),
        "parent_id": parent_id(body.get("parent_id")),
        "sort_order": _int(body, "order", 0),
        "hidden": _bool(body, "hidden", False),
        "restricted": _bool(body, "restricted", False),
    }


def department_changes(body: dict[str, Any]) -> dict[str, Any]:
    known = {"name", "parent_id", "order", "hidden", "restricted"}
    unknown = set(body) - known
    if unknown:
        raise _invalid(f"不认识的字段：{', '.join(sorted(unknown))}")
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = department_name(body["name"])
    if "parent_id" in body:
        changes["parent_id"] = parent_id(body["parent_id"])
    if "order" in body:
        changes["sort_order"] = _int(body, "order", 0)
    for key in ("hidden", "restricted"):
        if key in body:
            changes[key] = _bool(body, key, False)
    return changes


_GENDERS = {0: "", 1: "男", 2: "女"}
_MEMBER_KEYS = {
    "userid",
    "name",
    "gender",
    "mobile",
    "telephone",
    "email",
    "position",
    "department",
    "order",
    "is_leader_in_dept",
    "main_order",
    "hidden",
    "enable",
    "avatar",
}

_MXC = re.compile(r"mxc://[A-Za-z0-9.:-]+/[A-Za-z0-9_-]+")


def avatar(body: dict[str, Any], base: Member | None) -> str | None:
    """The member's avatar: an mxc:// URI (uploaded through the media API) or empty."""
    if "avatar" not in body:
        return base.avatar if base is not None else None
    value = body["avatar"]
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _MXC.fullmatch(value):
        raise _invalid("avatar 必须是 mxc:// 开头的媒体地址")
    return value


def _text(value: Any, key: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _invalid(f"{key} 的类型不对")
    return str(value)


def _list_text(value: Any, key: str, item: type) -> str:
    def bad(v: Any) -> bool:
        return not isinstance(v, item) or (item is not bool and isinstance(v, bool))

    if not isinstance(value, list) or any(bad(v) for v in value):
        raise _invalid(f"{key} 必须是数组")
    if item is bool:
        return ";".join("是" if v else "否" for v in value)
    return ";".join(str(v) for v in value)


def member_record(body: dict[str, Any], base: Member | None = None) -> MemberRecord:
    """A member from a WeCom-shaped body (department: [ids], order: [...],
    is_leader_in_dept: [0/1], enable: 0/1); `base` supplies fields a PUT leaves out."""
    unknown = set(body) - _MEMBER_KEYS
    if unknown:
        raise _invalid(f"不认识的字段：{', '.join(sorted(unknown))}")
    merged: dict[str, Any] = {}
    if base is not None:
        merged = {
            "userid": base.userid,
            "name": base.name,
            "gender": base.gender,
            "mobile": base.mobile,
            "telephone": base.telephone,
            "email": base.email,
            "position": base.position,
            "department": [m.department_id for m in base.memberships],
            "order": [m.sort_order for m in base.memberships],
            "is_leader_in_dept": [int(m.is_leader) for m in base.memberships],
            "main_order": base.sort_order,
            "hidden": base.hidden,
            "enable": int(base.enabled),
        }
        if "department" in body:
            merged.pop("order")
            merged.pop("is_leader_in_dept")
    merged.update(body)
    merged.pop("avatar", None)
    for key in ("hidden",):
        if key in merged and not isinstance(merged[key], bool):
            raise _invalid(f"{key} 必须是 true 或 false")
    if "enable" in merged and merged["enable"] not in (0, 1, True, False):
        raise _invalid("enable 只能是 0 或 1")
    gender = merged.get("gender", 0)
    if (
        isinstance(gender, bool)
        or not isinstance(gender, int)
        or gender not in _GENDERS
    ):
        raise _invalid("gender 只能是 0（未定义）、1（男）或 2（女）")
    leaders = merged.get("is_leader_in_dept")
    row = {
        "userid": _text(merged.get("userid"), "userid"),
        "name": _text(merged.get("name"), "name"),
        "gender": _GENDERS[gender],
        "mobile": _text(merged.get("mobile"), "mobile"),
        "telephone": _text(merged.get("telephone"), "telephone"),
        "email": _text(merged.get("email"), "email"),
        "position": _text(merged.get("position"), "position"),
        "departments": _list_text(merged.get("department", []), "department", int),
        "department_orders": _list_text(merged["order"], "order", int)
        if "order" in merged
        else "",
        "leaders": _list_text([bool(v) for v in leaders], "is_leader_in_dept", bool)
        if isinstance(leaders, list) and all(v in (0, 1, True, False) for v in leaders)
        else ("" if leaders is None else "?"),
        "sort_order": _text(merged.get("main_order", 0), "main_order"),
        "hidden": "是" if merged.get("hidden") else "否",
        "enabled": "否" if merged.get("enable", 1) in (0, False) else "是",
    }
    try:
        return parse_members([(0, row)])[0]
    except ImportRejectedError as e:
        raise _invalid("；".join(problem.message for problem in e.errors)) from e
