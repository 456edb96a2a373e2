# SPDX-License-Identifier: AGPL-3.0-or-later
"""Keep Synapse's own user search (/user_directory/search) within directory visibility:
the spam checker's check_username_for_spam hides a result when it returns True. The same
rule guards Synapse's /profile (modules.common.synapse.patches.add_profile_query_check): a hidden member's
display name and avatar are not readable there either.

Synapse asks once per result, so each answer must be cheap: the searcher's visibility
(admin? restricted to which subtrees?) is kept for VIEWER_TTL_S seconds, and each result
costs one indexed query (it was a transaction of four queries per result, plus an admin
check). Synapse's user search still costs 2–5× vanilla's in the soak benchmark: one
transaction per result remains (benchmarks/RESULTS.md).
"""

import time
from typing import Any

from synapse.module_api import ModuleApi, UserID

from modules.common.admin import has_admin_scope
from modules.directory.storage.members import Visibility, hidden_member_txn
from modules.directory.visibility import viewer_txn

# A searcher moved to (or out of) a restricted department sees the change in Synapse's
# user search at once on the process that made the change (every directory write clears
# the cache there) and within this time on other workers; who is *found* (hidden
# members, departments) is read fresh on every search.
VIEWER_TTL_S = 10.0
MAX_VIEWERS = 10_000


class UserDirectoryFilter:
    def __init__(self, api: ModuleApi) -> None:
        self._api = api
        self._viewers: dict[str, tuple[Visibility, float]] = {}

    def forget_viewers(self) -> None:
        """After a directory change: read every searcher's visibility afresh."""
        self._viewers.clear()

    async def _visibility(self, requester_id: str) -> Visibility:
        now = time.monotonic()
        cached = self._viewers.get(requester_id)
        if cached is not None and now - cached[1] < VIEWER_TTL_S:
            return cached[0]
        admin = await has_admin_scope(self._api, requester_id, "directory.read")
        viewer = await self._api.run_db_interaction(
            "jwwx_dir_user_search_viewer",
            viewer_txn,
            requester_id,
            UserID.from_string(requester_id).localpart,
            admin,
        )
        if len(self._viewers) >= MAX_VIEWERS:
            self._viewers.clear()
        self._viewers[requester_id] = (viewer.visibility, now)
        return viewer.visibility

    async def may_read_profile(self, target: str, requester_id: str) -> bool:
        """Synapse's /profile follows the same rule as its user search: a member
        hidden from the requester has no readable profile (issue 15)."""
        return not await self.check_username_for_spam({"user_id": target}, requester_id)

    async def check_username_for_spam(
        self, user_profile: Any, requester_id: str
    ) -> bool:
        target = str(user_profile["user_id"])
        if not self._api.is_mine(target) or not self._api.is_mine(requester_id):
            return False
        visibility = await self._visibility(requester_id)
        if visibility.admin:
            return False
        return bool(
            await self._api.run_db_interaction(
                "jwwx_dir_user_search_filter",
                hidden_member_txn,
                UserID.from_string(target).localpart,
                visibility,
            )
        )
