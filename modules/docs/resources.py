# SPDX-License-Identifier: AGPL-3.0-or-later
"""The document API under /_jwwx/client/v1/docs (the officer's access token):

POST   ""                     {title?, kind?: rich|text|sheet|slides}  create (mine)
POST   import?format=docx|doc|xlsx|xls|csv&title=  the file as the body: a new rich
                              (docx, doc) or sheet (xlsx, xls, csv) document and the
                              import's report (what was kept, what was lost);
                              format=doc|xls: a legacy Office file, converted by
                              LibreOffice first (office.py); xlsx, xls, csv:
                              sheet_files.py
POST   import?format=pptx|ppt&title=  a new slides document (slide_files.py; ppt
                              converted by LibreOffice Impress first)
GET    ""?filter=mine|shared  documents I own / shared with me (limit=, default 50)
GET    {doc_id}               one document, my role, its websocket_url (owner: grants)
PUT    {doc_id}/title         {title}  rename (editors)
DELETE {doc_id}               delete (owner); open editors are disconnected
PUT    {doc_id}/sharing       {grants: [{kind: user|department|tag, id, role}],
                              link_role: null|reader|commenter|editor}  (owner)
GET    {doc_id}/history       versions (snapshots, restores) and the last revision
GET    {doc_id}/export?revision=N  the content as JSON (now, or at revision N);
                              ?format=docx: the document as Word (docx_export.py);
                              ?format=xlsx|csv&sheet=&revision=: a sheet document
                              as a file (sheet_files.py); ?format=pptx&revision=:
                              a slides document as PowerPoint (slide_files.py)
POST   {doc_id}/restore       {revision}  copy revision N's content forward (editors)
GET    {doc_id}/comments      the comments on ranges of the document (comments.py)
POST   {doc_id}/comments      {body, start, end, quote?}  comment a range (commenters)
PUT    {doc_id}/comments/{comment_id}  {resolved}  (its author or an editor)
DELETE {doc_id}/comments/{comment_id}  (its author or an editor)
GET    tasks?status=open|done|all  my open steps (待办), the finished tasks I had a
                              step in, or every task I have a step in (tasks.py)
GET    {doc_id}/tasks         the document's tasks (readers)
POST   {doc_id}/tasks/sync    read the task blocks now (editors; also done when an
                              edit session ends)
POST   {doc_id}/tasks/{task_id}/complete  {step?}  the open step, by its assignee
GET    templates              business templates (templates.py)
POST   from-template          {template, title?}  a new document from a template
POST   {doc_id}/share-to-room {room_id}  a card of the document in a chat (extras.py)
forms/…                       collection forms (form_resources.py, form_service.py)

and for audit admins (right audit.verify) under /_jwwx/admin/v1/docs:
GET    {doc_id}/verify        the SM3 chain and SM4 seals of every revision
and for document admins (right docs.manage over the owner's department; units.py):
GET    ?unit=ID&limit=N       documents in the admin's scope (of one unit)
GET    {doc_id}               a document with its sharing
DELETE {doc_id}               delete it (open editors are disconnected)
for the super admin (unit quotas): GET quotas; PUT quotas/{unit_id|total}
{documents, bytes} (integers or null); and with the right docs.templates:
POST   templates              {doc_id, name}  a template from a document I may open
DELETE templates/{template_id}
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common.admin import check_admin_request, check_targets
from modules.common.admin_router import AdminRouter
from modules.common.errors import error
from modules.common.inputs import query_param, read_body, read_json_object
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import Codes
from modules.docs import sheet_files, slide_files
from modules.docs.admin_service import DocsAdmin, newest_in_scope, target_of
from modules.docs.form_resources import FormAdminRoutes, FormRoutes
from modules.docs.service import DocsService

CLIENT_PREFIX = "/_jwwx/client/v1/docs"
ADMIN_PREFIX = "/_jwwx/admin/v1/docs"
MANAGE = "docs.manage"  # 文档管理员 (admin_api's rights)
TEMPLATES = "docs.templates"
QUOTAS = "docs.quotas"  # no group's right: the super admin's alone


class DocsResource(Router):
    prefix = CLIENT_PREFIX

    def __init__(self, api: ModuleApi, service: DocsService) -> None:
        super().__init__(api)
        self._service = service
        self.route("POST", "", self.create)
        self.route("GET", "", self.list)
        self.route("POST", "import", self.import_file)
        self.route("GET", "tasks", self.my_tasks)
        self.route("GET", "templates", self.templates)
        self.route("POST", "from-template", self.from_template)
        FormRoutes(self, service.forms)  # forms/…, ahead of {doc_id}
        self.route("GET", "{doc_id}", self.get)
        self.route("PUT", "{doc_id}/title", self.rename)
        self.route("DELETE", "{doc_id}", self.delete)
        self.route("PUT", "{doc_id}/sharing", self.share)
        self.route("GET", "{doc_id}/history", self.history)
        self.route("GET", "{doc_id}/export", self.export)
        self.route("POST", "{doc_id}/restore", self.restore)
        self.route("GET", "{doc_id}/comments", self.comments)
        self.route("POST", "{doc_id}/comments", self.comment)
        self.route("PUT", "{doc_id}/comments/{comment_id}", self.resolve_comment)
        self.route("DELETE", "{doc_id}/comments/{comment_id}", self.delete_comment)
        self.route("GET", "{doc_id}/tasks", self.doc_tasks)
        self.route("POST", "{doc_id}/tasks/sync", self.sync_tasks)
        self.route("POST", "{doc_id}/tasks/{task_id}/complete", self.complete_task)
        self.route("POST", "{doc_id}/share-to-room", self.share_to_room)

    async def create(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        return 200, await self._service.create(user_id, read_json_object(request))

    async def import_file(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        fmt = query_param(request, "format") or "docx"
        if fmt not in (
            "docx",
            "doc",
            *sheet_files.IMPORT_FORMATS,
            *slide_files.FORMATS,
        ):
            raise error(
                400,
                Codes.INVALID_PARAM,
                "format 可选：docx、doc、xlsx、xls、csv、pptx、ppt",
            )
        title = query_param(request, "title")
        data = read_body(request, self._service.config.max_import_bytes)
        if fmt in sheet_files.IMPORT_FORMATS:
            return 200, await sheet_files.import_file(
                self._service, user_id, fmt, data, title
            )
        if fmt in slide_files.FORMATS:
            return 200, await slide_files.import_file(
                self._service, user_id, fmt, data, title
            )
        return 200, await self._service.import_docx(user_id, data, title, fmt)

    async def list(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        which = query_param(request, "filter") or "mine"
        if which not in ("mine", "shared"):
            raise error(400, Codes.INVALID_PARAM, "filter 可选：mine、shared")
        limit = self.integer_arg(request, "limit", 50, 1, 500)
        return 200, await self._service.listing(user_id, which, limit)

    async def get(self, request: Any, doc_id: str) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        return 200, await self._service.get(user_id, doc_id)

    async def rename(self, request: Any, doc_id: str) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        body = read_json_object(request)
        return 200, await self._service.rename(user_id, doc_id, body)

    async def delete(self, request: Any, doc_id: str) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        await self._service.delete(user_id, doc_id)
        return 200, {}

    async def share(self, request: Any, doc_id: str) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        body = read_json_object(request)
        return 200, await self._service.share(user_id, doc_id, body)

    async def history(self, request: Any, doc_id: str) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        limit = self.integer_arg(request, "limit", 50, 1, 500)
        return 200, await self._service.history(user_id, doc_id, limit)

    async def export(self, request: Any, doc_id: str) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        fmt = query_param(request, "format") or "json"
        if fmt not in ("json", "docx", "pptx") and fmt not in sheet_files.FORMATS:
            raise error(
                400, Codes.INVALID_PARAM, "format 可选：json、docx、xlsx、csv、pptx"
            )
        if fmt == "docx":
            return 200, await self._service.extras.export_docx(user_id, doc_id)
        revision = None
        if query_param(request, "revision") is not None:
            revision = self.integer_arg(request, "revision", 1, 1, 2**53)
        if fmt == "pptx":
            return 200, await slide_files.export_file(
                self._service, user_id, doc_id, revision
            )
        if fmt in sheet_files.FORMATS:
            return 200, await sheet_files.export_file(
                self._service,
                user_id,
                doc_id,
                fmt,
                revision,
                query_param(request, "sheet"),
            )
        return 200, await self._service.export(user_id, doc_id, revision)

    async def restore(self, request: Any, doc_id: str) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        body = read_json_object(request)
        return 200, await self._service.restore(user_id, doc_id, body)

    async def comments(self, request: Any, doc_id: str) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        return 200, await self._service.list_comments(user_id, doc_id)

    async def comment(self, request: Any, doc_id: str) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        body = read_json_object(request)
        return 200, await self._service.add_comment(user_id, doc_id, body)

    async def resolve_comment(
        self, request: Any, doc_id: str, comment_id: str
    ) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        body = read_json_object(request)
        return 200, await self._service.change_comment(
            user_id, doc_id, comment_id, body
        )

    async def delete_comment(
        self, request: Any, doc_id: str, comment_id: str
    ) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        await self._service.change_comment(user_id, doc_id, comment_id, None)
        return 200, {}

    # Tasks (tasks.py), templates, sharing into a chat (extras.py)

    async def my_tasks(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        status = query_param(request, "status") or "open"
        limit = self.integer_arg(request, "limit", 100, 1, 500)
        return 200, await self._service.tasks.mine(user_id, status, limit)

    async def doc_tasks(self, request: Any, doc_id: str) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        return 200, await self._service.tasks.doc_tasks(user_id, doc_id)

    async def sync_tasks(self, request: Any, doc_id: str) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        doc, _ = await self._service.require(doc_id, user_id, "editor")
        if doc.kind != "rich":
            raise error(400, Codes.INVALID_PARAM, "只有富文本文档可以有任务")
        return 200, await self._service.tasks.sync(doc_id, user_id)

    async def complete_task(
        self, request: Any, doc_id: str, task_id: str
    ) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        body = read_json_object(request)
        return 200, await self._service.tasks.complete(user_id, doc_id, task_id, body)

    async def templates(self, request: Any) -> tuple[int, Any]:
        await self.requester_id(request)
        return 200, await self._service.extras.list_templates()

    async def from_template(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        body = read_json_object(request)
        return 200, await self._service.extras.from_template(user_id, body)

    async def share_to_room(self, request: Any, doc_id: str) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        body = read_json_object(request)
        return 200, await self._service.extras.share_to_room(user_id, doc_id, body)


class DocsAdminResource(AdminRouter):
    prefix = ADMIN_PREFIX

    def __init__(
        self, api: ModuleApi, runtime: ModuleRuntime, service: DocsService
    ) -> None:
        super().__init__(api, runtime)
        self._service = service
        self._admin = DocsAdmin(service)
        self.route("GET", "", self.documents)
        self.route("GET", "quotas", self.quotas)
        self.route("PUT", "quotas/{unit}", self.set_quota)
        self.route("POST", "templates", self.add_template)
        self.route("DELETE", "templates/{template_id}", self.delete_template)
        FormAdminRoutes(self, service.forms)  # forms/…, ahead of {doc_id}
        self.route("GET", "{doc_id}", self.document)
        self.route("DELETE", "{doc_id}", self.delete)
        self.route("GET", "{doc_id}/verify", self.verify)

    async def verify(self, request: Any, doc_id: str) -> tuple[int, Any]:
        await self.admin(request, "audit.verify")
        return 200, await self._service.verify(doc_id)

    # Document admins (units.py): the documents of owners in their scope.

    async def documents(self, request: Any) -> tuple[int, Any]:
        _, scope = await self.admin_scope(request, MANAGE)
        unit = None
        if query_param(request, "unit") is not None:
            unit = self.integer_arg(request, "unit", 0, 1, 10**12)
        limit = self.integer_arg(request, "limit", 100, 1, 1000)
        if scope.unrestricted:
            return 200, {"documents": await self._admin.documents(unit, limit)}
        found = await newest_in_scope(
            scope,
            lambda after: self._admin.documents(unit, limit, after),
            lambda d: d["department_id"],
            lambda d: (d["updated_ts"], d["doc_id"]),
            limit,
        )
        return 200, {"documents": found}

    async def document(self, request: Any, doc_id: str) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        await check_admin_request(self.api, request, user_id)
        _, department_id = await self._admin.place(doc_id)
        await check_targets(self.api, user_id, MANAGE, target_of(department_id))
        await self._runtime.ready()
        return 200, await self._admin.document(doc_id)

    async def delete(self, request: Any, doc_id: str) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        await check_admin_request(self.api, request, user_id)
        _, department_id = await self._admin.place(doc_id)
        await check_targets(self.api, user_id, MANAGE, target_of(department_id))
        before = await self._admin.document(doc_id)
        await self._admin.delete(user_id, doc_id)
        await self.log(
            request,
            user_id,
            "docs.document.delete",
            f"document:{doc_id}",
            {"title": before["title"], "owner": before["owner"]},
            None,
        )
        return 200, {}

    async def quotas(self, request: Any) -> tuple[int, Any]:
        await self.admin(request, QUOTAS)
        return 200, await self._admin.quotas()

    async def set_quota(self, request: Any, unit: str) -> tuple[int, Any]:
        user_id = await self.admin(request, QUOTAS)
        body = read_json_object(request)
        answer = await self._admin.set_quota(user_id, unit, body)
        await self.log(
            request, user_id, "docs.quota.set", f"unit:{unit}", None, answer["quota"]
        )
        return 200, answer

    async def add_template(self, request: Any) -> tuple[int, Any]:
        user_id = await self.admin(request, TEMPLATES)
        answer = await self._admin.add_template(user_id, read_json_object(request))
        await self.log(
            request,
            user_id,
            "docs.template.add",
            f"template:{answer['id']}",
            None,
            answer,
        )
        return 200, answer

    async def delete_template(self, request: Any, template_id: str) -> tuple[int, Any]:
        user_id = await self.admin(request, TEMPLATES)
        await self._admin.delete_template(template_id)
        await self.log(
            request, user_id, "docs.template.delete", f"template:{template_id}"
        )
        return 200, {}
