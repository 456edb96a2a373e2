# SPDX-License-Identifier: AGPL-3.0-or-later
"""Spreadsheets (document kind "sheet") through the running server, on both engines:
a new sheet has its first sheet; pycrdt clients edit cells together and converge, a
reader's edit is refused, history and restore and the chain work as for any document;
.xlsx and .csv files generated here are imported (with the kept/lost report: styles and
merged cells kept) and exported back, a legacy .xls through LibreOffice; two officers
edit one sheet in two headless Chromium pages and see each other's cells and the
formulas' known values (financial, date, maths, statistics); in one page an officer
inserts and deletes rows and columns (formulas across sheets rewritten, #REF! for a
deleted cell), merges and styles cells, copies, cuts and pastes ranges as
tab-separated text and renames a sheet."""

import asyncio
import csv
import io
import json
from contextlib import AsyncExitStack
from datetime import date
from typing import Any

from twisted.internet import threads

import treq

from tests.harness.browser import (
    another_page,
    browser_page,
    require_browser,
    screenshot,
)
from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import TestServer
from tests.modules.docs import yjs
from tests.modules.docs.officefiles import (
    DOCS,
    check_no_converter,
    edit_imported_in_pages,
    import_file,
    q,
    sign_in,
    without_component,
)

STYLE = {"b": True, "i": True, "c": "#c00000", "bg": "#ffff00", "a": "center"}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cells_of(doc: Any, sheet: str = "Sheet1") -> dict[str, dict[str, Any]]:
    """One sheet's cells as a pycrdt client holds them (by the sheet's name)."""
    from pycrdt import Map

    for value in doc.get("sheets", type=Map).values():
        if value.get("name") == sheet:
            return {k: dict(v) for k, v in value["cells"].items()}
    return {}


def set_cell(doc: Any, name: str, cell: dict[str, Any], sheet: str = "Sheet1") -> None:
    from pycrdt import Map

    for value in doc.get("sheets", type=Map).values():
        if value.get("name") == sheet:
            value["cells"][name] = cell


