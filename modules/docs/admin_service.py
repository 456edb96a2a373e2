# SPDX-License-Identifier: AGPL-3.0-or-later
"""The document admins' side (units.py says who and what): documents in scope, unit
quotas, the bureau's templates. The resource checks the right and its targets through
admin_api's decision API and writes the operation log; this does the work."""

import base64
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from modules.audit.public import record_document
from modules.common.admin import AdminScope, Target, department
from modules.common.errors import error
from modules.common.gm import sm4_seal
from modules.common.synapse.errors import Codes
from modules.directory import public as directory
from modules.docs import storage, templates, units
from modules.docs.storage import flow as storage_flow
from modules.docs.storage.flow import TOTAL

if TYPE_CHECKING:
    from modules.docs.service import DocsService

DOC_NOT_FOUND = "M_NOT_FOUND"
NOT_A_UNIT = "CN_JWWX_DOCS_NOT_A_UNIT"


def target_of(department_id: int | None) -> Target:
    """What an admin must hold `docs.manage` over: the document's department (no
    department: the whole directory, i.e. an unrestricted admin)."""
    return department(department_id) if department_id is not None else Target("all")


T = TypeVar("T")


async def newest_in_scope(
    scope: AdminScope,
    page: Callable[[tuple[int, str] | None], Awaitable[list[T]]],
    department_of: Callable[[T], int | None],
    cursor_of: Callable[[T], tuple[int, str]],
    limit: int,
) -> list[T]:
    """The newest `limit` rows a scoped admin may see: pages of the bureau's (or the
    unit's) newest, each kept to his scope, until enough are found or none are left
    (the bureau's newest may all be out of his scope)."""
    found: list[T] = []
    after: tuple[int, str] | None = None
    while len(found) < limit:
        rows = await page(after)
        kept = set(await scope.filter([target_of(department_of(r)) for r in rows]))
        found += [r for r in rows if target_of(department_of(r)) in kept]
        if len(rows) < limit:
            break
        after = cursor_of(rows[-1])
    return found[:limit]


class DocsAdmin:
    def __init__(self, docs: "DocsService") -> None:
        self.docs = docs
        self.api = docs.api

    async def place(self, doc_id: str) -> tuple[int | None, int | None]:
        await self.docs.runtime.ready()
        found = await self.api.run_db_interaction(
            "jwwx_docs_place", storage_flow.document_place_txn, doc_id
        )
        if found is None:
            raise error(404, DOC_NOT_FOUND, "文档不存在")
        return found

    async def documents(
        self, unit: int | None, limit: int, after: tuple[int, str] | None = None
    ) -> list[dict[str, Any]]:
        rows = await self.api.run_db_interaction(
            "jwwx_docs_unit_documents",
            storage_flow.unit_documents_txn,
            unit,
            limit,
            after,
        )
        return [
            {
                "doc_id": r[0],
                "kind": r[1],
                "title": r[2],
                "owner": r[3],
                "unit_id": r[4],
                "department_id": r[5],
                "bytes": r[6],
                "updated_ts": r[7],
            }
            for r in rows
        ]

    async def document(self, doc_id: str) -> dict[str, Any]:
        doc = await self.api.run_db_interaction(
            "jwwx_docs_get", storage.get_txn, doc_id
        )
        if doc is None:
            raise error(404, DOC_NOT_FOUND, "文档不存在")
        grants = await self.api.run_db_interaction(
            "jwwx_docs_grants", storage.grants_txn, doc_id
        )
        answer = doc.as_json()
        answer["grants"] = [g.as_json() for g in grants]
        return answer

    async def delete(self, admin: str, doc_id: str) -> None:
        now = self.api.get_current_time_msec()
        await self.api.run_db_interaction(
            "jwwx_docs_delete", storage.delete_txn, doc_id, now
        )
        await self.docs.rooms.close(doc_id, 4410, "deleted")
        await record_document(self.api, admin, "delete", doc_id, by_admin=True)

    # Quotas

    async def quotas(self) -> dict[str, Any]:
        await self.docs.runtime.ready()
        return dict(
            await self.api.run_db_interaction(
                "jwwx_docs_quotas", units.quotas_listing_txn
            )
        )

    async def set_quota(
        self, admin: str, unit: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        await self.docs.runtime.ready()
        if set(body) - {"documents", "bytes"} or not body:
            raise error(400, Codes.INVALID_PARAM, "请求体须为 {documents, bytes}")
        documents = units.quota_value(body, "documents")
        size = units.quota_value(body, "bytes")
        if unit == "total":
            unit_id = TOTAL
        else:
            if not re.fullmatch(r"[1-9][0-9]{0,11}", unit):
                raise error(400, Codes.INVALID_PARAM, f"单位ID“{unit}”不合法")
            unit_id = int(unit)
            found = await self.api.run_db_interaction(
                "jwwx_docs_unit", directory.get_departments_txn, [unit_id]
            )
            node = found.get(unit_id)
            if node is None:
                raise error(
                    404, "CN_JWWX_DEPARTMENT_NOT_FOUND", f"部门 {unit_id} 不存在"
                )
            if len(node.path_ids) > 2:
                raise error(
                    400,
                    NOT_A_UNIT,
                    f"部门 {unit_id}（{node.name}）不是二级单位：配额只能按单位设置",
                )
        now = self.api.get_current_time_msec()
        await self.api.run_db_interaction(
            "jwwx_docs_set_quota",
            storage_flow.set_quota_txn,
            unit_id,
            documents,
            size,
            admin,
            now,
        )
        return {
            "unit_id": None if unit_id == TOTAL else unit_id,
            "quota": {"documents": documents, "bytes": size},
        }

    # Templates

    async def add_template(self, admin: str, body: dict[str, Any]) -> dict[str, Any]:
        await self.docs.runtime.ready()
        if set(body) - {"doc_id", "name"}:
            raise error(400, Codes.INVALID_PARAM, "只可有 doc_id、name")
        name = body.get("name")
        if not isinstance(name, str) or not 0 < len(name.strip()) <= 100:
            raise error(400, Codes.INVALID_PARAM, "name 须为 1..100 个字符")
        doc_id = body.get("doc_id")
        doc = None
        if isinstance(doc_id, str):  # one the admin may open himself
            found = await self.api.run_db_interaction(
                "jwwx_docs_require", self.docs.doc_and_role_txn, doc_id, admin
            )
            doc = found[0] if found else None
        if doc is None:
            raise error(404, DOC_NOT_FOUND, "文档不存在")
        await self.docs.rooms.flush(doc.doc_id)
        state, _, _ = await self.docs.rooms.load(doc.doc_id)
        copied = templates.copied_state(state, doc.kind)
        config = self.docs.config
        sealed = base64.b64encode(sm4_seal(config.current_key, copied)).decode()
        template_id = "t_" + secrets.token_urlsafe(9)
        now = self.api.get_current_time_msec()
        await self.api.run_db_interaction(
            "jwwx_docs_add_template",
            storage_flow.add_template_txn,
            template_id,
            name.strip(),
            doc.kind,
            config.current_key_id,
            sealed,
            admin,
            now,
        )
        return {
            "id": template_id,
            "name": name.strip(),
            "kind": doc.kind,
            "from_doc_id": doc.doc_id,
        }

    async def delete_template(self, template_id: str) -> None:
        await self.docs.runtime.ready()
        removed = await self.api.run_db_interaction(
            "jwwx_docs_delete_template", storage_flow.delete_template_txn, template_id
        )
        if not removed:
            raise error(404, "CN_JWWX_DOC_TEMPLATE_NOT_FOUND", "模板不存在")
