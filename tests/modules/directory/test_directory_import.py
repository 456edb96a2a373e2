# SPDX-License-Identifier: AGPL-3.0-or-later
"""Bulk import (CSV and XLSX) and export through the admin API of a real server."""

import io
import itertools
from typing import Any

import openpyxl

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.modules.directory.helpers import ADMIN, CLIENT

_runs = itertools.count(1)


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    return "\n".join(",".join(row) for row in rows).encode(encoding)


def xlsx_bytes(sheet: str, rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class ImportTests:
    async def _import(
        self, admin: MatrixClient, kind: str, filename: str, data: bytes
    ) -> tuple[int, Any]:
        return await admin.request(
            "POST", f"{ADMIN}/import/{kind}?filename={filename}", raw=data
        )

    async def _tree(self, admin: MatrixClient, top: str) -> dict[str, Any]:
        roots = await admin.ok("GET", f"{CLIENT}/roots?limit=500")
        return next(d for d in roots["departments"] if d["name"] == top)

    async def test_multilevel_csv_then_xlsx_members_then_reimport(self) -> None:
        admin = self.user("impadmin", admin=True)
        top = f"市局{next(_runs)}"
        levels = [
            top,
            "刑侦总队",
            "一支队",
            "二大队",
            "三中队",
            "四组",
            "五组",
            "六组",
            "七组",
        ]
        dept_rows = [["部门路径", "排序", "隐藏"]]
        for depth in range(1, len(levels) + 1):
            dept_rows.append(["/".join(levels[:depth]), str(depth), "否"])
        dept_rows.append([f"{top}/治安总队", "2", "是"])
        status, report = await self._import(
            admin, "departments", "tree.csv", csv_bytes(dept_rows)
        )
        self.assertEqual(status, 200, report)
        self.assertEqual(
            (report["created"], report["updated"], report["unchanged"]), (10, 0, 0)
        )
        root = await self._tree(admin, top)
        deep_path = "/".join(levels)
        run = next(_runs)
        member_rows: list[list[Any]] = [
            ["账号", "姓名", "性别", "手机", "部门", "部门内排序", "部门负责人"]
        ]
        for index in range(5):
            member_rows.append(
                [
                    f"imp{run}x{index}",
                    f"导入{index}号",
                    "男",
                    f"1390000{run:02d}{index:02d}",
                    deep_path,
                    index,
                    "否",
                ]
            )
        member_rows.append(
            [
                f"imp{run}boss",
                "单队长",
                "女",
                "",
                f"{deep_path};{top}/治安总队",
                "0;1",
                "是;否",
            ]
        )
        data = xlsx_bytes("成员", member_rows)
        status, report = await self._import(admin, "members", "members.xlsx", data)
        self.assertEqual(status, 200, report)
        self.assertEqual(
            (report["created"], report["updated"], report["unchanged"]), (6, 0, 0)
        )
        self.assertIsNotNone(report["job_id"])
        details = await admin.ok("GET", f"{ADMIN}/departments/{root['id']}")
        self.assertEqual(details["total_member_count"], 6)
        boss = await admin.ok("GET", f"{ADMIN}/members/imp{run}boss")
        self.assertEqual(
            [(d["order"], d["is_leader"]) for d in boss["departments"]],
            [(0, True), (1, False)],
        )
        found = await admin.ok("GET", f"{CLIENT}/search/members?q=shanduizhang")
        self.assertIn(f"imp{run}boss", [m["userid"] for m in found["results"]])
        # The same file again changes nothing; one edited row updates one member.
        status, report = await self._import(admin, "members", "members.xlsx", data)
        self.assertEqual(
            (report["created"], report["updated"], report["unchanged"]), (0, 0, 6)
        )
        member_rows[1][1] = "改名了"
        status, report = await self._import(
            admin, "members", "members.xlsx", xlsx_bytes("成员", member_rows)
        )
        self.assertEqual(
            (report["created"], report["updated"], report["unchanged"]), (0, 1, 5)
        )
        self.assertEqual(
            (await admin.ok("GET", f"{ADMIN}/members/imp{run}x0"))["name"], "改名了"
        )
        status, report = await self._import(
            admin, "departments", "tree.csv", csv_bytes(dept_rows)
        )
        self.assertEqual(
            (report["created"], report["updated"], report["unchanged"]), (0, 0, 10)
        )

    async def test_bad_file_reports_every_problem_and_changes_nothing(self) -> None:
        admin = self.user("impadmin", admin=True)
        top = f"市局{next(_runs)}"
        await self._import(
            admin, "departments", "d.csv", csv_bytes([["部门路径"], [top]])
        )
        before = await admin.ok("GET", f"{ADMIN}/export")
        run = next(_runs)
        rows = [
            ["账号", "姓名", "手机", "部门"],
            [f"good{run}", "好人", "", top],
            ["Bad Id", "坏账号", "", top],
            [f"nomobile{run}", "错手机", "12345", top],
            [f"nodept{run}", "无部门", "", f"{top}/不存在的支队"],
            [f"good{run}", "重复", "", top],
        ]
        status, body = await self._import(admin, "members", "bad.csv", csv_bytes(rows))
        self.assertEqual(
            (status, body["errcode"]), (400, "CN_JWWX_IMPORT_REJECTED"), body
        )
        # Format problems (rows 3, 4, 6) and the database's (row 5: the department does
        # not exist) in one answer: "every problem" (issue 14).
        self.assertEqual(sorted({e["row"] for e in body["errors"]}), [3, 4, 5, 6])
        self.assertIn(
            "不存在", next(e for e in body["errors"] if e["row"] == 5)["message"]
        )
        # A file without format problems is checked against the database alone.
        status, body = await self._import(
            admin, "members", "bad.csv", csv_bytes(rows[:2] + rows[4:5])
        )
        self.assertEqual(
            (status, body["errcode"]), (400, "CN_JWWX_IMPORT_REJECTED"), body
        )
        self.assertEqual([e["row"] for e in body["errors"]], [3])
        self.assertIn("不存在", body["errors"][0]["message"])
        self.assertErrcode(
            await admin.request("GET", f"{ADMIN}/members/good{run}"),
            404,
            "CN_JWWX_MEMBER_NOT_FOUND",
        )
        status, body = await self._import(admin, "members", "bad.txt", b"hello")
        self.assertEqual((status, body["errcode"]), (400, "CN_JWWX_IMPORT_REJECTED"))
        self.assertErrcode(
            await admin.request("POST", f"{ADMIN}/import/members", raw=b"x"),
            400,
            "M_MISSING_PARAM",
        )
        self.assertEqual(
            len(await admin.ok("GET", f"{ADMIN}/jobs")),
            len(await admin.ok("GET", f"{ADMIN}/jobs")),
        )
        self.assertIsNotNone(before)

    async def test_format_and_database_problems_in_one_report(self) -> None:
        """Issue 14: a file with format errors and database-level problems (unknown
        department, mobile taken, cycle, missing parent) lists them all at once."""
        admin = self.user("impadmin", admin=True)
        run = next(_runs)
        base = 700000 + run * 10
        a, b = base + 1, base + 2
        status, report = await self._import(
            admin,
            "departments",
            "d.csv",
            csv_bytes(
                [
                    ["部门ID", "部门名称", "上级部门ID"],
                    [str(a), f"总队{run}", ""],
                    [str(b), "支队", str(a)],
                ]
            ),
        )
        self.assertEqual(status, 200, report)
        status, body = await self._import(
            admin,
            "departments",
            "d.csv",
            csv_bytes(
                [
                    ["部门ID", "部门名称", "上级部门ID", "排序"],
                    ["x1", "坏ID", "", ""],  # format
                    [str(base + 3), "孤儿", "99999999", ""],  # missing parent
                    [str(a), f"总队{run}", str(b), ""],  # a cycle through the store
                    [str(base + 4), "乱排序", str(a), "第一"],  # format
                ]
            ),
        )
        self.assertEqual(
            (status, body["errcode"]), (400, "CN_JWWX_IMPORT_REJECTED"), body
        )
        by_row = {e["row"]: e["message"] for e in body["errors"]}
        self.assertEqual(sorted(by_row), [2, 3, 4, 5], body)
        self.assertIn("99999999", by_row[3])
        self.assertIn("循环", by_row[4])

        status, report = await self._import(
            admin,
            "members",
            "m.csv",
            csv_bytes(
                [
                    ["账号", "姓名", "手机", "部门"],
                    [f"own{run}", "甲", f"1380013{run:04d}", str(a)],
                ]
            ),
        )
        self.assertEqual(status, 200, report)
        status, body = await self._import(
            admin,
            "members",
            "m.csv",
            csv_bytes(
                [
                    ["账号", "姓名", "手机", "邮箱", "部门"],
                    [
                        f"new{run}a",
                        "乙",
                        f"1380013{run:04d}",
                        "",
                        str(a),
                    ],  # mobile taken
                    [f"new{run}b", "丙", "", "not-an-email", str(a)],  # format
                    [f"new{run}c", "丁", "", "", "88888888"],  # unknown department
                    [f"new{run}d", "", "", "", str(a)],  # format: empty name
                ]
            ),
        )
        self.assertEqual(
            (status, body["errcode"]), (400, "CN_JWWX_IMPORT_REJECTED"), body
        )
        by_row = {e["row"]: e["message"] for e in body["errors"]}
        self.assertEqual(sorted(by_row), [2, 3, 4, 5], body)
        self.assertIn(f"own{run}", by_row[2])
        self.assertIn("88888888", by_row[4])

        status, body = await self._import(
            admin,
            "tags",
            "t.csv",
            csv_bytes(
                [
                    ["标签名称", "成员账号", "部门"],
                    [f"标签{run}", f"nobody{run}", ""],  # unknown member
                    [f"标签{run}x", "Bad Id!", ""],  # format
                ]
            ),
        )
        self.assertEqual(
            (status, body["errcode"]), (400, "CN_JWWX_IMPORT_REJECTED"), body
        )
        self.assertEqual(sorted({e["row"] for e in body["errors"]}), [2, 3], body)
        # Nothing changed.
        self.assertErrcode(
            await admin.request("GET", f"{ADMIN}/members/new{run}a"),
            404,
            "CN_JWWX_MEMBER_NOT_FOUND",
        )

    async def test_export_round_trip_and_tags(self) -> None:
        admin = self.user("impadmin", admin=True)
        top = f"市局{next(_runs)}"
        run = next(_runs)
        await self._import(
            admin,
            "departments",
            "d.csv",
            csv_bytes([["部门路径", "隐藏"], [top, "否"], [f"{top}/甲队", "是"]]),
        )
        rows = [["账号", "姓名", "手机", "部门"]] + [
            [f"exp{run}n{i}", f"导出{i}", "", f"{top}/甲队"] for i in range(3)
        ]
        status, report = await self._import(admin, "members", "m.csv", csv_bytes(rows))
        self.assertEqual(status, 200, report)
        tag_rows = [
            ["标签名称", "成员账号", "部门"],
            [f"专案组{run}", f"exp{run}n0;exp{run}n1", top],
        ]
        status, report = await self._import(admin, "tags", "t.csv", csv_bytes(tag_rows))
        self.assertEqual((status, report["created"]), (200, 1), report)
        tags = await admin.ok("GET", f"{ADMIN}/tags")
        tag_id = next(t["id"] for t in tags["tags"] if t["name"] == f"专案组{run}")
        tag = await admin.ok("GET", f"{ADMIN}/tags/{tag_id}")
        self.assertEqual(tag["userids"], [f"exp{run}n0", f"exp{run}n1"])

        status, exported = await admin.request("GET", f"{ADMIN}/export")
        self.assertEqual(status, 200)
        self.assertIsInstance(exported, str)  # not JSON: the client decoded the bytes
        raw = await self._download(admin)
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True)
        self.assertEqual(book.sheetnames, ["部门", "成员", "标签"])
        for kind in ("departments", "members", "tags"):
            status, report = await self._import(admin, kind, "export.xlsx", raw)
            self.assertEqual(status, 200, (kind, report))
            self.assertEqual(
                (report["created"], report["updated"]), (0, 0), (kind, report)
            )

    async def _download(self, admin: MatrixClient) -> bytes:
        import treq

        from tests.harness.client import _pool

        response = await treq.get(
            admin.base_url + f"{ADMIN}/export",
            headers={"Authorization": [f"Bearer {admin.token}"]},
            pool=_pool,
        )
        self.assertEqual(response.code, 200)
        self.assertIn(
            b"spreadsheetml", response.headers.getRawHeaders(b"Content-Type")[0]
        )
        return bytes(await response.content())


class ImportSQLiteTest(ImportTests, SQLiteCase):
    pass


class ImportPostgresTest(ImportTests, PostgresCase):
    pass
