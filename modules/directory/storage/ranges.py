# SPDX-License-Identifier: AGPL-3.0-or-later
"""Sets of members other modules address as a whole (an open-API app's visible range,
a department's subtree): the SQL on the directory's tables that they need, here."""

from dataclasses import dataclass

from modules.common.storage import Txn
from modules.directory.storage.departments import Department, subtree_range


@dataclass(frozen=True)
class MemberRange:
    """Listed userids plus the members of department subtrees (roots like "/1/5/");
    `everything` is the whole directory."""

    userids: frozenset[str]
    paths: tuple[str, ...]
    everything: bool = False

    def member_sql(self, alias: str = "m") -> tuple[str, list[object]]:
        """SQL condition (and args) selecting the members in range."""
        if self.everything:
            return "1 = 1", []
        parts: list[str] = []
        args: list[object] = []
        users = sorted(self.userids)
        if users:
            parts.append(f"{alias}.userid IN ({','.join('?' * len(users))})")
            args.extend(users)
        if self.paths:
            ranges = []
            for path in self.paths:
                ranges.append("(sd.path >= ? AND sd.path < ?)")
                args.extend(subtree_range(path))
            parts.append(
                "EXISTS (SELECT 1 FROM jwwx_dir_memberships AS sms"
                " JOIN jwwx_dir_departments AS sd ON sd.id = sms.department_id"
                f" WHERE sms.userid = {alias}.userid AND ({' OR '.join(ranges)}))"
            )
        return ("(" + " OR ".join(parts) + ")") if parts else "1 = 0", args


def deliverable_query(
    members: MemberRange, under: list[str] | None = None
) -> tuple[str, list[object]]:
    """A query (and args) of the userids in range that can receive messages (enabled,
    account created), under one of the subtrees `under` when given. Other packages'
    storage may use it as a subquery (`... FROM (query) AS d`)."""
    condition, args = members.member_sql("m")
    sql = (
        "SELECT m.userid FROM jwwx_dir_members AS m WHERE m.enabled = 1"
        f" AND m.account_state = 'created' AND {condition}"
    )
    if under is not None:
        ranges = []
        for path in under:
            ranges.append("(pd.path >= ? AND pd.path < ?)")
            args.extend(subtree_range(path))
        sql += (
            " AND EXISTS (SELECT 1 FROM jwwx_dir_memberships AS pms"
            " JOIN jwwx_dir_departments AS pd ON pd.id = pms.department_id"
            f" WHERE pms.userid = m.userid AND ({' OR '.join(ranges)}))"
        )
    return sql, args


def deliverable_txn(
    txn: Txn, members: MemberRange, under: list[str] | None = None
) -> list[str]:
    sql, args = deliverable_query(members, under)
    txn.execute(sql, args)
    return [row[0] for row in txn.fetchall()]


def deliverable_in_tree_order_txn(txn: Txn) -> list[str]:
    """Every member of the directory who can receive messages, in the department
    tree's depth-first order of their main department (the first one given), then
    userid: a department subtree's members by their main department come one after
    another (paths sort their subtrees together). For modules.openapi's pool of spare
    broadcast rooms, so that a department's officers share rooms."""
    txn.execute(
        "SELECT m.userid, COALESCE((SELECT d.path FROM jwwx_dir_memberships AS ms"
        " JOIN jwwx_dir_departments AS d ON d.id = ms.department_id"
        " WHERE ms.userid = m.userid ORDER BY ms.seq, d.path LIMIT 1), '') AS main"
        " FROM jwwx_dir_members AS m"
        " WHERE m.enabled = 1 AND m.account_state = 'created'"
        " ORDER BY main, m.userid"
    )
    return [row[0] for row in txn.fetchall()]


def department_userids_txn(
    txn: Txn, department: Department, fetch_child: bool
) -> list[str]:
    """The members of a department (or of its subtree), shallowest membership first,
    then by their order there and userid."""
    args: list[object]
    if fetch_child:
        low, high = subtree_range(department.path)
        where, args = "d.path >= ? AND d.path < ?", [low, high]
    else:
        where, args = "d.id = ?", [department.id]
    txn.execute(
        "SELECT ms.userid, MIN(d.depth), MIN(ms.sort_order)"
        " FROM jwwx_dir_memberships AS ms"
        " JOIN jwwx_dir_departments AS d ON d.id = ms.department_id"
        f" WHERE {where} GROUP BY ms.userid ORDER BY 2, 3, 1",
        args,
    )
    return [row[0] for row in txn.fetchall()]
