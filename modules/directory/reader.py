# SPDX-License-Identifier: AGPL-3.0-or-later
"""Read paths of the directory for officers (and admins), visibility applied everywhere."""

from typing import Any

from modules.common.storage import Txn
from modules.directory import errors
from modules.directory.errors import DirectoryError
from modules.directory.pinyin import normalise_query, prefix_upper_bound
from modules.directory.storage import departments as dept_store
from modules.directory.storage import members as member_store
from modules.directory.storage import search as member_search
from modules.directory.storage import social
from modules.directory.storage.departments import Department
from modules.directory.storage.members import Member
from modules.directory.views import department_json, member_json
from modules.directory.visibility import Viewer

VISIBLE_FIELDS_SETTING = "visible_fields"


class DirectoryReader:
    """Each public method is a `_txn` function: one consistent snapshot per request."""

    def __init__(
        self, server_name: str, default_visible_fields: tuple[str, ...]
    ) -> None:
        self._server_name = server_name
        self._default_fields = default_visible_fields

    def visible_fields_txn(self, txn: Txn) -> tuple[str, ...]:
        stored = social.get_setting_txn(txn, VISIBLE_FIELDS_SETTING)
        return tuple(stored) if stored is not None else self._default_fields

    def _fields_for(self, txn: Txn, viewer: Viewer) -> tuple[str, ...] | None:
        return None if viewer.admin else self.visible_fields_txn(txn)

    def _visible_department_txn(
        self, txn: Txn, viewer: Viewer, department_id: int
    ) -> Department:
        department = dept_store.get_department_txn(txn, department_id)
        if department is None or not viewer.sees_department(department):
            # Hidden departments answer exactly like missing ones.
            raise DirectoryError(
                errors.DEPARTMENT_NOT_FOUND, f"部门 {department_id} 不存在"
            )
        return department

    def members_json_txn(
        self, txn: Txn, viewer: Viewer, members: list[Member]
    ) -> list[dict[str, Any]]:
        ids = sorted({d for m in members for d in m.department_ids})
        departments = {
            i: d
            for i, d in dept_store.get_departments_txn(txn, ids).items()
            if viewer.sees_department(d)
        }
        fields = self._fields_for(txn, viewer)
        return [member_json(m, departments, fields, self._server_name) for m in members]

    def department_txn(
        self, txn: Txn, viewer: Viewer, department_id: int
    ) -> dict[str, Any]:
        department = self._visible_department_txn(txn, viewer, department_id)
        body = department_json(department, viewer.admin)
        chain = dept_store.get_departments_txn(txn, department.ancestor_ids)
        body["path"] = [
            {"id": a, "name": chain[a].name}
            for a in department.ancestor_ids
            if a in chain
        ]
        return body

    def children_txn(
        self,
        txn: Txn,
        viewer: Viewer,
        department_id: int | None,
        limit: int,
        offset: int,
    ) -> dict[str, Any]:
        """Sub-departments first, then members, each in manual order; `offset` counts
        across both lists so a page may hold some of each."""
        if department_id is not None:
            parent = self._visible_department_txn(txn, viewer, department_id)
            show_members = viewer.sees_department_members(parent)
        else:
            show_members = False
        if viewer.admin:
            # Admins see every department: the page alone, not the whole level (a
            # level may hold thousands; the console pages through it).
            child_total = dept_store.count_children_txn(txn, department_id, True)
            page_departments = (
                dept_store.list_children_txn(txn, department_id, True, limit, offset)
                if offset < child_total
                else []
            )
        else:
            children = [
                d
                for d in dept_store.list_children_txn(
                    txn, department_id, viewer.admin, 100000, 0
                )
                if viewer.sees_department(d)
            ]
            child_total = len(children)
            page_departments = children[offset : offset + limit]
        member_offset = max(0, offset - child_total)
        member_limit = limit - len(page_departments)
        members: list[Member] = []
        member_total = 0
        if show_members and department_id is not None:
            member_total = (
                member_store.count_all_department_members_txn(txn, department_id)
                if viewer.admin
                else parent.direct_count
            )
            if member_limit > 0:
                members = member_store.list_department_members_txn(
                    txn, department_id, viewer.admin, member_limit, member_offset
                )
        next_offset = offset + len(page_departments) + len(members)
        total = child_total + member_total
        return {
            "departments": [department_json(d, viewer.admin) for d in page_departments],
            "members": self.members_json_txn(txn, viewer, members),
            "total": total,
            # How many of `total` are sub-departments (members follow them): one page
            # tells a client where the members start.
            "department_total": child_total,
            "next_from": str(next_offset) if next_offset < total else None,
        }

    def member_txn(self, txn: Txn, viewer: Viewer, userid: str) -> dict[str, Any]:
        if not member_store.is_visible_txn(txn, userid, viewer.visibility):
            raise DirectoryError(errors.MEMBER_NOT_FOUND, f"成员 {userid} 不存在")
        member = member_store.require_member_txn(txn, userid)
        return self.members_json_txn(txn, viewer, [member])[0]

    def search_members_txn(
        self, txn: Txn, viewer: Viewer, query: str, limit: int, offset: int
    ) -> dict[str, Any]:
        term = normalise_query(query)
        if not term:
            raise DirectoryError(errors.INVALID_FIELD, "搜索关键字不能为空")
        members = member_search.search_members_txn(
            txn, term, prefix_upper_bound(term), viewer.visibility, limit + 1, offset
        )
        more = len(members) > limit
        members = members[:limit]
        return {
            "results": self.members_json_txn(txn, viewer, members),
            "next_from": str(offset + limit) if more else None,
        }

    def search_departments_txn(
        self, txn: Txn, viewer: Viewer, query: str, limit: int
    ) -> dict[str, Any]:
        keyword = query.strip()
        if not keyword:
            raise DirectoryError(errors.INVALID_FIELD, "搜索关键字不能为空")
        found = dept_store.search_departments_txn(txn, keyword, viewer.admin, limit * 4)
        visible = [d for d in found if viewer.sees_department(d)][:limit]
        chains = dept_store.get_departments_txn(
            txn, sorted({a for d in visible for a in d.ancestor_ids})
        )
        results = []
        for department in visible:
            body = department_json(department, viewer.admin)
            body["path"] = [
                {"id": a, "name": chains[a].name}
                for a in department.ancestor_ids
                if a in chains
            ]
            results.append(body)
        return {"results": results}

    def favorites_txn(self, txn: Txn, viewer: Viewer) -> dict[str, Any]:
        userids = social.list_favorites_txn(txn, viewer.user_id)
        visible = [
            u for u in userids if member_store.is_visible_txn(txn, u, viewer.visibility)
        ]
        found = member_store.get_members_txn(txn, visible)
        return {
            "favorites": self.members_json_txn(
                txn, viewer, [found[u] for u in visible if u in found]
            )
        }

    def add_favorite_txn(self, txn: Txn, viewer: Viewer, userid: str, now: int) -> None:
        if not member_store.is_visible_txn(txn, userid, viewer.visibility):
            raise DirectoryError(errors.MEMBER_NOT_FOUND, f"成员 {userid} 不存在")
        social.add_favorite_txn(txn, viewer.user_id, userid, now)

    def remove_favorite_txn(self, txn: Txn, viewer: Viewer, userid: str) -> None:
        if not social.remove_favorite_txn(txn, viewer.user_id, userid):
            raise DirectoryError(errors.MEMBER_NOT_FOUND, f"收藏中没有成员 {userid}")
