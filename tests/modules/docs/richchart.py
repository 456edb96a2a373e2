# SPDX-License-Identifier: AGPL-3.0-or-later
"""Chart blocks of text documents (docs/documents.md "Rich content"), run by
test_docs.py's classes on their servers (both engines): through the Yjs protocol
with the Word export, and in three headless Chromium pages."""

import io
import json
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import quote

from twisted.internet import threads

from pycrdt import XmlElement, XmlFragment, XmlText

from tests.modules.docs import yjs

DOCS = "/_jwwx/client/v1/docs"

SALES = {
    "categories": ["一月", "二月", "三月"],
    "series": [
        {"name": "盗窃", "values": [12, 7.5, None]},
        {"name": "诈骗", "values": [3, 4, 9]},
    ],
}


def _tables(data: bytes) -> tuple[list[str], list[list[list[str]]]]:
    import docx

    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    return lines, tables


class RichChartTests:
    """Mixed into test_docs.DocsTests (its helpers and its server)."""

    server: Any

    async def test_chart_block_over_the_protocol(self) -> None:
        """Two pycrdt editors: one inserts a chart while the other writes and inserts
        a pie; both converge with both charts whole; the Word export has each chart's
        title and its data as a table, counted as text in the report."""
        t: Any = self
        alice, bob = t.user("alice"), t.user("bob")
        doc = await alice.ok("POST", DOCS, {"title": "案情通报", "kind": "rich"})
        doc_id, url = doc["doc_id"], doc["websocket_url"]
        grants = [{"kind": "user", "id": bob.user_id, "role": "editor"}]
        await alice.ok("PUT", f"{DOCS}/{doc_id}/sharing", {"grants": grants})

        def charts(editor: Any) -> list[dict[str, Any]]:
            root = editor.doc.get("default", type=XmlFragment)
            return [
                dict(c.attributes)
                for c in root.children
                if isinstance(c, XmlElement) and c.tag == "chart"
            ]

        async def scenario() -> tuple[list[Any], list[Any]]:
            async with AsyncExitStack() as stack:
                a = await yjs.open_editor(stack, url, alice.token)
                b = await yjs.open_editor(stack, url, bob.token)
                # At once: alice's column chart, bob's paragraph and pie.
                a.doc.get("default", type=XmlFragment).children.append(
                    XmlElement(
                        "chart",
                        {
                            "type": "column",
                            "title": "一季度案件",
                            "data": json.dumps(SALES),
                        },
                    )
                )
                broot = b.doc.get("default", type=XmlFragment)
                broot.children.append(XmlElement("paragraph")).children.append(
                    XmlText("见下图")
                )
                pie = {
                    "categories": ["城区", "郊区"],
                    "series": [{"name": "警情", "values": [30, 10]}],
                }
                broot.children.append(
                    XmlElement(
                        "chart",
                        {"type": "pie", "title": "警情分布", "data": json.dumps(pie)},
                    )
                )
                for editor in (a, b):
                    await yjs.until(
                        lambda e=editor: len(charts(e)) == 2, "both charts everywhere"
                    )
                seen = await yjs.open_editor(stack, url, alice.token)
                return charts(b), charts(seen)

        mine, theirs = await threads.deferToThread(yjs.run, scenario)
        key = lambda c: c["title"]  # noqa: E731
        t.assertEqual(sorted(mine, key=key), sorted(theirs, key=key))
        by_title = {c["title"]: c for c in theirs}
        t.assertEqual(json.loads(by_title["一季度案件"]["data"]), SALES)
        t.assertEqual(by_title["警情分布"]["type"], "pie")

        code, data = await t._get_bytes(alice, f"{DOCS}/{doc_id}/export?format=docx")
        t.assertEqual(code, 200, data[:200])
        lines, tables = _tables(data)
        t.assertIn("图表：一季度案件（柱形图）", lines)
        t.assertIn("图表：警情分布（饼图）", lines)
        t.assertIn(
            [
                ["类别", "盗窃", "诈骗"],
                ["一月", "12", "3"],
                ["二月", "7.5", "4"],
                ["三月", "", "9"],
            ],
            tables,
        )
        t.assertIn([["类别", "警情"], ["城区", "30"], ["郊区", "10"]], tables)
        record = await t._docx_export_record(doc_id)
        t.assertEqual(record["report"]["as_text"], {"chart": 2})
        t.assertNotIn("chart", record["report"]["lost"])

    async def test_chart_block_in_three_pages(self) -> None:
        """A writer inserts a chart from pasted cells; another editor sees its bars; a
        reader sees it without the edit button; the writer's edit (type, data) is
        redrawn in the others' pages; a pie from a range of one of her sheets
        (values copied); the export carries the data."""
        from tests.harness.browser import require_browser

        require_browser()
        t: Any = self
        alice, bob, dave = t.user("alice"), t.user("bob"), t.user("dave")
        doc = await alice.ok("POST", DOCS, {"title": "周报", "kind": "rich"})
        doc_id = doc["doc_id"]
        grants = [
            {"kind": "user", "id": bob.user_id, "role": "editor"},
            {"kind": "user", "id": dave.user_id, "role": "reader"},
        ]
        await alice.ok("PUT", f"{DOCS}/{doc_id}/sharing", {"grants": grants})
        status, body = await alice.request(
            "POST",
            f"{DOCS}/import?format=csv&title={quote('辖区警情表')}",
            raw="备注,辖区,警情\n,城区,30\n,郊区,10\n,合计,40\n".encode(),
            content_type="text/csv",
        )
        t.assertEqual(status, 200, body)
        page_url = f"{t.server.base_url}/_jwwx/docs/app/#doc={quote(doc_id)}"
        errors = await threads.deferToThread(
            _chart_in_three_pages, page_url, (alice, bob, dave)
        )
        t.assertEqual(errors, [])
        code, data = await t._get_bytes(alice, f"{DOCS}/{doc_id}/export?format=docx")
        t.assertEqual(code, 200, data[:200])
        lines, tables = _tables(data)
        t.assertIn("图表：本周警情（条形图）", lines)
        t.assertIn(
            [
                ["类别", "接警", "出警"],
                ["周一", "5", "4"],
                ["周二", "8", "8"],
                ["周三", "2", "1"],
                ["周四", "6", "5"],
            ],
            tables,
        )
        t.assertIn("图表：辖区分布（饼图）", lines)
        t.assertIn([["类别", "警情"], ["城区", "30"], ["郊区", "10"]], tables)
        t.assertEqual(await t._audit_actions(doc_id, "edit_refused"), [])

    test_chart_block_in_three_pages.timeout = 300  # type: ignore


