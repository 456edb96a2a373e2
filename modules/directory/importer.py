# SPDX-License-Identifier: AGPL-3.0-or-later
"""Validate imported rows completely and turn them into records.

Each parse_* collects every problem of the file and raises one ImportRejectedError listing them
(sorted by row), so an admin fixes the whole file in one go. Checks that need the database
(unknown department ids, cycles through stored departments, existing accounts) are the
caller's; only what the file itself shows is checked here. The error carries the records
read despite the problems, so the caller runs its database checks too and answers once.
"""

import re
from collections.abc import Sequence

from modules.directory.records import (
    DEPARTMENT_COLUMNS,
    GENDER_FEMALE,
    GENDER_MALE,
    GENDER_UNKNOWN,
    MEMBER_COLUMNS,
    PATH_SEPARATOR,
    TAG_COLUMNS,
    DepartmentRecord,
    DepartmentRef,
    ImportRejectedError,
    MemberRecord,
    MembershipRecord,
    RowError,
    TagRecord,
)

Rows = Sequence[tuple[int, dict[str, str]]]

MAX_NAME = 64
MAX_TAG_NAME = 32
MAX_POSITION = 128
MAX_TELEPHONE = 32
MAX_EMAIL = 254
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # stored as SQL INTEGER

USERID = re.compile(r"[a-z0-9._=-]{1,64}")
_DIGITS = re.compile(r"[0-9]+")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_LIST_SPLIT = re.compile(
    r"[;；]"
)  # the full-width one is what Chinese input methods type
_MOBILE_NOISE = re.compile(r"[\s-]")
_MOBILE = re.compile(r"1[0-9]{10}")
_TELEPHONE = re.compile(r"[0-9]+(?:-[0-9]+)*")
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_BOOLEANS = {
    "是": True,
    "否": False,
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "yes": True,
    "no": False,
}
_GENDERS = {
    "": GENDER_UNKNOWN,
    "男": GENDER_MALE,
    "1": GENDER_MALE,
    "女": GENDER_FEMALE,
    "2": GENDER_FEMALE,
}
_USERID_RULE = (
    "只能包含小写字母、数字和 . _ = -，长度 1 到 64 个字符（Matrix 用户名规则）"
)


class _Checker:
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
        elif PATH_SEPARATOR in text or _LIST_SPLIT.search(text):
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
        if not _INTEGER.fullmatch(text) or not INT_MIN <= int(text) <= INT_MAX:
            self.fail(row, field, f"“{self.header(field)}”应为整数，现在是“{text}”")
            return 0
        return int(text)

    def identifier(self, row: int, field: str, text: str) -> int | None:
        if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= INT_MAX:
            self.fail(row, field, f"部门ID应为正整数，现在是“{text}”")
            return None
        return int(text)

    def boolean(
        self, row: int, values: dict[str, str], field: str, *, default: bool = False
    ) -> bool:
        text = values.get(field, "").strip()
        return default if not text else self.boolean_item(row, field, text)

    def boolean_item(self, row: int, field: str, text: str) -> bool:
        value = _BOOLEANS.get(text.lower())
        if value is None:
            self.fail(
                row, field, f"“{self.header(field)}”应填“是”或“否”，现在是“{text}”"
            )
            return False
        return value

    def userid(self, row: int, field: str, text: str) -> str:
        userid = text.strip().lower()
        if not USERID.fullmatch(userid):
            self.fail(row, field, f"账号“{text.strip()}”不符合要求：{_USERID_RULE}")
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
        if _DIGITS.fullmatch(item):
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
    return (
        [] if not text.strip() else [item.strip() for item in _LIST_SPLIT.split(text)]
    )


def _present(rows: Rows) -> set[str]:
    # read_rows puts every recognised column in every row. A file without data rows
    # (only a header) gives no records: the parse_* return [] before asking.
    return set(rows[0][1])


def _duplicate(
    check: _Checker,
    seen: dict[object, int],
    key: object,
    row: int,
    field: str,
    label: str,
) -> None:
    first = seen.setdefault(key, row)
    if first != row:
        check.fail(row, field, f"{label}与第 {first} 行重复")


# Departments ---------------------------------------------------------------------------


def parse_departments(rows: Rows) -> list[DepartmentRecord]:
    if not rows:
        return []
    check = _Checker(DEPARTMENT_COLUMNS)
    present = _present(rows)
    if "id" in present and "path" in present:
        check.fail(
            1,
            "path",
            "一个文件只能用一种方式：“部门ID”+“上级部门ID”，或“部门路径”，不能同时使用",
        )
    elif "id" not in present and "path" not in present:
        check.fail(1, None, "缺少“部门ID”和“上级部门ID”列（或者用“部门路径”列）")
    check.finish()  # without a mode, row checks would only add noise
    if "id" in present:
        records = _departments_by_id(check, rows, present)
    else:
        records = _departments_by_path(check, rows)
    check.finish(records)
    return records


