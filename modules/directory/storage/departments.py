# SPDX-License-Identifier: AGPL-3.0-or-later
"""Departments: a tree kept as materialised paths ("/1/5/27/")."""

from dataclasses import dataclass
from typing import Any

from modules.common.storage import Txn, batch
from modules.directory import errors
from modules.directory.errors import DirectoryError

_COLUMNS = (
    "id, name, parent_id, path, depth, sort_order, hidden, restricted,"
    " hidden_effective, restricted_root, direct_count, subtree_count"
)


@dataclass(frozen=True)
class Department:
    id: int
    name: str
    parent_id: int | None
    path: str
    depth: int
    sort_order: int
    hidden: bool
    restricted: bool
    hidden_effective: bool
    restricted_root: int | None
    direct_count: int
    subtree_count: int

    @staticmethod
    def from_row(row: Any) -> "Department":
        return Department(
            int(row[0]),
            row[1],
            None if row[2] is None else int(row[2]),
            row[3],
            int(row[4]),
            int(row[5]),
            bool(row[6]),
            bool(row[7]),
            bool(row[8]),
            None if row[9] is None else int(row[9]),
            int(row[10]),
            int(row[11]),
        )

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to the parent."""
        return [int(p) for p in self.path.strip("/").split("/")[:-1]]

    @property
    def path_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/")]


def subtree_range(path: str) -> tuple[str, str]:
    """[low, high) of the paths in the subtree rooted at `path` (which ends with "/")."""
    return path, path[:-1] + "0"


def get_department_txn(txn: Txn, department_id: int) -> Department | None:
    txn.execute(
        f"SELECT {_COLUMNS} FROM jwwx_dir_departments WHERE id = ?", (department_id,)
    )
    row = txn.fetchone()
    return Department.from_row(row) if row else None


def require_department_txn(txn: Txn, department_id: int) -> Department:
    department = get_department_txn(txn, department_id)
    if department is None:
        raise DirectoryError(
            errors.DEPARTMENT_NOT_FOUND, f"部门 {department_id} 不存在"
        )
    return department


def get_departments_txn(txn: Txn, ids: list[int]) -> dict[int, Department]:
    found: dict[int, Department] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        txn.execute(
            f"SELECT {_COLUMNS} FROM jwwx_dir_departments WHERE id IN ({marks})", chunk
        )
        for row in txn.fetchall():
            department = Department.from_row(row)
            found[department.id] = department
    return found


def list_children_txn(
    txn: Txn, parent_id: int | None, include_hidden: bool, limit: int, offset: int
) -> list[Department]:
    where = "parent_id IS NULL" if parent_id is None else "parent_id = ?"
    args: list[Any] = [] if parent_id is None else [parent_id]
    if not include_hidden:
        where += " AND hidden = 0"
    txn.execute(
        f"SELECT {_COLUMNS} FROM jwwx_dir_departments WHERE {where}"
        " ORDER BY sort_order, id LIMIT ? OFFSET ?",
        (*args, limit, offset),
    )
    return [Department.from_row(r) for r in txn.fetchall()]


def count_children_txn(txn: Txn, parent_id: int | None, include_hidden: bool) -> int:
    where = "parent_id IS NULL" if parent_id is None else "parent_id = ?"
    args: list[Any] = [] if parent_id is None else [parent_id]
    if not include_hidden:
        where += " AND hidden = 0"
    txn.execute(f"SELECT COUNT(*) FROM jwwx_dir_departments WHERE {where}", args)
    return int(txn.fetchone()[0])


def all_departments_txn(txn: Txn) -> list[Department]:
    txn.execute(
        f"SELECT {_COLUMNS} FROM jwwx_dir_departments ORDER BY depth, sort_order, id"
    )
    return [Department.from_row(r) for r in txn.fetchall()]


def search_departments_txn(
    txn: Txn, keyword: str, include_hidden: bool, limit: int
) -> list[Department]:
    where = "name LIKE ?" + ("" if include_hidden else " AND hidden_effective = 0")
    pattern = "%" + keyword.replace("\\", "").replace("%", "").replace("_", "") + "%"
    txn.execute(
        f"SELECT {_COLUMNS} FROM jwwx_dir_departments WHERE {where}"
        " ORDER BY depth, sort_order, id LIMIT ?",
        (pattern, limit),
    )
    return [Department.from_row(r) for r in txn.fetchall()]


def _sibling_name_taken_txn(
    txn: Txn, parent_id: int | None, name: str, except_id: int | None
) -> bool:
    where = "parent_id IS NULL" if parent_id is None else "parent_id = ?"
    args: list[Any] = [] if parent_id is None else [parent_id]
    txn.execute(
        f"SELECT id FROM jwwx_dir_departments WHERE {where} AND name = ?", (*args, name)
    )
    return any(int(row[0]) != except_id for row in txn.fetchall())


def next_department_id_txn(txn: Txn) -> int:
    txn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM jwwx_dir_departments")
    return int(txn.fetchone()[0])


def insert_department_txn(
    txn: Txn,
    *,
    department_id: int | None,
    name: str,
    parent_id: int | None,
    sort_order: int,
    hidden: bool,
    restricted: bool,
    now: int,
) -> Department:
    """Create one department under an existing parent (None: a root)."""
    parent = None
    if parent_id is not None:
        parent = get_department_txn(txn, parent_id)
        if parent is None:
            raise DirectoryError(
                errors.PARENT_NOT_FOUND, f"上级部门 {parent_id} 不存在"
            )
    if department_id is None:
        department_id = next_department_id_txn(txn)
    elif get_department_txn(txn, department_id) is not None:
        raise DirectoryError(errors.DEPARTMENT_EXISTS, f"部门ID {department_id} 已存在")
    if _sibling_name_taken_txn(txn, parent_id, name, None):
        raise DirectoryError(errors.DEPARTMENT_EXISTS, f"同级已有名为“{name}”的部门")
    path = (parent.path if parent else "/") + f"{department_id}/"
    hidden_effective = hidden or (parent.hidden_effective if parent else False)
    restricted_root = (
        department_id if restricted else (parent.restricted_root if parent else None)
    )
    txn.execute(
        "INSERT INTO jwwx_dir_departments (id, name, parent_id, path, depth, sort_order,"
        " hidden, restricted, hidden_effective, restricted_root, direct_count,"
        " subtree_count, created_ts, updated_ts)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?)",
        (
            department_id,
            name,
            parent_id,
            path,
            parent.depth + 1 if parent else 0,
            sort_order,
            int(hidden),
            int(restricted),
            int(hidden_effective),
            restricted_root,
            now,
            now,
        ),
    )
    return require_department_txn(txn, department_id)


def insert_new_departments_txn(
    txn: Txn, departments: list[Department], now: int
) -> None:
    """Insert departments an import has already checked (ids free, parents present
    or earlier in the list, sibling names unique), in batches: one round trip per
    1,000 on PostgreSQL instead of several per department."""
    rows = [
        (
            d.id,
            d.name,
            d.parent_id,
            d.path,
            d.depth,
            d.sort_order,
            int(d.hidden),
            int(d.restricted),
            int(d.hidden_effective),
            d.restricted_root,
            now,
            now,
        )
        for d in departments
    ]
    for start in range(0, len(rows), 1000):
        txn.executemany(
            "INSERT INTO jwwx_dir_departments (id, name, parent_id, path, depth,"
            " sort_order, hidden, restricted, hidden_effective, restricted_root,"
            " direct_count, subtree_count, created_ts, updated_ts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?)",
            rows[start : start + 1000],
        )


def update_department_txn(
    txn: Txn, department_id: int, changes: dict[str, Any], now: int
) -> Department:
    """Apply {name, parent_id, sort_order, hidden, restricted}; a parent change moves the
    whole subtree (refused if it would create a cycle)."""
    department = require_department_txn(txn, department_id)
    name = changes.get("name", department.name)
    parent_id = changes.get("parent_id", department.parent_id)
    renamed_or_moved = parent_id != department.parent_id or name != department.name
    if renamed_or_moved and _sibling_name_taken_txn(
        txn, parent_id, name, department_id
    ):
        raise DirectoryError(errors.DEPARTMENT_EXISTS, f"同级已有名为“{name}”的部门")
    txn.execute(
        "UPDATE jwwx_dir_departments SET name = ?, sort_order = ?, hidden = ?,"
        " restricted = ?, updated_ts = ? WHERE id = ?",
        (
            name,
            changes.get("sort_order", department.sort_order),
            int(changes.get("hidden", department.hidden)),
            int(changes.get("restricted", department.restricted)),
            now,
            department_id,
        ),
    )
    if parent_id != department.parent_id:
        _move_txn(txn, department, parent_id, now)
    refresh_subtree_flags_txn(txn, department_id)
    return require_department_txn(txn, department_id)


def _move_txn(
    txn: Txn, department: Department, parent_id: int | None, now: int
) -> None:
    new_parent = None
    if parent_id is not None:
        new_parent = get_department_txn(txn, parent_id)
        if new_parent is None:
            raise DirectoryError(
                errors.PARENT_NOT_FOUND, f"上级部门 {parent_id} 不存在"
            )
        if new_parent.path.startswith(department.path):
            raise DirectoryError(
                errors.DEPARTMENT_CYCLE, "不能把部门移动到它自己或它的下级部门之下"
            )
    new_path = (new_parent.path if new_parent else "/") + f"{department.id}/"
    depth_shift = (new_parent.depth + 1 if new_parent else 0) - department.depth
    low, high = subtree_range(department.path)
    txn.execute(
        "UPDATE jwwx_dir_departments SET path = ? || substr(path, ?), depth = depth + ?"
        " WHERE path >= ? AND path < ?",
        (new_path, len(department.path) + 1, depth_shift, low, high),
    )
    txn.execute(
        "UPDATE jwwx_dir_departments SET parent_id = ?, updated_ts = ? WHERE id = ?",
        (parent_id, now, department.id),
    )
    # The subtree's members leave the old ancestors' counts and join the new ones'.
    recount_ancestors_txn(
        txn, department.ancestor_ids + (new_parent.path_ids if new_parent else [])
    )


def refresh_subtree_flags_txn(txn: Txn, department_id: int) -> None:
    """Recompute hidden_effective / restricted_root below (and at) a department."""
    root = require_department_txn(txn, department_id)
    parent = (
        get_department_txn(txn, root.parent_id) if root.parent_id is not None else None
    )
    low, high = subtree_range(root.path)
    txn.execute(
        "SELECT id, parent_id, hidden, restricted, hidden_effective, restricted_root"
        " FROM jwwx_dir_departments WHERE path >= ? AND path < ? ORDER BY depth",
        (low, high),
    )
    rows = txn.fetchall()
    state: dict[int | None, tuple[bool, int | None]] = {
        root.parent_id: (parent.hidden_effective, parent.restricted_root)
        if parent
        else (False, None)
    }
    updates = []
    for dep_id, parent_of, hidden, restricted, old_hidden, old_root in rows:
        parent_hidden, parent_root = state[parent_of]
        hidden_effective = bool(hidden) or parent_hidden
        restricted_root = int(dep_id) if restricted else parent_root
        state[int(dep_id)] = (hidden_effective, restricted_root)
        if (hidden_effective, restricted_root) != (bool(old_hidden), old_root):
            updates.append((int(hidden_effective), restricted_root, dep_id))
    if updates:
        txn.executemany(
            "UPDATE jwwx_dir_departments SET hidden_effective = ?, restricted_root = ?"
            " WHERE id = ?",
            updates,
        )


def delete_department_txn(txn: Txn, department_id: int) -> None:
    require_department_txn(txn, department_id)
    txn.execute(
        "SELECT 1 FROM jwwx_dir_departments WHERE parent_id = ? LIMIT 1",
        (department_id,),
    )
    if txn.fetchone():
        raise DirectoryError(
            errors.DEPARTMENT_HAS_CHILDREN, "部门下还有子部门，不能删除"
        )
    txn.execute(
        "SELECT 1 FROM jwwx_dir_memberships WHERE department_id = ? LIMIT 1",
        (department_id,),
    )
    if txn.fetchone():
        raise DirectoryError(errors.DEPARTMENT_HAS_MEMBERS, "部门下还有成员，不能删除")
    txn.execute(
        "DELETE FROM jwwx_dir_tag_departments WHERE department_id = ?", (department_id,)
    )
    txn.execute("DELETE FROM jwwx_dir_departments WHERE id = ?", (department_id,))


# Member counts (enabled, non-hidden members).

_DIRECT_COUNT = (
    "SELECT COUNT(*) FROM jwwx_dir_memberships AS ms"
    " JOIN jwwx_dir_members AS m ON m.userid = ms.userid"
    " WHERE ms.department_id = ? AND m.enabled = 1 AND m.hidden = 0"
)


def count_member_change_txn(txn: Txn, before: set[int], after: set[int]) -> None:
    """One member's counted departments (enabled, not hidden; empty otherwise) went
    from `before` to `after`: move the direct counts of the departments it left or
    joined and the subtree counts of the ancestors it stopped or started reaching, by
    one each. Exact as long as the counts were (directory writes are serialized), and
    O(depth) where recounting the root's subtree reads every membership."""
    if before == after:
        return
    found = get_departments_txn(txn, sorted(before | after))

    def reach(ids: set[int]) -> set[int]:
        return {a for d in ids if d in found for a in found[d].path_ids}

    direct = [(-1, d) for d in sorted(before - after) if d in found] + [
        (1, d) for d in sorted(after - before) if d in found
    ]
    reached_before, reached_after = reach(before), reach(after)
    subtree = [(-1, d) for d in sorted(reached_before - reached_after)] + [
        (1, d) for d in sorted(reached_after - reached_before)
    ]
    if direct:
        txn.executemany(
            "UPDATE jwwx_dir_departments SET direct_count = direct_count + ?"
            " WHERE id = ?",
            direct,
        )
    if subtree:
        txn.executemany(
            "UPDATE jwwx_dir_departments SET subtree_count = subtree_count + ?"
            " WHERE id = ?",
            subtree,
        )


