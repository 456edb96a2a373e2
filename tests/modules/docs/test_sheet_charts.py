# SPDX-License-Identifier: AGPL-3.0-or-later
"""Charts and pivot tables of spreadsheets (docs/documents.md "Spreadsheets") through
the running server: an .xlsx generated here with a column chart, a pie, a scatter
chart (a type the grid does not draw: lost) and two pivot tables (a simple one kept as
a pivot of ours, one with two row fields lost, its values kept) is imported with its
report; two pycrdt editors add charts at once and both are kept; the export to .xlsx
holds Excel charts of the same types over the same ranges, which import back the
same; a restore brings back the charts of its revision. In headless Chromium an
officer inserts a chart and a pivot table from a selected range, a second officer
sees both, edits a source cell (the pivot's values and the chart follow in every
page), a row inserted inside the source grows the chart's and the pivot's ranges, he
moves the chart and deletes one of his own; a reader sees them without the
handles; a pivot on a new sheet counts."""

import asyncio
import io
import zipfile
from contextlib import AsyncExitStack
from typing import Any

from twisted.internet import threads

from tests.harness.browser import another_page, browser_page, require_browser
from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import TestServer
from tests.modules.docs import yjs
from tests.modules.docs.test_sheets import DOCS, XLSX_TYPE, _sign_in, q

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml."
COLUMN = {
    "type": "column",
    "range": "A1:C4",
    "title": "月度警情",
    "x": 420,
    "y": 25,
    "w": 480,
    "h": 288,
}
PIE = {"type": "pie", "range": "A2:B4", "title": "", "x": 420, "y": 475}
PIE |= {"w": 480, "h": 288}


def charts_map(doc: Any, sheet: str = "警情") -> Any:
    from pycrdt import Map

    for value in doc.get("sheets", type=Map).values():
        if value.get("name") == sheet:
            return value["charts"]
    raise AssertionError(sheet)


