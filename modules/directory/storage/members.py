# SPDX-License-Identifier: AGPL-3.0-or-later
"""Members, their department memberships and their name search terms."""

from dataclasses import dataclass, field, replace
from typing import Any

from modules.common.storage import Txn
from modules.directory import errors
from modules.directory.errors import DirectoryError
from modules.directory.pinyin import name_search_terms
from modules.directory.storage.departments import subtree_range

_COLUMNS = (
    "userid, name, gender, mobile, telephone, email, position, avatar, sort_order,"
    " hidden, enabled, account_state"
)
# Writable profile fields (userid is the key; account_state belongs to provisioning).
PROFILE_FIELDS = (
    "name",
    "gender",
    "mobile",
    "telephone",
    "email",
    "position",
    "avatar",
    "sort_order",
    "hidden",
    "enabled",
)


@dataclass(frozen=True)
class Membership:
    department_id: int
    sort_order: int = 0
    is_leader: bool = False


@dataclass(frozen=True)
class Member:
    userid: str
    name: str
    gender: int = 0
    mobile: str | None = None
    telephone: str | None = None
    email: str | None = None
    position: str | None = None
    avatar: str | None = None
    sort_order: int = 0
    hidden: bool = False
    enabled: bool = True
    account_state: str = "pending"
    memberships: tuple[Membership, ...] = field(default_factory=tuple)

    @staticmethod
    def from_row(row: Any, memberships: tuple[Membership, ...] = ()) -> "Member":
        return Member(
            row[0],
            row[1],
            int(row[2]),
            row[3],
            row[4],
            row[5],
            row[6],
            row[7],
            int(row[8]),
            bool(row[9]),
            bool(row[10]),
            row[11],
            memberships,
        )

    @property
    def department_ids(self) -> set[int]:
        return {m.department_id for m in self.memberships}


@dataclass(frozen=True)
class Visibility:
    """What a reader may see. Admins: everything. Officers: enabled, non-hidden members
    in at least one non-hidden department, inside `subtrees` when restricted."""

    admin: bool = False
    subtrees: tuple[str, ...] | None = None  # department paths; None = whole directory

    def member_filter(self, alias: str = "m") -> tuple[str, list[Any]]:
        if self.admin:
            return "1 = 1", []
        sql = (
            f"{alias}.hidden = 0 AND {alias}.enabled = 1 AND EXISTS (SELECT 1"
            " FROM jwwx_dir_memberships AS vms JOIN jwwx_dir_departments AS vd"
            f" ON vd.id = vms.department_id WHERE vms.userid = {alias}.userid"
            " AND vd.hidden_effective = 0"
        )
        args: list[Any] = []
        if self.subtrees is not None:
            ranges = []
            for path in self.subtrees:
                ranges.append("(vd.path >= ? AND vd.path < ?)")
                args.extend(subtree_range(path))
            sql += " AND (" + (" OR ".join(ranges) or "1 = 0") + ")"
        return sql + ")", args


def _memberships_txn(txn: Txn, userids: list[str]) -> dict[str, list[Membership]]:
    found: dict[str, list[Membership]] = {u: [] for u in userids}
    for start in range(0, len(userids), 500):
        chunk = userids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        txn.execute(
            "SELECT userid, department_id, sort_order, is_leader FROM jwwx_dir_memberships"
            f" WHERE userid IN ({marks}) ORDER BY userid, seq",
            chunk,
        )
        for userid, department_id, sort_order, is_leader in txn.fetchall():
            found[userid].append(
                Membership(int(department_id), int(sort_order), bool(is_leader))
            )
    return found


def member_columns(alias: str) -> str:
    """The columns Member.from_row reads, of the members table under `alias`."""
    return ", ".join(f"{alias}.{column.strip()}" for column in _COLUMNS.split(","))


def with_memberships_txn(txn: Txn, members: list[Member]) -> list[Member]:
    """`members` (read without their memberships) with them."""
    if not members:
        return members
    memberships = _memberships_txn(txn, [m.userid for m in members])
    return [replace(m, memberships=tuple(memberships[m.userid])) for m in members]


