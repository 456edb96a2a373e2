# SPDX-License-Identifier: AGPL-3.0-or-later
"""Keep Synapse's own user search (/user_directory/search) within directory visibility:
the spam checker's check_username_for_spam hides a result when it returns True. The same
rule guards Synapse's /profile (modules.common.synapse.patches.add_profile_query_check): a hidden member's
display name and avatar are not readable there either.

Synapse asks once per result, so each answer must be cheap: the searcher's visibility
(admin? restricted to which subtrees?) is kept for VIEWER_TTL_S seconds, and each result
costs one indexed query (it was a transaction of four queries per result, plus an admin
check).

With serve_user_directory_search (config.py) the search itself is the directory's
(find_users, through the adapter's serve_user_directory_search): Chinese name
substrings, full pinyin and initials, ranked as the client API's search/members, only
members this searcher may see, with a Matrix account, not disabled. Those results are
already checked, so the spam check that Synapse then runs per result passes them
without a query; Synapse's own search answers when the directory finds nobody.
"""

import time
from typing import Any

from synapse.module_api import ModuleApi, UserID

from modules.common.admin import has_admin_scope
from modules.common.storage import Txn
from modules.directory.pinyin import normalise_query, prefix_upper_bound
from modules.directory.storage import search as member_search
from modules.directory.storage.members import Member, Visibility, hidden_member_txn
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
        # Results find_users just gave a searcher: Synapse's spam check of each passes
        # without a query (they were found under the same visibility).
        self._approved: dict[str, set[str]] = {}

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

    async def find_users(
        self, searcher: str, term: str, limit: int
    ) -> dict[str, Any] | None:
        """Synapse's user search answered from the directory (None: Synapse's own)."""
        folded = normalise_query(term)
        if not folded or not self._api.is_mine(searcher):
            return None
        visibility = await self._visibility(searcher)
        found: list[Member] = await self._api.run_db_interaction(
            "jwwx_dir_user_search",
            _search_txn,
            folded,
            visibility,
            limit + 1,
        )
        results = [
            {
                "user_id": self._api.get_qualified_user_id(member.userid),
                "display_name": member.name,
                "avatar_url": member.avatar
                if member.avatar and member.avatar.startswith("mxc://")
                else None,
            }
            for member in found[:limit]
        ]
        if len(self._approved) >= MAX_VIEWERS:
            self._approved.clear()
        self._approved[searcher] = {str(r["user_id"]) for r in results}
        return {"limited": len(found) > limit, "results": results}

    async def check_username_for_spam(
        self, user_profile: Any, requester_id: str
    ) -> bool:
        target = str(user_profile["user_id"])
        approved = self._approved.get(requester_id)
        if approved is not None and target in approved:
            approved.discard(target)
            return False
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


def _search_txn(
    txn: Txn, folded: str, visibility: Visibility, limit: int
) -> list[Member]:
    """Visible members matching `folded` (name, pinyin, initials), best first, with a
    Matrix account and enabled (Synapse hides locked accounts from its search too): for
    most queries one statement (modules.directory.storage.search)."""
    return member_search.search_members_txn(
        txn,
        folded,
        prefix_upper_bound(folded),
        visibility,
        limit,
        0,
        accounts_only=True,
        memberships=False,
    )