def _charted_xlsx() -> bytes:
    """警情: categories down A, two months in B and C; a column chart of both (with
    a title), a pie of B, a scatter chart; and two pivot tables over A1:C4."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = book.add_worksheet("警情")
    rows = [("类别", "一月", "二月"), ("盗窃", 3, 5), ("诈骗", 7, 2), ("斗殴", 1, 4)]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            ws.write(r, c, value)
    column = book.add_chart({"type": "column"})
    for c in (1, 2):
        column.add_series(
            {
                "categories": ["警情", 1, 0, 3, 0],
                "values": ["警情", 1, c, 3, c],
                "name": ["警情", 0, c],
            }
        )
    column.set_title({"name": "月度警情"})
    ws.insert_chart("E2", column)
    pie = book.add_chart({"type": "pie"})
    pie.add_series({"categories": "='警情'!$A$2:$A$4", "values": "='警情'!$B$2:$B$4"})
    ws.insert_chart("E20", pie)
    scatter = book.add_chart({"type": "scatter"})
    scatter.add_series(
        {"categories": "='警情'!$C$2:$C$4", "values": "='警情'!$B$2:$B$4"}
    )
    ws.insert_chart("M2", scatter)
    # The cached values of the first pivot table (what Excel showed).
    ws.write_string("F30", "类别")
    ws.write_string("G30", "求和项:一月")
    book.close()
    return _with_pivots(
        out.getvalue(),
        "警情",
        "A1:C4",
        [("F30:G34", [0], [], [(1, "sum")]), ("J30:L36", [0, 2], [], [(1, "sum")])],
    )


def _with_pivots(data: bytes, sheet: str, source: str, pivots: list[Any]) -> bytes:
    """An .xlsx with pivot tables added to its first worksheet, as Excel writes them
    (a cache definition over `source` of `sheet`, here without its records); each of
    `pivots` is (location, row fields, column fields, [(value field, subtotal)])."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    fields = "".join(
        f'<cacheField name="f{i}" numFmtId="0"><sharedItems/></cacheField>'
        for i in range(3)
    )
    parts["xl/pivotCache/pivotCacheDefinition1.xml"] = (
        f'<pivotCacheDefinition xmlns="{MAIN}" xmlns:r="{REL}" refreshOnLoad="1">'
        f'<cacheSource type="worksheet"><worksheetSource ref="{source}" '
        f'sheet="{sheet}"/></cacheSource><cacheFields count="3">{fields}'
        "</cacheFields></pivotCacheDefinition>"
    ).encode()
    links = []
    types = [
        '<Override PartName="/xl/pivotCache/pivotCacheDefinition1.xml" '
        f'ContentType="{CT}pivotCacheDefinition+xml"/>'
    ]
    for n, (location, rows, cols, values) in enumerate(pivots, start=1):
        axes = {i: ' axis="axisRow"' for i in rows} | {
            i: ' axis="axisCol"' for i in cols
        }
        table = "".join(f'<pivotField showAll="0"{axes.get(i, "")}/>' for i in range(3))
        row_xml = "".join(f'<field x="{i}"/>' for i in rows)
        col_xml = "".join(f'<field x="{i}"/>' for i in cols)
        data_xml = "".join(
            f'<dataField name="v{fld}" fld="{fld}" subtotal="{sub}"/>'
            for fld, sub in values
        )
        parts[f"xl/pivotTables/pivotTable{n}.xml"] = (
            f'<pivotTableDefinition xmlns="{MAIN}" name="P{n}" cacheId="1" '
            f'dataCaption="值"><location ref="{location}" firstHeaderRow="1" '
            f'firstDataRow="1" firstDataCol="1"/><pivotFields count="3">{table}'
            f'</pivotFields><rowFields count="{len(rows)}">{row_xml}</rowFields>'
            + (f'<colFields count="{len(cols)}">{col_xml}</colFields>' if cols else "")
            + f'<dataFields count="{len(values)}">{data_xml}</dataFields>'
            "</pivotTableDefinition>"
        ).encode()
        parts[f"xl/pivotTables/_rels/pivotTable{n}.xml.rels"] = (
            f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
            f'Type="{REL}/pivotCacheDefinition" '
            'Target="../pivotCache/pivotCacheDefinition1.xml"/></Relationships>'
        ).encode()
        links.append(
            f'<Relationship Id="rIdP{n}" Type="{REL}/pivotTable" '
            f'Target="../pivotTables/pivotTable{n}.xml"/>'
        )
        types.append(
            f'<Override PartName="/xl/pivotTables/pivotTable{n}.xml" '
            f'ContentType="{CT}pivotTable+xml"/>'
        )

    def add(name: str, end: str, text: str, empty: str = "") -> None:
        old = parts[name].decode() if name in parts else empty
        parts[name] = old.replace(end, text + end).encode()

    add(
        "xl/worksheets/_rels/sheet1.xml.rels",
        "</Relationships>",
        "".join(links),
        f'<Relationships xmlns="{PKG}"></Relationships>',
    )
    add(
        "xl/workbook.xml",
        "</workbook>",
        '<pivotCaches><pivotCache cacheId="1" r:id="rIdC1"/></pivotCaches>',
    )
    add(
        "xl/_rels/workbook.xml.rels",
        "</Relationships>",
        f'<Relationship Id="rIdC1" Type="{REL}/pivotCacheDefinition" '
        'Target="pivotCache/pivotCacheDefinition1.xml"/>',
    )
    add("[Content_Types].xml", "</Types>", "".join(types))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, body in parts.items():
            package.writestr(name, body)
    return out.getvalue()


def _chart_refs(chart: Any) -> list[tuple[str, str, str]]:
    """(name, categories, values) references of each series of an openpyxl chart."""
    found = []
    for s in chart.series:
        cat = s.cat.strRef or s.cat.numRef if s.cat is not None else None
        found.append(
            (
                s.tx.strRef.f if s.tx is not None and s.tx.strRef is not None else "",
                cat.f if cat is not None else "",
                s.val.numRef.f,
            )
        )
    return found


