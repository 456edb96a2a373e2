# SPDX-License-Identifier: AGPL-3.0-or-later
"""The XLSX export reads back, through read_rows and parse_*, to the records it was made of."""

import dataclasses
import io
import random
import time
from typing import TypeVar

from twisted.trial import unittest

import openpyxl

from modules.directory.exporter import export_directory_xlsx
from modules.directory.importer import parse_departments, parse_members, parse_tags
from modules.directory.records import (
    DEPARTMENT_COLUMNS,
    GENDER_FEMALE,
    GENDER_MALE,
    GENDER_UNKNOWN,
    MEMBER_COLUMNS,
    TAG_COLUMNS,
    DepartmentRecord,
    DepartmentRef,
    MemberRecord,
    MembershipRecord,
    TagRecord,
)
from modules.directory.tabular import read_rows

R = TypeVar("R", DepartmentRecord, MemberRecord, TagRecord)

SURNAMES = "王李张刘陈杨赵黄周吴"
UNITS = [
    "刑侦",
    "治安",
    "交警",
    "特警",
    "派出所",
    "指挥中心",
    "法制",
    "=SUM(A1)",
    "0012",
]


def without_row(records: list[R]) -> list[R]:
    return [dataclasses.replace(record, row=0) for record in records]


def departments(count: int, rng: random.Random) -> list[DepartmentRecord]:
    records = [DepartmentRecord(row=2, name="市局", id=1, sort_order=0)]
    for department_id in range(2, count + 1):
        records.append(
            DepartmentRecord(
                row=department_id + 1,
                name=f"{rng.choice(UNITS)}{department_id}",
                id=department_id,
                parent_id=rng.randrange(1, department_id),
                sort_order=rng.randrange(-5, 1000),
                hidden=rng.random() < 0.1,
                restricted=rng.random() < 0.2,
            )
        )
    return records


def members(
    count: int, department_count: int, rng: random.Random
) -> list[MemberRecord]:
    records = []
    for index in range(count):
        chosen = rng.sample(range(1, department_count + 1), rng.randrange(1, 4))
        refs = [DepartmentRef(department_id=d) for d in chosen]
        if index % 7 == 0:
            refs.append(DepartmentRef(path=("市局", "刑侦总队", f"{index}支队")))
        records.append(
            MemberRecord(
                row=index + 2,
                # Accounts that look like numbers or formulas must stay text.
                userid=rng.choice(
                    [f"u{index:05d}", f"{index:08d}", f"=p.{index}", f"z_{index}-x"]
                ),
                name=rng.choice(SURNAMES)
                + rng.choice(["伟", "芳", "强", "娜", "建国"]),
                gender=rng.choice([GENDER_UNKNOWN, GENDER_MALE, GENDER_FEMALE]),
                mobile="" if index % 5 == 0 else f"1{rng.randrange(3, 10)}{index:09d}",
                telephone="" if index % 3 else f"0571-{rng.randrange(10**7, 10**8)}",
                email="" if index % 4 else f"user{index}@gat.gov.cn",
                position=rng.choice(["", "科员", "副大队长", "007"]),
                memberships=tuple(
                    MembershipRecord(ref, rng.randrange(0, 50), rng.random() < 0.1)
                    for ref in refs
                ),
                sort_order=rng.randrange(0, 100),
                hidden=rng.random() < 0.05,
                enabled=rng.random() < 0.95,
            )
        )
    return records


def tags(member_records: list[MemberRecord], rng: random.Random) -> list[TagRecord]:
    userids = [m.userid for m in member_records]
    return [
        TagRecord(
            row=index + 2,
            name=f"标签{index}",
            userids=tuple(rng.sample(userids, rng.randrange(0, 30))),
            departments=tuple(
                [
                    DepartmentRef(department_id=d)
                    for d in rng.sample(range(1, 50), rng.randrange(0, 4))
                ]
                + ([DepartmentRef(path=("市局", "指挥中心"))] if index % 2 else [])
            ),
        )
        for index in range(20)
    ]


