# SPDX-License-Identifier: AGPL-3.0-or-later
"""The database side of the directory export (exporter.py writes the workbook): every
department, member and tag read in one transaction as import records."""

from modules.common.storage import Txn
from modules.directory.importing import load_tree_txn
from modules.directory.records import (
    DepartmentRecord,
    DepartmentRef,
    MemberRecord,
    MembershipRecord,
    TagRecord,
)
from modules.directory.storage import departments as dept_store
from modules.directory.storage import members as member_store
from modules.directory.storage import social


def export_records_txn(
    txn: Txn,
) -> tuple[list[DepartmentRecord], list[MemberRecord], list[TagRecord]]:
    """Every department, member and tag as the records the exporter writes."""
    tree = load_tree_txn(txn)
    departments = [
        DepartmentRecord(
            row=0,
            name=d.name,
            id=d.id,
            parent_id=d.parent_id,
            path=tree.names_of(d.id),
            sort_order=d.sort_order,
            hidden=d.hidden,
            restricted=d.restricted,
        )
        for d in dept_store.all_departments_txn(txn)
    ]
    members_by_id = member_store.get_members_txn(
        txn, member_store.all_member_userids_txn(txn)
    )
    members = [
        MemberRecord(
            row=0,
            userid=m.userid,
            name=m.name,
            gender=m.gender,
            mobile=m.mobile or "",
            telephone=m.telephone or "",
            email=m.email or "",
            position=m.position or "",
            memberships=tuple(
                MembershipRecord(
                    DepartmentRef(department_id=ms.department_id),
                    ms.sort_order,
                    ms.is_leader,
                )
                for ms in m.memberships
            ),
            sort_order=m.sort_order,
            hidden=m.hidden,
            enabled=m.enabled,
        )
        for m in members_by_id.values()
    ]
    tags = []
    for tag_id, _name in social.list_tags_txn(txn):
        tag = social.require_tag_txn(txn, tag_id)
        tags.append(
            TagRecord(
                row=0,
                name=tag.name,
                userids=tag.userids,
                departments=tuple(
                    DepartmentRef(department_id=d) for d in tag.department_ids
                ),
            )
        )
    return departments, members, tags