class ChartTests:
    server: TestServer
    timeout = 600

    @classmethod
    def configure_server(cls, server: TestServer) -> None:
        yjs.configure_docs(server, snapshot_every=10)

    async def _import(self, client: MatrixClient, data: bytes) -> dict[str, Any]:
        status, body = await client.request(
            "POST",
            f"{DOCS}/import?format=xlsx&title={q('警情分析')}",
            raw=data,
            content_type=XLSX_TYPE,
        )
        self.assertEqual(status, 200, body)
        return dict(body)

    async def _xlsx(self, client: MatrixClient, doc_id: str) -> bytes:
        import treq

        response = await treq.get(
            f"{self.server.base_url}{DOCS}/{doc_id}/export?format=xlsx",
            headers={"Authorization": [f"Bearer {client.token}"]},
            persistent=False,
        )
        self.assertEqual(response.code, 200)
        return bytes(await response.content())

    async def test_charts_and_pivots_through_xlsx(self) -> None:
        alice, bob = self.user("alice"), self.user("bob")
        body = await self._import(alice, _charted_xlsx())
        kept, lost = body["report"]["kept"], body["report"]["lost"]
        self.assertEqual((kept["chart"], kept["pivot_table"]), (2, 1))
        self.assertEqual(lost, {"chart": 1, "pivot_table": 1})
        doc_id, url = body["doc_id"], body["websocket_url"]
        got = await alice.ok("GET", f"{DOCS}/{doc_id}/export")
        sheet = got["content"]["sheets"][0]
        self.assertEqual(sorted(sheet["charts"].values(), key=str), [COLUMN, PIE])
        # The simple pivot is ours (rows by 类别, the sum of 一月), its cached
        # values stay the cells; the other one's values stay as plain cells.
        self.assertEqual(
            list(sheet["pivots"].values()),
            [
                {
                    "sheet": "s1",
                    "range": "A1:C4",
                    "rows": 0,
                    "cols": None,
                    "val": 1,
                    "agg": "sum",
                    "at": "F30",
                    "area": "F30:G34",
                }
            ],
        )
        self.assertEqual(sheet["cells"]["G30"], {"v": "求和项:一月"})
        before = got["revision"]
        await alice.ok(
            "PUT",
            f"{DOCS}/{doc_id}/sharing",
            {"grants": [{"kind": "user", "id": bob.user_id, "role": "editor"}]},
        )

        # Two editors add a chart each at once: both are kept.
        line = {"type": "line", "range": "A1:B4", "title": "趋势", "x": 10, "y": 130}
        line |= {"w": 400, "h": 260}
        bar = {"type": "bar", "range": "A1:C4", "title": "", "x": 10, "y": 500}
        bar |= {"w": 360, "h": 240}

        async def together() -> int:
            async with AsyncExitStack() as stack:
                a = await yjs.open_editor(stack, url, alice.token)
                b = await yjs.open_editor(stack, url, bob.token)
                charts_map(a.doc)["ca"] = line
                charts_map(b.doc)["cb"] = bar
                for each in (a, b):
                    await yjs.until(lambda e=each: len(charts_map(e.doc)) == 4, "4")
                await asyncio.sleep(0.2)
                return len(charts_map(a.doc))

        self.assertEqual(await threads.deferToThread(yjs.run, together), 4)
        now = (await alice.ok("GET", f"{DOCS}/{doc_id}/export"))["content"]
        charts = now["sheets"][0]["charts"]
        self.assertEqual((charts["ca"], charts["cb"]), (line, bar))

        # To .xlsx: Excel charts of the same types over the same ranges.
        from openpyxl import load_workbook

        data = await self._xlsx(alice, doc_id)
        ws = load_workbook(io.BytesIO(data))["警情"]
        found = {
            (c.tagname, getattr(c, "barDir", None)): c
            for c in ws._charts  # noqa: SLF001
        }
        self.assertEqual(
            set(found),
            {("barChart", "col"), ("barChart", "bar"), ("lineChart", None)}
            | {("pieChart", None)},
        )
        self.assertEqual(
            _chart_refs(found["barChart", "col"]),
            [
                ("警情!$B$1", "警情!$A$2:$A$4", "警情!$B$2:$B$4"),
                ("警情!$C$1", "警情!$A$2:$A$4", "警情!$C$2:$C$4"),
            ],
        )
        self.assertEqual(
            _chart_refs(found["pieChart", None]),
            [("", "警情!$A$2:$A$4", "警情!$B$2:$B$4")],
        )
        # ... which import back as the same charts.
        again = await self._import(alice, data)
        self.assertEqual(again["report"]["kept"]["chart"], 4)
        self.assertNotIn("chart", again["report"]["lost"])
        back = await alice.ok("GET", f"{DOCS}/{again['doc_id']}/export")
        self.assertEqual(
            sorted(back["content"]["sheets"][0]["charts"].values(), key=str),
            sorted(charts.values(), key=str),
        )
        # A restore brings back its revision's charts (and keeps the pivot's source).
        await alice.ok("POST", f"{DOCS}/{doc_id}/restore", {"revision": before})
        old = (await alice.ok("GET", f"{DOCS}/{doc_id}/export"))["content"]
        self.assertEqual(
            sorted(old["sheets"][0]["charts"].values(), key=str), [COLUMN, PIE]
        )
        self.assertEqual(old["sheets"][0]["pivots"], sheet["pivots"])


