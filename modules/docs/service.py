# SPDX-License-Identifier: AGPL-3.0-or-later
"""What the HTTP API and the WebSocket listener do with documents: who may, what is
stored, what the audit archive is told (opens, edit sessions, shares, exports,
restores, imports, deletions and refused edits: kind "document", modules.audit.public)."""

import secrets
from typing import Any

from pycrdt import Doc
from synapse.module_api import ModuleApi

from modules.audit.public import record_document
from modules.common.errors import error
from modules.common.heavy_imports import import_frozen
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.database import run_serialized_write
from modules.common.synapse.errors import Codes
from modules.common.synapse.media import upload_media
from modules.docs import (
    comments,
    content,
    office,
    roles,
    sheets,
    slides,
    storage,
    units,
)
from modules.docs.config import DocsConfig
from modules.docs.identity import Identities
from modules.docs.rooms import Room, Rooms
from modules.docs.storage import PRINCIPALS, Document, Grant
from modules.docs.verify import verify_document_txn

MAX_TITLE = 200
SHARE_ROLES = ("reader", "commenter", "editor")
MAX_GRANTS = 500
# Matrix-style errors of the document API (docs/documents.md).
DOC_NOT_FOUND = "M_NOT_FOUND"
DOC_QUOTA = "CN_JWWX_DOCS_QUOTA"
CLOSE_SHARING_CHANGED = 4401  # WebSocket close code (docs/documents.md)
_KIND_NAMES = {"sheet": "表格文档", "slides": "演示文档"}