def _department_flags(
    check: _Checker, row: int, values: dict[str, str]
) -> tuple[int, bool, bool]:
    return (
        check.integer(row, values, "sort_order"),
        check.boolean(row, values, "hidden"),
        check.boolean(row, values, "restricted"),
    )


def _departments_by_id(
    check: _Checker, rows: Rows, present: set[str]
) -> list[DepartmentRecord]:
    check.require_columns(present, ("name", "parent_id"))
    records: list[DepartmentRecord] = []
    seen: dict[object, int] = {}
    parents: dict[int, int] = {}
    row_of: dict[int, int] = {}
    for row, values in rows:
        id_text = values["id"].strip()
        department_id = check.identifier(row, "id", id_text) if id_text else None
        if not id_text:
            check.fail(row, "id", "“部门ID”不能为空")
        name = values.get("name", "").strip()
        if "name" in values:
            if not name:
                check.fail(row, "name", "“部门名称”不能为空")
            else:
                check.name(row, "name", name)
        parent_text = values.get("parent_id", "").strip()
        parent_id = (
            check.identifier(row, "parent_id", parent_text) if parent_text else None
        )
        if department_id is not None:
            _duplicate(
                check, seen, department_id, row, "id", f"部门ID {department_id} "
            )
            if department_id == parent_id:
                check.fail(row, "parent_id", "部门不能是自己的上级部门")
            elif parent_id is not None and department_id not in row_of:
                parents[department_id] = parent_id
            row_of.setdefault(department_id, row)
        sort_order, hidden, restricted = _department_flags(check, row, values)
        records.append(
            DepartmentRecord(
                row=row,
                name=name,
                id=department_id,
                parent_id=parent_id,
                sort_order=sort_order,
                hidden=hidden,
                restricted=restricted,
            )
        )
    _check_cycles(check, parents, row_of)
    return records


def _check_cycles(
    check: _Checker, parents: dict[int, int], row_of: dict[int, int]
) -> None:
    """Report every department on a parent cycle made only of departments in the file."""
    done: set[int] = set()
    for start in parents:
        walk: list[int] = []
        node = start
        while node in parents and node not in done and node not in walk:
            walk.append(node)
            node = parents[node]
        if node in walk:
            cycle = walk[walk.index(node) :]
            for index, member in enumerate(cycle):
                loop = cycle[index:] + cycle[:index] + [member]
                chain = " → ".join(str(item) for item in loop)
                check.fail(row_of[member], "parent_id", f"上级部门形成循环：{chain}")
        done.update(walk)


def _departments_by_path(check: _Checker, rows: Rows) -> list[DepartmentRecord]:
    records: list[DepartmentRecord] = []
    seen: dict[object, int] = {}
    for row, values in rows:
        text = values["path"].strip()
        path = check.path(row, "path", text) if text else None
        if not text:
            check.fail(row, "path", "“部门路径”不能为空")
        name = path[-1] if path else ""
        given = values.get("name", "").strip()
        if path and given and given != name:
            check.fail(
                row, "name", f"“部门名称”“{given}”与部门路径的最后一级“{name}”不一致"
            )
        if path:
            _duplicate(check, seen, path, row, "path", f"部门路径“{text}”")
        if values.get("parent_id", "").strip():
            check.fail(
                row, "parent_id", "按“部门路径”导入时不填“上级部门ID”，上级由路径决定"
            )
        sort_order, hidden, restricted = _department_flags(check, row, values)
        records.append(
            DepartmentRecord(
                row=row,
                name=name,
                path=path,
                sort_order=sort_order,
                hidden=hidden,
                restricted=restricted,
            )
        )
    return records


# Members -------------------------------------------------------------------------------


def parse_members(rows: Rows) -> list[MemberRecord]:
    if not rows:
        return []
    check = _Checker(MEMBER_COLUMNS)
    present = _present(rows)
    check.require_columns(present, ("userid", "name", "departments"))
    userids: dict[object, int] = {}
    mobiles: dict[object, int] = {}
    records: list[MemberRecord] = []
    for row, values in rows:
        userid = ""
        if "userid" in present:
            userid = _required_userid(check, row, values["userid"])
            if userid:
                _duplicate(check, userids, userid, row, "userid", f"账号“{userid}”")
        mobile = _mobile(check, row, values.get("mobile", ""))
        if mobile:
            _duplicate(check, mobiles, mobile, row, "mobile", f"手机号 {mobile} ")
        records.append(
            MemberRecord(
                row=row,
                userid=userid,
                name=check.text(
                    row, values, "name", required=True, max_length=MAX_NAME
                ),
                gender=_gender(check, row, values.get("gender", "")),
                mobile=mobile,
                telephone=_telephone(check, row, values.get("telephone", "")),
                email=_email(check, row, values.get("email", "")),
                position=check.text(
                    row, values, "position", required=False, max_length=MAX_POSITION
                ),
                memberships=_memberships(check, row, values, "departments" in present),
                sort_order=check.integer(row, values, "sort_order"),
                hidden=check.boolean(row, values, "hidden"),
                enabled=check.boolean(row, values, "enabled", default=True),
            )
        )
    check.finish(records)
    return records


