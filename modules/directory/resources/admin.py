# SPDX-License-Identifier: AGPL-3.0-or-later
"""Admins' directory API under /_jwwx/admin/v1/directory (scopes directory.read/.write).

POST   departments                      {id?, name, parent_id, order?, hidden?, restricted?}
GET    departments/{id}                 admin view (hidden entries included)
GET    departments/{id}/children        as the client API, hidden entries included
PUT    departments/{id}                 {name?, parent_id? (move), order?, hidden?, restricted?}
DELETE departments/{id}                 only when it has no sub-departments and members
POST   members                          WeCom-shaped: {userid, name, department: [ids], ...}
GET    members/{userid}                 every field, account_state included
PUT    members/{userid}                 partial update, same fields
DELETE members/{userid}                 removes it and deactivates the Matrix account
POST   members/{userid}/initial_password  new initial password, shown once (and e-mailed)
GET    tags · POST tags {name, userids, department_ids} · GET/PUT/DELETE tags/{id}
GET    settings · PUT settings {visible_fields: [...]}
POST   import/{departments|members|tags}?filename=x.xlsx  (raw file body: .csv or .xlsx)
GET    export                           the whole directory as XLSX
GET    jobs · GET jobs/{id}             account-provisioning progress
GET    failures · GET mails?state= · POST retry
"""

from typing import Any

from modules.common.admin import require_admin
from modules.common.errors import error
from modules.common.resource import RawBody, query_param, read_body, read_json_object
from modules.common.runtime import ModuleRuntime
from modules.common.synapse_compat import Codes
from modules.directory.admin import IMPORT_KINDS, DirectoryAdmin
from modules.directory.config import DirectoryConfig
from modules.directory.reader import DirectoryReader
from modules.directory.resources.base import Router
from modules.directory.storage.members import Visibility
from modules.directory.visibility import Viewer

