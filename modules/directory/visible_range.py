# SPDX-License-Identifier: AGPL-3.0-or-later
"""A visible range (可见范围) as WeCom defines it for apps and workbench entries: listed
userids, listed departments with their subtrees, and listed tags (a tag's members and
its departments' subtrees). Built once per request from the directory, then asked
about members and departments without further reads."""

from collections.abc import Iterable
from dataclasses import dataclass

from modules.common.storage import Txn
from modules.directory.storage.departments import Department, get_departments_txn
from modules.directory.storage.members import Member
from modules.directory.storage.ranges import MemberRange
from modules.directory.storage.social import get_tag_txn


@dataclass(frozen=True)
class VisibleRange:
    userids: frozenset[str]
    paths: tuple[str, ...]  # subtree roots ("/1/5/")
    tag_ids: frozenset[int]
    everything: bool = False

    def has_department(self, department: Department) -> bool:
        return self.everything or any(department.path.startswith(p) for p in self.paths)

    def has_member(self, member: Member, departments: dict[int, Department]) -> bool:
        """`departments` holds (at least) the member's departments."""
        if self.everything or member.userid in self.userids:
            return True
        return any(
            self.has_department(departments[m.department_id])
            for m in member.memberships
            if m.department_id in departments
        )

    @property
    def members(self) -> MemberRange:
        """The members in range, for the directory's range queries."""
        return MemberRange(self.userids, self.paths, self.everything)


EVERYTHING = VisibleRange(frozenset(), ("/",), frozenset(), everything=True)


def visible_range_txn(
    txn: Txn,
    userids: Iterable[str],
    department_ids: Iterable[int],
    tag_ids: Iterable[int],
) -> VisibleRange:
    """The range of these lists; unknown departments and tags reach nobody."""
    users = set(userids)
    departments = set(department_ids)
    tags = frozenset(tag_ids)
    for tag_id in tags:
        tag = get_tag_txn(txn, tag_id)
        if tag is not None:
            users.update(tag.userids)
            departments.update(tag.department_ids)
    found = get_departments_txn(txn, sorted(departments))
    paths = sorted({d.path for d in found.values()})
    # Drop subtrees inside others: fewer ranges to test.
    roots = tuple(
        p for p in paths if not any(p != q and p.startswith(q) for q in paths)
    )
    return VisibleRange(frozenset(users), roots, tags)