def _required_userid(check: _Checker, row: int, text: str) -> str:
    if not text.strip():
        check.fail(row, "userid", "“账号”不能为空")
        return ""
    return check.userid(row, "userid", text)


def _gender(check: _Checker, row: int, text: str) -> int:
    gender = _GENDERS.get(text.strip())
    if gender is None:
        check.fail(
            row,
            "gender",
            f"“性别”应填“男”或“女”（或 1、2，或留空），现在是“{text.strip()}”",
        )
        return GENDER_UNKNOWN
    return gender


def _mobile(check: _Checker, row: int, text: str) -> str:
    digits = _MOBILE_NOISE.sub("", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    if digits and not _MOBILE.fullmatch(digits):
        check.fail(
            row, "mobile", f"手机号应为以 1 开头的 11 位数字，现在是“{text.strip()}”"
        )
        return ""
    return digits


def _telephone(check: _Checker, row: int, text: str) -> str:
    text = text.strip()
    if text and (len(text) > MAX_TELEPHONE or not _TELEPHONE.fullmatch(text)):
        check.fail(
            row,
            "telephone",
            f"座机号只能包含数字和“-”（最多 {MAX_TELEPHONE} 位），现在是“{text}”",
        )
    return text


def _email(check: _Checker, row: int, text: str) -> str:
    text = text.strip()
    if text and (len(text) > MAX_EMAIL or not _EMAIL.fullmatch(text)):
        check.fail(row, "email", f"邮箱格式不正确：“{text}”")
    return text


def _memberships(
    check: _Checker, row: int, values: dict[str, str], has_column: bool
) -> tuple[MembershipRecord, ...]:
    refs = check.department_refs(row, values, "departments")
    if not refs:
        if has_column:
            check.fail(row, "departments", "“部门”不能为空，每个成员至少属于一个部门")
        return ()
    orders = [
        check.integer_item(row, "department_orders", item)
        for item in split_list(values.get("department_orders", ""))
    ]
    leaders = [
        check.boolean_item(row, "leaders", item)
        for item in split_list(values.get("leaders", ""))
    ]
    for field, items in (("department_orders", orders), ("leaders", leaders)):
        if items and len(items) != len(refs):
            check.fail(
                row,
                field,
                f"“{check.header(field)}”有 {len(items)} 项，应与“部门”的 {len(refs)} 项一一对应",
            )
    return tuple(
        MembershipRecord(
            department=ref,
            sort_order=orders[index] if index < len(orders) else 0,
            is_leader=leaders[index] if index < len(leaders) else False,
        )
        for index, ref in enumerate(refs)
        if ref is not None
    )


# Tags ----------------------------------------------------------------------------------


def parse_tags(rows: Rows) -> list[TagRecord]:
    """Rows repeating the tag name of the row just above continue that tag: an Excel cell
    holds at most 32,767 characters, so the exporter splits very large tags this way."""
    if not rows:
        return []
    check = _Checker(TAG_COLUMNS)
    check.require_columns(_present(rows), ("name",))
    seen: dict[object, int] = {}
    tags: list[tuple[int, str, list[str], list[DepartmentRef]]] = []
    previous = ""
    for row, values in rows:
        name = check.text(row, values, "name", required=True, max_length=MAX_TAG_NAME)
        userids = [
            check.userid(row, "userids", item)
            for item in split_list(values.get("userids", ""))
        ]
        refs = check.department_refs(row, values, "departments")
        if name and name == previous:
            _, _, all_userids, all_refs = tags[-1]
        else:
            if name:
                _duplicate(check, seen, name, row, "name", f"标签“{name}”")
            all_userids, all_refs = [], []
            tags.append((row, name, all_userids, all_refs))
        previous = name
        for userid in userids:
            if userid in all_userids:
                check.fail(row, "userids", f"“成员账号”中账号“{userid}”重复")
            all_userids.append(userid)
        earlier = set(all_refs)  # repeats within this row were reported already
        for ref in refs:
            if ref in earlier:
                check.fail(row, "departments", "“部门”中有与上一行重复的部门")
            if ref is not None:
                all_refs.append(ref)
    records = [
        TagRecord(row=row, name=name, userids=tuple(userids), departments=tuple(refs))
        for row, name, userids, refs in tags
    ]
    check.finish(records)
    return records
