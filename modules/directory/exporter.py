# SPDX-License-Identifier: AGPL-3.0-or-later
"""Export the directory as one XLSX workbook (sheets 部门, 成员, 标签) that the importer
reads back: the same headers (records.py), the same cell conventions."""

import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from modules.common.heavy_imports import import_frozen
from modules.directory.records import (
    DEPARTMENT_COLUMNS,
    GENDER_FEMALE,
    GENDER_MALE,
    LIST_SEPARATOR,
    MEMBER_COLUMNS,
    PATH_SEPARATOR,
    TAG_COLUMNS,
    DepartmentRecord,
    DepartmentRef,
    MemberRecord,
    TagRecord,
)

if TYPE_CHECKING:
    import xlsxwriter

SHEET_DEPARTMENTS, SHEET_MEMBERS, SHEET_TAGS = "部门", "成员", "标签"
CELL_LIMIT = 32_767  # characters Excel keeps in one cell

Cell = str | int
_GENDER_TEXT = {GENDER_MALE: "男", GENDER_FEMALE: "女"}

# field → column width; fields whose cells are text that looks like a number (ids, phone
# numbers) get the "@" format so an admin editing the file in Excel keeps them as text.
_DEPARTMENT_BY_ID = {
    "id": 10,
    "name": 24,
    "parent_id": 12,
    "sort_order": 8,
    "hidden": 6,
}
_DEPARTMENT_BY_PATH = {"path": 48, "name": 24, "sort_order": 8, "hidden": 6}
_DEPARTMENT_TAIL = {"restricted": 10}
_MEMBER = {
    "userid": 16,
    "name": 10,
    "gender": 6,
    "mobile": 14,
    "telephone": 16,
    "email": 24,
    "position": 14,
    "departments": 24,
    "department_orders": 12,
    "leaders": 12,
    "sort_order": 8,
    "hidden": 6,
    "enabled": 6,
}
_TAG = {"name": 16, "userids": 60, "departments": 30}
_TEXT_FIELDS = {
    "id",
    "parent_id",
    "mobile",
    "telephone",
    "departments",
    "department_orders",
}


def export_directory_xlsx(
    departments: list[DepartmentRecord],
    members: list[MemberRecord],
    tags: list[TagRecord],
) -> bytes:
    output = io.BytesIO()
    # constant_memory streams each sheet row by row: 55,000 members stay cheap.
    # xlsxwriter (≈ 2 MiB in each process) loaded by the first export.
    workbook = import_frozen("xlsxwriter").Workbook(output, {"constant_memory": True})
    sheets = _Sheets(workbook)
    if all(department.id is not None for department in departments):
        sheets.write(
            SHEET_DEPARTMENTS,
            DEPARTMENT_COLUMNS,
            _DEPARTMENT_BY_ID | _DEPARTMENT_TAIL,
            (_department_by_id(department) for department in departments),
        )
    else:
        # Departments not stored yet (no ids) can still be written by their paths.
        sheets.write(
            SHEET_DEPARTMENTS,
            DEPARTMENT_COLUMNS,
            _DEPARTMENT_BY_PATH | _DEPARTMENT_TAIL,
            (_department_by_path(department) for department in departments),
        )
    sheets.write(SHEET_MEMBERS, MEMBER_COLUMNS, _MEMBER, map(_member, members))
    sheets.write(
        SHEET_TAGS, TAG_COLUMNS, _TAG, (row for tag in tags for row in _tag_rows(tag))
    )
    workbook.close()
    return output.getvalue()


class _Sheets:
    def __init__(self, workbook: "xlsxwriter.Workbook") -> None:
        self.workbook = workbook
        self.header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7"})
        self.text = workbook.add_format({"num_format": "@"})

    def write(
        self,
        name: str,
        columns: dict[str, tuple[str, ...]],
        widths: dict[str, int],
        rows: Iterable[Sequence[Cell]],
    ) -> None:
        sheet = self.workbook.add_worksheet(name)
        for index, (field, width) in enumerate(widths.items()):
            text_format = self.text if field in _TEXT_FIELDS else None
            sheet.set_column(index, index, width, text_format)
            sheet.write_string(0, index, columns[field][0], self.header)
        sheet.freeze_panes(1, 0)
        for number, cells in enumerate(rows, start=1):
            for index, value in enumerate(cells):
                if isinstance(value, int):
                    sheet.write_number(number, index, value)
                elif len(value) > CELL_LIMIT:
                    # Excel would cut the text: refuse rather than export a wrong file.
                    raise ValueError(
                        f"{name} row {number + 1}: cell longer than {CELL_LIMIT}"
                    )
                elif value:
                    # Text, never a number or formula, even when it looks like one.
                    sheet.write_string(number, index, value)


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def _ref_text(ref: DepartmentRef) -> str:
    if ref.department_id is not None:
        return str(ref.department_id)
    if ref.path is None:
        raise ValueError("a department reference needs an id or a path")
    return PATH_SEPARATOR.join(ref.path)


def _department_by_id(department: DepartmentRecord) -> list[Cell]:
    parent = "" if department.parent_id is None else str(department.parent_id)
    return [
        str(department.id),
        department.name,
        parent,
        department.sort_order,
        _yes_no(department.hidden),
        _yes_no(department.restricted),
    ]


def _department_by_path(department: DepartmentRecord) -> list[Cell]:
    if department.path is None:
        raise ValueError(f"department {department.name!r} has neither an id nor a path")
    return [
        PATH_SEPARATOR.join(department.path),
        department.name,
        department.sort_order,
        _yes_no(department.hidden),
        _yes_no(department.restricted),
    ]


def _member(member: MemberRecord) -> list[Cell]:
    memberships = member.memberships
    return [
        member.userid,
        member.name,
        _GENDER_TEXT.get(member.gender, ""),
        member.mobile,
        member.telephone,
        member.email,
        member.position,
        LIST_SEPARATOR.join(_ref_text(m.department) for m in memberships),
        LIST_SEPARATOR.join(str(m.sort_order) for m in memberships),
        LIST_SEPARATOR.join(_yes_no(m.is_leader) for m in memberships),
        member.sort_order,
        _yes_no(member.hidden),
        _yes_no(member.enabled),
    ]


def _tag_rows(tag: TagRecord) -> list[list[Cell]]:
    """One row, or several with the same name when a list does not fit in one cell (the
    importer joins consecutive rows of the same tag)."""
    userids = _chunks(tag.userids)
    departments = _chunks([_ref_text(ref) for ref in tag.departments])
    count = max(len(userids), len(departments), 1)
    return [
        [
            tag.name,
            userids[index] if index < len(userids) else "",
            departments[index] if index < len(departments) else "",
        ]
        for index in range(count)
    ]


def _chunks(items: Sequence[str]) -> list[str]:
    """ ";"-joined pieces of the items, each short enough for one cell."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for item in items:
        extra = len(item) + (1 if current else 0)
        if current and size + extra > CELL_LIMIT:
            chunks.append(LIST_SEPARATOR.join(current))
            current, size, extra = [], 0, len(item)
        current.append(item)
        size += extra
    if current:
        chunks.append(LIST_SEPARATOR.join(current))
    return chunks
