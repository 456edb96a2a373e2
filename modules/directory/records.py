# SPDX-License-Identifier: AGPL-3.0-or-later
"""Plain records of the directory, shared by import, export, the sample generator and the
store. No Synapse, no database: easy to build in tests.

Column headers of the import/export files are defined here once (canonical Chinese header
first, then accepted aliases), so the exporter writes exactly what the importer reads.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# Departments sheet/CSV. Either give 部门ID + 上级部门ID (id mode) or 部门路径 (path mode,
# names from the root joined by "/", e.g. 市局/刑侦总队/一支队); a file uses one mode.
DEPARTMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("部门ID", "id", "department_id"),
    "name": ("部门名称", "name"),
    "parent_id": ("上级部门ID", "parent_id", "parentid"),
    "path": ("部门路径", "path", "full_path"),
    "sort_order": ("排序", "order", "sort_order"),
    "hidden": ("隐藏", "hidden"),
    "restricted": ("仅看本部门", "restricted"),
}

# Members sheet/CSV. 部门 holds one or more departments separated by ";" (ids or full
# paths); 部门内排序 and 部门负责人 are ";"-separated and aligned with 部门.
MEMBER_COLUMNS: dict[str, tuple[str, ...]] = {
    "userid": ("账号", "userid"),
    "name": ("姓名", "name"),
    "gender": ("性别", "gender"),
    "mobile": ("手机", "mobile"),
    "telephone": ("座机", "telephone"),
    "email": ("邮箱", "email"),
    "position": ("职务", "position"),
    "departments": ("部门", "department", "departments"),
    "department_orders": ("部门内排序", "order", "department_order"),
    "leaders": ("部门负责人", "is_leader_in_dept", "leader"),
    "sort_order": ("排序", "sort_order"),
    "hidden": ("隐藏", "hidden"),
    "enabled": ("启用", "enable", "enabled"),
}

# Tags sheet/CSV: one row per tag; members and departments ";"-separated.
TAG_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("标签名称", "tagname", "name"),
    "userids": ("成员账号", "userlist", "userids"),
    "departments": ("部门", "partylist", "departments"),
}

PATH_SEPARATOR = "/"
LIST_SEPARATOR = ";"

GENDER_UNKNOWN, GENDER_MALE, GENDER_FEMALE = 0, 1, 2


@dataclass(frozen=True)
class RowError:
    """One problem of an import file; row is the 1-based spreadsheet row (header = 1)."""

    row: int
    column: str | None
    message: str  # Chinese, shown to the admin

    def as_json(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "message": self.message}


class ImportRejectedError(Exception):
    """A file with problems: every problem found, nothing applied.

    `records` is set when the rows could still be read as records despite their format
    problems (each bad cell with a usable stand-in value): the caller then also checks
    them against the database, so one answer lists every problem of the file."""

    def __init__(
        self, errors: list[RowError], records: Sequence[Any] | None = None
    ) -> None:
        super().__init__(f"{len(errors)} problem(s) in the import file")
        self.errors = errors
        self.records = list(records) if records else None


def merge_problems(
    format_errors: Sequence[RowError], database_errors: Sequence[RowError]
) -> list[RowError]:
    """Both passes' problems by row; a cell that already has a format problem gets no
    second message about the same value from the database pass."""
    flagged = {(e.row, e.column) for e in format_errors}
    merged = list(format_errors) + [
        e for e in database_errors if (e.row, e.column) not in flagged
    ]
    return sorted(merged, key=lambda e: e.row)


@dataclass(frozen=True)
class DepartmentRef:
    """A reference to a department: by id, or by full path of names from the root."""

    department_id: int | None = None
    path: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DepartmentRecord:
    row: int
    name: str
    id: int | None = None
    parent_id: int | None = None
    path: tuple[str, ...] | None = None  # names from the root, including this one
    sort_order: int = 0
    hidden: bool = False
    restricted: bool = False


@dataclass(frozen=True)
class MembershipRecord:
    department: DepartmentRef
    sort_order: int = 0
    is_leader: bool = False


@dataclass(frozen=True)
class MemberRecord:
    row: int
    userid: str
    name: str
    gender: int = GENDER_UNKNOWN
    mobile: str = ""
    telephone: str = ""
    email: str = ""
    position: str = ""
    memberships: tuple[MembershipRecord, ...] = field(default_factory=tuple)
    sort_order: int = 0
    hidden: bool = False
    enabled: bool = True


@dataclass(frozen=True)
class TagRecord:
    row: int
    name: str
    userids: tuple[str, ...] = ()
    departments: tuple[DepartmentRef, ...] = ()