ADMIN_PREFIX = "/_jwwx/admin/v1/directory"
MAX_IMPORT_BYTES = 50 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DirectoryAdminResource(Router):
    prefix = ADMIN_PREFIX

    def __init__(
        self,
        api: Any,
        config: DirectoryConfig,
        runtime: ModuleRuntime,
        reader: DirectoryReader,
        admin: DirectoryAdmin,
    ) -> None:
        super().__init__(api, config)
        self._runtime = runtime
        self._reader = reader
        self._admin = admin
        r = self.route
        r("POST", "departments", self.create_department)
        r("GET", "departments/{department}", self.get_department)
        r("GET", "departments/{department}/children", self.list_children)
        r("PUT", "departments/{department}", self.update_department)
        r("DELETE", "departments/{department}", self.delete_department)
        r("POST", "members", self.create_member)
        r("GET", "members/{userid}", self.get_member)
        r("PUT", "members/{userid}", self.update_member)
        r("DELETE", "members/{userid}", self.delete_member)
        r("POST", "members/{userid}/initial_password", self.initial_password)
        r("GET", "tags", self.list_tags)
        r("POST", "tags", self.create_tag)
        r("GET", "tags/{tag}", self.get_tag)
        r("PUT", "tags/{tag}", self.update_tag)
        r("DELETE", "tags/{tag}", self.delete_tag)
        r("GET", "settings", self.get_settings)
        r("PUT", "settings", self.put_settings)
        r("POST", "import/{kind}", self.import_file)
        r("GET", "export", self.export)
        r("GET", "jobs", self.jobs)
        r("GET", "jobs/{job}", self.job)
        r("GET", "failures", self.failures)
        r("GET", "mails", self.mails)
        r("POST", "retry", self.retry)

    async def _admin_id(self, request: Any, write: bool) -> str:
        user_id = await require_admin(
            self.api, request, "directory.write" if write else "directory.read"
        )
        await self._runtime.ready()
        return user_id

    def _viewer(self, user_id: str) -> Viewer:
        return Viewer(user_id, Visibility(admin=True))

    # Departments.

    async def create_department(self, request: Any) -> tuple[int, Any]:
        await self._admin_id(request, True)
        return 200, await self._admin.create_department(read_json_object(request))

    async def get_department(self, request: Any, department: str) -> tuple[int, Any]:
        user_id = await self._admin_id(request, False)
        return 200, await self.api.run_db_interaction(
            "jwwx_dir_department",
            self._reader.department_txn,
            self._viewer(user_id),
            self.department_id(department),
        )

    async def list_children(self, request: Any, department: str) -> tuple[int, Any]:
        user_id = await self._admin_id(request, False)
        limit, offset = self.page(request)
        return 200, await self.api.run_db_interaction(
            "jwwx_dir_children",
            self._reader.children_txn,
            self._viewer(user_id),
            self.department_id(department),
            limit,
            offset,
        )

    async def update_department(self, request: Any, department: str) -> tuple[int, Any]:
        await self._admin_id(request, True)
        return 200, await self._admin.update_department(
            self.department_id(department), read_json_object(request)
        )

    async def delete_department(self, request: Any, department: str) -> tuple[int, Any]:
        await self._admin_id(request, True)
        await self._admin.delete_department(self.department_id(department))
        return 200, {}

    # Members.

    async def create_member(self, request: Any) -> tuple[int, Any]:
        admin = await self._admin_id(request, True)
        return 200, await self._admin.create_member(read_json_object(request), admin)

    async def get_member(self, request: Any, userid: str) -> tuple[int, Any]:
        await self._admin_id(request, False)
        return 200, await self._admin.get_member(userid)

    async def update_member(self, request: Any, userid: str) -> tuple[int, Any]:
        await self._admin_id(request, True)
        return 200, await self._admin.update_member(userid, read_json_object(request))

    async def delete_member(self, request: Any, userid: str) -> tuple[int, Any]:
        await self._admin_id(request, True)
        await self._admin.delete_member(userid)
        return 200, {}

    async def initial_password(self, request: Any, userid: str) -> tuple[int, Any]:
        await self._admin_id(request, True)
        return 200, await self._admin.reset_initial_password(userid)

    # Tags.

    def _tag_id(self, text: str) -> int:
        if not text.isdigit():
            raise error(400, Codes.INVALID_PARAM, f"标签ID“{text}”不合法")
        return int(text)

    async def list_tags(self, request: Any) -> tuple[int, Any]:
        await self._admin_id(request, False)
        return 200, await self._admin.list_tags()

    async def create_tag(self, request: Any) -> tuple[int, Any]:
        admin = await self._admin_id(request, True)
        return 200, await self._admin.save_tag(None, read_json_object(request), admin)

    async def get_tag(self, request: Any, tag: str) -> tuple[int, Any]:
        await self._admin_id(request, False)
        return 200, await self._admin.get_tag(self._tag_id(tag))

    async def update_tag(self, request: Any, tag: str) -> tuple[int, Any]:
        admin = await self._admin_id(request, True)
        return 200, await self._admin.save_tag(
            self._tag_id(tag), read_json_object(request), admin
        )

    async def delete_tag(self, request: Any, tag: str) -> tuple[int, Any]:
        await self._admin_id(request, True)
        await self._admin.delete_tag(self._tag_id(tag))
        return 200, {}

    # Settings.

    async def get_settings(self, request: Any) -> tuple[int, Any]:
        await self._admin_id(request, False)
        return 200, await self._admin.get_settings()

    async def put_settings(self, request: Any) -> tuple[int, Any]:
        admin = await self._admin_id(request, True)
        return 200, await self._admin.put_settings(read_json_object(request), admin)

    # Import / export.

    async def import_file(self, request: Any, kind: str) -> tuple[int, Any]:
        admin = await self._admin_id(request, True)
        if kind not in IMPORT_KINDS:
            raise error(404, Codes.UNRECOGNIZED, "可导入：departments、members、tags")
        filename = query_param(request, "filename")
        if not filename:
            raise error(400, Codes.MISSING_PARAM, "缺少参数 filename（.csv 或 .xlsx）")
        data = read_body(request, MAX_IMPORT_BYTES)
        return 200, await self._admin.import_file(kind, filename, data, admin)

    async def export(self, request: Any) -> tuple[int, Any]:
        await self._admin_id(request, False)
        data = await self._admin.export_xlsx()
        return 200, RawBody(XLSX_TYPE, data, "directory.xlsx")

    # Provisioning.

    async def jobs(self, request: Any) -> tuple[int, Any]:
        await self._admin_id(request, False)
        return 200, await self._admin.jobs()

    async def job(self, request: Any, job: str) -> tuple[int, Any]:
        await self._admin_id(request, False)
        if not job.isdigit():
            raise error(400, Codes.INVALID_PARAM, f"任务ID“{job}”不合法")
        return 200, await self._admin.job(int(job))

    async def failures(self, request: Any) -> tuple[int, Any]:
        await self._admin_id(request, False)
        return 200, await self._admin.failures()

    async def mails(self, request: Any) -> tuple[int, Any]:
        await self._admin_id(request, False)
        return 200, await self._admin.mails(query_param(request, "state"))

    async def retry(self, request: Any) -> tuple[int, Any]:
        await self._admin_id(request, True)
        return 200, await self._admin.retry()
