# SPDX-License-Identifier: AGPL-3.0-or-later
"""Apply validated import records to the store: checks against the database first (every
problem reported with its row), then everything in the caller's one transaction."""

from typing import Any

from modules.common.storage import Txn
from modules.directory.errors import DirectoryError
from modules.directory.records import (
    DEPARTMENT_COLUMNS,
    MEMBER_COLUMNS,
    TAG_COLUMNS,
    DepartmentRecord,
    DepartmentRef,
    ImportRejectedError,
    MemberRecord,
    RowError,
    TagRecord,
)
from modules.directory.storage import bulk, social
from modules.directory.storage import departments as dept_store
from modules.directory.storage import members as member_store
from modules.directory.storage import provisioning as prov_store
from modules.directory.storage.departments import Department


class Tree:
    """All departments in memory (30,000 rows are cheap), to resolve ids and paths."""

    def __init__(self, departments: list[Department]) -> None:
        self.by_id = {d.id: d for d in departments}
        self.child_by_name: dict[tuple[int | None, str], int] = {
            (d.parent_id, d.name): d.id for d in departments
        }

    def names_of(self, department_id: int) -> tuple[str, ...]:
        department = self.by_id[department_id]
        return tuple(self.by_id[i].name for i in department.path_ids)

    def find_path(self, path: tuple[str, ...]) -> int | None:
        parent: int | None = None
        for name in path:
            found = self.child_by_name.get((parent, name))
            if found is None:
                return None
            parent = found
        return parent

    def resolve(self, ref: DepartmentRef) -> int | None:
        if ref.department_id is not None:
            return ref.department_id if ref.department_id in self.by_id else None
        return self.find_path(ref.path or ())


def load_tree_txn(txn: Txn) -> Tree:
    return Tree(dept_store.all_departments_txn(txn))


def _ref_text(ref: DepartmentRef) -> str:
    return (
        str(ref.department_id)
        if ref.department_id is not None
        else "/".join(ref.path or ())
    )


# Departments.


def department_problems_txn(
    txn: Txn, records: list[DepartmentRecord]
) -> list[RowError]:
    """The database's problems with departments given by id (the file's own were found
    by the parser): parents that do not exist, moves making a cycle, sibling names."""
    if not any(r.id is not None for r in records):
        return []  # by path: missing levels are created, nothing to refuse up front
    return _department_problems(load_tree_txn(txn), records)[0]


def _department_problems(
    tree: Tree, records: list[DepartmentRecord]
) -> tuple[list[RowError], dict[int, tuple[str, int | None]]]:
    """Problems (records without a usable id are skipped) and the tree after the file."""
    header = DEPARTMENT_COLUMNS["parent_id"][0]
    state = {d.id: (d.name, d.parent_id) for d in tree.by_id.values()}
    records = [r for r in records if r.id is not None]
    for record in records:
        assert record.id is not None
        state[record.id] = (record.name, record.parent_id)
    problems: list[RowError] = []
    for record in records:
        if record.parent_id is not None and record.parent_id not in state:
            problems.append(
                RowError(record.row, header, f"上级部门 {record.parent_id} 不存在")
            )
            continue
        seen = {record.id}
        parent = record.parent_id
        while parent is not None and parent in state:
            if parent in seen:
                problems.append(
                    RowError(
                        record.row,
                        header,
                        "部门之间形成了循环（移动后会成为自己的下级）",
                    )
                )
                break
            seen.add(parent)
            parent = state[parent][1]
    siblings: dict[tuple[int | None, str], list[int]] = {}
    for department_id, (name, parent_id) in state.items():
        siblings.setdefault((parent_id, name), []).append(department_id)
    rows = {r.id: r.row for r in records}
    for (_parent, name), ids in siblings.items():
        if len(ids) > 1:
            for department_id in ids:
                if department_id in rows:
                    problems.append(
                        RowError(
                            rows[department_id],
                            DEPARTMENT_COLUMNS["name"][0],
                            f"同级已有名为“{name}”的部门",
                        )
                    )
    return problems, state


def apply_departments_txn(
    txn: Txn, records: list[DepartmentRecord], now: int
) -> dict[str, int]:
    tree = load_tree_txn(txn)
    if records and records[0].id is None:
        report = _apply_paths_txn(txn, tree, records, now)
        bulk.refresh_statistics_txn(txn)
        return report
    problems, state = _department_problems(tree, records)
    if problems:
        raise ImportRejectedError(sorted(problems, key=lambda p: p.row))

    def depth(department_id: int) -> int:
        steps, parent = 0, state[department_id][1]
        while parent is not None:
            steps, parent = steps + 1, state[parent][1]
        return steps

    ordered = sorted(records, key=lambda r: depth(r.id or 0))
    if all(r.id not in tree.by_id for r in ordered):
        # Only new departments (a first import): checked above, inserted in batches.
        _create_checked_txn(txn, tree, ordered, now)
        bulk.refresh_statistics_txn(txn)
        return {"created": len(ordered), "updated": 0, "unchanged": 0}
    report = {"created": 0, "updated": 0, "unchanged": 0}
    for record in ordered:
        assert record.id is not None
        try:
            _upsert_department_txn(
                txn, tree, record, record.id, record.parent_id, now, report
            )
        except DirectoryError as e:
            raise ImportRejectedError([RowError(record.row, None, e.message)]) from e
    bulk.refresh_statistics_txn(txn)
    return report


