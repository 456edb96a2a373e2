# SPDX-License-Identifier: AGPL-3.0-or-later
"""Read status: who has read a message in a group (read-receipt details), and marking
all of an officer's rooms read; the unread counts of an officer's chats."""

from typing import Any

from modules.common.errors import READ_STATUS_DISABLED, error
from modules.common.synapse.errors import Codes
from modules.common.synapse.events import get_event_with_position
from modules.common.synapse.rooms import (
    joined_rooms,
    latest_event_id,
    mark_room_read,
    unread_counts,
)
from modules.common.synapse.tables import public_read_positions_txn
from modules.groups.core import GroupCore, forbidden


class ReadStatus(GroupCore):
    # Read-receipt details

    async def receipts(
        self, user_id: str, room_id: str, event_id: str
    ) -> dict[str, Any]:
        view = await self.member_view(user_id, room_id)
        if not self._settings.current.read_status_enabled:
            raise error(403, READ_STATUS_DISABLED, "管理员已关闭已读状态功能")
        found = await get_event_with_position(self._api, event_id)
        if found is None or found[0].room_id != room_id:
            raise error(404, Codes.NOT_FOUND, "消息不存在")
        event, position = found
        if event.sender != user_id and not view.is_admin(user_id):
            raise forbidden("只有发送者和群主、管理员可以查看已读详情")
        relates = event.content.get("m.relates_to")
        thread = None
        if isinstance(relates, dict) and relates.get("rel_type") == "m.thread":
            thread = relates.get("event_id")
        positions = await self._api.run_db_interaction(
            "jwwx_groups_read_positions", public_read_positions_txn, room_id, thread
        )
        read: list[dict[str, str]] = []
        unread: list[dict[str, str]] = []
        for member in view.members("join"):
            if member == event.sender:
                continue
            metadata = getattr(view.member_event(member), "internal_metadata", None)
            joined_at = getattr(metadata, "stream_ordering", None)
            if joined_at is not None and joined_at > position:
                continue  # joined after the message
            entry = {"user_id": member, "name": view.display_name(member)}
            (read if positions.get(member, -1) >= position else unread).append(entry)
        return {
            "event_id": event_id,
            "sender": event.sender,
            "read": read,
            "unread": unread,
            "read_count": len(read),
            "unread_count": len(unread),
        }

    # Mark all read

    async def mark_all_read(self, user_id: str) -> dict[str, Any]:
        marked = 0
        for room_id in await joined_rooms(self._api, user_id):
            event_id = await latest_event_id(self._api, room_id)
            if event_id is None:
                continue
            await mark_room_read(self._api, user_id, room_id, event_id)
            marked += 1
        return {"rooms": marked}

    # Unread counts (the web client's badges under simplified sliding sync)

    async def unread(self, user_id: str) -> dict[str, Any]:
        counts = await unread_counts(self._api, user_id)
        return {
            "rooms": {
                room_id: {"unread": notify, "mentions": highlight}
                for room_id, (notify, highlight) in counts.items()
            }
        }
