# SPDX-License-Identifier: AGPL-3.0-or-later
"""Small builders for directory tests: an admin client and a department tree."""

from typing import Any

ADMIN = "/_jwwx/admin/v1/directory"
CLIENT = "/_jwwx/client/v1/directory"


async def department(admin: Any, name: str, parent_id: int | None, **extra: Any) -> int:
    result = await admin.ok(
        "POST", f"{ADMIN}/departments", {"name": name, "parent_id": parent_id, **extra}
    )
    return int(result["id"])


async def member(
    admin: Any, userid: str, name: str, departments: list[int], **extra: Any
) -> dict[str, Any]:
    body = {"userid": userid, "name": name, "department": departments, **extra}
    return dict(await admin.ok("POST", f"{ADMIN}/members", body))