def _create_checked_txn(
    txn: Txn, tree: Tree, records: list[DepartmentRecord], now: int
) -> None:
    """New departments by id, parents first, already checked against the tree
    (_department_problems): their paths and inherited flags come from the tree."""
    created: list[Department] = []
    for record in records:
        assert record.id is not None
        parent = (
            tree.by_id.get(record.parent_id) if record.parent_id is not None else None
        )
        department = Department(
            id=record.id,
            name=record.name,
            parent_id=record.parent_id,
            path=(parent.path if parent else "/") + f"{record.id}/",
            depth=parent.depth + 1 if parent else 0,
            sort_order=record.sort_order,
            hidden=record.hidden,
            restricted=record.restricted,
            hidden_effective=record.hidden
            or (parent.hidden_effective if parent else False),
            restricted_root=record.id
            if record.restricted
            else (parent.restricted_root if parent else None),
            direct_count=0,
            subtree_count=0,
        )
        tree.by_id[department.id] = department
        tree.child_by_name[(department.parent_id, department.name)] = department.id
        created.append(department)
    dept_store.insert_new_departments_txn(txn, created, now)


def _upsert_department_txn(
    txn: Txn,
    tree: Tree,
    record: DepartmentRecord,
    department_id: int | None,
    parent_id: int | None,
    now: int,
    report: dict[str, int],
) -> int:
    existing = tree.by_id.get(department_id) if department_id is not None else None
    if existing is None:
        created = dept_store.insert_department_txn(
            txn,
            department_id=department_id,
            name=record.name,
            parent_id=parent_id,
            sort_order=record.sort_order,
            hidden=record.hidden,
            restricted=record.restricted,
            now=now,
        )
        tree.by_id[created.id] = created
        tree.child_by_name[(parent_id, record.name)] = created.id
        report["created"] += 1
        return created.id
    wanted = {
        "name": record.name,
        "parent_id": parent_id,
        "sort_order": record.sort_order,
        "hidden": record.hidden,
        "restricted": record.restricted,
    }
    current = {
        "name": existing.name,
        "parent_id": existing.parent_id,
        "sort_order": existing.sort_order,
        "hidden": existing.hidden,
        "restricted": existing.restricted,
    }
    if wanted == current:
        report["unchanged"] += 1
        return existing.id
    updated = dept_store.update_department_txn(txn, existing.id, wanted, now)
    tree.by_id[updated.id] = updated
    tree.child_by_name[(updated.parent_id, updated.name)] = updated.id
    report["updated"] += 1
    return updated.id


def _apply_paths_txn(
    txn: Txn, tree: Tree, records: list[DepartmentRecord], now: int
) -> dict[str, int]:
    report = {"created": 0, "updated": 0, "unchanged": 0}
    for record in sorted(records, key=lambda r: len(r.path or ())):
        path = record.path or ()
        parent: int | None = None
        try:
            for depth, name in enumerate(path[:-1]):
                found = tree.child_by_name.get((parent, name))
                if found is None:
                    # A level the file does not list itself is created plainly.
                    plain = DepartmentRecord(
                        row=record.row, name=name, path=path[: depth + 1]
                    )
                    found = _upsert_department_txn(
                        txn, tree, plain, None, parent, now, report
                    )
                parent = found
            existing = tree.child_by_name.get((parent, path[-1]))
            _upsert_department_txn(txn, tree, record, existing, parent, now, report)
        except DirectoryError as e:
            raise ImportRejectedError([RowError(record.row, None, e.message)]) from e
    return report


# Members.


def member_problems_txn(txn: Txn, records: list[MemberRecord]) -> list[RowError]:
    """The database's problems with members: departments that do not exist, mobiles
    another member (not in this file) already has."""
    mobile_owner = bulk.mobile_owners_txn(txn)
    return _member_problems(load_tree_txn(txn), mobile_owner, records)[0]


