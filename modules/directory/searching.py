# SPDX-License-Identifier: AGPL-3.0-or-later
"""The directory's member and department search for other modules (modules.search's
unified search): the same reads, visibility and JSON as the client API's
search/members and search/departments, for a Matrix user id instead of a request."""

from typing import Any

from synapse.module_api import ModuleApi, UserID

from modules.common.admin import has_admin_scope
from modules.common.runtime import ModuleRuntime
from modules.directory.reader import DirectoryReader
from modules.directory.storage.members import Visibility
from modules.directory.visibility import Viewer, viewer_txn


class DirectorySearch:
    def __init__(
        self, api: ModuleApi, runtime: ModuleRuntime, reader: DirectoryReader
    ) -> None:
        self._api = api
        self._runtime = runtime
        self._reader = reader

    async def _viewer(self, user_id: str) -> Viewer:
        await self._runtime.ready()
        admin = await has_admin_scope(self._api, user_id, "directory.read")
        localpart = UserID.from_string(user_id).localpart
        return await self._api.run_db_interaction(
            "jwwx_dir_viewer", viewer_txn, user_id, localpart, admin
        )

    async def members(
        self, user_id: str, query: str, limit: int, offset: int
    ) -> dict[str, Any]:
        viewer = await self._viewer(user_id)
        return dict(
            await self._api.run_db_interaction(
                "jwwx_dir_search_members",
                self._reader.search_members_txn,
                viewer,
                query,
                limit,
                offset,
            )
        )

    async def members_in(
        self,
        viewer_id: str,
        subtrees: tuple[str, ...],
        query: str,
        limit: int,
        offset: int,
    ) -> dict[str, Any]:
        """The member search for a reader who is no member (a peer domain,
        modules.crossdomain): an officer's rules (hidden stays hidden, the officers'
        visible fields) inside the given department paths only (none: nothing)."""
        await self._runtime.ready()
        viewer = Viewer(viewer_id, Visibility(subtrees=subtrees))
        return dict(
            await self._api.run_db_interaction(
                "jwwx_dir_search_members_in",
                self._reader.search_members_txn,
                viewer,
                query,
                limit,
                offset,
            )
        )

    async def departments(
        self, user_id: str, query: str, limit: int, offset: int
    ) -> dict[str, Any]:
        viewer = await self._viewer(user_id)
        found = await self._api.run_db_interaction(
            "jwwx_dir_search_departments",
            self._reader.search_departments_txn,
            viewer,
            query,
            offset + limit + 1,
        )
        results = list(found["results"])
        more = len(results) > offset + limit
        return {
            "results": results[offset : offset + limit],
            "next_from": str(offset + limit) if more else None,
        }