class SheetTests:
    server: TestServer
    timeout = 600  # three Chromium pages and the server share a loaded machine

    @classmethod
    def configure_server(cls, server: TestServer) -> None:
        yjs.configure_docs(server, snapshot_every=10)

    async def _import(
        self, client: MatrixClient, fmt: str, data: bytes, title: str
    ) -> dict[str, Any]:
        content_type = XLSX_TYPE if fmt == "xlsx" else "text/csv"
        status, body = await import_file(client, fmt, data, title, content_type)
        self.assertEqual(status, 200, body)
        return dict(body)

    async def _file(
        self, client: MatrixClient, doc_id: str, query: str
    ) -> tuple[int, bytes]:
        """An exported file: (status, its bytes)."""
        response = await treq.get(
            f"{self.server.base_url}{DOCS}/{doc_id}/export?{query}",
            headers={"Authorization": [f"Bearer {client.token}"]},
            persistent=False,
        )
        return response.code, await response.content()

    async def test_cells_edited_together_history_and_restore(self) -> None:
        alice, bob, dave = self.user("alice"), self.user("bob"), self.user("dave")
        doc = await alice.ok("POST", DOCS, {"title": "警力统计", "kind": "sheet"})
        self.assertEqual(doc["kind"], "sheet")
        doc_id, url = doc["doc_id"], doc["websocket_url"]
        grants = [
            {"kind": "user", "id": bob.user_id, "role": "editor"},
            {"kind": "user", "id": dave.user_id, "role": "reader"},
        ]
        await alice.ok("PUT", f"{DOCS}/{doc_id}/sharing", {"grants": grants})
        first = await alice.ok("GET", f"{DOCS}/{doc_id}/export")
        self.assertEqual(
            first["content"], {"sheets": [{"name": "Sheet1", "cells": {}}]}
        )

        async def scenario() -> int | None:
            async with AsyncExitStack() as stack:
                a = await yjs.open_editor(stack, url, alice.token)
                b = await yjs.open_editor(stack, url, bob.token)
                set_cell(a.doc, "A1", {"v": 12})
                set_cell(b.doc, "B1", {"f": "=A1*2", "v": 24})
                await yjs.until(lambda: len(cells_of(a.doc)) == 2, "a has both")
                await yjs.until(lambda: len(cells_of(b.doc)) == 2, "b has both")
                reader = await yjs.open_editor(stack, url, dave.token)
                await yjs.until(lambda: len(cells_of(reader.doc)) == 2, "reader")
                set_cell(reader.doc, "C1", {"v": "读者"})
                await yjs.until(lambda: reader.channel.close_code == 4403, "4403")
                await asyncio.sleep(0.2)
                return len(cells_of(a.doc))

        self.assertEqual(await threads.deferToThread(yjs.run, scenario), 2)
        got = await alice.ok("GET", f"{DOCS}/{doc_id}/export")
        self.assertEqual(
            got["content"]["sheets"][0]["cells"],
            {"A1": {"v": 12}, "B1": {"f": "=A1*2", "v": 24}},
        )
        before = got["revision"]

        async def change() -> None:
            async with AsyncExitStack() as stack:
                a = await yjs.open_editor(stack, url, alice.token)
                set_cell(a.doc, "A1", {"v": 99})
                await asyncio.sleep(0.5)

        await threads.deferToThread(yjs.run, change)
        now = await alice.ok("GET", f"{DOCS}/{doc_id}/export")
        self.assertEqual(now["content"]["sheets"][0]["cells"]["A1"], {"v": 99})
        await bob.ok("POST", f"{DOCS}/{doc_id}/restore", {"revision": before})
        back = await alice.ok("GET", f"{DOCS}/{doc_id}/export")
        self.assertEqual(back["content"]["sheets"][0]["cells"]["A1"], {"v": 12})
        self.assertEqual(back["content"]["sheets"][0]["name"], "Sheet1")
        # Sealed and chained like any document.
        auditor = self.user("sheet-auditor")
        admin = self.user("superadmin", admin=True)
        await admin.ok(
            "PUT",
            f"/_jwwx/admin/v1/admins/roles/{q(auditor.user_id)}",
            {"roles": ["audit"]},
        )
        report = await auditor.ok("GET", f"/_jwwx/admin/v1/docs/{doc_id}/verify")
        self.assertTrue(report["ok"], report)
        self.assertGreater(report["revisions"], 3)

    async def test_xlsx_and_csv_round_trip(self) -> None:
        alice, bob = self.user("alice"), self.user("bob")
        body = await self._import(alice, "xlsx", _sample_xlsx(), "月报")
        self.assertEqual((body["kind"], body["title"]), ("sheet", "月报"))
        kept, lost = body["report"]["kept"], body["report"]["lost"]
        self.assertEqual((kept["sheet"], kept["formula"], kept["cell"]), (2, 2, 10))
        self.assertEqual(kept["number_format"], 1)
        self.assertEqual((kept["merged_cell"], kept["style"]), (1, 1))
        self.assertEqual(lost, {"comment": 1})
        doc_id = body["doc_id"]
        got = await alice.ok("GET", f"{DOCS}/{doc_id}/export")
        books = got["content"]["sheets"]
        self.assertEqual([s["name"] for s in books], ["收支", "汇总"])
        self.assertEqual(books[0]["merges"], ["F1:G1"])
        income = books[0]["cells"]
        self.assertEqual(income["A1"], {"v": "项目", "s": STYLE})
        self.assertEqual(income["B4"], {"f": "=SUM(B2:B3)", "v": 350.5})
        self.assertEqual(income["C1"], {"v": 44227, "z": "yyyy-mm-dd"})
        self.assertEqual(income["D1"], {"v": True})
        self.assertEqual(books[1]["cells"]["A1"], {"f": "=收支!B4*2", "v": 701})

        # Back to .xlsx: formulas, their values, formats and both sheets.
        status, data = await self._file(alice, doc_id, "format=xlsx")
        self.assertEqual(status, 200)
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data))
        self.assertEqual(book.sheetnames, ["收支", "汇总"])
        self.assertEqual(book["收支"]["B4"].value, "=SUM(B2:B3)")
        self.assertEqual(book["汇总"]["A1"].value, "=收支!B4*2")
        self.assertEqual(book["收支"]["C1"].value.date(), date(2021, 1, 31))
        heading = book["收支"]["A1"]
        self.assertEqual((heading.font.b, heading.font.i), (True, True))
        self.assertEqual(heading.font.color.rgb, "FFC00000")
        self.assertEqual(heading.fill.fgColor.rgb, "FFFFFF00")
        self.assertEqual(heading.alignment.horizontal, "center")
        self.assertEqual([str(m) for m in book["收支"].merged_cells.ranges], ["F1:G1"])
        values = load_workbook(io.BytesIO(data), data_only=True)
        self.assertEqual(values["收支"]["B4"].value, 350.5)
        # Back to .csv: the values of one sheet (the first, or the one named).
        status, data = await self._file(alice, doc_id, "format=csv")
        self.assertEqual(status, 200)
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        self.assertEqual(rows[0], ["项目", "金额", "2021-01-31", "TRUE"])
        self.assertEqual(rows[3], ["合计", "350.5", "", ""])
        status, data = await self._file(alice, doc_id, f"format=csv&sheet={q('汇总')}")
        self.assertEqual(data.decode("utf-8-sig"), "701\r\n")

        # .csv in (Excel's GB18030 on a Chinese Windows, and UTF-8) and out again.
        text = "姓名,警号,加班小时\r\n张三,010001,12.5\r\n李四,010002,8\r\n,,=SUM(C2:C3)\r\n"
        for encoded in (text.encode("gb18030"), b"\xef\xbb\xbf" + text.encode()):
            body = await self._import(alice, "csv", encoded, "加班")
            self.assertEqual(
                body["report"]["kept"], {"cell": 10, "formula": 1, "sheet": 1}
            )
            self.assertEqual(body["report"]["lost"], {})
            cells = (await alice.ok("GET", f"{DOCS}/{body['doc_id']}/export"))[
                "content"
            ]["sheets"][0]["cells"]
            self.assertEqual(cells["B2"], {"v": 10001})
            self.assertEqual(cells["C4"], {"f": "=SUM(C2:C3)"})
            status, data = await self._file(alice, body["doc_id"], "format=csv")
            self.assertEqual(
                data.decode("utf-8-sig"),
                "姓名,警号,加班小时\r\n张三,10001,12.5\r\n李四,10002,8\r\n,,\r\n",
            )

        # Bad input: a clear error and nothing created.
        before = len((await alice.ok("GET", DOCS + "?filter=mine"))["documents"])
        for fmt, raw in (
            ("xlsx", b"not an xlsx"),
            ("xlsx", b"PK\x03\x04broken"),
            ("csv", b"\xff\xfe\x00\x00\x81"),
            ("xls", b"not an xls"),
        ):
            self.assertErrcode(
                await alice.request(
                    "POST", f"{DOCS}/import?format={fmt}", raw=raw, content_type="x/y"
                ),
                400,
                "M_INVALID_PARAM",
            )
        after = len((await alice.ok("GET", DOCS + "?filter=mine"))["documents"])
        self.assertEqual(after, before)
        rich = await alice.ok("POST", DOCS, {"title": "文字", "kind": "rich"})
        for path in (
            f"{DOCS}/{rich['doc_id']}/export?format=xlsx",
            f"{DOCS}/{doc_id}/export?format=pdf",
            f"{DOCS}/{doc_id}/export?format=csv&sheet={q('没有')}",
        ):
            self.assertErrcode(await alice.request("GET", path), 400, "M_INVALID_PARAM")
        # Someone without a role learns nothing.
        self.assertErrcode(
            await bob.request("GET", f"{DOCS}/{doc_id}/export?format=xlsx"),
            404,
            "M_NOT_FOUND",
        )