def get_members_txn(
    txn: Txn, userids: list[str], memberships: bool = True
) -> dict[str, Member]:
    """The members of `userids` that exist (without memberships: one statement)."""
    held = _memberships_txn(txn, userids) if memberships else {}
    found: dict[str, Member] = {}
    for start in range(0, len(userids), 500):
        chunk = userids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        txn.execute(
            f"SELECT {_COLUMNS} FROM jwwx_dir_members WHERE userid IN ({marks})", chunk
        )
        for row in txn.fetchall():
            found[row[0]] = Member.from_row(row, tuple(held.get(row[0], ())))
    return found


def get_member_txn(txn: Txn, userid: str) -> Member | None:
    return get_members_txn(txn, [userid]).get(userid)


def require_member_txn(txn: Txn, userid: str) -> Member:
    member = get_member_txn(txn, userid)
    if member is None:
        raise DirectoryError(errors.MEMBER_NOT_FOUND, f"成员 {userid} 不存在")
    return member


def member_by_mobile_txn(txn: Txn, mobile: str) -> str | None:
    txn.execute("SELECT userid FROM jwwx_dir_members WHERE mobile = ?", (mobile,))
    row = txn.fetchone()
    return row[0] if row else None


def _check_mobile_free_txn(txn: Txn, mobile: str | None, userid: str) -> None:
    if mobile:
        owner = member_by_mobile_txn(txn, mobile)
        if owner is not None and owner != userid:
            raise DirectoryError(
                errors.MOBILE_EXISTS, f"手机号 {mobile} 已被成员 {owner} 使用"
            )


def _check_departments_exist_txn(txn: Txn, memberships: tuple[Membership, ...]) -> None:
    if not memberships:
        raise DirectoryError(errors.INVALID_FIELD, "成员至少要属于一个部门")
    ids = sorted({m.department_id for m in memberships})
    marks = ",".join("?" * len(ids))
    txn.execute(f"SELECT id FROM jwwx_dir_departments WHERE id IN ({marks})", ids)
    missing = set(ids) - {int(r[0]) for r in txn.fetchall()}
    if missing:
        raise DirectoryError(
            errors.DEPARTMENT_NOT_FOUND,
            f"部门 {', '.join(map(str, sorted(missing)))} 不存在",
        )


def _write_memberships_txn(
    txn: Txn, userid: str, memberships: tuple[Membership, ...], order: int
) -> None:
    txn.execute("DELETE FROM jwwx_dir_memberships WHERE userid = ?", (userid,))
    txn.executemany(
        "INSERT INTO jwwx_dir_memberships (userid, department_id, seq, sort_order,"
        " is_leader, member_sort_order) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (userid, m.department_id, seq, m.sort_order, int(m.is_leader), order)
            for seq, m in enumerate(memberships)
        ],
    )


def write_search_terms_txn(txn: Txn, userid: str, name: str, sort_order: int) -> None:
    txn.execute("DELETE FROM jwwx_dir_search_terms WHERE userid = ?", (userid,))
    txn.executemany(
        "INSERT INTO jwwx_dir_search_terms (term, rank, userid, sort_order)"
        " VALUES (?, ?, ?, ?)",
        [(term, rank, userid, sort_order) for term, rank in name_search_terms(name)],
    )


def insert_member_txn(txn: Txn, member: Member, now: int) -> None:
    if get_member_txn(txn, member.userid) is not None:
        raise DirectoryError(errors.MEMBER_EXISTS, f"账号 {member.userid} 已存在")
    _check_mobile_free_txn(txn, member.mobile, member.userid)
    _check_departments_exist_txn(txn, member.memberships)
    txn.execute(
        "INSERT INTO jwwx_dir_members (userid, name, gender, mobile, telephone, email,"
        " position, avatar, sort_order, hidden, enabled, account_state, created_ts,"
        " updated_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
        (
            member.userid,
            member.name,
            member.gender,
            member.mobile or None,
            member.telephone or None,
            member.email or None,
            member.position or None,
            member.avatar or None,
            member.sort_order,
            int(member.hidden),
            int(member.enabled),
            now,
            now,
        ),
    )
    _write_memberships_txn(txn, member.userid, member.memberships, member.sort_order)
    write_search_terms_txn(txn, member.userid, member.name, member.sort_order)


