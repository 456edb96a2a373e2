# SPDX-License-Identifier: AGPL-3.0-or-later
"""Saved groups (保存到通讯录): an officer's list of groups kept for quick access."""

from typing import Any

from modules.common.errors import GROUP_NOT_FOUND, error
from modules.common.storage import fold
from modules.groups import storage
from modules.groups.core import GroupCore


class SavedGroups(GroupCore):
    # Saved groups (保存到通讯录)

    async def save(self, user_id: str, room_id: str) -> dict[str, Any]:
        await self.group_view(user_id, room_id)
        await self._api.run_db_interaction(
            "jwwx_groups_save",
            storage.save_group_txn,
            user_id,
            room_id,
            self._api.get_current_time_msec(),
        )
        return {}

    async def unsave(self, user_id: str, room_id: str) -> dict[str, Any]:
        if not await self._api.run_db_interaction(
            "jwwx_groups_unsave", storage.unsave_group_txn, user_id, room_id
        ):
            raise error(404, GROUP_NOT_FOUND, "通讯录中没有该群聊")
        return {}

    async def saved(self, user_id: str, query: str | None) -> dict[str, Any]:
        """The saved groups the officer is still in, newest first; `query` filters by
        group name (case-insensitive)."""
        room_ids = await self._api.run_db_interaction(
            "jwwx_groups_saved", storage.saved_groups_txn, user_id
        )
        term = fold(query.strip()) if query else ""
        groups = []
        for room_id in room_ids:
            view = await self.view(room_id)
            if not view.exists or view.membership(user_id) != "join":
                continue
            name = view.name or ""
            if term and term not in fold(name):
                continue
            groups.append(
                {
                    "room_id": room_id,
                    "name": view.name,
                    "member_count": len(view.members("join")),
                    "owner": view.owner,
                }
            )
        return {"groups": groups}
