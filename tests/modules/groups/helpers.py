# SPDX-License-Identifier: AGPL-3.0-or-later
"""Small helpers for group tests."""

from typing import Any
from urllib.parse import quote

GROUPS = "/_jwwx/client/v1/groups"
SETTINGS = "/_jwwx/admin/v1/groups/settings"


def q(value: str) -> str:
    return quote(value, safe="")


def group_path(room_id: str, *rest: str) -> str:
    return "/".join([GROUPS, q(room_id), *rest])


async def make_group(owner: Any, *members: Any, **extra: Any) -> str:
    """A group created through the API, every member joined."""
    body = {"name": "专案组", "invite": [m.user_id for m in members], **extra}
    result = await owner.ok("POST", GROUPS, body)
    room_id = str(result["room_id"])
    for member in members:
        await member.join(room_id)
    return room_id


async def state(client: Any, room_id: str, event_type: str) -> Any:
    return await client.ok(
        "GET", f"/_matrix/client/v3/rooms/{q(room_id)}/state/{event_type}/"
    )


async def read_receipt(client: Any, room_id: str, event_id: str) -> None:
    await client.ok(
        "POST",
        f"/_matrix/client/v3/rooms/{q(room_id)}/receipt/m.read/{q(event_id)}",
        {},
    )
