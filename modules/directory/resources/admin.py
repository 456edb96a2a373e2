# SPDX-License-Identifier: AGPL-3.0-or-later
"""Admins' directory API under /_jwwx/admin/v1/directory (scopes directory.read/.write).

POST   departments                      {id?, name, parent_id, order?, hidden?, restricted?}
GET    search/departments?q=&limit=&right=  departments named like q within the admin's
                                        scope for `right` (default directory.view), with
                                        their path cut to the scope (pickers)
GET    search/members?q=&limit=         members by name, full pinyin or initials within
                                        the admin's directory.view scope, stripped as
                                        GET members/{userid} is
GET    departments/{id}                 admin view (hidden entries included)
GET    departments/{id}/children        as the client API, hidden entries included
PUT    departments/{id}                 {name?, parent_id? (move), order?, hidden?, restricted?}
DELETE departments/{id}                 only when it has no sub-departments and members
POST   departments/{id}/order           {member: userid | department: id, position: n}
                                        moves one member or sub-department to position n
                                        (0: first); the siblings are renumbered
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

Authorisation (docs/admin.md): each route asks admin_api, through modules.common.admin,
for one right on its targets: reads "directory.view" on the department or member;
department writes "directory.edit_structure" on the department (and on a new parent);
member writes "directory.edit_members" on the member and on every department added or
removed, "directory.enable_disable" to change `enabled`, "directory.reset_password"
for initial passwords. A target outside the admin's scope answers 403
CN_JWWX_ADMIN_SCOPE and changes nothing. Fields hidden from the admin's group are
left out of every member it reads and refused in its writes. Tags, settings,
import/export and provisioning span the whole directory: unrestricted admins only (the
super admin) until they are scoped too. Creating or enabling a member beyond its
unit's quota answers 403 CN_JWWX_ADMIN_QUOTA_EXCEEDED.
"""

import re
from typing import Any

from synapse.module_api import ModuleApi

from modules.common import admin as decide
from modules.common.admin import WHOLE_DIRECTORY, AdminScope
from modules.common.admin_router import AdminRouter
from modules.common.errors import error
from modules.common.inputs import parse_int
from modules.common.resource import RawBody, query_param, read_body, read_json_object
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import Codes, SynapseError
from modules.directory.admin import IMPORT_KINDS, DirectoryAdmin
from modules.directory.admin_reads import QuotaExceededError
from modules.directory.config import DirectoryConfig
from modules.directory.reader import DirectoryReader
from modules.directory.resources.base import DirectoryRouting
from modules.directory.storage.members import Visibility
from modules.directory.visibility import Viewer

