# SPDX-License-Identifier: AGPL-3.0-or-later
"""Validate imported rows completely and turn them into records.

Each parse_* collects every problem of the file and raises one ImportRejectedError listing them
(sorted by row), so an admin fixes the whole file in one go. Checks that need the database
(unknown department ids, cycles through stored departments, existing accounts) are the
caller's; only what the file itself shows is checked here. The error carries the records
read despite the problems, so the caller runs its database checks too and answers once.
"""

import re

from modules.directory.checks import (
    MAX_NAME,
    Checker,
    Rows,
    duplicate,
    present_columns,
    split_list,
)
from modules.directory.records import (
    DEPARTMENT_COLUMNS,
    GENDER_FEMALE,
    GENDER_MALE,
    GENDER_UNKNOWN,
    MEMBER_COLUMNS,
    TAG_COLUMNS,
    DepartmentRecord,
    DepartmentRef,
    MemberRecord,
    MembershipRecord,
    TagRecord,
)

MAX_TAG_NAME = 32
MAX_POSITION = 128
MAX_TELEPHONE = 32
MAX_EMAIL = 254
_MOBILE_NOISE = re.compile(r"[\s-]")
_MOBILE = re.compile(r"1[0-9]{10}")
_TELEPHONE = re.compile(r"[0-9]+(?:-[0-9]+)*")
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_GENDERS = {
    "": GENDER_UNKNOWN,
    "男": GENDER_MALE,
    "1": GENDER_MALE,
    "女": GENDER_FEMALE,
    "2": GENDER_FEMALE,
}


# Departments ---------------------------------------------------------------------------


def parse_departments(rows: Rows) -> list[DepartmentRecord]:
    if not rows:
        return []
    check = Checker(DEPARTMENT_COLUMNS)
    present = present_columns(rows)
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
    check: Checker, row: int, values: dict[str, str]
) -> tuple[int, bool, bool]:
    return (
        check.integer(row, values, "sort_order"),
        check.boolean(row, values, "hidden"),
        check.boolean(row, values, "restricted"),
    )


def _departments_by_id(
    check: Checker, rows: Rows, present: set[str]
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
            duplicate(check, seen, department_id, row, "id", f"部门ID {department_id} ")
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
    check: Checker, parents: dict[int, int], row_of: dict[int, int]
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


def _departments_by_path(check: Checker, rows: Rows) -> list[DepartmentRecord]:
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
            duplicate(check, seen, path, row, "path", f"部门路径“{text}”")
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
    check = Checker(MEMBER_COLUMNS)
    present = present_columns(rows)
    check.require_columns(present, ("userid", "name", "departments"))
    userids: dict[object, int] = {}
    mobiles: dict[object, int] = {}
    records: list[MemberRecord] = []
    for row, values in rows:
        userid = ""
        if "userid" in present:
            userid = _required_userid(check, row, values["userid"])
            if userid:
                duplicate(check, userids, userid, row, "userid", f"账号“{userid}”")
        mobile = _mobile(check, row, values.get("mobile", ""))
        if mobile:
            duplicate(check, mobiles, mobile, row, "mobile", f"手机号 {mobile} ")
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


def _required_userid(check: Checker, row: int, text: str) -> str:
    if not text.strip():
        check.fail(row, "userid", "“账号”不能为空")
        return ""
    return check.userid(row, "userid", text)


def _gender(check: Checker, row: int, text: str) -> int:
    gender = _GENDERS.get(text.strip())
    if gender is None:
        check.fail(
            row,
            "gender",
            f"“性别”应填“男”或“女”（或 1、2，或留空），现在是“{text.strip()}”",
        )
        return GENDER_UNKNOWN
    return gender


def _mobile(check: Checker, row: int, text: str) -> str:
    digits = _MOBILE_NOISE.sub("", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    if digits and not _MOBILE.fullmatch(digits):
        check.fail(
            row, "mobile", f"手机号应为以 1 开头的 11 位数字，现在是“{text.strip()}”"
        )
        return ""
    return digits


def _telephone(check: Checker, row: int, text: str) -> str:
    text = text.strip()
    if text and (len(text) > MAX_TELEPHONE or not _TELEPHONE.fullmatch(text)):
        check.fail(
            row,
            "telephone",
            f"座机号只能包含数字和“-”（最多 {MAX_TELEPHONE} 位），现在是“{text}”",
        )
    return text


def _email(check: Checker, row: int, text: str) -> str:
    text = text.strip()
    if text and (len(text) > MAX_EMAIL or not _EMAIL.fullmatch(text)):
        check.fail(row, "email", f"邮箱格式不正确：“{text}”")
    return text


def _memberships(
    check: Checker, row: int, values: dict[str, str], has_column: bool
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
    check = Checker(TAG_COLUMNS)
    check.require_columns(present_columns(rows), ("name",))
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
                duplicate(check, seen, name, row, "name", f"标签“{name}”")
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
