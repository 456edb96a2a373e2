# SPDX-License-Identifier: AGPL-3.0-or-later
"""JSON shapes of departments and members as the client and admin APIs return them."""

from typing import Any

from modules.directory.storage.departments import Department
from modules.directory.storage.members import Member


def department_json(department: Department, admin: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": department.id,
        "name": department.name,
        "parent_id": department.parent_id,
        "order": department.sort_order,
        "member_count": department.direct_count,
        "total_member_count": department.subtree_count,
    }
    if admin:
        body.update(hidden=department.hidden, restricted=department.restricted)
    return body


def member_json(
    member: Member,
    departments: dict[int, Department],
    visible_fields: tuple[str, ...] | None,
    server_name: str,
) -> dict[str, Any]:
    """visible_fields None: everything (admins); else only those fields are included."""
    body: dict[str, Any] = {
        "userid": member.userid,
        "user_id": f"@{member.userid}:{server_name}",
        "name": member.name,
    }
    fields = {
        "gender": member.gender,
        "mobile": member.mobile or "",
        "telephone": member.telephone or "",
        "email": member.email or "",
        "position": member.position or "",
        "avatar": member.avatar or "",
    }
    for name, value in fields.items():
        if visible_fields is None or name in visible_fields:
            body[name] = value
    if visible_fields is None or "departments" in visible_fields:
        body["departments"] = [
            {
                "id": m.department_id,
                "name": departments[m.department_id].name,
                "order": m.sort_order,
                "is_leader": m.is_leader,
            }
            for m in member.memberships
            # Callers pass only the departments the reader may see.
            if m.department_id in departments
        ]
    if visible_fields is None:
        body.update(
            order=member.sort_order,
            hidden=member.hidden,
            enabled=member.enabled,
            account_state=member.account_state,
        )
    return body
