# SPDX-License-Identifier: AGPL-3.0-or-later
"""Tags, favourite contacts and admin settings."""

import json
from dataclasses import dataclass
from typing import Any

from modules.common.storage import Txn
from modules.directory import errors
from modules.directory.errors import DirectoryError


@dataclass(frozen=True)
class Tag:
    id: int
    name: str
    userids: tuple[str, ...]
    department_ids: tuple[int, ...]
    updated_by: str
    updated_ts: int


def _tag_from_row_txn(txn: Txn, row: Any) -> Tag:
    tag_id = int(row[0])
    txn.execute(
        "SELECT userid FROM jwwx_dir_tag_members WHERE tag_id = ? ORDER BY userid",
        (tag_id,),
    )
    userids = tuple(r[0] for r in txn.fetchall())
    txn.execute(
        "SELECT department_id FROM jwwx_dir_tag_departments WHERE tag_id = ? ORDER BY department_id",
        (tag_id,),
    )
    department_ids = tuple(int(r[0]) for r in txn.fetchall())
    return Tag(tag_id, row[1], userids, department_ids, row[2], int(row[3]))


def get_tag_txn(txn: Txn, tag_id: int) -> Tag | None:
    txn.execute(
        "SELECT id, name, updated_by, updated_ts FROM jwwx_dir_tags WHERE id = ?",
        (tag_id,),
    )
    row = txn.fetchone()
    return _tag_from_row_txn(txn, row) if row else None


def tags_holding_txn(
    txn: Txn, tag_ids: list[int], userid: str | None, department_ids: list[int]
) -> set[int]:
    """Which of `tag_ids` hold the member `userid` or any of `department_ids` (the
    caller passes a member's departments with their ancestors): one statement, by the
    tables' primary keys, however many tags and members they have."""
    if not tag_ids or (userid is None and not department_ids):
        return set()
    tags = ", ".join("?" for _ in tag_ids)
    parts, args = [], []
    if userid is not None:
        parts.append(
            f"SELECT tag_id FROM jwwx_dir_tag_members WHERE tag_id IN ({tags})"
            " AND userid = ?"
        )
        args += [*tag_ids, userid]
    if department_ids:
        departments = ", ".join("?" for _ in department_ids)
        parts.append(
            "SELECT tag_id FROM jwwx_dir_tag_departments"
            f" WHERE tag_id IN ({tags}) AND department_id IN ({departments})"
        )
        args += [*tag_ids, *department_ids]
    txn.execute(" UNION ".join(parts), tuple(args))
    return {int(r[0]) for r in txn.fetchall()}


def require_tag_txn(txn: Txn, tag_id: int) -> Tag:
    tag = get_tag_txn(txn, tag_id)
    if tag is None:
        raise DirectoryError(errors.TAG_NOT_FOUND, f"标签 {tag_id} 不存在")
    return tag


def tag_id_by_name_txn(txn: Txn, name: str) -> int | None:
    txn.execute("SELECT id FROM jwwx_dir_tags WHERE name = ?", (name,))
    row = txn.fetchone()
    return int(row[0]) if row else None


def list_tags_txn(txn: Txn) -> list[tuple[int, str]]:
    txn.execute("SELECT id, name FROM jwwx_dir_tags ORDER BY id")
    return [(int(r[0]), r[1]) for r in txn.fetchall()]


def _check_refs_txn(
    txn: Txn, userids: tuple[str, ...], department_ids: tuple[int, ...]
) -> None:
    for table, column, values, problem, label in (
        ("jwwx_dir_members", "userid", list(userids), errors.MEMBER_NOT_FOUND, "成员"),
        (
            "jwwx_dir_departments",
            "id",
            list(department_ids),
            errors.DEPARTMENT_NOT_FOUND,
            "部门",
        ),
    ):
        if not values:
            continue
        marks = ",".join("?" * len(values))
        txn.execute(f"SELECT {column} FROM {table} WHERE {column} IN ({marks})", values)  # noqa: S608
        missing = set(values) - {
            r[0] if column == "userid" else int(r[0]) for r in txn.fetchall()
        }
        if missing:
            names = ", ".join(map(str, sorted(missing, key=str)))
            raise DirectoryError(problem, f"{label} {names} 不存在")