def update_member_txn(
    txn: Txn,
    userid: str,
    changes: dict[str, Any],
    memberships: tuple[Membership, ...] | None,
    now: int,
) -> tuple[Member, Member]:
    """Apply profile changes (PROFILE_FIELDS) and, if given, replace the memberships.
    Returns (before, after)."""
    before = require_member_txn(txn, userid)
    if "mobile" in changes:
        _check_mobile_free_txn(txn, changes["mobile"], userid)
    if memberships is not None:
        _check_departments_exist_txn(txn, memberships)
    fields = [f for f in PROFILE_FIELDS if f in changes]
    if fields:
        values = [
            int(changes[f])
            if f in ("hidden", "enabled")
            else (changes[f] if changes[f] != "" else None)
            for f in fields
        ]
        assignments = ", ".join(f"{f} = ?" for f in fields)
        txn.execute(
            f"UPDATE jwwx_dir_members SET {assignments}, updated_ts = ? WHERE userid = ?",
            (*values, now, userid),
        )
    order = int(changes.get("sort_order", before.sort_order))
    if memberships is not None:
        _write_memberships_txn(txn, userid, memberships, order)
    elif order != before.sort_order:
        txn.execute(
            "UPDATE jwwx_dir_memberships SET member_sort_order = ? WHERE userid = ?",
            (order, userid),
        )
    after = require_member_txn(txn, userid)
    if after.name != before.name:
        write_search_terms_txn(txn, userid, after.name, after.sort_order)
    elif after.sort_order != before.sort_order:
        txn.execute(
            "UPDATE jwwx_dir_search_terms SET sort_order = ? WHERE userid = ?",
            (after.sort_order, userid),
        )
    return before, after


def delete_member_txn(txn: Txn, userid: str) -> Member:
    member = require_member_txn(txn, userid)
    for table in (
        "jwwx_dir_memberships",
        "jwwx_dir_search_terms",
        "jwwx_dir_tag_members",
        "jwwx_dir_members",
    ):
        txn.execute(f"DELETE FROM {table} WHERE userid = ?", (userid,))  # noqa: S608
    txn.execute("DELETE FROM jwwx_dir_favorites WHERE userid = ?", (userid,))
    return member


def list_department_members_txn(
    txn: Txn, department_id: int, admin: bool, limit: int, offset: int
) -> list[Member]:
    """A department's members in listing order. The caller has checked that the reader
    sees this department's members, so for an officer only the member's own flags
    remain to check (this membership is the visible one)."""
    condition = "1 = 1" if admin else "m.hidden = 0 AND m.enabled = 1"
    txn.execute(
        "SELECT m.userid FROM jwwx_dir_memberships AS ms"
        " JOIN jwwx_dir_members AS m ON m.userid = ms.userid"
        f" WHERE ms.department_id = ? AND {condition}"
        " ORDER BY ms.sort_order, ms.member_sort_order, ms.userid LIMIT ? OFFSET ?",
        (department_id, limit, offset),
    )
    userids = [row[0] for row in txn.fetchall()]
    found = get_members_txn(txn, userids)
    return [found[u] for u in userids]


def count_all_department_members_txn(txn: Txn, department_id: int) -> int:
    """Every member of the department, hidden and disabled ones included (admins);
    officers' count is the department's maintained direct_count."""
    txn.execute(
        "SELECT COUNT(*) FROM jwwx_dir_memberships WHERE department_id = ?",
        (department_id,),
    )
    return int(txn.fetchone()[0])