class ChartBrowserTests:
    async def test_chart_and_pivot_in_two_pages(self) -> None:
        require_browser()
        alice, bob, dave = self.user("alice"), self.user("bob"), self.user("dave")
        import xlsxwriter

        out = io.BytesIO()
        book = xlsxwriter.Workbook(out, {"in_memory": True})
        ws = book.add_worksheet("Sheet1")
        rows = [("类别", "数量", "月份"), ("盗窃", 3, "1月"), ("诈骗", 7, "1月")]
        rows += [("盗窃", 5, "2月"), ("斗殴", 1, "2月")]
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                ws.write(r, c, value)
        book.close()
        body = await self._import(alice, out.getvalue())  # type: ignore[attr-defined]
        doc_id = body["doc_id"]
        grants = [
            {"kind": "user", "id": bob.user_id, "role": "editor"},
            {"kind": "user", "id": dave.user_id, "role": "reader"},
        ]
        await alice.ok("PUT", f"{DOCS}/{doc_id}/sharing", {"grants": grants})
        url = f"{self.server.base_url}/_jwwx/docs/app/#doc={q(doc_id)}"  # type: ignore[attr-defined]
        errors = await threads.deferToThread(_charts_in_pages, url, (alice, bob, dave))
        self.assertEqual(errors, [])
        got = await alice.ok("GET", f"{DOCS}/{doc_id}/export")
        sheets = {s["name"]: s for s in got["content"]["sheets"]}
        first = sheets["Sheet1"]
        (chart,) = first["charts"].values()
        self.assertEqual(
            {k: chart[k] for k in ("type", "range", "title")},
            {"type": "column", "range": "A1:B6", "title": "警情图"},
        )
        (pivot,) = first["pivots"].values()
        self.assertEqual(
            pivot,
            {
                "sheet": pivot["sheet"],
                "range": "A1:C6",
                "rows": 0,
                "cols": 2,
                "val": 1,
                "agg": "sum",
                "at": "E1",
                "area": "E1:H6",
            },
        )
        cells = first["cells"]
        self.assertEqual(cells["E1"], {"v": "求和项:数量"})
        self.assertEqual(
            (cells["H6"], cells["F6"], cells["G6"]), ({"v": 28}, {"v": 20}, {"v": 8})
        )
        self.assertNotIn("I6", cells)  # the blank column gone with the row filled
        # The pivot on a new sheet: 月份 counted.
        counted = sheets["数据透视表1"]["cells"]
        self.assertEqual(counted["A1"], {"v": "月份"})
        self.assertEqual(counted["B1"], {"v": "计数项:数量"})
        self.assertEqual(counted["A4"], {"v": "总计"})
        self.assertEqual(counted["B4"], {"v": 5})
        # Exported as values: the .xlsx has the pivot's numbers in its cells.
        from openpyxl import load_workbook

        xlsx = await self._xlsx(alice, doc_id)  # type: ignore[attr-defined]
        book = load_workbook(io.BytesIO(xlsx))
        self.assertEqual(book["Sheet1"]["H6"].value, 28)
        self.assertEqual(len(book["Sheet1"]._charts), 1)  # noqa: SLF001