def save_tag_txn(
    txn: Txn,
    tag_id: int | None,
    name: str,
    userids: tuple[str, ...],
    department_ids: tuple[int, ...],
    admin: str,
    now: int,
) -> int:
    """Create (tag_id None) or replace a tag wholly; any admin may edit any tag."""
    existing = tag_id_by_name_txn(txn, name)
    if existing is not None and existing != tag_id:
        raise DirectoryError(errors.TAG_EXISTS, f"标签“{name}”已存在")
    _check_refs_txn(txn, userids, department_ids)
    if tag_id is None:
        txn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM jwwx_dir_tags")
        tag_id = int(txn.fetchone()[0])
        txn.execute(
            "INSERT INTO jwwx_dir_tags (id, name, created_by, updated_by, created_ts, updated_ts)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (tag_id, name, admin, admin, now, now),
        )
    else:
        require_tag_txn(txn, tag_id)
        txn.execute(
            "UPDATE jwwx_dir_tags SET name = ?, updated_by = ?, updated_ts = ? WHERE id = ?",
            (name, admin, now, tag_id),
        )
    txn.execute("DELETE FROM jwwx_dir_tag_members WHERE tag_id = ?", (tag_id,))
    txn.execute("DELETE FROM jwwx_dir_tag_departments WHERE tag_id = ?", (tag_id,))
    txn.executemany(
        "INSERT INTO jwwx_dir_tag_members (tag_id, userid) VALUES (?, ?)",
        [(tag_id, u) for u in sorted(set(userids))],
    )
    txn.executemany(
        "INSERT INTO jwwx_dir_tag_departments (tag_id, department_id) VALUES (?, ?)",
        [(tag_id, d) for d in sorted(set(department_ids))],
    )
    return tag_id


def delete_tag_txn(txn: Txn, tag_id: int) -> None:
    require_tag_txn(txn, tag_id)
    for table in ("jwwx_dir_tag_members", "jwwx_dir_tag_departments"):
        txn.execute(f"DELETE FROM {table} WHERE tag_id = ?", (tag_id,))  # noqa: S608
    txn.execute("DELETE FROM jwwx_dir_tags WHERE id = ?", (tag_id,))


# Favourite contacts.


def add_favorite_txn(txn: Txn, owner: str, userid: str, now: int) -> None:
    txn.execute(
        "SELECT 1 FROM jwwx_dir_favorites WHERE owner = ? AND userid = ?",
        (owner, userid),
    )
    if txn.fetchone() is None:
        txn.execute(
            "INSERT INTO jwwx_dir_favorites (owner, userid, created_ts) VALUES (?, ?, ?)",
            (owner, userid, now),
        )


def remove_favorite_txn(txn: Txn, owner: str, userid: str) -> bool:
    txn.execute(
        "SELECT 1 FROM jwwx_dir_favorites WHERE owner = ? AND userid = ?",
        (owner, userid),
    )
    if txn.fetchone() is None:
        return False
    txn.execute(
        "DELETE FROM jwwx_dir_favorites WHERE owner = ? AND userid = ?", (owner, userid)
    )
    return True


def list_favorites_txn(txn: Txn, owner: str) -> list[str]:
    txn.execute(
        "SELECT userid FROM jwwx_dir_favorites WHERE owner = ? ORDER BY created_ts, userid",
        (owner,),
    )
    return [r[0] for r in txn.fetchall()]


# Settings (JSON values).


def get_setting_txn(txn: Txn, name: str) -> Any:
    txn.execute("SELECT value FROM jwwx_dir_settings WHERE name = ?", (name,))
    row = txn.fetchone()
    return json.loads(row[0]) if row else None


def put_setting_txn(txn: Txn, name: str, value: Any, admin: str, now: int) -> None:
    text = json.dumps(value, ensure_ascii=False)
    txn.execute("DELETE FROM jwwx_dir_settings WHERE name = ?", (name,))
    txn.execute(
        "INSERT INTO jwwx_dir_settings (name, value, updated_by, updated_ts) VALUES (?, ?, ?, ?)",
        (name, text, admin, now),
    )
