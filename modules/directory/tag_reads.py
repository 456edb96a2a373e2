# SPDX-License-Identifier: AGPL-3.0-or-later
"""Tags (标签) for officers: GET /_jwwx/client/v1/directory/tags and tags/{id}.

An officer sees a tag when it holds at least one member or department his directory
visibility shows (visibility.py), and of it only those: a tag with nothing visible
answers 404 CN_JWWX_TAG_NOT_FOUND, exactly as a missing one. Member fields as every
other read path gives them (the visible_fields setting). Admins (directory.read) see
everything, as elsewhere. The admin API (admin.py) writes tags."""

from typing import Any

from modules.common.storage import Txn
from modules.directory import errors
from modules.directory.errors import DirectoryError
from modules.directory.reader import DirectoryReader
from modules.directory.storage import members as member_store
from modules.directory.storage import tags as tag_store
from modules.directory.storage.departments import get_departments_txn
from modules.directory.views import department_json
from modules.directory.visibility import Viewer


def tags_txn(txn: Txn, viewer: Viewer) -> dict[str, Any]:
    counts = tag_store.tag_member_counts_txn(txn, viewer.visibility)
    departments_of = tag_store.tag_department_ids_txn(txn)
    ids = sorted({d for found in departments_of.values() for d in found})
    visible = {
        i for i, d in get_departments_txn(txn, ids).items() if viewer.sees_department(d)
    }
    tags = []
    for tag_id, name, member_count in counts:
        department_count = sum(
            1 for d in departments_of.get(tag_id, ()) if d in visible
        )
        if member_count or department_count:
            tags.append(
                {
                    "id": tag_id,
                    "name": name,
                    "member_count": member_count,
                    "department_count": department_count,
                }
            )
    return {"tags": tags}


def tag_txn(
    txn: Txn,
    reader: DirectoryReader,
    viewer: Viewer,
    tag_id: int,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """The tag's visible departments (on every page) and a page of its visible members."""
    name = tag_store.tag_name_txn(txn, tag_id)
    found = get_departments_txn(txn, tag_store.department_ids_of_tag_txn(txn, tag_id))
    departments = [d for _, d in sorted(found.items()) if viewer.sees_department(d)]
    userids = tag_store.visible_tag_members_txn(
        txn, tag_id, viewer.visibility, limit + 1, offset
    )
    if name is None or (not departments and not userids and offset == 0):
        raise DirectoryError(errors.TAG_NOT_FOUND, f"标签 {tag_id} 不存在")
    page = userids[:limit]
    members = member_store.get_members_txn(txn, page)
    return {
        "id": tag_id,
        "name": name,
        "departments": [department_json(d, viewer.admin) for d in departments],
        "members": reader.members_json_txn(
            txn, viewer, [members[u] for u in page if u in members]
        ),
        "next_from": str(offset + limit) if len(userids) > limit else None,
    }