class ExportTests(unittest.TestCase):
    def read_back(
        self, data: bytes
    ) -> tuple[list[DepartmentRecord], list[MemberRecord], list[TagRecord]]:
        return (
            parse_departments(
                read_rows("导出.xlsx", data, DEPARTMENT_COLUMNS, sheet="部门")
            ),
            parse_members(read_rows("导出.xlsx", data, MEMBER_COLUMNS, sheet="成员")),
            parse_tags(read_rows("导出.xlsx", data, TAG_COLUMNS, sheet="标签")),
        )

    def test_round_trip_of_generated_directory(self) -> None:
        rng = random.Random(20240611)
        department_records = departments(300, rng)
        member_records = members(600, 300, rng)
        tag_records = tags(member_records, rng)
        data = export_directory_xlsx(department_records, member_records, tag_records)
        back = self.read_back(data)
        self.assertEqual(without_row(back[0]), without_row(department_records))
        self.assertEqual(without_row(back[1]), without_row(member_records))
        self.assertEqual(without_row(back[2]), without_row(tag_records))
        # Spreadsheet rows follow the records, header first.
        self.assertEqual([m.row for m in back[1][:3]], [2, 3, 4])

    def test_sheets_headers_and_text_cells(self) -> None:
        member = MemberRecord(
            row=2,
            userid="10086",
            name="张三",
            mobile="13800138000",
            memberships=(MembershipRecord(DepartmentRef(department_id=12)),),
        )
        department = DepartmentRecord(row=2, name="市局", id=12)
        data = export_directory_xlsx([department], [member], [])
        workbook = openpyxl.load_workbook(io.BytesIO(data))
        self.assertEqual(workbook.sheetnames, ["部门", "成员", "标签"])
        self.assertEqual(
            [c.value for c in workbook["部门"][1]],
            ["部门ID", "部门名称", "上级部门ID", "排序", "隐藏", "仅看本部门"],
        )
        self.assertEqual(
            [c.value for c in workbook["成员"][1]],
            [aliases[0] for aliases in MEMBER_COLUMNS.values()],
        )
        self.assertEqual(
            [c.value for c in workbook["标签"][1]], ["标签名称", "成员账号", "部门"]
        )
        row = [c.value for c in workbook["成员"][2]]
        # Text, not numbers Excel would turn into 1.38E+10.
        self.assertEqual(row[:4], ["10086", "张三", None, "13800138000"])
        self.assertEqual(row[7:], ["12", "0", "否", 0, "否", "是"])
        self.assertEqual(
            [c.value for c in workbook["部门"][2]], ["12", "市局", None, 0, "否", "否"]
        )

    def test_departments_without_ids_are_exported_by_path(self) -> None:
        records = [
            DepartmentRecord(row=2, name="市局", path=("市局",)),
            DepartmentRecord(
                row=3, name="一支队", path=("市局", "刑侦总队", "一支队"), hidden=True
            ),
        ]
        data = export_directory_xlsx(records, [], [])
        self.assertEqual(without_row(self.read_back(data)[0]), without_row(records))

    def test_a_tag_too_big_for_one_cell_is_split_over_rows(self) -> None:
        userids = tuple(f"officer.{index:06d}.longer-name" for index in range(5000))
        big = TagRecord(row=2, name="全局民警", userids=userids)
        small = TagRecord(row=3, name="值班", userids=("a",))
        data = export_directory_xlsx([], [], [big, small])
        rows = read_rows("t.xlsx", data, TAG_COLUMNS, sheet="标签")
        self.assertGreater(len(rows), 2)
        self.assertTrue(all(len(values["userids"]) <= 32_767 for _, values in rows))
        self.assertEqual(without_row(parse_tags(rows)), without_row([big, small]))

    def test_fifty_five_thousand_members(self) -> None:
        rng = random.Random(7)
        member_records = members(55_000, 3000, rng)
        started = time.perf_counter()
        data = export_directory_xlsx(departments(3000, rng), member_records, [])
        elapsed = time.perf_counter() - started
        print(f"\nexport of 55,000 members: {elapsed:.1f} s, {len(data) / 1e6:.1f} MB")
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        self.assertEqual(workbook["成员"].max_row, 55_001)