class SheetBrowserTests:
    """The page is the same on either engine (the storage under it is checked on both
    above): run on SQLite only, to keep the module's time down. So is the .xls
    conversion (LibreOffice, before any storage)."""

    server: TestServer

    async def test_legacy_xls_import_through_libreoffice(self) -> None:
        import shutil

        from twisted.trial.unittest import SkipTest

        soffice = shutil.which("soffice")
        if soffice is None:
            raise SkipTest("LibreOffice (soffice) is not installed: make tools")
        data = await threads.deferToThread(_as_xls, soffice, _sample_xlsx())
        if data is None:
            raise SkipTest("LibreOffice Calc is not installed: make tools")
        alice = self.user("alice")
        body = await self._import(alice, "xls", data, "旧表")
        self.assertEqual((body["kind"], body["title"]), ("sheet", "旧表"))
        self.assertEqual(body["report"]["kept"]["sheet"], 2)
        got = await alice.ok("GET", f"{DOCS}/{body['doc_id']}/export")
        books = {s["name"]: s["cells"] for s in got["content"]["sheets"]}
        self.assertEqual(books["收支"]["B4"], {"f": "=SUM(B2:B3)", "v": 350.5})
        self.assertEqual(books["收支"]["A1"]["s"]["b"], True)
        self.assertEqual(books["汇总"]["A1"]["f"], "=收支!B4*2")

    async def test_two_officers_edit_a_sheet_in_the_browser(self) -> None:
        # An imported sheet: its date shows in its number format.
        alice, doc_id = await edit_imported_in_pages(
            self, "xlsx", _dated_xlsx(), XLSX_TYPE, "经费测算", None, _edit_in_two_pages
        )
        got = await alice.ok("GET", f"{DOCS}/{doc_id}/export")
        sheets = {s["name"]: s["cells"] for s in got["content"]["sheets"]}
        # The formulas are stored as text, with the values the editing page computed.
        self.assertEqual(
            sheets["Sheet1"]["A4"],
            {"f": "=ROUND(SUMPRODUCT(C1:C3,D1:D3)/3,2)", "v": 11.67},
        )
        self.assertEqual(sheets["Sheet1"]["C1"], {"v": 1})
        self.assertAlmostEqual(sheets["Sheet1"]["A7"]["v"], 94.6343616, places=7)
        self.assertEqual(sheets["Sheet1"]["A8"]["v"], "#NAME?")
        self.assertEqual(sheets["Sheet2"]["A1"], {"f": "=Sheet1!A5*10", "v": 20})

    async def test_grid_rows_columns_styles_clipboard_rename(self) -> None:
        require_browser()
        alice = self.user("alice")
        doc = await self._import(alice, "xlsx", _grid_xlsx(), "网格")
        doc_id = doc["doc_id"]
        url = f"{self.server.base_url}/_jwwx/docs/app/#doc={q(doc_id)}&kind=sheet"
        errors = await threads.deferToThread(_grid_in_a_page, url, alice)
        self.assertEqual(errors, [])
        got = await alice.ok("GET", f"{DOCS}/{doc_id}/export")
        sheets = {s["name"]: s for s in got["content"]["sheets"]}
        self.assertEqual(list(sheets), ["数据", "汇总"])
        data = sheets["数据"]["cells"]
        # A column inserted before A, a row before 2 and the old row 2 deleted:
        # the formulas moved with their cells, the deleted reference is #REF!, the
        # other sheet's formula follows, and the sheet's new name is in it.
        self.assertEqual(data["B1"], {"v": 1, "s": {"b": True}})
        self.assertNotIn("B2", data)
        self.assertEqual(data["B3"], {"v": 3})
        self.assertEqual(data["C1"], {"f": "=SUM(B1:B3)", "v": 4, "s": {"b": True}})
        self.assertEqual(data["D1"], {"f": "=#REF!*10", "v": "#REF!"})
        self.assertEqual(sheets["汇总"]["cells"]["A1"], {"f": "=数据!B3+1", "v": 4})
        # Copy of C1 pasted at C2: its relative references moved one row down.
        self.assertEqual(data["C2"], {"f": "=SUM(B2:B4)", "v": 3, "s": {"b": True}})
        # Tab-separated text from elsewhere: text, a number (and a formula, cut
        # below: moved with its references as they were, the source emptied).
        self.assertEqual(data["A9"], {"v": "甲"})
        self.assertEqual(data["B9"], {"v": 5})
        self.assertEqual(data["D12"], {"v": "乙"})
        self.assertEqual(data["E12"], {"f": "=B9*2", "v": 10})
        self.assertFalse({"A10", "B10"} & data.keys())
        self.assertEqual(sheets["数据"]["merges"], ["C5:D6"])

    test_grid_rows_columns_styles_clipboard_rename.timeout = 600  # type: ignore


