# SPDX-License-Identifier: AGPL-3.0-or-later
"""Tags as officers read them (modules/directory/tags.py): only the members a reader's
visibility shows (the same filter as every other read path). Tags are written by admins
(social.py)."""

from modules.common.storage import Txn
from modules.directory.storage.members import Visibility


def tag_member_counts_txn(
    txn: Txn, visibility: Visibility
) -> list[tuple[int, str, int]]:
    """(id, name, members this visibility shows) of every tag, in id order."""
    condition, args = visibility.member_filter()
    txn.execute(
        "SELECT t.id, t.name, COUNT(m.userid) FROM jwwx_dir_tags AS t"  # noqa: S608
        " LEFT JOIN jwwx_dir_tag_members AS tm ON tm.tag_id = t.id"
        f" LEFT JOIN jwwx_dir_members AS m ON m.userid = tm.userid AND {condition}"
        " GROUP BY t.id, t.name ORDER BY t.id",
        args,
    )
    return [(int(r[0]), str(r[1]), int(r[2])) for r in txn.fetchall()]


def tag_department_ids_txn(txn: Txn) -> dict[int, list[int]]:
    """{tag id: its departments}."""
    txn.execute(
        "SELECT tag_id, department_id FROM jwwx_dir_tag_departments"
        " ORDER BY tag_id, department_id"
    )
    found: dict[int, list[int]] = {}
    for tag_id, department_id in txn.fetchall():
        found.setdefault(int(tag_id), []).append(int(department_id))
    return found


def visible_tag_members_txn(
    txn: Txn, tag_id: int, visibility: Visibility, limit: int, offset: int
) -> list[str]:
    """A page of the tag's members this visibility shows, by name then account."""
    condition, args = visibility.member_filter()
    txn.execute(
        "SELECT m.userid FROM jwwx_dir_tag_members AS tm"  # noqa: S608
        " JOIN jwwx_dir_members AS m ON m.userid = tm.userid"
        f" WHERE tm.tag_id = ? AND {condition}"
        " ORDER BY m.name, m.userid LIMIT ? OFFSET ?",
        (tag_id, *args, limit, offset),
    )
    return [str(r[0]) for r in txn.fetchall()]


def tag_name_txn(txn: Txn, tag_id: int) -> str | None:
    txn.execute("SELECT name FROM jwwx_dir_tags WHERE id = ?", (tag_id,))
    row = txn.fetchone()
    return str(row[0]) if row else None


def department_ids_of_tag_txn(txn: Txn, tag_id: int) -> list[int]:
    txn.execute(
        "SELECT department_id FROM jwwx_dir_tag_departments WHERE tag_id = ?"
        " ORDER BY department_id",
        (tag_id,),
    )
    return [int(r[0]) for r in txn.fetchall()]
