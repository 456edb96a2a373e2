"""Keep Synapse's own user search (/user_directory/search) within directory visibility:
the spam checker's check_username_for_spam hides a result when it returns True."""

from typing import Any

from modules.common.admin import has_admin_scope
from modules.common.storage import Txn
from modules.common.synapse_compat import UserID
from modules.directory.storage.members import get_member_txn, is_visible_txn
from modules.directory.visibility import viewer_txn


class UserDirectoryFilter:
    def __init__(self, api: Any) -> None:
        self._api = api

    async def check_username_for_spam(
        self, user_profile: Any, requester_id: str
    ) -> bool:
        target = str(user_profile["user_id"])
        if not self._api.is_mine(target) or not self._api.is_mine(requester_id):
            return False
        if await has_admin_scope(self._api, requester_id, "directory.read"):
            return False
        target_localpart = UserID.from_string(target).localpart
        requester_localpart = UserID.from_string(requester_id).localpart

        def hidden_txn(txn: Txn) -> bool:
            if get_member_txn(txn, target_localpart) is None:
                return False  # not a directory member (bots, the bootstrap admin)
            viewer = viewer_txn(txn, requester_id, requester_localpart, False)
            return not is_visible_txn(txn, target_localpart, viewer.visibility)

        return bool(
            await self._api.run_db_interaction(
                "jwwx_dir_user_search_filter", hidden_txn
            )
        )