COPY = """() => { const t = new DataTransfer();
  document.querySelector('.grid').dispatchEvent(new ClipboardEvent('TYPE',
    {clipboardData: t, bubbles: true, cancelable: true}));
  return t.getData('text/plain'); }"""
PASTE = """(text) => { const t = new DataTransfer(); t.setData('text/plain', text);
  document.querySelector('.grid').dispatchEvent(new ClipboardEvent('paste',
    {clipboardData: t, bubbles: true, cancelable: true})); }"""


def _grid_in_a_page(url: str, alice: MatrixClient) -> list:
    """One officer's grid: rows and columns, styles, merges, the clipboard, a rename."""
    with browser_page() as page:
        _sign_in(page, alice, url)

        def cell(name: str, text: str) -> None:
            page.wait_for_selector(f"td[data-cell={name}]:text-is('{text}')")

        def tool(title: str) -> None:
            page.click(f".tools [data-tool='{title}']")

        def formula(name: str, text: str) -> None:
            page.click(f"td[data-cell={name}]")
            page.wait_for_function(
                f"document.querySelector('.formula-bar').value === {json.dumps(text)}"
            )

        cell("B1", "6")
        page.click("td[data-cell=A2]")
        tool("插入行")  # A2 (2) moves to A3
        cell("A3", "2")
        formula("B1", "=SUM(A1:A4)")
        formula("C1", "=A3*10")
        page.click("td[data-cell=A3]")
        tool("删除行")  # the 2 goes: C1 read it
        cell("C1", "#REF!")
        cell("B1", "4")
        formula("C1", "=#REF!*10")
        page.click("td[data-cell=A1]")
        tool("插入列")
        cell("B1", "1")
        cell("C1", "4")
        # Bold on a range selected with Shift.
        page.click("td[data-cell=B1]")
        page.click("td[data-cell=C1]", modifiers=["Shift"])
        tool("加粗")
        page.wait_for_selector("td[data-cell=C1][style*='bold']")
        # Merge C5:D6, selected by dragging.
        page.hover("td[data-cell=C5]")
        page.mouse.down()
        page.hover("td[data-cell=D6]")
        page.mouse.up()
        tool("合并单元格")
        page.wait_for_selector("td[data-cell=C5][colspan='2'][rowspan='2']")
        # Copy C1 (its shown value on the clipboard), paste at C2.
        page.click("td[data-cell=C1]")
        copied = page.evaluate(COPY.replace("TYPE", "copy"))
        assert copied == "4", copied
        page.click("td[data-cell=C2]")
        page.evaluate(PASTE, copied)
        cell("C2", "3")
        # Text from Excel: two rows, tab-separated, a quoted field.
        page.click("td[data-cell=A9]")
        page.evaluate(PASTE, '甲\t5\r\n"乙"\t=B9*2\r\n')
        cell("B10", "10")
        cell("A10", "乙")
        # Cut A10:B10 and paste at D12: moved, source emptied.
        page.click("td[data-cell=A10]")
        page.click("td[data-cell=B10]", modifiers=["Shift"])
        cut = page.evaluate(COPY.replace("TYPE", "cut"))
        assert cut == "乙\t10", cut
        page.click("td[data-cell=D12]")
        page.evaluate(PASTE, cut)
        cell("E12", "10")
        page.wait_for_function(
            "document.querySelector('td[data-cell=A10]').textContent === ''"
        )
        # Rename the sheet: the other sheet's formula names it anew.
        page.once("dialog", lambda dialog: dialog.accept("数据"))
        page.dblclick(".sheet-tabs .tab[data-sheet=Sheet1]")
        page.wait_for_selector(".sheet-tabs .tab[data-sheet=数据]")
        page.click(".sheet-tabs .tab[data-sheet=汇总]")
        formula("A1", "=数据!B3+1")
        cell("A1", "4")
        return list(page.errors)