class DocsService:
    def __init__(
        self,
        api: ModuleApi,
        config: DocsConfig,
        runtime: ModuleRuntime,
        identities: Identities,
    ) -> None:
        self.api = api
        self.config = config
        self.runtime = runtime
        self.identities = identities
        self.rooms = Rooms(api, config)
        self.server_name = api.server_name
        self.tasks: Any = None  # task_service.TaskService, set by the module
        self.extras: Any = None  # extras.DocExtras, set by the module
        self.forms: Any = None  # form_service.FormService, set by the module

    async def require(
        self, doc_id: str, user_id: str, wanted: str
    ) -> tuple[Document, str]:
        """The document and the caller's role: 404 without a role, 403 below
        `wanted`."""
        return await self._require(doc_id, user_id, wanted)

    async def over_quota(self, doc_id: str) -> bool:
        """Whether the document's unit is at or over its bytes quota (units.py)."""
        return bool(
            await self.api.run_db_interaction(
                "jwwx_docs_over_quota", units.over_bytes_txn, doc_id
            )
        )

    # Roles

    async def role_of(self, doc_id: str, user_id: str) -> str | None:
        await self.runtime.ready()
        return await self.api.run_db_interaction(
            "jwwx_docs_role", self._role_txn, doc_id, user_id
        )

    def _role_txn(self, txn: Any, doc_id: str, user_id: str) -> str | None:
        doc = storage.get_txn(txn, doc_id)
        if doc is None:
            return None
        return roles.role_txn(
            txn, doc, roles.person_txn(txn, user_id, self.server_name)
        )

    async def _require(
        self, doc_id: str, user_id: str, wanted: str
    ) -> tuple[Document, str]:
        await self.runtime.ready()
        found = await self.api.run_db_interaction(
            "jwwx_docs_require", self.doc_and_role_txn, doc_id, user_id
        )
        if found is None:
            raise error(404, DOC_NOT_FOUND, "文档不存在")
        doc, role = found
        if not roles.at_least(role, wanted):
            raise error(403, Codes.FORBIDDEN, f"需要{_ROLE_NAMES[wanted]}权限")
        return doc, role

    def doc_and_role_txn(
        self, txn: Any, doc_id: str, user_id: str
    ) -> tuple[Document, str] | None:
        doc = storage.get_txn(txn, doc_id)
        if doc is None:
            return None
        role = roles.role_txn(
            txn, doc, roles.person_txn(txn, user_id, self.server_name)
        )
        return (doc, role) if role is not None else None

    # The listener's events

    async def opened(self, doc_id: str, user_id: str, role: str) -> None:
        await record_document(self.api, user_id, "open", doc_id, role=role)

    async def refused(
        self, doc_id: str, user_id: str, role: str, root: str | None = None
    ) -> None:
        extra = {"root": root} if root is not None else {}
        await record_document(
            self.api, user_id, "edit_refused", doc_id, role=role, **extra
        )

    async def closed(self, room: Room, user_id: str, role: str, edits: int) -> None:
        try:
            if edits and self.tasks is not None:  # read its task blocks (tasks.py)
                kind = await self.api.run_db_interaction(
                    "jwwx_docs_kind", _kind_txn, room.doc_id
                )
                await self.tasks.after_session(room.doc_id, kind or "", user_id)
        finally:
            await self.rooms.release(room)
        if edits:
            await record_document(
                self.api, user_id, "edit_session", room.doc_id, role=role, updates=edits
            )

    # The HTTP API

    async def create(self, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
        await self.runtime.ready()
        title = _title(body.get("title", "无标题文档"))
        kind = body.get("kind", "rich")
        if not isinstance(kind, str) or kind not in content.KINDS:
            raise error(
                400, Codes.INVALID_PARAM, f"kind 可选：{', '.join(content.KINDS)}"
            )
        now = self.api.get_current_time_msec()
        doc = Document(
            secrets.token_urlsafe(16), kind, title, user_id, None, now, now, 0
        )
        await run_serialized_write(  # the unit quota's count
            self.api, "jwwx_docs_create", "jwwx_docs_create", self._create_txn, doc
        )
        if kind == "sheet":  # its first sheet, so that editors opening it add none
            await self.rooms.append(
                doc.doc_id, "snapshot", user_id, sheets.initial_update()
            )
        if kind == "slides":  # its first slide, likewise
            await self.rooms.append(
                doc.doc_id, "snapshot", user_id, slides.initial_update()
            )
        await record_document(self.api, user_id, "create", doc.doc_id, title=title)
        return self.describe(doc, "owner")

    async def import_docx(
        self, user_id: str, data: bytes, title: str | None, fmt: str = "docx"
    ) -> dict[str, Any]:
        """A new rich document from a .docx (or a .doc, converted first by
        LibreOffice: office.py); the answer has the import's report."""
        await self.runtime.ready()
        if len(data) > self.config.max_import_bytes:
            raise error(413, Codes.TOO_LARGE, "文件过大")
        if fmt == "doc":
            data = await office.for_import(self.api, self.config, data, "doc", "docx")
        # python-docx is loaded on the first import, not at start.
        docx_import: Any = import_frozen("modules.docs.docx_import")
        try:
            update, media, report = await self.api.defer_to_thread(
                docx_import.convert, data
            )
        except docx_import.ImportFailedError as e:
            raise error(400, Codes.INVALID_PARAM, str(e)) from e
        if media:  # the pictures, as the importing officer's uploads
            uris = [
                await upload_media(self.api, user_id, m.content_type, m.name, m.data)
                for m in media
            ]
            update = await self.api.defer_to_thread(
                docx_import.link_media, update, uris
            )
        return await self.create_imported(
            user_id, _title(title or "导入的文档"), "rich", update, fmt, report
        )

    async def create_imported(
        self,
        user_id: str,
        title: str,
        kind: str,
        state: bytes,
        fmt: str,
        report: dict[str, Any],
    ) -> dict[str, Any]:
        """A new document from an imported file (`fmt`), audited with the import's
        report of what was kept and lost; the answer has the report."""
        answer = await self.create_with(user_id, title, kind, state)
        await record_document(
            self.api, user_id, "import", answer["doc_id"], format=fmt, report=report
        )
        answer["report"] = report
        return answer

    async def upgrade_content(self, room: Room, user_id: str) -> None:
        """Bring a document's content to its current form when an editor opens it,
        as that editor's revision (before the editor's page syncs): a deck's text
        boxes still holding JSON paragraphs get their Y.Text (slides.upgrade)."""
        kind = await self.api.run_db_interaction(
            "jwwx_docs_kind", _kind_txn, room.doc_id
        )
        if kind == "slides":
            room.change(user_id, slides.upgrade)

    async def create_with(
        self, user_id: str, title: str, kind: str, state: bytes
    ) -> dict[str, Any]:
        """A new document of the caller's that starts with `state` (a snapshot)."""
        now = self.api.get_current_time_msec()
        doc = Document(
            secrets.token_urlsafe(16), kind, title, user_id, None, now, now, 0
        )
        await run_serialized_write(  # the unit quota's count
            self.api, "jwwx_docs_create", "jwwx_docs_create", self._create_txn, doc
        )
        revision = await self.rooms.append(doc.doc_id, "snapshot", user_id, state)
        answer = self.describe(doc, "owner")
        answer["revision"] = revision
        return answer

    def _create_txn(self, txn: Any, doc: Document) -> None:
        if (
            storage.count_owned_txn(txn, doc.owner)
            >= self.config.max_documents_per_user
        ):
            raise error(403, DOC_QUOTA, "文档数量已达上限")
        unit_id, department_id = units.place_txn(txn, doc.owner, self.server_name)
        units.check_quota_txn(txn, unit_id, 1)
        storage.create_txn(txn, doc, unit_id, department_id)

    def describe(self, doc: Document, role: str) -> dict[str, Any]:
        answer = doc.as_json()
        answer["role"] = role
        if self.config.websocket is not None:
            answer["websocket_url"] = (
                f"{self.config.websocket.public_url}/_jwwx/docs/v1/ws/{doc.doc_id}"
            )
        return answer

    async def get(self, user_id: str, doc_id: str) -> dict[str, Any]:
        doc, role = await self._require(doc_id, user_id, "reader")
        answer = self.describe(doc, role)
        if role == "owner":
            grants = await self.api.run_db_interaction(
                "jwwx_docs_grants", storage.grants_txn, doc_id
            )
            answer["grants"] = [g.as_json() for g in grants]
        return answer

    async def listing(self, user_id: str, which: str, limit: int) -> dict[str, Any]:
        await self.runtime.ready()
        if which == "mine":
            docs = await self.api.run_db_interaction(
                "jwwx_docs_mine", storage.owned_txn, user_id, limit
            )
            return {"documents": [self.describe(d, "owner") for d in docs]}
        found = await self.api.run_db_interaction(
            "jwwx_docs_shared", self._shared_txn, user_id, limit
        )
        return {"documents": [self.describe(d, r) for d, r in found]}

    def _shared_txn(
        self, txn: Any, user_id: str, limit: int
    ) -> list[tuple[Document, str]]:
        person = roles.person_txn(txn, user_id, self.server_name)
        return roles.shared_with_txn(txn, person, limit)

    async def rename(
        self, user_id: str, doc_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        await self._require(doc_id, user_id, "editor")
        title = _title(body.get("title"))
        now = self.api.get_current_time_msec()
        await self.api.run_db_interaction(
            "jwwx_docs_rename", storage.rename_txn, doc_id, title, now
        )
        await record_document(self.api, user_id, "rename", doc_id, title=title)
        return {"title": title}

    async def delete(self, user_id: str, doc_id: str) -> None:
        await self._require(doc_id, user_id, "owner")
        now = self.api.get_current_time_msec()
        await self.api.run_db_interaction(
            "jwwx_docs_delete", storage.delete_txn, doc_id, now
        )
        await self.rooms.close(doc_id, 4410, "deleted")
        await record_document(self.api, user_id, "delete", doc_id)

    async def share(
        self, user_id: str, doc_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Replace who else may open the document: {"grants": [{kind, id, role}],
        "link_role": null | reader | commenter | editor}."""
        await self._require(doc_id, user_id, "owner")
        grants = _grants(body.get("grants", []))
        link_role = body.get("link_role")
        if link_role is not None and link_role not in SHARE_ROLES:
            raise error(
                400,
                Codes.INVALID_PARAM,
                f"link_role 可选：{', '.join(SHARE_ROLES)} 或 null",
            )
        now = self.api.get_current_time_msec()
        await self.api.run_db_interaction(
            "jwwx_docs_share",
            storage.replace_sharing_txn,
            doc_id,
            grants,
            link_role,
            now,
        )
        # Open connections hold the role they had: they reconnect and are judged again.
        await self.rooms.close(doc_id, CLOSE_SHARING_CHANGED, "sharing changed")
        shared = [g.as_json() for g in grants]
        await record_document(
            self.api, user_id, "share", doc_id, grants=shared, link_role=link_role
        )
        return {"grants": shared, "link_role": link_role}

    async def history(self, user_id: str, doc_id: str, limit: int) -> dict[str, Any]:
        doc, _ = await self._require(doc_id, user_id, "reader")
        versions = await self.api.run_db_interaction(
            "jwwx_docs_history", storage.history_txn, doc_id, limit
        )
        return {"revision": doc.head_seq, "versions": versions}

    async def content_at(
        self,
        user_id: str,
        doc_id: str,
        revision: int | None,
        kind: str | None = None,
        fmt: str = "",
    ) -> tuple[Document, Doc[Any], int]:
        """For an export (readers and up): the document, its content at `revision`
        (default now) and that revision's number. With `kind`, a document of another
        kind is refused (400: `fmt` is only for that kind)."""
        doc, _ = await self._require(doc_id, user_id, "reader")
        if kind is not None and doc.kind != kind:
            raise error(400, Codes.INVALID_PARAM, f"{fmt} 只能导出{_KIND_NAMES[kind]}")
        await self.rooms.flush(doc_id)
        state, upto, _ = await self.rooms.load(doc_id, revision)
        old: Doc[Any] = Doc()
        old.apply_update(state)
        return doc, old, upto

    async def export(
        self, user_id: str, doc_id: str, revision: int | None
    ) -> dict[str, Any]:
        doc, old, upto = await self.content_at(user_id, doc_id, revision)
        await record_document(self.api, user_id, "export", doc_id, revision=upto)
        return {
            "revision": upto,
            "kind": doc.kind,
            "content": content.export(old, doc.kind),
        }

    async def restore(
        self, user_id: str, doc_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        doc, _ = await self._require(doc_id, user_id, "editor")
        revision = body.get("revision")
        if (
            isinstance(revision, bool)
            or not isinstance(revision, int)
            or not (1 <= revision <= doc.head_seq)
        ):
            raise error(
                400, Codes.INVALID_PARAM, f"revision 须在 1..{doc.head_seq} 之间"
            )
        await self.rooms.flush(doc_id)
        state, _, _ = await self.rooms.load(doc_id, revision)
        old: Doc[Any] = Doc()
        old.apply_update(state)
        room = await self.rooms.open(doc_id)
        try:
            room.change(user_id, lambda live: content.restore(live, old, doc.kind))
            await room.flushed()
        finally:
            await self.rooms.release(room)
        await record_document(self.api, user_id, "restore", doc_id, revision=revision)
        return {"restored": revision}

    # Comments (comments.py): written by the server into the live document.

    async def _in_room(
        self, doc_id: str, user_id: str, decide: Any
    ) -> tuple[Any, dict[str, Any]]:
        """Open the live document, let `decide(doc)` check the request and return
        (an edit or None, the answer), apply the edit as user_id's change and wait
        until it is stored."""
        room = await self.rooms.open(doc_id)
        try:
            edit, answer = decide(room.doc)
            if edit is not None:
                room.change(user_id, edit)
                await room.flushed()
        finally:
            await self.rooms.release(room)
        return edit, answer

    async def add_comment(
        self, user_id: str, doc_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        await self._require(doc_id, user_id, "commenter")
        now = self.api.get_current_time_msec()

        def decide(live: Doc[Any]) -> tuple[Any, dict[str, Any]]:
            comment = comments.new_comment(live, user_id, body, now)
            return comments.put(comment), comment

        _, comment = await self._in_room(doc_id, user_id, decide)
        await record_document(
            self.api, user_id, "comment", doc_id, comment_id=comment["id"]
        )
        return comment

    async def change_comment(
        self, user_id: str, doc_id: str, comment_id: str, body: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Resolve or reopen (body) or delete (None) a comment: its author or an
        editor."""
        _, role = await self._require(doc_id, user_id, "commenter")
        resolved = None if body is None else comments.resolved_flag(body)

        def decide(live: Doc[Any]) -> tuple[Any, dict[str, Any]]:
            comment = comments.existing(live, comment_id)
            if comment.get("author") != user_id and not roles.at_least(role, "editor"):
                raise error(403, Codes.FORBIDDEN, "只有评论者本人或编辑者可以修改评论")
            if resolved is None:
                return comments.remove(comment_id), {}
            if comment.get("resolved") == resolved:
                return None, comment
            comment["resolved"] = resolved
            return comments.put(comment), comment

        _, answer = await self._in_room(doc_id, user_id, decide)
        action = "comment_delete" if body is None else "comment_resolve"
        await record_document(
            self.api, user_id, action, doc_id, comment_id=comment_id, resolved=resolved
        )
        return answer

    async def list_comments(self, user_id: str, doc_id: str) -> dict[str, Any]:
        await self._require(doc_id, user_id, "reader")
        _, answer = await self._in_room(
            doc_id, user_id, lambda live: (None, {"comments": comments.listing(live)})
        )
        return answer

    async def verify(self, doc_id: str) -> dict[str, Any]:
        await self.runtime.ready()
        await self.rooms.flush(doc_id)
        return await self.api.run_db_interaction(
            "jwwx_docs_verify", verify_document_txn, doc_id, self.config.keys
        )


_ROLE_NAMES = {
    "reader": "阅读",
    "commenter": "评论",
    "editor": "编辑",
    "owner": "所有者",
}


def _title(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TITLE:
        raise error(400, Codes.INVALID_PARAM, f"title 须为 1..{MAX_TITLE} 个字符")
    return value.strip()


def _grants(raw: Any) -> list[Grant]:
    if not isinstance(raw, list) or len(raw) > MAX_GRANTS:
        raise error(400, Codes.INVALID_PARAM, f"grants 须为至多 {MAX_GRANTS} 项的列表")
    grants: dict[tuple[str, str], Grant] = {}
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"kind", "id", "role"}:
            raise error(400, Codes.INVALID_PARAM, "grants 每项须为 {kind, id, role}")
        kind, principal, role = item["kind"], item["id"], item["role"]
        if kind not in PRINCIPALS:
            raise error(400, Codes.INVALID_PARAM, f"kind 可选：{', '.join(PRINCIPALS)}")
        if role not in SHARE_ROLES:
            raise error(
                400, Codes.INVALID_PARAM, f"role 可选：{', '.join(SHARE_ROLES)}"
            )
        if isinstance(principal, int) and not isinstance(principal, bool):
            principal = str(principal)
        if not isinstance(principal, str) or not principal or len(principal) > 255:
            raise error(400, Codes.INVALID_PARAM, "id 须为用户 ID、部门 ID 或标签 ID")
        if kind == "user" and not (principal.startswith("@") and ":" in principal):
            raise error(400, Codes.INVALID_PARAM, f"{principal} 不是用户 ID")
        if kind != "user" and not principal.isdigit():
            raise error(400, Codes.INVALID_PARAM, f"{principal} 不是{kind} ID")
        grants[(kind, principal)] = Grant(kind, principal, role)
    return list(grants.values())


def _kind_txn(txn: Any, doc_id: str) -> str | None:
    doc = storage.get_txn(txn, doc_id)
    return doc.kind if doc else None
