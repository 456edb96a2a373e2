# SPDX-License-Identifier: AGPL-3.0-or-later
"""The sample directory generator: shape, uniqueness, determinism and the CSV files."""

import contextlib
import csv
import io
import re
from collections import Counter
from pathlib import Path

from twisted.trial import unittest

from modules.directory.records import (
    DEPARTMENT_COLUMNS,
    MEMBER_COLUMNS,
    DepartmentRecord,
    MemberRecord,
)
from modules.directory.sample import (
    big_department_id,
    generate_directory,
    main,
    write_csv,
)

_USERID = re.compile(r"[a-z0-9._=-]{1,64}")
_MOBILE = re.compile(r"1[358][0-9]{9}")
_POLYPHONIC = "单曾解仇区朴查盖华缪乐翟"
_COMPOUND = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫")


def _check_tree(test: unittest.TestCase, departments: list[DepartmentRecord]) -> None:
    by_id = {d.id: d for d in departments}
    test.assertEqual(sorted(by_id), list(range(1, len(departments) + 1)))
    root = departments[0]
    test.assertEqual((root.id, root.parent_id, root.path), (1, None, (root.name,)))
    siblings: set[tuple[int, str]] = set()
    for index, department in enumerate(departments):
        test.assertEqual(department.row, index + 2)
        assert department.id is not None and department.path is not None
        if department.parent_id is None:
            test.assertIs(department, root)
            continue
        parent = by_id[department.parent_id]
        assert parent.id is not None and parent.path is not None
        test.assertLess(parent.id, department.id)
        test.assertEqual(department.path, (*parent.path, department.name))
        key = (parent.id, department.name)
        test.assertNotIn(key, siblings)
        siblings.add(key)


def _check_members(
    test: unittest.TestCase,
    departments: list[DepartmentRecord],
    members: list[MemberRecord],
) -> None:
    paths = {d.id: d.path for d in departments}
    test.assertEqual(len({m.userid for m in members}), len(members))
    test.assertEqual(len({m.mobile for m in members}), len(members))
    for index, member in enumerate(members):
        test.assertEqual(member.row, index + 2)
        test.assertTrue(_USERID.fullmatch(member.userid), member.userid)
        test.assertTrue(_MOBILE.fullmatch(member.mobile), member.mobile)
        test.assertEqual(member.email, f"{member.userid}@police.example")
        test.assertIn(member.gender, (1, 2))
        test.assertIn(len(member.name), (2, 3, 4))
        test.assertIn(len(member.memberships), (1, 2))
        ids = [s.department.department_id for s in member.memberships]
        test.assertEqual(len(set(ids)), len(ids))
        for membership in member.memberships:
            ref = membership.department
            test.assertEqual(paths[ref.department_id], ref.path)


class DepartmentTreeTest(unittest.TestCase):
    def test_exact_counts_and_consistency(self) -> None:
        for count in (1, 2, 10, 40, 499, 500, 2000):
            departments, members = generate_directory(count, 50)
            self.assertEqual(len(departments), count)
            self.assertEqual(len(members), 50)
            _check_tree(self, departments)

    def test_depth_and_flags(self) -> None:
        departments, _ = generate_directory(2000, 0)
        assert all(d.path for d in departments)
        self.assertGreaterEqual(max(len(d.path or ()) for d in departments), 8)
        self.assertTrue(any(d.hidden for d in departments))
        self.assertTrue(any(d.restricted for d in departments))
        self.assertFalse(departments[0].hidden or departments[0].restricted)
        top = [d.name for d in departments if d.parent_id == 1]
        self.assertIn("刑侦总队", top)
        self.assertIn("浦东分局", top)

    def test_small_tree_is_bushy(self) -> None:
        departments, _ = generate_directory(10, 0)
        self.assertGreater(sum(1 for d in departments if d.parent_id == 1), 1)