# (cell, formula, what it shows) — one of each category, known values.
FORMULAS = [
    ("A1", "=ROUND(PMT(0.08/12,10,10000),2)", "-1037.03"),  # financial
    ("A2", '=DATEDIF(DATE(2020,1,15),DATE(2021,3,14),"m")', "13"),  # date
    ("A3", "=EDATE(DATE(2021,1,31),1)", "44255"),  # date: 28 Feb 2021
    ("A4", "=ROUND(SUMPRODUCT(C1:C3,D1:D3)/3,2)", "11.67"),  # maths
    ("A5", "=AVERAGE(C1:C3)", "2"),  # statistics
    ("A6", "=STDEV(C1:C3)", "1"),  # statistics
    # A bond's price (clients/docs/src/sheet/functions.js), Excel's documented example.
    (
        "A7",
        "=PRICE(DATE(2008,2,15),DATE(2017,11,15),5.75%,6.5%,100,2,0)",
        "94.6343616213",
    ),
    ("A8", "=FOOBAR(1)", "#NAME?"),  # an unknown function, as Excel shows it
]
VALUES = [("C1", "1"), ("C2", "2"), ("C3", "3"), ("D1", "4"), ("D2", "5"), ("D3", "7")]


def _edit_in_two_pages(url: str, officers: tuple[MatrixClient, ...]) -> list:
    """Alice types formulas, Bob the numbers they use; each page shows the other's
    cells and the computed values, and where the other officer is; a reader's page
    follows without an editor. The pages' JavaScript errors are returned."""
    alice, bob, dave = officers
    with browser_page() as a:
        b, reader = another_page(a), another_page(a)
        for page, officer in ((a, alice), (b, bob), (reader, dave)):
            _sign_in(page, officer, url)
        for name, formula, _ in FORMULAS:
            a.click(f"td[data-cell={name}]")
            a.fill(".formula-bar", formula)
            a.press(".formula-bar", "Enter")
        for name, value in VALUES:  # typed into the cell itself
            b.click(f"td[data-cell={name}]")
            b.keyboard.type(value)
            b.keyboard.press("Enter")
        reader.wait_for_selector("td[data-cell=F1]:text-is('2021-01-31')")
        for page in (a, b, reader):
            for name, _, shown in FORMULAS:
                page.wait_for_selector(f"td[data-cell={name}]:text-is('{shown}')")
        bob_name = bob.user_id[1:].split(":")[0]
        a.wait_for_selector(f"td.peer[data-peer='{bob_name}']")
        screenshot(a, "docs-sheet-two-editors")
        # A second sheet whose formula reads the first.
        a.click(".sheet-tabs .tab.add")
        a.wait_for_selector(".sheet-tabs .tab.active[data-sheet=Sheet2]")
        a.click("td[data-cell=A1]")
        a.keyboard.type("=Sheet1!A5*10")
        a.keyboard.press("Enter")
        b.click(".sheet-tabs .tab[data-sheet=Sheet2]")
        b.wait_for_selector("td[data-cell=A1]:text-is('20')")
        # The reader sees everything and can change nothing.
        assert reader.locator(".formula-bar[readonly]").count() == 1
        assert reader.locator(".sheet-tabs .tab.add").count() == 0
        reader.click("td[data-cell=B1]")
        reader.keyboard.type("9")
        assert reader.locator(".cell-editor").count() == 0
        assert reader.locator(".status[data-status=connected]").count() == 1
        return list(a.errors) + list(b.errors) + list(reader.errors)