def recount_ancestors_txn(txn: Txn, department_ids: list[int]) -> None:
    """subtree_count = distinct counted members anywhere in the subtree (someone in two
    of its departments counts once), for each id given."""
    for department in get_departments_txn(txn, sorted(set(department_ids))).values():
        low, high = subtree_range(department.path)
        txn.execute(
            "UPDATE jwwx_dir_departments SET subtree_count = ("
            "SELECT COUNT(DISTINCT ms.userid) FROM jwwx_dir_memberships AS ms"
            " JOIN jwwx_dir_departments AS d ON d.id = ms.department_id"
            " JOIN jwwx_dir_members AS m ON m.userid = ms.userid"
            " WHERE d.path >= ? AND d.path < ? AND m.enabled = 1 AND m.hidden = 0)"
            " WHERE id = ?",
            (low, high, department.id),
        )


def recount_all_txn(txn: Txn) -> None:
    """Recompute every count in one pass over the memberships (after a bulk import)."""
    txn.execute(
        "SELECT id, path, direct_count, subtree_count FROM jwwx_dir_departments"
    )
    rows = txn.fetchall()
    ancestors = {
        int(i): [int(a) for a in path.strip("/").split("/")] for i, path, _d, _s in rows
    }
    txn.execute(
        "SELECT ms.userid, ms.department_id FROM jwwx_dir_memberships AS ms"
        " JOIN jwwx_dir_members AS m ON m.userid = ms.userid"
        " WHERE m.enabled = 1 AND m.hidden = 0 ORDER BY ms.userid"
    )
    direct: dict[int, int] = {}
    subtree: dict[int, int] = {}
    reached: set[int] = set()
    previous = None
    for userid, department_id in txn.fetchall():
        if userid != previous:
            for ancestor in reached:
                subtree[ancestor] = subtree.get(ancestor, 0) + 1
            reached, previous = set(), userid
        direct[int(department_id)] = direct.get(int(department_id), 0) + 1
        reached.update(ancestors.get(int(department_id), ()))
    for ancestor in reached:
        subtree[ancestor] = subtree.get(ancestor, 0) + 1
    updates = [
        (direct.get(int(i), 0), subtree.get(int(i), 0), i)
        for i, _p, d, s in rows
        if (direct.get(int(i), 0), subtree.get(int(i), 0)) != (d, s)
    ]
    if updates:
        batch(
            txn,
            "UPDATE jwwx_dir_departments SET direct_count = ?, subtree_count = ? WHERE id = ?",
            updates,
        )


