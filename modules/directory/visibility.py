# SPDX-License-Identifier: AGPL-3.0-or-later
"""Who sees what in the directory.

- Admins (scope directory.read) see everything, hidden entries included.
- Officers never see hidden departments (or anything below one) nor hidden or disabled
  members.
- A department marked restricted ("仅看本部门") limits its members, and the members of
  its sub-departments, to the subtree of that department, plus the chain of departments
  above it (names only, as a breadcrumb). Someone in several departments sees the union;
  one unrestricted department lifts the limit.
- Field-level: officers see only the profile fields in the visible_fields setting.
"""

from dataclasses import dataclass

from modules.common.storage import Txn
from modules.directory.storage.departments import Department, get_departments_txn
from modules.directory.storage.members import Visibility, get_member_txn


@dataclass(frozen=True)
class Viewer:
    user_id: str
    visibility: Visibility
    # Ids on the way from the roots down to the restricted subtrees (breadcrumb only).
    breadcrumb_ids: frozenset[int] = frozenset()

    @property
    def admin(self) -> bool:
        return self.visibility.admin

    def sees_department(self, department: Department) -> bool:
        if self.admin:
            return True
        if department.hidden_effective:
            return False
        subtrees = self.visibility.subtrees
        if subtrees is None:
            return True
        return department.id in self.breadcrumb_ids or any(
            department.path.startswith(path) for path in subtrees
        )

    def sees_department_members(self, department: Department) -> bool:
        """Members listed under a department: not for breadcrumb-only departments."""
        if not self.sees_department(department):
            return False
        subtrees = self.visibility.subtrees
        return (
            self.admin
            or subtrees is None
            or any(department.path.startswith(p) for p in subtrees)
        )


def viewer_txn(txn: Txn, user_id: str, localpart: str, admin: bool) -> Viewer:
    """The viewer behind a Matrix user id; non-members (e.g. bots) see the open directory."""
    if admin:
        return Viewer(user_id, Visibility(admin=True))
    member = get_member_txn(txn, localpart)
    if member is None or not member.memberships:
        return Viewer(user_id, Visibility())
    departments = get_departments_txn(txn, sorted(member.department_ids))
    roots = {d.restricted_root for d in departments.values()}
    if None in roots or not roots:
        return Viewer(user_id, Visibility())
    restricted = get_departments_txn(txn, sorted(r for r in roots if r is not None))
    breadcrumb = {a for d in restricted.values() for a in d.ancestor_ids}
    subtrees = tuple(sorted(d.path for d in restricted.values()))
    return Viewer(user_id, Visibility(subtrees=subtrees), frozenset(breadcrumb))