def _sign_in(page: Any, client: MatrixClient, url: str) -> None:
    sign_in(page, client, url, "td[data-cell=A1]")


def _sample_xlsx() -> bytes:
    """A generated .xlsx, as Excel would write it (formulas with their cached values):
    two sheets, a formula across them, a date with its format, a boolean, a merged
    range and a comment."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = book.add_worksheet("收支")
    heading = book.add_format(
        {
            "bold": True,
            "italic": True,
            "font_color": "#C00000",
            "bg_color": "#FFFF00",
            "align": "center",
        }
    )
    ws.write_string("A1", "项目", heading)
    ws.write_string("B1", "金额")
    ws.write_datetime(
        "C1", _datetime(2021, 1, 31), book.add_format({"num_format": "yyyy-mm-dd"})
    )
    ws.write_boolean("D1", True)
    ws.write_string("A2", "油料")
    ws.write_number("B2", 100)
    ws.write_number("B3", 250.5)
    ws.write_string("A4", "合计")
    ws.write_formula("B4", "=SUM(B2:B3)", None, 350.5)
    ws.merge_range("F1:G1", None)
    ws.write_comment("A1", "说明")
    total = book.add_worksheet("汇总")
    total.write_formula("A1", "=收支!B4*2", None, 701)
    book.close()
    return out.getvalue()


def _grid_xlsx() -> bytes:
    """Sheet1: 1, 2, 3 down column A, B1 their sum, C1 ten times A2; 汇总 reads A3."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = book.add_worksheet("Sheet1")
    for row, n in enumerate((1, 2, 3)):
        ws.write_number(row, 0, n)
    ws.write_formula("B1", "=SUM(A1:A3)", None, 6)
    ws.write_formula("C1", "=A2*10", None, 20)
    total = book.add_worksheet("汇总")
    total.write_formula("A1", "=Sheet1!A3+1", None, 4)
    book.close()
    return out.getvalue()