def _charts_in_pages(url: str, officers: tuple[MatrixClient, ...]) -> list[Any]:
    alice, bob, dave = officers
    with browser_page() as a:
        b, reader = another_page(a), another_page(a)
        for page, officer in ((a, alice), (b, bob), (reader, dave)):
            _sign_in(page, officer, url)

        def select_range(page: Any, first: str, last: str) -> None:
            page.click(f"td[data-cell={first}]")
            page.click(f"td[data-cell={last}]", modifiers=["Shift"])

        # Alice: a column chart of A1:B5.
        select_range(a, "A1", "B5")
        a.click(".tools [data-tool='插入图表']")
        a.select_option(".sheet-dialog select[name=type]", "column")
        a.fill(".sheet-dialog input[name=title]", "警情图")
        a.click(".sheet-dialog [data-action=ok]")
        for page in (a, b, reader):
            page.wait_for_selector(".chart[data-range='A1:B5'] rect[data-value='7']")
            page.wait_for_selector(".chart .chart-title:has-text('警情图')")
        assert reader.locator(".chart .chart-delete").count() == 0
        assert b.locator(".chart .chart-delete").count() == 1
        # Alice: a pivot of A1:C5 at E1, rows by 类别, columns by 月份, sum of 数量.
        select_range(a, "A1", "C5")
        a.click(".tools [data-tool='数据透视表']")
        a.select_option(".sheet-dialog select[name=rows]", "0")
        a.select_option(".sheet-dialog select[name=cols]", "2")
        a.select_option(".sheet-dialog select[name=val]", "1")
        a.select_option(".sheet-dialog select[name=agg]", "sum")
        assert a.input_value(".sheet-dialog input[name=at]") == "E1"
        a.click(".sheet-dialog [data-action=ok]")
        for page in (a, b, reader):
            page.wait_for_selector("td[data-cell=E1]:text-is('求和项:数量')")
            page.wait_for_selector("td[data-cell=H5]:text-is('16')")
        # Bob changes a source cell: the pivot and the chart follow in every page.
        b.click("td[data-cell=B2]")
        b.keyboard.type("13")
        b.keyboard.press("Enter")
        for page in (a, b, reader):
            page.wait_for_selector("td[data-cell=H5]:text-is('26')")
            page.wait_for_selector("td[data-cell=F5]:text-is('20')")
            page.wait_for_selector(".chart rect[data-value='13']")
        # Alice inserts a row inside the source and fills it: the chart's and the
        # pivot's ranges grow (the pivot's own cells move down with the row).
        a.click("td[data-cell=A3]")
        a.click(".tools [data-tool='插入行']")
        # (the empty row a blank row and column of its own, as in Excel: 总计 in I6)
        b.wait_for_selector("td[data-cell=I6]:text-is('26')")
        for name, text in (("A3", "盗窃"), ("B3", "2"), ("C3", "2月")):
            a.click(f"td[data-cell={name}]")
            a.keyboard.type(text)
            a.keyboard.press("Enter")
        for page in (a, b):
            page.wait_for_selector("td[data-cell=H6]:text-is('28')")
            page.wait_for_selector(".chart rect[data-value='2']")
        # Bob moves the chart by its title bar; Alice sees it moved.
        box = b.locator(".chart .chart-title").bounding_box()
        left = a.eval_on_selector(".chart", "e => e.offsetLeft")
        b.mouse.move(box["x"] + 20, box["y"] + 10)
        b.mouse.down()
        b.mouse.move(box["x"] + 80, box["y"] + 50, steps=4)
        b.mouse.up()
        a.wait_for_selector(f".chart[style*='left: {left + 60}px']")
        # Bob adds a pie of A1:B5 and deletes it again.
        select_range(b, "A1", "B5")
        b.click(".tools [data-tool='插入图表']")
        b.select_option(".sheet-dialog select[name=type]", "pie")
        b.click(".sheet-dialog [data-action=ok]")
        a.wait_for_selector(".chart svg[data-type=pie] path.slice")
        b.click(".chart:has(svg[data-type=pie]) .chart-delete")
        a.wait_for_selector(".chart svg[data-type=pie]", state="detached")
        assert a.locator(".chart").count() == 1
        # Alice: 月份 counted on a new sheet.
        select_range(a, "A1", "C6")
        a.click(".tools [data-tool='数据透视表']")
        a.select_option(".sheet-dialog select[name=rows]", "2")
        a.select_option(".sheet-dialog select[name=agg]", "count")
        a.select_option(".sheet-dialog select[name=place]", "new")
        a.click(".sheet-dialog [data-action=ok]")
        a.wait_for_selector(".sheet-tabs .tab.active[data-sheet=数据透视表1]")
        a.wait_for_selector("td[data-cell=B4]:text-is('5')")
        return list(a.errors) + list(b.errors) + list(reader.errors)


class ChartSQLiteTest(ChartTests, ChartBrowserTests, SQLiteCase):
    pass


class ChartPostgresTest(ChartTests, PostgresCase):
    pass
