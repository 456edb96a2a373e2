# SPDX-License-Identifier: AGPL-3.0-or-later
"""WeCom's 通讯录 APIs (user/*, department/*, tag/*) on top of modules.directory.

Reads run in one transaction each, limited to the app's visible range; writes need the
app's `directory_write` permission (like WeCom's 通讯录同步 secret) and go through the
directory's own admin operations, so the same rules apply as for the admin API and
imports. WeCom field names in and out (department: [ids], order, is_leader_in_dept,
main_department, status 1/2/4, enable 0/1, gender "0"/"1"/"2", parentid 0 for a root).
"""

from typing import Any

from modules.common.inputs import decimal
from modules.common.storage import Txn
from modules.directory import public as directory
from modules.directory.public import Department, Member
from modules.openapi import errors
from modules.openapi.errors import WeComError
from modules.openapi.scope import Scope

# WeCom member fields we accept; anything else is refused (40058) rather than dropped.
_USER_FIELDS = {
    "userid",
    "name",
    "department",
    "order",
    "is_leader_in_dept",
    "main_department",
    "gender",
    "mobile",
    "telephone",
    "email",
    "position",
    "enable",
    "to_invite",  # we always provision the account (and e-mail when configured)
}
# status: 1 activated, 2 disabled, 4 not activated yet (account being created).
STATUS_ACTIVE, STATUS_DISABLED, STATUS_INACTIVE = 1, 2, 4


def user_json(member: Member, brief: bool = False) -> dict[str, Any]:
    departments = [m.department_id for m in member.memberships]
    body: dict[str, Any] = {
        "userid": member.userid,
        "name": member.name,
        "department": departments,
    }
    if brief:
        return body
    if not member.enabled:
        status = STATUS_DISABLED
    elif member.account_state == "created":
        status = STATUS_ACTIVE
    else:
        status = STATUS_INACTIVE
    body.update(
        order=[m.sort_order for m in member.memberships],
        position=member.position or "",
        mobile=member.mobile or "",
        gender=str(member.gender),
        email=member.email or "",
        is_leader_in_dept=[int(m.is_leader) for m in member.memberships],
        direct_leader=[],
        avatar=member.avatar or "",
        thumb_avatar=member.avatar or "",
        telephone=member.telephone or "",
        alias="",
        status=status,
        enable=int(member.enabled),
        main_department=departments[0] if departments else 0,
        hide_mobile=0,
        extattr={"attrs": []},
    )
    return body


def department_json(department: Department) -> dict[str, Any]:
    return {
        "id": department.id,
        "name": department.name,
        "name_en": "",
        "department_leader": [],
        "parentid": department.parent_id or 0,
        "order": department.sort_order,
    }


def _int_arg(value: str | None, errcode: int, name: str) -> int:
    if value is None or value == "":
        raise WeComError(errcode, f"{name} missing")
    number = decimal(value, 12)
    if number is None:
        raise WeComError(errors.INVALID_PARAMETER, f"{name} must be an integer")
    return number


def department_id_arg(value: str | None) -> int:
    return _int_arg(value, errors.INVALID_PARAMETER, "department_id")


# Reads.


def get_user_txn(txn: Txn, scope: Scope, userid: str) -> dict[str, Any]:
    member = directory.get_member_txn(txn, userid)
    if member is None and scope.everything:
        raise WeComError(errors.USERID_NOT_FOUND, f"userid {userid} not found")
    if member is None or not scope.has_member(
        member, directory.get_departments_txn(txn, sorted(member.department_ids))
    ):
        # The same answer whether or not the userid exists: an app must not learn
        # who exists outside its range (issue 15).
        raise WeComError(errors.NO_PRIVILEGE, "userid out of range or not found")
    return user_json(member)


def _require_department_txn(txn: Txn, scope: Scope, department_id: int) -> Department:
    department = directory.get_department_txn(txn, department_id)
    if department is None:
        raise WeComError(
            errors.DEPARTMENT_NOT_FOUND, f"department {department_id} not found"
        )
    if not scope.has_department(department):
        raise WeComError(
            errors.NO_PRIVILEGE, f"department {department_id} is out of range"
        )
    return department


def list_users_txn(
    txn: Txn, scope: Scope, department_id: int, fetch_child: bool, brief: bool
) -> dict[str, Any]:
    department = _require_department_txn(txn, scope, department_id)
    userids = directory.department_userids_txn(txn, department, fetch_child)
    found = directory.get_members_txn(txn, userids)
    return {"userlist": [user_json(found[u], brief) for u in userids if u in found]}


