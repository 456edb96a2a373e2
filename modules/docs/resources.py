# SPDX-License-Identifier: AGPL-3.0-or-later
"""The document API under /_jwwx/client/v1/docs (the officer's access token):

POST   ""                     {title?, kind?: rich|text}  create (the caller owns it)
POST   import?format=docx&title=  the file as the body: a new rich document and the
                              import's report (what was kept, what was lost)
GET    ""?filter=mine|shared  documents I own / shared with me (limit=, default 50)
GET    {doc_id}               one document, my role, its websocket_url (owner: grants)
PUT    {doc_id}/title         {title}  rename (editors)
DELETE {doc_id}               delete (owner); open editors are disconnected
PUT    {doc_id}/sharing       {grants: [{kind: user|department|tag, id, role}],
                              link_role: null|reader|commenter|editor}  (owner)
GET    {doc_id}/history       versions (snapshots, restores) and the last revision
GET    {doc_id}/export?revision=N  the content as JSON (now, or at revision N)
POST   {doc_id}/restore       {revision}  copy revision N's content forward (editors)
GET    {doc_id}/comments      the comments on ranges of the document (comments.py)
POST   {doc_id}/comments      {body, start, end, quote?}  comment a range (commenters)
PUT    {doc_id}/comments/{comment_id}  {resolved}  (its author or an editor)
DELETE {doc_id}/comments/{comment_id}  (its author or an editor)

and for audit admins (right audit.verify) under /_jwwx/admin/v1/docs:
GET    {doc_id}/verify        the SM3 chain and SM4 seals of every revision
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common.admin_router import AdminRouter
from modules.common.errors import error
from modules.common.inputs import query_param, read_body, read_json_object
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import Codes
from modules.docs.service import DocsService

CLIENT_PREFIX = "/_jwwx/client/v1/docs"
ADMIN_PREFIX = "/_jwwx/admin/v1/docs"


class DocsResource(Router):
    prefix = CLIENT_PREFIX

    def __init__(self, api: ModuleApi, service: DocsService) -> None:
        super().__init__(api)
        self._service = service
        self.route("POST", "", self.create)
        self.route("GET", "", self.list)
        self.route("POST", "import", self.import_file)
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

    async def create(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        return 200, await self._service.create(user_id, read_json_object(request))

    async def import_file(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        fmt = query_param(request, "format") or "docx"
        if fmt != "docx":
            raise error(400, Codes.INVALID_PARAM, "format 可选：docx")
        title = query_param(request, "title")
        data = read_body(request, self._service.config.max_import_bytes)
        return 200, await self._service.import_docx(user_id, data, title)

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
        revision = None
        if query_param(request, "revision") is not None:
            revision = self.integer_arg(request, "revision", 1, 1, 2**53)
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


class DocsAdminResource(AdminRouter):
    prefix = ADMIN_PREFIX

    def __init__(
        self, api: ModuleApi, runtime: ModuleRuntime, service: DocsService
    ) -> None:
        super().__init__(api, runtime)
        self._service = service
        self.route("GET", "{doc_id}/verify", self.verify)

    async def verify(self, request: Any, doc_id: str) -> tuple[int, Any]:
        await self.admin(request, "audit.verify")
        return 200, await self._service.verify(doc_id)