class MemberTest(unittest.TestCase):
    def test_full_size_members(self) -> None:
        departments, members = generate_directory(2000, 55000, seed=5)
        _check_tree(self, departments)
        _check_members(self, departments, members)
        surnames = Counter(m.name[0] for m in members)
        present = [s for s in _POLYPHONIC if surnames[s] > 0]
        self.assertEqual(present, list(_POLYPHONIC))
        compound = Counter(m.name[:2] for m in members if m.name[:2] in _COMPOUND)
        self.assertEqual(set(compound), set(_COMPOUND))
        shan = [m.userid for m in members if m.name[0] == "单"]
        self.assertTrue(all(u.startswith("shan") for u in shan))
        self.assertTrue(any(re.search(r"[0-9]$", m.userid) for m in members))
        two = sum(1 for m in members if len(m.memberships) == 2)
        self.assertTrue(0.03 * len(members) < two < 0.07 * len(members), two)
        leaders = sum(1 for m in members if m.memberships[0].is_leader)
        self.assertTrue(0 < leaders < 0.1 * len(members), leaders)
        self.assertTrue(any(len(m.name) == 2 for m in members))
        self.assertTrue(any(len(m.name) == 3 for m in members))

    def test_sort_order_within_department(self) -> None:
        _, members = generate_directory(40, 300)
        orders: dict[int | None, list[int]] = {}
        for member in members:
            for s in member.memberships:
                orders.setdefault(s.department.department_id, []).append(s.sort_order)
        for values in orders.values():
            self.assertEqual(values, list(range(1, len(values) + 1)))

    def test_big_department(self) -> None:
        departments, members = generate_directory(
            300, 4000, big_department_members=3000
        )
        big = big_department_id(departments)
        self.assertNotIn(big, {d.parent_id for d in departments})
        inside = [
            m
            for m in members
            if any(s.department.department_id == big for s in m.memberships)
        ]
        self.assertGreaterEqual(len(inside), 3000)
        self.assertLess(len(inside), 3100)
        self.assertRaises(
            ValueError, generate_directory, 10, 5, big_department_members=6
        )
        self.assertRaises(ValueError, generate_directory, 0, 5)

    def test_deterministic_by_seed(self) -> None:
        first = generate_directory(500, 400, seed=3)
        self.assertEqual(first, generate_directory(500, 400, seed=3))
        self.assertNotEqual(first, generate_directory(500, 400, seed=4))


class CsvTest(unittest.TestCase):
    def test_write_csv(self) -> None:
        departments, members = generate_directory(40, 300)
        folder = Path(self.mktemp())
        department_path, member_path = write_csv(departments, members, folder)
        raw = department_path.read_bytes()
        self.assertTrue(raw.startswith(b"\xef\xbb\xbf"))
        with department_path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        self.assertEqual(
            rows[0], ["部门ID", "部门名称", "上级部门ID", "排序", "隐藏", "仅看本部门"]
        )
        self.assertEqual(rows[0][0], DEPARTMENT_COLUMNS["id"][0])
        self.assertEqual(len(rows), 41)
        self.assertEqual(rows[1][:3], ["1", "市公安局", ""])
        flags = {r[4] for r in rows[1:]} | {r[5] for r in rows[1:]}
        self.assertLessEqual(flags, {"是", "否"})
        with member_path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            member_rows = list(reader)
        self.assertEqual(
            reader.fieldnames, [columns[0] for columns in MEMBER_COLUMNS.values()]
        )
        self.assertEqual(len(member_rows), 300)
        for member, row in zip(members, member_rows, strict=True):
            self.assertEqual(row["账号"], member.userid)
            self.assertEqual(row["性别"], "男" if member.gender == 1 else "女")
            ids = [str(s.department.department_id) for s in member.memberships]
            self.assertEqual(row["部门"], ";".join(ids))
            self.assertEqual(len(row["部门负责人"].split(";")), len(ids))
            self.assertEqual(len(row["部门内排序"].split(";")), len(ids))
            self.assertIn(row["启用"], ("是", "否"))

    def test_cli(self) -> None:
        folder = Path(self.mktemp())
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(
                ["--departments", "40", "--members", "300", "--out", str(folder)]
            )
        self.assertEqual(code, 0)
        self.assertTrue((folder / "departments.csv").exists())
        self.assertTrue((folder / "members.csv").exists())
        self.assertIn("300", out.getvalue())
