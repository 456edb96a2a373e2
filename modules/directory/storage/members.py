# SPDX-License-Identifier: AGPL-3.0-or-later
"""Members, their department memberships and their name search terms."""

from collections.abc import Iterator
from dataclasses import dataclass, field
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


def get_members_txn(txn: Txn, userids: list[str]) -> dict[str, Member]:
    memberships = _memberships_txn(txn, userids)
    found: dict[str, Member] = {}
    for start in range(0, len(userids), 500):
        chunk = userids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        txn.execute(
            f"SELECT {_COLUMNS} FROM jwwx_dir_members WHERE userid IN ({marks})", chunk
        )
        for row in txn.fetchall():
            found[row[0]] = Member.from_row(row, tuple(memberships[row[0]]))
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


# Member search. Results are ordered by (best rank, sort_order, userid). Instead of
# grouping every matching term (a single initial matches ~100,000 terms at bureau size),
# each rank is read in result order and candidates are checked for visibility by key,
# stopping as soon as the page is full.
_MAX_RANK = 5  # see modules.directory.pinyin
# A rank with fewer matches than this is read whole through the (rank, term) index and
# ordered; one with more is first looked for in a window of the (rank, sort_order,
# userid) index.
_NARROW_MATCHES = 2000
_STREAM_BATCH = 400
_WINDOW = 2000
# Past this many candidates for one page (a restricted reader whose subtree holds few of
# a broad query's matches), the one-statement query over the visible members is cheaper.
_CANDIDATE_BUDGET = 6000
# A restricted reader's subtree up to this size is searched member by member.
_SMALL_POPULATION = 5000


def search_members_txn(
    txn: Txn, low: str, high: str, visibility: Visibility, limit: int, offset: int
) -> list[Member]:
    """Members with a search term in [low, high), best rank first."""
    wanted = offset + limit
    if visibility.subtrees is not None:
        population = _subtree_population_txn(txn, visibility.subtrees)
        if population is not None:
            return _search_population_txn(
                txn, population, low, high, visibility, limit, offset
            )
    ordered: list[str] = []
    seen: set[str] = set()
    examined = 0
    for rank in range(_MAX_RANK + 1):
        for candidates in _rank_candidates_txn(txn, rank, low, high):
            fresh = [u for u in dict.fromkeys(candidates) if u not in seen]
            while fresh and len(ordered) < wanted:
                # Check only about as many as the page still needs.
                step = max(2 * (wanted - len(ordered)), 20)
                chunk, fresh = fresh[:step], fresh[step:]
                seen.update(chunk)
                examined += len(chunk)
                visible = _visible_subset_txn(txn, chunk, visibility)
                ordered.extend(u for u in chunk if u in visible)
            if len(ordered) >= wanted:
                break
            if examined > _CANDIDATE_BUDGET:
                return search_members_grouped_txn(
                    txn, low, high, visibility, limit, offset
                )
        if len(ordered) >= wanted:
            break
    userids = ordered[offset:wanted]
    found = get_members_txn(txn, userids)
    return [found[u] for u in userids]


def _rank_candidates_txn(
    txn: Txn, rank: int, low: str, high: str
) -> Iterator[list[str]]:
    """Userids with a term of `rank` in [low, high), in (sort_order, userid) order, in
    batches (a member with several such terms may repeat)."""
    txn.execute(
        "SELECT COUNT(*) FROM (SELECT 1 FROM jwwx_dir_search_terms WHERE rank = ?"
        " AND term >= ? AND term < ? LIMIT ?) AS hits",
        (rank, low, high, _NARROW_MATCHES),
    )
    if int(txn.fetchone()[0]) < _NARROW_MATCHES:
        txn.execute(
            "SELECT userid FROM jwwx_dir_search_terms WHERE rank = ? AND term >= ?"
            " AND term < ? ORDER BY sort_order, userid",
            (rank, low, high),
        )
        rows = [row[0] for row in txn.fetchall()]
        for start in range(0, len(rows), _STREAM_BATCH):
            yield rows[start : start + _STREAM_BATCH]
        return
    # Broad: the first stretch of the rank in result order usually holds a page (a
    # common initial or surname is everywhere) and costs one short index walk…
    txn.execute(
        "SELECT userid, sort_order, term FROM jwwx_dir_search_terms WHERE rank = ?"
        " ORDER BY sort_order, userid LIMIT ?",
        (rank, _WINDOW),
    )
    window = txn.fetchall()
    yield [userid for userid, _, term in window if low <= term < high]
    if len(window) < _WINDOW:
        return
    # …but not when the matches cluster late in that order (userids are often the
    # pinyin of the name): then the matches after the window, ordered in batches.
    after = (int(window[-1][1]), window[-1][0])
    while True:
        txn.execute(
            "SELECT userid, sort_order FROM jwwx_dir_search_terms WHERE rank = ?"
            " AND term >= ? AND term < ? AND (sort_order, userid) > (?, ?)"
            " ORDER BY sort_order, userid LIMIT ?",
            (rank, low, high, after[0], after[1], _STREAM_BATCH),
        )
        rows = txn.fetchall()
        if rows:
            yield [row[0] for row in rows]
        if len(rows) < _STREAM_BATCH:
            return
        after = (int(rows[-1][1]), rows[-1][0])