def _as_xls(soffice: str, data: bytes) -> bytes | None:
    """The .xlsx saved as Excel 97 by LibreOffice; None without its Calc."""
    import subprocess
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "sample.xlsx").write_bytes(data)
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation={(work / 'p').as_uri()}",
                "--headless",
                "--convert-to",
                "xls",
                "--outdir",
                str(work),
                str(work / "sample.xlsx"),
            ],
            capture_output=True,
            timeout=300,
            check=False,
        )
        out = work / "sample.xls"
        return out.read_bytes() if out.exists() else None


def _dated_xlsx() -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = book.add_worksheet("Sheet1")
    ws.write_datetime(
        "F1", _datetime(2021, 1, 31), book.add_format({"num_format": "yyyy-mm-dd"})
    )
    book.close()
    return out.getvalue()


def _datetime(year: int, month: int, day: int) -> Any:
    from datetime import datetime

    return datetime(year, month, day)


class SheetNoCalcTest(SQLiteCase):
    """LibreOffice without its spreadsheet component: an .xls import answers 501 with
    the converter's errcode and creates nothing."""

    @classmethod
    def configure_server(cls, server: TestServer) -> None:
        without_component(server)

    async def test_xls_without_calc(self) -> None:
        await check_no_converter(
            self,
            "xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 a legacy workbook",
            "application/vnd.ms-excel",
            "calc",
        )


class SheetSQLiteTest(SheetTests, SheetBrowserTests, SQLiteCase):
    pass


class SheetPostgresTest(SheetTests, PostgresCase):
    pass
