# SPDX-License-Identifier: AGPL-3.0-or-later
"""Documents per unit: where a document belongs, the units' quotas, document admins.

A document belongs to its owner's unit (二级单位, as the accounts' quotas count
members: the second level of the main department's path, the root itself for members
of a root) and main department, as they were when it was made; an owner outside the
directory gives neither (such documents count only in the bureau's total).

Quotas (like the accounts' 授权人数, per second-level unit and in total, set by the
super admin): `documents` (documents not deleted) and `bytes` (the sealed revisions
they hold), each an integer or null (no limit). A new document (create, import,
template) of a unit at its documents quota, or at or over its bytes quota, is refused
with 403 CN_JWWX_DOCS_UNIT_QUOTA (unit, quota, usage in the answer); so is the
bureau's total. Editing a document of a unit at or over its bytes quota: the socket
is admitted read-only for edits (an update closes it with 4413) until the quota is
raised or documents are deleted; checked when an editor connects.

Document admins: an admin group holding `docs.manage` sees and manages the documents
whose department (the owner's main department) is in the group's scope: list them,
read one with its sharing, delete one (admin_api's decision API, as every admin
endpoint; each write in the operation log)."""

from typing import Any

from modules.common.errors import error
from modules.common.storage import Txn
from modules.directory import public as directory
from modules.docs.storage import flow as storage_flow
from modules.docs.storage.flow import TOTAL

UNIT_QUOTA = "CN_JWWX_DOCS_UNIT_QUOTA"
MAX_QUOTA = 10**15


def place_txn(
    txn: Txn, user_id: str, server_name: str
) -> tuple[int | None, int | None]:
    """(unit id, main department id) of an officer; (None, None) outside the
    directory."""
    localpart, _, server = user_id[1:].partition(":")
    if server != server_name:
        return None, None
    member = directory.get_member_txn(txn, localpart)
    if member is None or not member.memberships:
        return None, None
    units = directory.units_of_txn(txn, [localpart])
    unit = units.get(localpart)
    return (unit[0] if unit else None), member.memberships[0].department_id


def check_quota_txn(txn: Txn, unit_id: int | None, adding_documents: int) -> None:
    """403 CN_JWWX_DOCS_UNIT_QUOTA if the unit (or the bureau) may not grow: at its
    documents quota (when adding one) or at or over its bytes quota."""
    quotas = storage_flow.quotas_txn(txn)
    if not quotas:
        return
    for unit in (unit_id, None):
        key = TOTAL if unit is None else unit
        if key not in quotas or (unit is not None and unit == TOTAL):
            continue
        max_documents, max_bytes = quotas[key]
        documents, size = storage_flow.usage_txn(txn, unit)
        where = "全局" if unit is None else f"单位 {unit}"
        if max_documents is not None and documents + adding_documents > max_documents:
            raise error(
                403,
                UNIT_QUOTA,
                f"{where}的文档数量配额为 {max_documents}，已有 {documents} 个",
                unit_id=unit,
                quota={"documents": max_documents},
                usage={"documents": documents},
            )
        if max_bytes is not None and size >= max_bytes:
            raise error(
                403,
                UNIT_QUOTA,
                f"{where}的文档存储配额为 {max_bytes} 字节，已用 {size} 字节",
                unit_id=unit,
                quota={"bytes": max_bytes},
                usage={"bytes": size},
            )


def over_bytes_txn(txn: Txn, doc_id: str) -> bool:
    """Whether the document's unit (or the bureau) is at or over its bytes quota."""
    quotas = storage_flow.quotas_txn(txn)
    if not quotas:
        return False
    place = storage_flow.document_place_txn(txn, doc_id)
    if place is None:
        return False
    for unit in (place[0], None):
        key = TOTAL if unit is None else unit
        limit = quotas.get(key, (None, None))[1]
        if limit is not None and storage_flow.usage_txn(txn, unit)[1] >= limit:
            return True
    return False


def quota_value(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is not None and (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 <= value <= MAX_QUOTA
    ):
        raise error(
            400, "M_INVALID_PARAM", f"{name} 须为 0..{MAX_QUOTA} 的整数或 null（不限）"
        )
    return value


def quotas_listing_txn(txn: Txn) -> dict[str, Any]:
    quotas = storage_flow.quotas_txn(txn)
    usage = storage_flow.usage_by_unit_txn(txn)
    units = sorted((set(quotas) - {TOTAL}) | set(usage))
    names = directory.get_departments_txn(txn, units)

    def row(key: int, used: tuple[int, int]) -> dict[str, Any]:
        max_documents, max_bytes = quotas.get(key, (None, None))
        return {
            "quota": {"documents": max_documents, "bytes": max_bytes},
            "usage": {"documents": used[0], "bytes": used[1]},
            "over_quota": (max_documents is not None and used[0] > max_documents)
            or (max_bytes is not None and used[1] > max_bytes),
        }

    return {
        "units": [
            {
                "id": u,
                "name": names[u].name if u in names else str(u),
                **row(u, usage.get(u, (0, 0))),
            }
            for u in units
        ],
        "total": row(TOTAL, storage_flow.usage_txn(txn, None)),
    }
