# SPDX-License-Identifier: AGPL-3.0-or-later
"""Officers' directory API under /_jwwx/client/v1/directory (access token required).

GET    roots                               top-level departments the caller may see
GET    departments/{id}                    name, counts, path from the root
GET    departments/{id}/children?from&limit  sub-departments then members, manual order
GET    members/{userid}                    profile, fields as the admins allow
GET    search/members?q=&from=&limit=      name, full pinyin or initials (张三: zhangsan, zs)
GET    search/departments?q=&limit=        department names containing q
GET    tags                                标签 with something the caller may see
GET    tags/{id}?from&limit                its visible departments and a page of members
GET    favorites                           收藏联系人
PUT    favorites/{userid}                  add
DELETE favorites/{userid}                  remove
Answers 404 CN_JWWX_DEPARTMENT_NOT_FOUND / CN_JWWX_MEMBER_NOT_FOUND /
CN_JWWX_TAG_NOT_FOUND for anything the
caller may not see, exactly as for what does not exist.
"""

from typing import Any

from synapse.module_api import ModuleApi, UserID

from modules.common.admin import has_admin_scope
from modules.common.errors import error
from modules.common.resource import query_param
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import Codes
from modules.directory.config import DirectoryConfig
from modules.directory.reader import DirectoryReader
from modules.directory.resources.base import Router
from modules.directory.tag_reads import tag_txn, tags_txn
from modules.directory.visibility import Viewer, viewer_txn

CLIENT_PREFIX = "/_jwwx/client/v1/directory"


class DirectoryClientResource(Router):
    prefix = CLIENT_PREFIX

    def __init__(
        self,
        api: ModuleApi,
        config: DirectoryConfig,
        runtime: ModuleRuntime,
        reader: DirectoryReader,
    ) -> None:
        super().__init__(api, config)
        self._runtime = runtime
        self._reader = reader
        self.route("GET", "roots", self.roots)
        self.route("GET", "departments/{department}", self.department)
        self.route("GET", "departments/{department}/children", self.list_children)
        self.route("GET", "members/{userid}", self.member)
        self.route("GET", "search/members", self.search_members)
        self.route("GET", "search/departments", self.search_departments)
        self.route("GET", "tags", self.tags)
        self.route("GET", "tags/{tag}", self.tag)
        self.route("GET", "favorites", self.favorites)
        self.route("PUT", "favorites/{userid}", self.add_favorite)
        self.route("DELETE", "favorites/{userid}", self.remove_favorite)

    async def viewer(self, request: Any) -> Viewer:
        user_id = await self._reader_id(request)
        await self._runtime.ready()
        admin = await has_admin_scope(self.api, user_id, "directory.read")
        localpart = UserID.from_string(user_id).localpart
        return await self.api.run_db_interaction(
            "jwwx_dir_viewer", viewer_txn, user_id, localpart, admin
        )

    async def _reader_id(self, request: Any) -> str:
        """Who reads: the caller, or the officer an application service listed in
        `delegated_readers` reads for (?on_behalf_of=, GET only)."""
        on_behalf_of = query_param(request, "on_behalf_of")
        if on_behalf_of is None:
            return await self.requester_id(request)
        requester = await self.api.get_user_by_req(request)
        service_id = requester.app_service_id  # the registration's id, None: a user
        if (
            request.method != b"GET"
            or service_id is None
            or service_id not in self.config.delegated_readers
        ):
            raise error(403, Codes.FORBIDDEN, "只有受信任的应用服务可以代为查询通讯录")
        if (
            not on_behalf_of.startswith("@")
            or ":" not in on_behalf_of
            or not self.api.is_mine(on_behalf_of)
            or await self.api.check_user_exists(on_behalf_of) is None
        ):
            raise error(
                400, Codes.INVALID_PARAM, "on_behalf_of 必须是本服务器已有的账号"
            )
        return on_behalf_of

    async def _read(self, desc: str, fn: Any, *args: Any) -> tuple[int, Any]:
        return 200, await self.api.run_db_interaction(f"jwwx_dir_{desc}", fn, *args)

    async def roots(self, request: Any) -> tuple[int, Any]:
        viewer = await self.viewer(request)
        limit, offset = self.page(request)
        return await self._read(
            "roots", self._reader.children_txn, viewer, None, limit, offset
        )

    async def department(self, request: Any, department: str) -> tuple[int, Any]:
        viewer = await self.viewer(request)
        return await self._read(
            "department",
            self._reader.department_txn,
            viewer,
            self.department_id(department),
        )

    async def list_children(self, request: Any, department: str) -> tuple[int, Any]:
        viewer = await self.viewer(request)
        limit, offset = self.page(request)
        return await self._read(
            "children",
            self._reader.children_txn,
            viewer,
            self.department_id(department),
            limit,
            offset,
        )

    async def member(self, request: Any, userid: str) -> tuple[int, Any]:
        viewer = await self.viewer(request)
        return await self._read("member", self._reader.member_txn, viewer, userid)

    def _query(self, request: Any) -> str:
        query = query_param(request, "q")
        if not query or not query.strip():
            raise error(400, Codes.MISSING_PARAM, "缺少搜索关键字 q")
        if len(query) > 64:
            raise error(400, Codes.INVALID_PARAM, "搜索关键字不能超过 64 个字符")
        return query

    async def search_members(self, request: Any) -> tuple[int, Any]:
        viewer = await self.viewer(request)
        query = self._query(request)
        limit = self.integer_arg(request, "limit", 20, 1, self.config.search_limit_max)
        offset = self.integer_arg(request, "from", 0, 0, 10000)
        return await self._read(
            "search_members",
            self._reader.search_members_txn,
            viewer,
            query,
            limit,
            offset,
        )

    async def search_departments(self, request: Any) -> tuple[int, Any]:
        viewer = await self.viewer(request)
        query = self._query(request)
        limit = self.integer_arg(request, "limit", 20, 1, self.config.search_limit_max)
        return await self._read(
            "search_departments",
            self._reader.search_departments_txn,
            viewer,
            query,
            limit,
        )

    async def tags(self, request: Any) -> tuple[int, Any]:
        viewer = await self.viewer(request)
        return await self._read("tags", tags_txn, viewer)

    async def tag(self, request: Any, tag: str) -> tuple[int, Any]:
        viewer = await self.viewer(request)
        limit, offset = self.page(request)
        return await self._read(
            "tag", tag_txn, self._reader, viewer, self.tag_id(tag), limit, offset
        )

    async def favorites(self, request: Any) -> tuple[int, Any]:
        viewer = await self.viewer(request)
        return await self._read("favorites", self._reader.favorites_txn, viewer)

    async def add_favorite(self, request: Any, userid: str) -> tuple[int, Any]:
        viewer = await self.viewer(request)
        now = self.api.get_current_time_msec()
        await self.api.run_db_interaction(
            "jwwx_dir_add_favorite", self._reader.add_favorite_txn, viewer, userid, now
        )
        return 200, {}

    async def remove_favorite(self, request: Any, userid: str) -> tuple[int, Any]:
        viewer = await self.viewer(request)
        await self.api.run_db_interaction(
            "jwwx_dir_remove_favorite", self._reader.remove_favorite_txn, viewer, userid
        )
        return 200, {}