def _member_problems(
    tree: Tree, mobile_owner: dict[str, str], records: list[MemberRecord]
) -> tuple[list[RowError], dict[str, list[tuple[int, int, int]]]]:
    file_userids = {r.userid for r in records}
    dept_header = MEMBER_COLUMNS["departments"][0]
    problems: list[RowError] = []
    resolved: dict[str, list[tuple[int, int, int]]] = {}
    for record in records:
        memberships = []
        for ms in record.memberships:
            department_id = tree.resolve(ms.department)
            if department_id is None:
                problems.append(
                    RowError(
                        record.row,
                        dept_header,
                        f"部门“{_ref_text(ms.department)}”不存在",
                    )
                )
            else:
                memberships.append((department_id, ms.sort_order, int(ms.is_leader)))
        resolved[record.userid] = memberships
        owner = mobile_owner.get(record.mobile) if record.mobile else None
        if owner is not None and owner != record.userid and owner not in file_userids:
            problems.append(
                RowError(
                    record.row,
                    MEMBER_COLUMNS["mobile"][0],
                    f"手机号 {record.mobile} 已被成员 {owner} 使用",
                )
            )
    return problems, resolved


def apply_members_txn(
    txn: Txn, records: list[MemberRecord], admin: str, now: int
) -> dict[str, Any]:
    """Insert new members, update changed ones, leave equal ones alone; queue accounts."""
    tree = load_tree_txn(txn)
    existing = bulk.member_rows_txn(txn)
    current_ms = bulk.all_memberships_txn(txn)
    mobile_owner = {row[3]: userid for userid, row in existing.items() if row[3]}
    problems, resolved = _member_problems(tree, mobile_owner, records)
    if problems:
        raise ImportRejectedError(sorted(problems, key=lambda p: p.row))

    new, changed, renamed, unchanged = [], [], [], 0
    for record in records:
        values = (
            record.userid,
            record.name,
            record.gender,
            record.mobile or None,
            record.telephone or None,
            record.email or None,
            record.position or None,
            record.sort_order,
            int(record.hidden),
            int(record.enabled),
        )
        before = existing.get(record.userid)
        if before is None:
            new.append(values)
        elif (
            tuple(before) != values
            or current_ms.get(record.userid, []) != resolved[record.userid]
        ):
            changed.append(values)
            if before[1] != record.name:
                renamed.append(record.userid)
        else:
            unchanged += 1
    orders = {r.userid: r.sort_order for r in records}
    names = {r.userid: r.name for r in records}
    bulk.write_members_txn(txn, new, changed, renamed, resolved, orders, names, now)
    dept_store.recount_all_txn(txn)
    bulk.refresh_statistics_txn(txn)
    new_userids = [row[0] for row in new]
    job_id = (
        prov_store.create_job_txn(txn, "import", new_userids, admin, now)
        if new_userids
        else None
    )
    return {
        "created": len(new),
        "updated": len(changed),
        "unchanged": unchanged,
        "job_id": job_id,
        "changed_userids": [row[0] for row in changed],
    }


# Tags.


def tag_problems_txn(txn: Txn, records: list[TagRecord]) -> list[RowError]:
    """The database's problems with tags: members and departments that do not exist."""
    return _tag_problems_txn(txn, load_tree_txn(txn), records)[0]


def _tag_problems_txn(
    txn: Txn, tree: Tree, records: list[TagRecord]
) -> tuple[list[RowError], list[tuple[TagRecord, tuple[int, ...]]]]:
    known = set(member_store.all_member_userids_txn(txn))
    problems: list[RowError] = []
    resolved: list[tuple[TagRecord, tuple[int, ...]]] = []
    for record in records:
        for userid in record.userids:
            if userid not in known:
                problems.append(
                    RowError(
                        record.row, TAG_COLUMNS["userids"][0], f"成员 {userid} 不存在"
                    )
                )
        department_ids: list[int] = []
        for ref in record.departments:
            department_id = tree.resolve(ref)
            if department_id is None:
                problems.append(
                    RowError(
                        record.row,
                        TAG_COLUMNS["departments"][0],
                        f"部门“{_ref_text(ref)}”不存在",
                    )
                )
            else:
                department_ids.append(department_id)
        resolved.append((record, tuple(department_ids)))
    return problems, resolved


def apply_tags_txn(
    txn: Txn, records: list[TagRecord], admin: str, now: int
) -> dict[str, int]:
    tree = load_tree_txn(txn)
    problems, resolved = _tag_problems_txn(txn, tree, records)
    if problems:
        raise ImportRejectedError(sorted(problems, key=lambda p: p.row))
    report = {"created": 0, "updated": 0, "unchanged": 0}
    for record, tag_departments in resolved:
        tag_id = social.tag_id_by_name_txn(txn, record.name)
        if tag_id is not None:
            tag = social.require_tag_txn(txn, tag_id)
            if set(tag.userids) == set(record.userids) and set(
                tag.department_ids
            ) == set(tag_departments):
                report["unchanged"] += 1
                continue
        social.save_tag_txn(
            txn, tag_id, record.name, record.userids, tag_departments, admin, now
        )
        report["created" if tag_id is None else "updated"] += 1
    return report
