# SPDX-License-Identifier: AGPL-3.0-or-later
"""Checking the cells of an imported file (importer.py parses rows with it): one
Checker per file collects every problem, with its row and column, and raises them all
together; the limits and cell formats shared by departments, members and tags."""

import re
from collections.abc import Sequence

from modules.directory.records import (
    PATH_SEPARATOR,
    DepartmentRef,
    ImportRejectedError,
    RowError,
)

Rows = Sequence[tuple[int, dict[str, str]]]

MAX_NAME = 64
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # stored as SQL INTEGER
USERID = re.compile(r"[a-z0-9._=-]{1,64}")
DIGITS = re.compile(r"[0-9]+")
INTEGER = re.compile(r"[+-]?[0-9]+")
LIST_SPLIT = re.compile(
    r"[;；]"
)  # the full-width one is what Chinese input methods type
BOOLEANS = {
    "是": True,
    "否": False,
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "yes": True,
    "no": False,
}
USERID_RULE = (
    "只能包含小写字母、数字和 . _ = -，长度 1 到 64 个字符（Matrix 用户名规则）"
)


class Checker:
    """Collects the problems of one file; helpers return a usable value even on error."""

    def __init__(self, columns: dict[str, tuple[str, ...]]) -> None:
        self.columns = columns
        self.errors: list[RowError] = []

    def header(self, field: str) -> str:
        return self.columns[field][0]

    def fail(self, row: int, field: str | None, message: str) -> None:
        column = self.header(field) if field is not None else None
        self.errors.append(RowError(row, column, message))

    def finish(self, records: Sequence[object] | None = None) -> None:
        """Raise with every problem so far; `records` (the rows read despite their
        problems) lets the caller add the database's problems to the same answer."""
        if self.errors:
            # By row, then in the file's column order: the order an admin reads them.
            order = {
                aliases[0]: index for index, aliases in enumerate(self.columns.values())
            }
            self.errors.sort(
                key=lambda error: (error.row, order.get(error.column or "", -1))
            )
            raise ImportRejectedError(self.errors, records)

    def require_columns(self, present: set[str], fields: Sequence[str]) -> None:
        for field in fields:
            if field not in present:
                self.fail(1, field, f"缺少必填列“{self.header(field)}”")

    def text(
        self,
        row: int,
        values: dict[str, str],
        field: str,
        *,
        required: bool,
        max_length: int,
    ) -> str:
        text = values.get(field, "").strip()
        if required and not text and field in values:
            self.fail(row, field, f"“{self.header(field)}”不能为空")
        elif len(text) > max_length:
            self.fail(row, field, f"“{self.header(field)}”不能超过 {max_length} 个字符")
        return text

    def name(self, row: int, field: str, text: str) -> bool:
        """A non-empty department name, also one segment of a path and of a ";"-list."""
        if len(text) > MAX_NAME:
            self.fail(row, field, f"部门名称“{text}”超过 {MAX_NAME} 个字符")
        elif PATH_SEPARATOR in text or LIST_SPLIT.search(text):
            self.fail(row, field, f"部门名称“{text}”不能包含“/”或“;”")
        else:
            return True
        return False

    def integer(
        self, row: int, values: dict[str, str], field: str, *, default: int = 0
    ) -> int:
        text = values.get(field, "").strip()
        return default if not text else self.integer_item(row, field, text)

    def integer_item(self, row: int, field: str, text: str) -> int:
        if not INTEGER.fullmatch(text) or not INT_MIN <= int(text) <= INT_MAX:
            self.fail(row, field, f"“{self.header(field)}”应为整数，现在是“{text}”")
            return 0
        return int(text)

    def identifier(self, row: int, field: str, text: str) -> int | None:
        if not DIGITS.fullmatch(text) or not 1 <= int(text) <= INT_MAX:
            self.fail(row, field, f"部门ID应为正整数，现在是“{text}”")
            return None
        return int(text)

    def boolean(
        self, row: int, values: dict[str, str], field: str, *, default: bool = False
    ) -> bool:
        text = values.get(field, "").strip()
        return default if not text else self.boolean_item(row, field, text)

    def boolean_item(self, row: int, field: str, text: str) -> bool:
        value = BOOLEANS.get(text.lower())
        if value is None:
            self.fail(
                row, field, f"“{self.header(field)}”应填“是”或“否”，现在是“{text}”"
            )
            return False
        return value

    def userid(self, row: int, field: str, text: str) -> str:
        userid = text.strip().lower()
        if not USERID.fullmatch(userid):
            self.fail(row, field, f"账号“{text.strip()}”不符合要求：{USERID_RULE}")
        return userid

    def department_refs(
        self, row: int, values: dict[str, str], field: str
    ) -> list[DepartmentRef | None]:
        """One entry per list item (None when the item is bad), so lists stay aligned."""
        refs: list[DepartmentRef | None] = []
        for item in split_list(values.get(field, "")):
            ref = self._department_ref(row, field, item)
            if ref is not None and ref in refs:
                self.fail(row, field, f"“{self.header(field)}”中部门“{item}”重复")
            refs.append(ref)
        return refs

    def _department_ref(self, row: int, field: str, item: str) -> DepartmentRef | None:
        if not item:
            self.fail(row, field, f"“{self.header(field)}”中有空项（多余的分号？）")
            return None
        if DIGITS.fullmatch(item):
            department_id = self.identifier(row, field, item)
            return (
                None
                if department_id is None
                else DepartmentRef(department_id=department_id)
            )
        path = self.path(row, field, item)
        return None if path is None else DepartmentRef(path=path)

    def path(self, row: int, field: str, text: str) -> tuple[str, ...] | None:
        segments = tuple(segment.strip() for segment in text.split(PATH_SEPARATOR))
        if not all(segments):
            self.fail(row, field, f"部门路径“{text}”中有空的一级（多余的“/”？）")
            return None
        valid = [self.name(row, field, segment) for segment in segments]
        return segments if all(valid) else None


def split_list(text: str) -> list[str]:
    """Items of a ";"-separated cell (ASCII or full-width); an empty cell has none."""
    return [] if not text.strip() else [item.strip() for item in LIST_SPLIT.split(text)]


def present_columns(rows: Rows) -> set[str]:
    # read_rows puts every recognised column in every row. A file without data rows
    # (only a header) gives no records: the parse_* return [] before asking.
    return set(rows[0][1])


def duplicate(
    check: Checker,
    seen: dict[object, int],
    key: object,
    row: int,
    field: str,
    label: str,
) -> None:
    first = seen.setdefault(key, row)
    if first != row:
        check.fail(row, field, f"{label}与第 {first} 行重复")
