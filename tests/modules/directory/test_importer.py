# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reading CSV/XLSX uploads (tabular) and validating them into records (importer)."""

import io

from twisted.trial import unittest

import openpyxl
import xlsxwriter

from modules.directory import tabular
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
    ImportRejectedError,
    MemberRecord,
    MembershipRecord,
    RowError,
    TagRecord,
)
from modules.directory.tabular import read_rows


def csv_bytes(lines: list[str], encoding: str = "utf-8") -> bytes:
    return "\r\n".join(lines).encode(encoding) + b"\r\n"


def xlsx_openpyxl(sheets: dict[str, list[list[object]]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def xlsx_xlsxwriter(rows: list[list[object]]) -> bytes:
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output)
    sheet = workbook.add_worksheet()
    for number, row in enumerate(rows):
        sheet.write_row(number, 0, row)
    workbook.close()
    return output.getvalue()


class RejectsMixin(unittest.TestCase):
    def rejected(self, call: object, *args: object) -> list[RowError]:
        assert callable(call)
        with self.assertRaises(ImportRejectedError) as caught:
            call(*args)
        return caught.exception.errors

    def places(self, errors: list[RowError]) -> list[tuple[int, str | None]]:
        return [(error.row, error.column) for error in errors]


class TabularTests(RejectsMixin):
    def test_csv_utf8_with_bom_and_english_headers(self) -> None:
        data = "\ufeff" + "UserID, Name ,department\r\nZhang.San,张三,1;2\r\n"
        rows = read_rows("a.CSV", data.encode("utf-8"), MEMBER_COLUMNS)
        self.assertEqual(
            rows, [(2, {"userid": "Zhang.San", "name": "张三", "departments": "1;2"})]
        )

    def test_csv_utf8_without_bom(self) -> None:
        rows = read_rows("a.csv", csv_bytes(["账号,姓名", "li,李四"]), MEMBER_COLUMNS)
        self.assertEqual(rows, [(2, {"userid": "li", "name": "李四"})])

    def test_csv_gb18030_from_excel_on_chinese_windows(self) -> None:
        data = csv_bytes(["账号,姓名,部门", "wang,王五,市局/刑侦总队"], "gb18030")
        rows = read_rows("成员.csv", data, MEMBER_COLUMNS)
        self.assertEqual(rows[0][1]["departments"], "市局/刑侦总队")
        self.assertEqual(rows[0][1]["name"], "王五")

    def test_blank_rows_are_skipped_and_rows_keep_spreadsheet_numbers(self) -> None:
        data = csv_bytes(
            ["账号,姓名", "a,甲", "", ",", "b,乙", '"c","多行\n姓名"', "d,丁"]
        )
        rows = read_rows("a.csv", data, MEMBER_COLUMNS)
        self.assertEqual([number for number, _ in rows], [2, 5, 6, 7])

    def test_xlsx_numbers_become_text_without_point_zero(self) -> None:
        data = xlsx_openpyxl(
            {"Sheet1": [["账号", "手机", "部门", "排序"], ["a", 13800138000, 3.0, 1.5]]}
        )
        rows = read_rows("a.xlsx", data, MEMBER_COLUMNS)
        self.assertEqual(
            rows,
            [
                (
                    2,
                    {
                        "userid": "a",
                        "mobile": "13800138000",
                        "departments": "3",
                        "sort_order": "1.5",
                    },
                )
            ],
        )

    def test_xlsx_picks_the_named_sheet(self) -> None:
        data = xlsx_openpyxl(
            {
                "部门": [["部门ID", "部门名称", "上级部门ID"], [1, "市局", None]],
                "成员": [["账号", "姓名"], [], ["zhao", "赵六"]],
            }
        )
        self.assertEqual(
            read_rows("d.xlsx", data, MEMBER_COLUMNS, sheet="成员"),
            [(3, {"userid": "zhao", "name": "赵六"})],
        )
        self.assertEqual(
            read_rows("d.xlsx", data, DEPARTMENT_COLUMNS)[0][1]["name"], "市局"
        )
        errors = self.rejected(read_rows, "d.xlsx", data, TAG_COLUMNS, "标签")
        self.assertIn("标签", errors[0].message)

    def test_single_sheet_workbook_is_used_whatever_its_name(self) -> None:
        data = xlsx_xlsxwriter([["标签名称", "成员账号"], ["值班", "a;b"]])
        rows = read_rows("t.xlsx", data, TAG_COLUMNS, sheet="标签")
        self.assertEqual(rows, [(2, {"name": "值班", "userids": "a;b"})])

    def test_bad_files_are_rejected_with_row_zero(self) -> None:
        cases = [
            ("a.xls", b"\xd0\xcf\x11\xe0 old excel"),
            ("a.txt", b"userid\n"),
            ("noextension", b"userid\n"),
            ("a.xlsx", b"PK\x03\x04 not really a zip"),
            ("a.xlsx", b"plain text"),
            ("a.csv", b""),
            ("a.csv", b"  \r\n\r\n"),
        ]
        for filename, data in cases:
            errors = self.rejected(read_rows, filename, data, MEMBER_COLUMNS)
            self.assertEqual(len(errors), 1, filename)
            self.assertEqual((errors[0].row, errors[0].column), (0, None), filename)

    def test_header_problems_are_all_reported(self) -> None:
        data = csv_bytes(["账号,姓名,USERID,工号,手机,备注", "a,甲,a,1,,"])
        errors = self.rejected(read_rows, "a.csv", data, MEMBER_COLUMNS)
        self.assertEqual(self.places(errors), [(1, "USERID"), (1, "工号"), (1, "备注")])
        self.assertIn("重复", errors[0].message)
        self.assertIn("无法识别", errors[1].message)

    def test_data_under_a_column_without_header_is_an_error(self) -> None:
        data = csv_bytes(["账号,姓名,", "a,甲,", "b,乙,多出来的"])
        errors = self.rejected(read_rows, "a.csv", data, MEMBER_COLUMNS)
        self.assertEqual(self.places(errors), [(3, None)])
        self.assertIn("第 3 列", errors[0].message)

    def test_limits(self) -> None:
        self.patch(tabular, "MAX_ROWS", 3)
        ok = csv_bytes(["账号", "a", "b", "c"])
        self.assertEqual(len(read_rows("a.csv", ok, MEMBER_COLUMNS)), 3)
        errors = self.rejected(
            read_rows, "a.csv", csv_bytes(["账号", "a", "b", "c", "d"]), MEMBER_COLUMNS
        )
        self.assertIn("3", errors[0].message)
        self.patch(tabular, "MAX_BYTES", 10)
        errors = self.rejected(read_rows, "a.csv", b"x" * 11, MEMBER_COLUMNS)
        self.assertIn("MB", errors[0].message)


class DepartmentTests(RejectsMixin):
    def parse(self, lines: list[str]) -> list[DepartmentRecord]:
        return parse_departments(
            read_rows("d.csv", csv_bytes(lines), DEPARTMENT_COLUMNS)
        )

    def test_id_mode(self) -> None:
        records = self.parse(
            [
                "部门ID,部门名称,上级部门ID,排序,隐藏,仅看本部门",
                "1,市局,,0,,",
                "2,刑侦总队,1,10,否,是",
                "3, 一支队 ,2,-5,TRUE,0",
                "4,派出所,999,,yes,No",
            ]
        )
        self.assertEqual(
            records,
            [
                DepartmentRecord(row=2, name="市局", id=1),
                DepartmentRecord(
                    row=3,
                    name="刑侦总队",
                    id=2,
                    parent_id=1,
                    sort_order=10,
                    restricted=True,
                ),
                DepartmentRecord(
                    row=4, name="一支队", id=3, parent_id=2, sort_order=-5, hidden=True
                ),
                # A parent outside the file may exist in the database: the caller checks.
                DepartmentRecord(
                    row=5, name="派出所", id=4, parent_id=999, hidden=True
                ),
            ],
        )

    def test_path_mode_with_many_levels(self) -> None:
        levels = [
            "市局",
            "刑侦总队",
            "一支队",
            "一大队",
            "一中队",
            "一组",
            "一班",
            "一分组",
            "一小组",
            "专案组",
        ]
        lines = ["path,name,order"]
        for depth in range(1, len(levels) + 1):
            lines.append(f"{'/'.join(levels[:depth])},,{depth}")
        lines.append("市局/刑侦总队/二支队,二支队,")
        records = self.parse(lines)
        self.assertEqual(len(records), 11)
        deepest = records[9]
        self.assertEqual(deepest.path, tuple(levels))
        self.assertEqual(
            (deepest.name, deepest.sort_order, deepest.id), ("专案组", 10, None)
        )
        self.assertEqual(
            records[10],
            DepartmentRecord(
                row=12, name="二支队", path=("市局", "刑侦总队", "二支队")
            ),
        )

    def test_id_mode_problems_are_all_reported(self) -> None:
        errors = self.rejected(
            self.parse,
            [
                "部门ID,部门名称,上级部门ID,排序,隐藏",
                "1,市局,,x,",  # 2: bad order
                "2,,1,,也许",  # 3: empty name, bad boolean
                "2,a/b,1,,",  # 4: duplicate id, slash in name
                "0,零,1,,",  # 5: id not positive
                "6,自己,6,,",  # 6: own parent
                "7,甲,8,,",  # 7: cycle 7 → 8 → 9 → 7
                "8,乙,9,,",  # 8
                "9,丙,7,,",  # 9
                "10,丁,7,,",  # 10: leads into the cycle, itself fine
                f"11,{'长' * 65},10,,",  # 11: name too long
            ],
        )
        self.assertEqual(
            self.places(errors),
            [
                (2, "排序"),
                (3, "部门名称"),
                (3, "隐藏"),
                (4, "部门ID"),
                (4, "部门名称"),
                (5, "部门ID"),
                (6, "上级部门ID"),
                (7, "上级部门ID"),
                (8, "上级部门ID"),
                (9, "上级部门ID"),
                (11, "部门名称"),
            ],
        )
        self.assertIn("第 3 行", errors[3].message)
        self.assertIn("7 → 8 → 9 → 7", errors[7].message)
        self.assertIn("8 → 9 → 7 → 8", errors[8].message)

    def test_path_mode_problems(self) -> None:
        errors = self.rejected(
            self.parse,
            [
                "部门路径,部门名称,上级部门ID",
                "市局,,",
                "市局//一支队,,",  # 3: empty segment
                "市局,,",  # 4: duplicate path
                "市局/二支队,三支队,",  # 5: name differs from the last segment
                "市局/三支队,,5",  # 6: parent id makes no sense with paths
                ",市局,",  # 7: empty path
            ],
        )
        self.assertEqual(
            self.places(errors),
            [
                (3, "部门路径"),
                (4, "部门路径"),
                (5, "部门名称"),
                (6, "上级部门ID"),
                (7, "部门路径"),
            ],
        )

    def test_mode_must_be_clear(self) -> None:
        errors = self.rejected(self.parse, ["部门ID,部门路径,部门名称", "1,市局,市局"])
        self.assertEqual(self.places(errors), [(1, "部门路径")])
        errors = self.rejected(self.parse, ["部门名称", "市局"])
        self.assertEqual(self.places(errors), [(1, None)])
        errors = self.rejected(self.parse, ["部门ID", "1"])
        self.assertEqual(self.places(errors), [(1, "部门名称"), (1, "上级部门ID")])

    def test_header_only_file_has_no_records(self) -> None:
        self.assertEqual(self.parse(["部门ID,部门名称,上级部门ID"]), [])


class MemberTests(RejectsMixin):
    def parse(self, lines: list[str]) -> list[MemberRecord]:
        return parse_members(read_rows("m.csv", csv_bytes(lines), MEMBER_COLUMNS))

    def test_full_member_with_memberships_orders_and_leaders(self) -> None:
        (member,) = self.parse(
            [
                "账号,姓名,性别,手机,座机,邮箱,职务,部门,部门内排序,部门负责人,排序,隐藏,启用",
                " Zhang.San ,张三,男,+86 138-0013-8000,0571-87654321,zs@gat.gov.cn,科长,"
                "12;市局/刑侦总队；治安支队,3;-1;0,是;否;1,7,否,",
            ]
        )
        self.assertEqual(member.userid, "zhang.san")
        self.assertEqual(member.gender, GENDER_MALE)
        self.assertEqual(member.mobile, "13800138000")
        self.assertEqual(
            (member.telephone, member.email, member.position),
            ("0571-87654321", "zs@gat.gov.cn", "科长"),
        )
        self.assertEqual(
            (member.sort_order, member.hidden, member.enabled), (7, False, True)
        )
        self.assertEqual(
            member.memberships,
            (
                MembershipRecord(DepartmentRef(department_id=12), 3, True),
                MembershipRecord(DepartmentRef(path=("市局", "刑侦总队")), -1, False),
                MembershipRecord(DepartmentRef(path=("治安支队",)), 0, True),
            ),
        )

    def test_english_headers_and_defaults(self) -> None:
        members = self.parse(
            [
                "userid,name,gender,department,order,is_leader_in_dept,enable",
                "a,甲,2,1,,,",
                "b,乙,,1;2,,,0",
                "c,丙,女,3,,,no",
            ]
        )
        self.assertEqual(
            [m.gender for m in members], [GENDER_FEMALE, GENDER_UNKNOWN, GENDER_FEMALE]
        )
        self.assertEqual([m.enabled for m in members], [True, False, False])
        self.assertEqual(
            members[1].memberships,
            (
                MembershipRecord(DepartmentRef(department_id=1)),
                MembershipRecord(DepartmentRef(department_id=2)),
            ),
        )

    def test_bad_file_reports_every_problem_with_its_row(self) -> None:
        errors = self.rejected(
            self.parse,
            [
                "账号,姓名,性别,手机,座机,邮箱,部门,部门内排序,部门负责人",
                "ok1,好,男,13800000001,,,1,,",  # 2: fine
                "张三,张三,男,,,,1,,",  # 3: userid not a Matrix localpart
                "ok1,,未知,12345,,,1,,",  # 4: duplicate userid, no name, bad gender, bad mobile
                "ok4,丁,,13800000001,12 34,a@b,,,",  # 5: duplicate mobile, bad phone, bad mail, no dept
                "ok5,戊,,,,,1;2,1,是;否;是",  # 6: orders and leaders do not align
                ",己,,,,,1;;x//y,,",  # 7: no userid, empty list item, empty path segment
                "ok7,庚,,,,,1;市局/一支队;1,a;b;c,",  # 8: duplicate department, bad orders
            ],
        )
        self.assertEqual(
            self.places(errors),
            [
                (3, "账号"),
                (4, "账号"),
                (4, "姓名"),
                (4, "性别"),
                (4, "手机"),
                (5, "手机"),
                (5, "座机"),
                (5, "邮箱"),
                (5, "部门"),
                (6, "部门内排序"),
                (6, "部门负责人"),
                (7, "账号"),
                (7, "部门"),
                (7, "部门"),
                (8, "部门"),
                (8, "部门内排序"),
                (8, "部门内排序"),
                (8, "部门内排序"),
            ],
        )
        self.assertIn("Matrix", errors[0].message)
        self.assertIn("第 2 行", errors[1].message)
        self.assertIn("第 2 行", errors[5].message)
        self.assertTrue(all(error.message for error in errors))

    def test_missing_required_columns_are_reported_once(self) -> None:
        errors = self.rejected(self.parse, ["姓名,手机", "甲,13800000001", "乙,1"])
        self.assertEqual(self.places(errors), [(1, "账号"), (1, "部门"), (3, "手机")])

    def test_xlsx_members_with_numeric_cells(self) -> None:
        data = xlsx_openpyxl(
            {
                "成员": [
                    ["账号", "姓名", "手机", "部门", "部门内排序", "部门负责人"],
                    [10086, "甲", 13912345678, 5, 2, 1],
                ]
            }
        )
        (member,) = parse_members(
            read_rows("m.xlsx", data, MEMBER_COLUMNS, sheet="成员")
        )
        self.assertEqual((member.userid, member.mobile), ("10086", "13912345678"))
        self.assertEqual(
            member.memberships,
            (MembershipRecord(DepartmentRef(department_id=5), 2, True),),
        )

    def test_header_only_file_has_no_records(self) -> None:
        self.assertEqual(self.parse(["账号,姓名,部门"]), [])
        self.assertEqual(parse_tags(read_rows("t.csv", b"tagname\n", TAG_COLUMNS)), [])


class TagTests(RejectsMixin):
    def parse(self, lines: list[str]) -> list[TagRecord]:
        return parse_tags(read_rows("t.csv", csv_bytes(lines), TAG_COLUMNS))

    def test_tags(self) -> None:
        tags = self.parse(
            ["tagname,userlist,partylist", "值班,A;b,1;市局/指挥中心", "空标签,,"]
        )
        self.assertEqual(tags[0].userids, ("a", "b"))
        self.assertEqual(
            tags[0].departments,
            (DepartmentRef(department_id=1), DepartmentRef(path=("市局", "指挥中心"))),
        )
        self.assertEqual(
            (tags[1].name, tags[1].userids, tags[1].departments), ("空标签", (), ())
        )

    def test_consecutive_rows_of_one_tag_are_joined(self) -> None:
        tags = self.parse(
            ["标签名称,成员账号,部门", "大标签,a;b,1", "大标签,c,", "小,d,"]
        )
        self.assertEqual(
            [(t.row, t.name, t.userids) for t in tags],
            [(2, "大标签", ("a", "b", "c")), (4, "小", ("d",))],
        )

    def test_tag_problems(self) -> None:
        errors = self.rejected(
            self.parse,
            [
                "标签名称,成员账号,部门",
                "值班,a;a,1",  # 2: repeated account
                f"{'长' * 33},b,",  # 3: name too long
                ",c,",  # 4: no name
                "值班2,错误账号,0",  # 5: bad account, bad department id
                "值班,d,",  # 6: same name as row 2, not next to it
            ],
        )
        self.assertEqual(
            self.places(errors),
            [
                (2, "成员账号"),
                (3, "标签名称"),
                (4, "标签名称"),
                (5, "成员账号"),
                (5, "部门"),
                (6, "标签名称"),
            ],
        )
