# SPDX-License-Identifier: AGPL-3.0-or-later
"""An app's visible range (可见范围): the members, departments and tags it may see and
message. Members: listed userids, members of a listed department's subtree, and the
members (or department subtrees) of a listed tag. Departments: the listed ones' subtrees
and those of listed tags."""

from dataclasses import dataclass

from modules.common.storage import Txn
from modules.directory.storage import departments as dept_store
from modules.directory.storage import social
from modules.directory.storage.departments import Department, subtree_range
from modules.directory.storage.members import Member
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

    def member_sql(self, alias: str = "m") -> tuple[str, list[object]]:
        """SQL condition (and args) selecting the members in range."""
        if self.everything:
            return "1 = 1", []
        parts: list[str] = []
        args: list[object] = []
        users = sorted(self.userids)
        if users:
            parts.append(f"{alias}.userid IN ({','.join('?' * len(users))})")
            args.extend(users)
        if self.paths:
            ranges = []
            for path in self.paths:
                ranges.append("(sd.path >= ? AND sd.path < ?)")
                args.extend(subtree_range(path))
            parts.append(
                "EXISTS (SELECT 1 FROM jwwx_dir_memberships AS sms"
                " JOIN jwwx_dir_departments AS sd ON sd.id = sms.department_id"
                f" WHERE sms.userid = {alias}.userid AND ({' OR '.join(ranges)}))"
            )
        return ("(" + " OR ".join(parts) + ")") if parts else "1 = 0", args


def scope_txn(txn: Txn, app: App) -> Scope:
    if app.directory_write:
        return Scope(frozenset(), ("/",), frozenset(), everything=True)
    userids = set(app.visible_users)
    department_ids = set(app.visible_departments)
    for tag_id in app.visible_tags:
        tag = social.get_tag_txn(txn, tag_id)
        if tag is not None:
            userids.update(tag.userids)
            department_ids.update(tag.department_ids)
    found = dept_store.get_departments_txn(txn, sorted(department_ids))
    paths = sorted({d.path for d in found.values()})
    # Drop subtrees inside others: fewer ranges to test.
    roots = tuple(
        p for p in paths if not any(p != q and p.startswith(q) for q in paths)
    )
    return Scope(frozenset(userids), roots, frozenset(app.visible_tags))
