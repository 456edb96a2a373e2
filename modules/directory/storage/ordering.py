# SPDX-License-Identifier: AGPL-3.0-or-later
"""Manual order within a department (拖动或按钮排序): one member or sub-department moved
to a position, its siblings renumbered 0, 1, 2… in the new order.

Listings sort by sort_order, then a tie-breaker (id; for members the member's own
order and userid), so lists that were never ordered by hand (all 0) still have one
order; moving an item writes the whole sibling list's numbers so that the order shown
is the order stored. Only the rows whose number changes are written.
"""

from modules.common.storage import Txn


def member_order_txn(txn: Txn, department_id: int) -> list[tuple[str, int]]:
    """(userid, sort_order) of a department's members in listing order (admin view:
    hidden and disabled members included)."""
    txn.execute(
        "SELECT userid, sort_order FROM jwwx_dir_memberships WHERE department_id = ?"
        " ORDER BY sort_order, member_sort_order, userid",
        (department_id,),
    )
    return [(str(u), int(o)) for u, o in txn.fetchall()]


def write_member_order_txn(
    txn: Txn,
    department_id: int,
    current: list[tuple[str, int]],
    wanted: list[str],
    now: int,
) -> None:
    old = dict(current)
    changed = [(i, u) for i, u in enumerate(wanted) if old.get(u) != i]
    if not changed:
        return
    txn.executemany(
        "UPDATE jwwx_dir_memberships SET sort_order = ?"
        " WHERE department_id = ? AND userid = ?",
        [(i, department_id, u) for i, u in changed],
    )
    txn.executemany(
        "UPDATE jwwx_dir_members SET updated_ts = ? WHERE userid = ?",
        [(now, u) for _i, u in changed],
    )


def department_order_txn(txn: Txn, parent_id: int) -> list[tuple[int, int]]:
    """(id, sort_order) of a department's sub-departments in listing order."""
    txn.execute(
        "SELECT id, sort_order FROM jwwx_dir_departments WHERE parent_id = ?"
        " ORDER BY sort_order, id",
        (parent_id,),
    )
    return [(int(d), int(o)) for d, o in txn.fetchall()]


def write_department_order_txn(
    txn: Txn, current: list[tuple[int, int]], wanted: list[int], now: int
) -> None:
    old = dict(current)
    changed = [(i, now, d) for i, d in enumerate(wanted) if old.get(d) != i]
    if changed:
        txn.executemany(
            "UPDATE jwwx_dir_departments SET sort_order = ?, updated_ts = ?"
            " WHERE id = ?",
            changed,
        )