def _subtree_population_txn(txn: Txn, subtrees: tuple[str, ...]) -> list[str] | None:
    """The members of a restricted reader's subtrees, or None when there are too many
    for reading their terms one by one to beat the rank-ordered walk."""
    if not subtrees:
        return []
    marks = ",".join("?" * len(subtrees))
    txn.execute(
        "SELECT COALESCE(SUM(subtree_count), 0) FROM jwwx_dir_departments"
        f" WHERE path IN ({marks})",
        subtrees,
    )
    if int(txn.fetchone()[0]) > _SMALL_POPULATION:
        return None
    ranges: list[str] = []
    args: list[Any] = []
    for path in subtrees:
        ranges.append("(d.path >= ? AND d.path < ?)")
        args.extend(subtree_range(path))
    txn.execute(
        "SELECT DISTINCT ms.userid FROM jwwx_dir_departments AS d"
        " JOIN jwwx_dir_memberships AS ms ON ms.department_id = d.id"
        f" WHERE {' OR '.join(ranges)}",
        args,
    )
    return [row[0] for row in txn.fetchall()]


def _search_population_txn(
    txn: Txn,
    population: list[str],
    low: str,
    high: str,
    visibility: Visibility,
    limit: int,
    offset: int,
) -> list[Member]:
    best: dict[str, tuple[int, int, str]] = {}
    for start in range(0, len(population), 500):
        chunk = population[start : start + 500]
        marks = ",".join("?" * len(chunk))
        txn.execute(
            "SELECT userid, rank, sort_order FROM jwwx_dir_search_terms"
            f" WHERE userid IN ({marks}) AND term >= ? AND term < ?",
            (*chunk, low, high),
        )
        for userid, rank, sort_order in txn.fetchall():
            key = (int(rank), int(sort_order), userid)
            if userid not in best or key < best[userid]:
                best[userid] = key
    visible = _visible_subset_txn(txn, list(best), visibility)
    ranked = sorted(best[u] for u in visible)
    userids = [key[2] for key in ranked[offset : offset + limit]]
    found = get_members_txn(txn, userids)
    return [found[u] for u in userids]


def _visible_subset_txn(
    txn: Txn, userids: list[str], visibility: Visibility
) -> set[str]:
    if not userids or visibility.admin:
        return set(userids)
    condition, args = visibility.member_filter()
    marks = ",".join("?" * len(userids))
    txn.execute(
        f"SELECT m.userid FROM jwwx_dir_members AS m WHERE m.userid IN ({marks})"
        f" AND {condition}",
        (*userids, *args),
    )
    return {row[0] for row in txn.fetchall()}


def search_members_grouped_txn(
    txn: Txn, low: str, high: str, visibility: Visibility, limit: int, offset: int
) -> list[Member]:
    condition, args = visibility.member_filter()
    txn.execute(
        "SELECT m.userid, MIN(t.rank) AS best FROM jwwx_dir_search_terms AS t"
        " JOIN jwwx_dir_members AS m ON m.userid = t.userid"
        f" WHERE t.term >= ? AND t.term < ? AND {condition}"
        " GROUP BY m.userid, m.sort_order ORDER BY best, m.sort_order, m.userid"
        " LIMIT ? OFFSET ?",
        (low, high, *args, limit, offset),
    )
    userids = [row[0] for row in txn.fetchall()]
    found = get_members_txn(txn, userids)
    return [found[u] for u in userids]


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