KEPT_CHANGES = 10_000  # generations of change rows kept for readers behind


def generation_txn(txn: Txn) -> int:
    txn.execute("SELECT generation FROM jwwx_dir_generation WHERE id = 1")
    row = txn.fetchone()
    return int(row[0]) if row else 0


def record_change_txn(txn: Txn, userids: list[str] | None) -> int:
    """Move the generation; record the members changed (None: maybe everything)."""
    txn.execute(
        "UPDATE jwwx_dir_generation SET generation = generation + 1 WHERE id = 1"
    )
    generation = generation_txn(txn)
    rows = (
        [(generation, None)] if userids is None else [(generation, u) for u in userids]
    )
    if rows:
        txn.executemany(
            "INSERT INTO jwwx_dir_changes (generation, userid) VALUES (?, ?)", rows
        )
    if generation % 100 == 0:
        txn.execute(
            "DELETE FROM jwwx_dir_changes WHERE generation <= ?",
            (generation - KEPT_CHANGES,),
        )
    return generation


def changes_since_txn(txn: Txn, generation: int) -> tuple[int, bool, dict[str, int]]:
    """(the current generation, whether everything may have changed since
    `generation`, each member changed since with the last generation that changed
    it)."""
    current = generation_txn(txn)
    if current == generation:
        return current, False, {}
    if current - generation >= KEPT_CHANGES:
        return current, True, {}
    txn.execute(
        "SELECT generation, userid FROM jwwx_dir_changes WHERE generation > ?",
        (generation,),
    )
    changed: dict[str, int] = {}
    for at, userid in txn.fetchall():
        if userid is None:
            return current, True, {}
        changed[str(userid)] = max(int(at), changed.get(str(userid), 0))
    return current, False, changed


def count_departments_txn(txn: Txn) -> tuple[int, int | None]:
    """(departments, when the first root was created: the organisation's creation)."""
    txn.execute(
        "SELECT COUNT(*), MIN(CASE WHEN depth = 0 THEN created_ts END)"
        " FROM jwwx_dir_departments"
    )
    row = txn.fetchone()
    return int(row[0]), None if row[1] is None else int(row[1])


def departments_at_depth_txn(txn: Txn, depth: int) -> list[Department]:
    """Every department at one depth (0: the roots; 1: the second-level units)."""
    txn.execute(
        f"SELECT {_COLUMNS} FROM jwwx_dir_departments WHERE depth = ?"
        " ORDER BY sort_order, id",
        (depth,),
    )
    return [Department.from_row(r) for r in txn.fetchall()]