ADMIN_PREFIX = "/_jwwx/admin/v1/directory"
MAX_IMPORT_BYTES = 50 * 1024 * 1024
RIGHT_NAME = re.compile(r"[a-z_]{1,32}\.[a-z_]{1,32}")
SCOPED_SEARCH_READ = 200
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DirectoryAdminResource(DirectoryRouting, AdminRouter):
    prefix = ADMIN_PREFIX

    def __init__(
        self,
        api: ModuleApi,
        config: DirectoryConfig,
        runtime: ModuleRuntime,
        reader: DirectoryReader,
        admin: DirectoryAdmin,
    ) -> None:
        super().__init__(api, runtime)
        self.config = config
        self._reader = reader
        self._admin = admin
        r = self.route
        r("POST", "departments", self.create_department)
        r("GET", "search/departments", self.search_departments)
        r("GET", "search/members", self.search_members)
        r("GET", "departments/{department}", self.get_department)
        r("GET", "departments/{department}/children", self.list_children)
        r("PUT", "departments/{department}", self.update_department)
        r("DELETE", "departments/{department}", self.delete_department)
        r("POST", "departments/{department}/order", self.move_in_order)
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

    def translate_error(self, exc: Exception) -> SynapseError | None:
        if isinstance(exc, QuotaExceededError):
            return exc.to_synapse()
        return DirectoryRouting.translate_error(self, exc)

    async def _strip_members(
        self, scope: AdminScope, members: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Leave out the fields hidden from the admin and the departments of a member
        outside the admin's scope (their names included)."""
        if scope.unrestricted:
            return members
        ids = sorted({d["id"] for m in members for d in m.get("departments", [])})
        kept = {
            int(t.id) for t in await scope.filter([decide.department(d) for d in ids])
        }
        for body in members:
            for name in scope.hidden_fields:
                body.pop(name, None)
            if "departments" in body:
                body["departments"] = [
                    d for d in body["departments"] if d["id"] in kept
                ]
        return members

    @staticmethod
    def _refuse_hidden(scope: AdminScope, body: dict[str, Any]) -> None:
        hidden = sorted(set(body) & scope.hidden_fields)
        if hidden:
            raise error(
                403,
                decide.ADMIN_SCOPE,
                f"超出管理范围：无权查看或修改字段 {'、'.join(hidden)}，未做任何修改",
                fields=hidden,
            )

    @staticmethod
    def _body_departments(body: dict[str, Any]) -> list[int]:
        """The department ids a member body names (bodies.py validates the shape)."""
        value = body.get("department")
        if not isinstance(value, list):
            return []
        return [d for d in value if isinstance(d, int) and not isinstance(d, bool)]

    def _viewer(self, user_id: str) -> Viewer:
        return Viewer(user_id, Visibility(admin=True))

    async def _department_json(self, admin: str, department_id: int) -> Any:
        return await self.api.run_db_interaction(
            "jwwx_dir_department",
            self._reader.department_txn,
            self._viewer(admin),
            department_id,
        )

    # Departments.

    async def create_department(self, request: Any) -> tuple[int, Any]:
        body = read_json_object(request)
        parent = body.get("parent_id")
        target = (
            decide.department(parent)
            if isinstance(parent, int) and not isinstance(parent, bool)
            else WHOLE_DIRECTORY
        )
        admin = await self.admin(request, "directory.edit_structure", target)
        created = await self._admin.create_department(body)
        await self.log(
            request,
            admin,
            "directory.department.create",
            f"department:{created['id']}",
            after=created,
        )
        return 200, created

    async def search_departments(self, request: Any) -> tuple[int, Any]:
        """A picker's search: only departments within the admin's scope for `right`,
        and of each one's path only the part within it, so that a scoped admin learns
        no department name outside its scope (the client search shows an officer's
        view of the whole directory)."""
        right = query_param(request, "right") or "directory.view"
        if not RIGHT_NAME.fullmatch(right):
            raise SynapseError(400, "right 参数无效", Codes.INVALID_PARAM)
        user_id, scope = await self.admin_scope(request, right, [])
        query = query_param(request, "q") or ""
        limit = self.integer_arg(request, "limit", 20, 1, self.config.search_limit_max)
        # A scoped admin's matches may mostly lie outside its scope: read more, keep
        # those inside (at most SCOPED_SEARCH_READ candidates).
        wanted = limit if scope.unrestricted else max(limit, SCOPED_SEARCH_READ)
        found = await self.api.run_db_interaction(
            "jwwx_dir_search_departments",
            self._reader.search_departments_txn,
            self._viewer(user_id),
            query,
            wanted,
        )
        results = found["results"]
        if not scope.unrestricted:
            ids = {r["id"] for r in results} | {
                a["id"] for r in results for a in r.get("path", [])
            }
            kept = {
                int(t.id)
                for t in await scope.filter([decide.department(i) for i in sorted(ids)])
            }
            results = [r for r in results if r["id"] in kept][:limit]
            for body in results:
                body["path"] = [a for a in body.get("path", []) if a["id"] in kept]
        return 200, {"results": results}

    async def search_members(self, request: Any) -> tuple[int, Any]:
        """The console's member search: the admin view of the directory's search, kept
        to the admin's scope (hidden fields and out-of-scope departments left out)."""
        user_id, scope = await self.admin_scope(request, "directory.view", [])
        query = query_param(request, "q") or ""
        limit = self.integer_arg(request, "limit", 20, 1, self.config.search_limit_max)
        wanted = limit if scope.unrestricted else max(limit, SCOPED_SEARCH_READ)
        found = await self.api.run_db_interaction(
            "jwwx_dir_search_members",
            self._reader.search_members_txn,
            self._viewer(user_id),
            query,
            wanted,
            0,
        )
        results = found["results"]
        if not scope.unrestricted:
            kept = {
                t.id
                for t in await scope.filter(
                    [decide.member(m["userid"]) for m in results]
                )
            }
            results = await self._strip_members(
                scope, [m for m in results if m["userid"] in kept][:limit]
            )
        return 200, {"results": results}

    async def get_department(self, request: Any, department: str) -> tuple[int, Any]:
        department_id = self.department_id(department)
        user_id = await self.admin(
            request, "directory.view", decide.department(department_id)
        )
        return 200, await self.api.run_db_interaction(
            "jwwx_dir_department",
            self._reader.department_txn,
            self._viewer(user_id),
            department_id,
        )

    async def list_children(self, request: Any, department: str) -> tuple[int, Any]:
        department_id = self.department_id(department)
        user_id, scope = await self.admin_scope(
            request, "directory.view", decide.department(department_id)
        )
        limit, offset = self.page(request)
        listing = await self.api.run_db_interaction(
            "jwwx_dir_children",
            self._reader.children_txn,
            self._viewer(user_id),
            department_id,
            limit,
            offset,
        )
        # The department is in scope, so its sub-departments and members are too.
        listing["members"] = await self._strip_members(scope, listing["members"])
        return 200, listing

    async def update_department(self, request: Any, department: str) -> tuple[int, Any]:
        department_id = self.department_id(department)
        body = read_json_object(request)
        targets = [decide.department(department_id)]
        if "parent_id" in body:
            parent = body["parent_id"]
            targets.append(
                decide.department(parent)
                if isinstance(parent, int) and not isinstance(parent, bool)
                else WHOLE_DIRECTORY
            )
        admin = await self.admin(request, "directory.edit_structure", targets)
        before = await self._department_json(admin, department_id)
        updated = await self._admin.update_department(department_id, body)
        await self.log(
            request,
            admin,
            "directory.department.update",
            f"department:{department_id}",
            before,
            updated,
        )
        return 200, updated

    async def delete_department(self, request: Any, department: str) -> tuple[int, Any]:
        department_id = self.department_id(department)
        admin = await self.admin(
            request, "directory.edit_structure", decide.department(department_id)
        )
        before = await self._department_json(admin, department_id)
        await self._admin.delete_department(department_id)
        await self.log(
            request,
            admin,
            "directory.department.delete",
            f"department:{department_id}",
            before,
        )
        return 200, {}

    async def move_in_order(self, request: Any, department: str) -> tuple[int, Any]:
        """Ordering members is editing members (directory.edit_members), ordering
        sub-departments editing the structure (directory.edit_structure), both on this
        department."""
        department_id = self.department_id(department)
        body = read_json_object(request)
        kind, item = self._order_item(body)
        position = body.get("position")
        if not isinstance(position, int) or isinstance(position, bool) or position < 0:
            raise error(400, Codes.INVALID_PARAM, "position 必须是不小于 0 的整数")
        right = (
            "directory.edit_members" if kind == "member" else "directory.edit_structure"
        )
        admin = await self.admin(request, right, decide.department(department_id))
        moved = await self._admin.move_in_order(department_id, kind, item, position)
        await self.log(
            request,
            admin,
            "directory.department.order",
            f"department:{department_id}",
            {kind: item, "position": moved["from"]},
            {kind: item, "position": moved["to"]},
        )
        return 200, moved

    @staticmethod
    def _order_item(body: dict[str, Any]) -> tuple[str, str | int]:
        if ("member" in body) == ("department" in body):
            raise error(
                400,
                Codes.INVALID_PARAM,
                "请给出 member（账号）或 department（部门ID）之一",
            )
        if "member" in body:
            userid = body["member"]
            if not isinstance(userid, str) or not userid:
                raise error(400, Codes.INVALID_PARAM, "member 必须是成员账号")
            return "member", userid
        dep = body["department"]
        if not isinstance(dep, int) or isinstance(dep, bool) or dep < 0:
            raise error(400, Codes.INVALID_PARAM, "department 必须是部门ID")
        return "department", dep

    # Members.

    async def create_member(self, request: Any) -> tuple[int, Any]:
        body = read_json_object(request)
        departments = self._body_departments(body)
        admin, scope = await self.admin_scope(
            request,
            "directory.edit_members",
            [decide.department(d) for d in departments] or WHOLE_DIRECTORY,
        )
        self._refuse_hidden(scope, body)
        quotas = await decide.member_quotas(self.api)
        created = await self._admin.create_member(body, admin, quotas)
        await self.log(
            request,
            admin,
            "directory.member.create",
            f"member:{created['userid']}",
            after=created,
        )
        return 200, created

    async def get_member(self, request: Any, userid: str) -> tuple[int, Any]:
        _user, scope = await self.admin_scope(
            request, "directory.view", decide.member(userid)
        )
        found = await self._admin.get_member(userid)
        return 200, (await self._strip_members(scope, [found]))[0]

    async def update_member(self, request: Any, userid: str) -> tuple[int, Any]:
        body = read_json_object(request)
        user_id, scope = await self.admin_scope(
            request, "directory.edit_members", decide.member(userid)
        )
        self._refuse_hidden(scope, body)
        current = await self._admin.get_member(userid)
        before = [d["id"] for d in current.get("departments", [])]
        if "department" in body:
            changed = sorted(set(before) ^ set(self._body_departments(body)))
            if changed:
                await decide.check_targets(
                    self.api,
                    user_id,
                    "directory.edit_members",
                    [decide.department(d) for d in changed],
                )
        if "enable" in body:
            await decide.check_targets(
                self.api, user_id, "directory.enable_disable", decide.member(userid)
            )
        quotas = await decide.member_quotas(self.api)
        updated = await self._admin.update_member(userid, body, quotas)
        await self.log(
            request,
            user_id,
            "directory.member.update",
            f"member:{userid}",
            current,
            updated,
        )
        return 200, (await self._strip_members(scope, [dict(updated)]))[0]

    async def delete_member(self, request: Any, userid: str) -> tuple[int, Any]:
        admin = await self.admin(
            request, "directory.edit_members", decide.member(userid)
        )
        before = await self._admin.get_member(userid)
        await self._admin.delete_member(userid)
        await self.log(
            request, admin, "directory.member.delete", f"member:{userid}", before
        )
        return 200, {}

    async def initial_password(self, request: Any, userid: str) -> tuple[int, Any]:
        admin = await self.admin(
            request, "directory.reset_password", decide.member(userid)
        )
        result = await self._admin.reset_initial_password(userid)
        # The password itself never reaches the log.
        await self.log(
            request,
            admin,
            "directory.member.reset_password",
            f"member:{userid}",
            after={"mail_queued": result.get("mail_queued")},
        )
        return 200, result

    # Tags.

    def _tag_id(self, text: str) -> int:
        return parse_int(text, "标签ID", 1)

    async def list_tags(self, request: Any) -> tuple[int, Any]:
        await self.admin(request, "directory.view", WHOLE_DIRECTORY)
        return 200, await self._admin.list_tags()

    async def create_tag(self, request: Any) -> tuple[int, Any]:
        admin = await self.admin(request, "directory.edit_members", WHOLE_DIRECTORY)
        saved = await self._admin.save_tag(None, read_json_object(request), admin)
        await self.log(
            request, admin, "directory.tag.create", f"tag:{saved['id']}", after=saved
        )
        return 200, saved

    async def get_tag(self, request: Any, tag: str) -> tuple[int, Any]:
        await self.admin(request, "directory.view", WHOLE_DIRECTORY)
        return 200, await self._admin.get_tag(self._tag_id(tag))

    async def update_tag(self, request: Any, tag: str) -> tuple[int, Any]:
        admin = await self.admin(request, "directory.edit_members", WHOLE_DIRECTORY)
        tag_id = self._tag_id(tag)
        before = await self._admin.get_tag(tag_id)
        saved = await self._admin.save_tag(tag_id, read_json_object(request), admin)
        await self.log(
            request, admin, "directory.tag.update", f"tag:{tag_id}", before, saved
        )
        return 200, saved

    async def delete_tag(self, request: Any, tag: str) -> tuple[int, Any]:
        admin = await self.admin(request, "directory.edit_members", WHOLE_DIRECTORY)
        tag_id = self._tag_id(tag)
        before = await self._admin.get_tag(tag_id)
        await self._admin.delete_tag(tag_id)
        await self.log(request, admin, "directory.tag.delete", f"tag:{tag_id}", before)
        return 200, {}

    # Settings.

    async def get_settings(self, request: Any) -> tuple[int, Any]:
        await self.admin(request, "directory.view", WHOLE_DIRECTORY)
        return 200, await self._admin.get_settings()

    async def put_settings(self, request: Any) -> tuple[int, Any]:
        admin = await self.admin(request, "directory.edit_structure", WHOLE_DIRECTORY)
        before = await self._admin.get_settings()
        saved = await self._admin.put_settings(read_json_object(request), admin)
        await self.log(
            request,
            admin,
            "directory.settings.update",
            "directory:settings",
            before,
            saved,
        )
        return 200, saved

    # Import / export.

    async def import_file(self, request: Any, kind: str) -> tuple[int, Any]:
        admin = await self.admin(request, "directory.import_export", WHOLE_DIRECTORY)
        if kind not in IMPORT_KINDS:
            raise error(404, Codes.UNRECOGNIZED, "可导入：departments、members、tags")
        filename = query_param(request, "filename")
        if not filename:
            raise error(400, Codes.MISSING_PARAM, "缺少参数 filename（.csv 或 .xlsx）")
        data = read_body(request, MAX_IMPORT_BYTES)
        quotas = await decide.member_quotas(self.api) if kind == "members" else None
        report = await self._admin.import_file(kind, filename, data, admin, quotas)
        await self.log(
            request,
            admin,
            f"directory.import.{kind}",
            f"file:{filename}",
            after=report,
            size=len(data),
        )
        return 200, report

    async def export(self, request: Any) -> tuple[int, Any]:
        await self.admin(request, "directory.import_export", WHOLE_DIRECTORY)
        data = await self._admin.export_xlsx()
        return 200, RawBody(XLSX_TYPE, data, "directory.xlsx")

    # Provisioning.

    async def jobs(self, request: Any) -> tuple[int, Any]:
        await self.admin(request, "directory.view", WHOLE_DIRECTORY)
        return 200, await self._admin.jobs()

    async def job(self, request: Any, job: str) -> tuple[int, Any]:
        await self.admin(request, "directory.view", WHOLE_DIRECTORY)
        return 200, await self._admin.job(parse_int(job, "任务ID", 1))

    async def failures(self, request: Any) -> tuple[int, Any]:
        await self.admin(request, "directory.view", WHOLE_DIRECTORY)
        return 200, await self._admin.failures()

    async def mails(self, request: Any) -> tuple[int, Any]:
        await self.admin(request, "directory.view", WHOLE_DIRECTORY)
        return 200, await self._admin.mails(query_param(request, "state"))

    async def retry(self, request: Any) -> tuple[int, Any]:
        admin = await self.admin(request, "directory.edit_members", WHOLE_DIRECTORY)
        result = await self._admin.retry()
        await self.log(
            request, admin, "directory.provisioning.retry", "directory", after=result
        )
        return 200, result