def _chart_in_three_pages(url: str, officers: tuple[Any, ...]) -> list[str]:
    """What test_chart_block_in_three_pages does in the pages; their JavaScript
    errors."""
    from tests.harness.browser import another_page, browser_page, screenshot
    from tests.modules.docs.test_docs import _sign_in

    alice, bob, dave = officers
    with browser_page() as a:
        b, reader = another_page(a), another_page(a)
        _sign_in(a, alice, url)
        _sign_in(b, bob, url)
        _sign_in(reader, dave, url)
        a.click(".ProseMirror")
        a.keyboard.type("本周情况")
        a.click(".rich-toolbar button[name=chart]")
        a.fill(".pick-panel input[name=chart-title]", "本周警情")
        a.fill(
            ".pick-panel textarea[name=chart-data]",
            "日期\t接警\t出警\n周一\t5\t4\n周二\t8\t8\n周三\t2\t1\n",
        )
        a.click(".pick-panel button[name=chart-save]")
        bars = (
            ".doc-chart[data-drawn=true] svg.chart-svg[data-type=column] g.series rect"
        )
        b.wait_for_selector(".doc-chart:has-text('本周警情')")
        b.wait_for_function(
            f"() => document.querySelectorAll({bars!r}).length === 6", polling=100
        )
        reader.wait_for_selector(
            ".ProseMirror[contenteditable=false] .doc-chart[data-drawn=true]:has-text('本周警情')"
        )
        assert reader.locator(f"{bars}").count() == 6
        assert reader.locator(".doc-chart .chart-edit").count() == 0
        assert reader.locator(".rich-toolbar").count() == 0
        assert b.locator(".doc-chart .chart-edit").count() == 1
        # Bad cells: a message, nothing changed.
        a.click(".doc-chart .chart-edit")
        a.fill(".doc-chart textarea[name=chart-data]", "日期\t接警\n周一\t很多\n")
        a.click(".doc-chart button[name=chart-save]")
        a.wait_for_selector(".doc-chart .form-message:has-text('不是数字')")
        # The writer's edit: a bar chart with one more row, redrawn everywhere.
        a.select_option(".doc-chart select[name=chart-type]", "bar")
        a.fill(
            ".doc-chart textarea[name=chart-data]",
            "日期\t接警\t出警\n周一\t5\t4\n周二\t8\t8\n周三\t2\t1\n周四\t6\t5\n",
        )
        a.click(".doc-chart button[name=chart-save]")
        bars8 = bars.replace("[data-type=column]", "[data-type=bar]")
        for page in (b, reader):
            page.wait_for_function(
                f"() => document.querySelectorAll({bars8!r}).length === 8", polling=100
            )
        assert a.locator(".doc-chart .chart-form").count() == 0
        # A pie from a range of alice's sheet: its values copied into the block.
        a.click(".rich-toolbar button[name=chart]")
        a.wait_for_selector(".pick-panel select[name=chart-sheet][data-loaded=true]")
        a.select_option(".pick-panel select[name=chart-sheet]", label="辖区警情表")
        a.fill(".pick-panel input[name=chart-range]", "b1:C3")
        a.click(".pick-panel button[name=chart-take]")
        a.wait_for_function(
            "() => document.querySelector('.pick-panel textarea[name=chart-data]').value"
            " === '辖区\\t警情\\n城区\\t30\\n郊区\\t10'",
            polling=100,
        )
        a.select_option(".pick-panel select[name=chart-type]", "pie")
        a.fill(".pick-panel input[name=chart-title]", "辖区分布")
        a.click(".pick-panel button[name=chart-save]")
        slices = ".doc-chart[data-drawn=true] svg.chart-svg[data-type=pie] path.slice"
        for page in (b, reader):
            page.wait_for_function(
                f"() => document.querySelectorAll({slices!r}).length === 2", polling=100
            )
        screenshot(b, "docs-chart-block")
        return list(a.errors) + list(b.errors) + list(reader.errors)