def is_visible_txn(txn: Txn, userid: str, visibility: Visibility) -> bool:
    condition, args = visibility.member_filter()
    txn.execute(
        f"SELECT 1 FROM jwwx_dir_members AS m WHERE m.userid = ? AND {condition}",
        (userid, *args),
    )
    return txn.fetchone() is not None


def hidden_member_txn(txn: Txn, userid: str, visibility: Visibility) -> bool:
    """Whether `userid` is a directory member this visibility does not show (someone
    who is not a member, e.g. a bot, is not hidden)."""
    condition, args = visibility.member_filter()
    txn.execute(
        f"SELECT CASE WHEN {condition} THEN 1 ELSE 0 END"  # noqa: S608 - our SQL
        " FROM jwwx_dir_members AS m WHERE m.userid = ?",
        (*args, userid),
    )
    row = txn.fetchone()
    return row is not None and not row[0]


def all_member_userids_txn(txn: Txn) -> list[str]:
    txn.execute("SELECT userid FROM jwwx_dir_members ORDER BY userid")
    return [row[0] for row in txn.fetchall()]


# Unit quotas (admin_api): members are counted in the unit of their main (first)
# department, enabled ones only, so the units' counts add up to the total.


def enabled_main_counts_txn(txn: Txn) -> dict[int, int]:
    """{department id: enabled members whose main department it is}."""
    txn.execute(
        "SELECT ms.department_id, COUNT(*) FROM jwwx_dir_memberships AS ms"
        " JOIN jwwx_dir_members AS m ON m.userid = ms.userid"
        " WHERE ms.seq = 0 AND m.enabled = 1 GROUP BY ms.department_id"
    )
    return {int(r[0]): int(r[1]) for r in txn.fetchall()}


def all_member_departments_txn(txn: Txn) -> dict[str, tuple[int, ...]]:
    """Every member's department ids, main department first."""
    txn.execute(
        "SELECT userid, department_id FROM jwwx_dir_memberships ORDER BY userid, seq"
    )
    out: dict[str, list[int]] = {}
    for userid, department_id in txn.fetchall():
        out.setdefault(userid, []).append(int(department_id))
    return {u: tuple(ids) for u, ids in out.items()}


def member_departments_txn(txn: Txn, userids: list[str]) -> dict[str, tuple[int, ...]]:
    """These members' department ids, main department first (absent: no such member
    or no department)."""
    out: dict[str, list[int]] = {}
    for start in range(0, len(userids), 500):
        chunk = userids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        txn.execute(
            "SELECT userid, department_id FROM jwwx_dir_memberships"
            f" WHERE userid IN ({marks}) ORDER BY userid, seq",
            chunk,
        )
        for userid, department_id in txn.fetchall():
            out.setdefault(userid, []).append(int(department_id))
    return {u: tuple(ids) for u, ids in out.items()}


def count_members_txn(txn: Txn) -> tuple[int, int]:
    """(members, enabled members) of the whole directory."""
    txn.execute(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN enabled = 1 THEN 1 ELSE 0 END), 0)"
        " FROM jwwx_dir_members"
    )
    row = txn.fetchone()
    return int(row[0]), int(row[1])


def count_enabled_main_txn(txn: Txn, path: str | None) -> int:
    """Enabled members whose main department lies in the subtree at `path` (None:
    the whole directory)."""
    if path is None:
        txn.execute("SELECT COUNT(*) FROM jwwx_dir_members WHERE enabled = 1")
    else:
        txn.execute(
            "SELECT COUNT(*) FROM jwwx_dir_memberships AS ms"
            " JOIN jwwx_dir_members AS m ON m.userid = ms.userid"
            " JOIN jwwx_dir_departments AS d ON d.id = ms.department_id"
            " WHERE ms.seq = 0 AND m.enabled = 1 AND d.path >= ? AND d.path < ?",
            subtree_range(path),
        )
    return int(txn.fetchone()[0])
