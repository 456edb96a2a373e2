# SPDX-License-Identifier: AGPL-3.0-or-later
"""An app's visible range (可见范围): the members, departments and tags it may see and
message. Members: listed userids, members of a listed department's subtree, and the
members (or department subtrees) of a listed tag. Departments: the listed ones' subtrees
and those of listed tags."""

from dataclasses import dataclass

from modules.common.storage import Txn
from modules.directory import public as directory
from modules.directory.public import Department, Member
from modules.openapi.storage import App


@dataclass(frozen=True)
class Scope:
    userids: frozenset[str]
    paths: tuple[str, ...]  # subtree roots ("/1/5/")
    tag_ids: frozenset[int]
    everything: bool = False  # apps with directory_write (通讯录同步) see it all

    def has_department(self, department: Department) -> bool:
        return self.everything or any(department.path.startswith(p) for p in self.paths)

    def has_member(self, member: Member, departments: dict[int, Department]) -> bool:
        if self.everything or member.userid in self.userids:
            return True
        return any(
            self.has_department(departments[m.department_id])
            for m in member.memberships
            if m.department_id in departments
        )

    @property
    def members(self) -> directory.MemberRange:
        """The members in range, for the directory's range queries."""
        return directory.MemberRange(self.userids, self.paths, self.everything)


def scope_txn(txn: Txn, app: App) -> Scope:
    if app.directory_write:
        return Scope(frozenset(), ("/",), frozenset(), everything=True)
    userids = set(app.visible_users)
    department_ids = set(app.visible_departments)
    for tag_id in app.visible_tags:
        tag = directory.get_tag_txn(txn, tag_id)
        if tag is not None:
            userids.update(tag.userids)
            department_ids.update(tag.department_ids)
    found = directory.get_departments_txn(txn, sorted(department_ids))
    paths = sorted({d.path for d in found.values()})
    # Drop subtrees inside others: fewer ranges to test.
    roots = tuple(
        p for p in paths if not any(p != q and p.startswith(q) for q in paths)
    )
    return Scope(frozenset(userids), roots, frozenset(app.visible_tags))
