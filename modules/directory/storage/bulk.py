# SPDX-License-Identifier: AGPL-3.0-or-later
"""Bulk SQL of imports (modules/directory/importing.py): whole-table reads and the batched
writes of one imported member file, in the caller's one transaction."""

from modules.common.storage import Txn, batch
from modules.common.synapse.database import engine_of_txn
from modules.directory.pinyin import name_search_terms

DIRECTORY_TABLES = (
    "jwwx_dir_departments",
    "jwwx_dir_members",
    "jwwx_dir_memberships",
    "jwwx_dir_search_terms",
)

_MEMBER_FIELDS = "userid, name, gender, mobile, telephone, email, position, sort_order, hidden, enabled"

# A member row as imports compare it: the columns of _MEMBER_FIELDS, in that order.
MemberRow = tuple[
    str, str, int, str | None, str | None, str | None, str | None, int, int, int
]
# (department id, sort order there, is leader) in the member's order of departments.
MembershipRow = tuple[int, int, int]


def refresh_statistics_txn(txn: Txn) -> None:
    """After a bulk import, give PostgreSQL's planner fresh statistics at once rather than
    when autovacuum gets round to it: with the empty-table statistics of a new database an
    officer's search over 55,000 members took 2–20 s instead of 10–60 ms (measured)."""
    if engine_of_txn(txn) == "postgres":
        txn.execute("ANALYZE " + ", ".join(DIRECTORY_TABLES))


def member_rows_txn(txn: Txn) -> dict[str, tuple]:
    """Every member's row (the columns of _MEMBER_FIELDS), by userid."""
    txn.execute(f"SELECT {_MEMBER_FIELDS} FROM jwwx_dir_members")
    return {row[0]: row for row in txn.fetchall()}


def mobile_owners_txn(txn: Txn) -> dict[str, str]:
    """mobile → userid of the members who have one."""
    txn.execute("SELECT mobile, userid FROM jwwx_dir_members WHERE mobile IS NOT NULL")
    return {str(mobile): str(userid) for mobile, userid in txn.fetchall()}


def all_memberships_txn(txn: Txn) -> dict[str, list[MembershipRow]]:
    txn.execute(
        "SELECT userid, department_id, sort_order, is_leader FROM jwwx_dir_memberships ORDER BY userid, seq"
    )
    current_ms: dict[str, list[MembershipRow]] = {}
    for userid, department_id, order, leader in txn.fetchall():
        current_ms.setdefault(userid, []).append(
            (int(department_id), int(order), int(leader))
        )
    return current_ms


def write_members_txn(
    txn: Txn,
    new: list[MemberRow],
    changed: list[MemberRow],
    renamed: list[str],
    resolved: dict[str, list[MembershipRow]],
    orders: dict[str, int],
    names: dict[str, str],
    now: int,
) -> None:
    """Insert the new members, update the changed ones (memberships and search terms
    included; `renamed` ones get new search terms)."""
    # Free mobiles moving between members in this file before anyone takes them.
    moving = [(row[0],) for row in changed]
    batch(txn, "UPDATE jwwx_dir_members SET mobile = NULL WHERE userid = ?", moving)
    batch(
        txn,
        "UPDATE jwwx_dir_members SET name = ?, gender = ?, mobile = ?, telephone = ?, email = ?,"
        " position = ?, sort_order = ?, hidden = ?, enabled = ?, updated_ts = ? WHERE userid = ?",
        [(*row[1:], now, row[0]) for row in changed],
    )
    batch(
        txn,
        "INSERT INTO jwwx_dir_members (userid, name, gender, mobile, telephone, email, position,"
        " sort_order, hidden, enabled, account_state, created_ts, updated_ts)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
        [(*row, now, now) for row in new],
    )
    touched = [row[0] for row in changed] + [row[0] for row in new]
    batch(
        txn,
        "DELETE FROM jwwx_dir_memberships WHERE userid = ?",
        [(u,) for u in touched],
    )
    batch(
        txn,
        "INSERT INTO jwwx_dir_memberships (userid, department_id, seq, sort_order, is_leader,"
        " member_sort_order) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (u, d, seq, o, leader, orders[u])
            for u in touched
            for seq, (d, o, leader) in enumerate(resolved[u])
        ],
    )
    renamed_set = set(renamed)
    reindex = [row[0] for row in new] + renamed
    batch(
        txn,
        "DELETE FROM jwwx_dir_search_terms WHERE userid = ?",
        [(u,) for u in renamed],
    )
    batch(
        txn,
        "INSERT INTO jwwx_dir_search_terms (term, rank, userid, sort_order)"
        " VALUES (?, ?, ?, ?)",
        [
            (term, rank, u, orders[u])
            for u in reindex
            for term, rank in name_search_terms(names[u])
        ],
    )
    batch(
        txn,
        "UPDATE jwwx_dir_search_terms SET sort_order = ? WHERE userid = ?",
        [(orders[row[0]], row[0]) for row in changed if row[0] not in renamed_set],
    )