def list_departments_txn(
    txn: Txn, scope: Scope, department_id: int | None
) -> dict[str, Any]:
    if department_id is not None:
        top = _require_department_txn(txn, scope, department_id)
        chosen = [
            d for d in directory.all_departments_txn(txn) if d.path.startswith(top.path)
        ]
    else:
        chosen = [
            d for d in directory.all_departments_txn(txn) if scope.has_department(d)
        ]
    return {"department": [department_json(d) for d in chosen]}


def list_tags_txn(txn: Txn) -> dict[str, Any]:
    return {
        "taglist": [
            {"tagid": tag_id, "tagname": name}
            for tag_id, name in directory.list_tags_txn(txn)
        ]
    }


def get_tag_txn(txn: Txn, scope: Scope, tag_id: int) -> dict[str, Any]:
    tag = directory.get_tag_txn(txn, tag_id)
    if tag is None:
        raise WeComError(errors.INVALID_TAGID, f"tagid {tag_id} not found")
    members = directory.get_members_txn(txn, list(tag.userids))
    ids = sorted(
        {d for m in members.values() for d in m.department_ids}
        | set(tag.department_ids)
    )
    departments = directory.get_departments_txn(txn, ids)
    return {
        "tagname": tag.name,
        "userlist": [
            {"userid": m.userid, "name": m.name}
            for u in tag.userids
            if (m := members.get(u)) is not None and scope.has_member(m, departments)
        ],
        "partylist": [
            d
            for d in tag.department_ids
            if d in departments and scope.has_department(departments[d])
        ],
    }


def existing_refs_txn(
    txn: Txn, userids: list[str], department_ids: list[int]
) -> tuple[set[str], set[int]]:
    found_users = set(directory.get_members_txn(txn, userids))
    found_departments = set(directory.get_departments_txn(txn, department_ids))
    return found_users, found_departments


# Writes: WeCom bodies → the directory admin API's bodies.


def member_body(body: dict[str, Any], creating: bool) -> dict[str, Any]:
    unknown = set(body) - _USER_FIELDS
    if unknown:
        raise WeComError(
            errors.INVALID_PARAMETER,
            f"unsupported field(s): {', '.join(sorted(unknown))}",
        )
    out = {k: v for k, v in body.items() if k not in ("to_invite", "main_department")}
    if creating and not body.get("userid"):
        raise WeComError(errors.MISSING_USERID)
    if "gender" in out:
        gender = out["gender"]
        if isinstance(gender, str) and gender in ("0", "1", "2"):
            out["gender"] = int(gender)
        elif gender not in (0, 1, 2) or isinstance(gender, bool):
            raise WeComError(errors.INVALID_PARAMETER, "gender must be 0, 1 or 2")
    if "enable" in out and out["enable"] not in (0, 1):
        raise WeComError(errors.INVALID_PARAMETER, "enable must be 0 or 1")
    main = body.get("main_department")
    if main is not None:
        departments = out.get("department")
        if not isinstance(departments, list) or main not in departments:
            raise WeComError(
                errors.INVALID_PARAMETER, "main_department must be one of department"
            )
        # The directory keeps a member's departments in order; the first is the main one.
        index = departments.index(main)
        for key in ("department", "order", "is_leader_in_dept"):
            values = out.get(key)
            if isinstance(values, list) and len(values) == len(departments):
                out[key] = [values[index], *values[:index], *values[index + 1 :]]
    return out


def department_body(body: dict[str, Any], creating: bool) -> dict[str, Any]:
    allowed = {"id", "name", "name_en", "parentid", "order"}
    unknown = set(body) - allowed
    if unknown:
        raise WeComError(
            errors.INVALID_PARAMETER,
            f"unsupported field(s): {', '.join(sorted(unknown))}",
        )
    if body.get("name_en"):
        raise WeComError(errors.INVALID_PARAMETER, "name_en is not supported")
    out: dict[str, Any] = {}
    if "name" in body or creating:
        out["name"] = body.get("name")
    if "parentid" in body or creating:
        parent = body.get("parentid")
        if parent is None:
            raise WeComError(errors.INVALID_PARAMETER, "parentid missing")
        out["parent_id"] = None if parent == 0 else parent
    if "order" in body:
        out["order"] = body["order"]
    if creating and body.get("id") is not None:
        out["id"] = body["id"]
    return out
