# SPDX-License-Identifier: AGPL-3.0-or-later
"""Slides (document kind "slides") through the running server, on both engines: a new
deck has its first slide; pycrdt clients edit one deck together and converge, a
reader's edit is refused, history, restore and the chain work as for any document; a
.pptx generated here is imported (pictures into the media repository, the kept/lost
report) and exported back; a legacy .ppt through LibreOffice Impress; bad files leave
nothing behind; two officers edit one deck in two headless Chromium pages, see each
other's text box and selection, and present it."""

import asyncio
import io
import json
import shutil
import subprocess
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from twisted.internet import threads
from twisted.trial.unittest import SkipTest

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

PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
IMPRESS = Path("share") / "registry" / "impress.xcd"
MAX_IMPORT = 2 * 1024 * 1024


def deck_of(doc: Any) -> list[dict[str, Any]]:
    """The slides a pycrdt client holds, in order, each with its elements by id."""
    from pycrdt import Map

    found = []
    for slide_id, slide in doc.get("slides", type=Map).items():
        elements = {k: v.to_py() for k, v in slide["elements"].items()}
        found.append((slide["order"], slide_id, {"id": slide_id, "elements": elements}))
    return [s for _, _, s in sorted(found, key=lambda t: (t[0], t[1]))]


def add_element(doc: Any, slide_index: int, element_id: str, fields: Any) -> None:
    from pycrdt import Map

    slide_id = deck_of(doc)[slide_index]["id"]
    doc.get("slides", type=Map)[slide_id]["elements"][element_id] = Map(fields)


def add_slide(doc: Any, slide_id: str, order: float) -> None:
    from pycrdt import Map

    doc.get("slides", type=Map)[slide_id] = Map(
        {"order": order, "background": "#ffffff", "notes": "", "elements": Map()}
    )


def text_box(text: str, **run: Any) -> dict[str, Any]:
    return {
        "type": "text",
        "x": 100,
        "y": 100,
        "w": 400,
        "h": 100,
        "z": 1,
        "paragraphs": [{"bullet": False, "runs": [{"text": text, **run}]}],
    }


class SlideTests:
    server: TestServer
    timeout = 600  # Chromium pages, LibreOffice and the server share a loaded machine

    @classmethod
    def configure_server(cls, server: TestServer) -> None:
        yjs.configure_docs(server, snapshot_every=10, max_import_bytes=MAX_IMPORT)

    async def _import(
        self, client: MatrixClient, fmt: str, data: bytes, title: str
    ) -> tuple[int, Any]:
        return await import_file(client, fmt, data, title, PPTX_TYPE)

    async def _get(self, client: MatrixClient, path: str) -> tuple[int, bytes]:
        response = await treq.get(
            f"{self.server.base_url}{path}",
            headers={"Authorization": [f"Bearer {client.token}"]},
            persistent=False,
        )
        return response.code, await response.content()

    async def test_deck_edited_together_history_and_restore(self) -> None:
        alice, bob, dave = self.user("alice"), self.user("bob"), self.user("dave")
        doc = await alice.ok("POST", DOCS, {"title": "周例会", "kind": "slides"})
        self.assertEqual(doc["kind"], "slides")
        doc_id, url = doc["doc_id"], doc["websocket_url"]
        grants = [
            {"kind": "user", "id": bob.user_id, "role": "editor"},
            {"kind": "user", "id": dave.user_id, "role": "reader"},
        ]
        await alice.ok("PUT", f"{DOCS}/{doc_id}/sharing", {"grants": grants})
        first = await alice.ok("GET", f"{DOCS}/{doc_id}/export")
        self.assertEqual(
            first["content"],
            {"slides": [{"background": "#ffffff", "notes": "", "elements": []}]},
        )

        async def scenario() -> int:
            async with AsyncExitStack() as stack:
                a = await yjs.open_editor(stack, url, alice.token)
                b = await yjs.open_editor(stack, url, bob.token)
                await yjs.until(lambda: len(deck_of(a.doc)) == 1, "a synced")
                await yjs.until(lambda: len(deck_of(b.doc)) == 1, "b synced")
                add_element(a.doc, 0, "ea", text_box("本周警情", bold=True, size=32))
                add_slide(b.doc, "pb", 5.0)
                add_element(
                    b.doc,
                    1,
                    "eb",
                    {
                        "type": "table",
                        "x": 50,
                        "y": 50,
                        "w": 300,
                        "h": 80,
                        "z": 1,
                        "rows": [["辖区", "警情"], ["东城", "12"]],
                    },
                )

                def both(d: Any) -> bool:
                    deck = deck_of(d)
                    return len(deck) == 2 and all(len(s["elements"]) == 1 for s in deck)

                await yjs.until(lambda: both(a.doc), "a has both")
                await yjs.until(lambda: both(b.doc), "b has both")
                reader = await yjs.open_editor(stack, url, dave.token)
                await yjs.until(lambda: both(reader.doc), "the reader has both")
                add_element(reader.doc, 0, "ed", text_box("读者"))
                await yjs.until(lambda: reader.channel.close_code == 4403, "4403")
                await asyncio.sleep(0.2)
                return len(deck_of(a.doc)[0]["elements"])

        self.assertEqual(await threads.deferToThread(yjs.run, scenario), 1)
        got = await alice.ok("GET", f"{DOCS}/{doc_id}/export")
        deck = got["content"]["slides"]
        self.assertEqual(len(deck), 2)
        self.assertEqual(
            deck[0]["elements"][0]["paragraphs"][0]["runs"],
            [{"text": "本周警情", "bold": True, "size": 32}],
        )
        self.assertEqual(
            deck[1]["elements"][0]["rows"], [["辖区", "警情"], ["东城", "12"]]
        )
        before = got["revision"]

        async def change() -> None:
            async with AsyncExitStack() as stack:
                a = await yjs.open_editor(stack, url, alice.token)
                await yjs.until(lambda: len(deck_of(a.doc)) == 2, "synced")
                from pycrdt import Map

                del a.doc.get("slides", type=Map)["pb"]
                await asyncio.sleep(0.5)

        await threads.deferToThread(yjs.run, change)
        now = await alice.ok("GET", f"{DOCS}/{doc_id}/export")
        self.assertEqual(len(now["content"]["slides"]), 1)
        await bob.ok("POST", f"{DOCS}/{doc_id}/restore", {"revision": before})
        back = await alice.ok("GET", f"{DOCS}/{doc_id}/export")
        self.assertEqual(len(back["content"]["slides"]), 2)
        self.assertEqual(
            back["content"]["slides"][1]["elements"][0]["rows"][1], ["东城", "12"]
        )
        # Sealed and chained like any document.
        auditor = self.user("slides-auditor")
        admin = self.user("superadmin", admin=True)
        await admin.ok(
            "PUT",
            f"/_jwwx/admin/v1/admins/roles/{q(auditor.user_id)}",
            {"roles": ["audit"]},
        )
        report = await auditor.ok("GET", f"/_jwwx/admin/v1/docs/{doc_id}/verify")
        self.assertTrue(report["ok"], report)
        self.assertGreater(report["revisions"], 3)

    async def test_pptx_round_trip_and_bad_files(self) -> None:
        alice, bob = self.user("alice"), self.user("bob")
        status, body = await self._import(alice, "pptx", sample_pptx(), "案情汇报")
        self.assertEqual(status, 200, body)
        self.assertEqual((body["kind"], body["title"]), ("slides", "案情汇报"))
        self.assertEqual(
            body["report"],
            {
                "kept": {
                    "bold": 1,
                    "bullet": 1,
                    "color": 1,
                    "file": 1,
                    "image": 2,
                    "italic": 1,
                    "link": 2,
                    "notes": 1,
                    "paragraph": 4,
                    "size": 1,
                    "slide": 2,
                    "table": 1,
                    "text_box": 2,
                },
                "lost": {"chart": 1, "group": 1, "shape_style": 1},
            },
        )
        doc_id = body["doc_id"]
        deck = (await alice.ok("GET", f"{DOCS}/{doc_id}/export"))["content"]["slides"]
        self.assertEqual(len(deck), 2)
        first, second = deck
        self.assertEqual(first["background"], "#fff5e0")
        self.assertEqual(first["notes"], "讲稿：先说结论")
        kinds = [e["type"] for e in first["elements"]]
        self.assertEqual(kinds, ["text", "image", "text", "file"])
        text = first["elements"][0]
        self.assertEqual(
            (text["x"], text["y"], text["w"], text["h"]), (72, 72, 432, 144)
        )
        paragraphs = text["paragraphs"]
        self.assertEqual(
            paragraphs[0]["runs"],
            [{"text": "警情通报", "bold": True, "size": 40, "color": "#c00000"}],
        )
        self.assertEqual(
            paragraphs[1],
            {"bullet": True, "runs": [{"text": "注意安全", "italic": True}]},
        )
        self.assertEqual(
            paragraphs[2]["runs"],
            [{"text": "详情", "link": "https://example.org/case/1"}],
        )
        # The picture is in the media repository, as the importing officer's upload:
        # its stored bytes come back whole in the export below.
        image = first["elements"][1]
        self.assertTrue(image["src"].startswith("mxc://"), image)
        server_name, media_id = image["src"][len("mxc://") :].split("/")
        status, data = await self._get(
            alice, f"/_matrix/client/v1/media/download/{server_name}/{media_id}"
        )
        self.assertEqual(status, 200)
        from PIL import Image

        # (served through the viewer's watermark, so compared as an image)
        self.assertEqual(Image.open(io.BytesIO(data)).size, (2, 2))
        # The grouped shape's text is kept; its drawn outline is not.
        self.assertEqual(
            first["elements"][2]["paragraphs"][0]["runs"][0]["text"], "分组内的字"
        )
        attached = first["elements"][3]
        self.assertEqual((attached["type"], attached["size"]), ("file", len(ATTACHED)))
        self.assertEqual(
            [e["type"] for e in second["elements"]], ["table", "link", "image"]
        )
        # The picture used on both slides is uploaded once.
        self.assertEqual(second["elements"][2]["src"], image["src"])
        self.assertEqual(
            second["elements"][0]["rows"],
            [["格00", "格01", "格02"], ["格10", "格11", "格12"]],
        )
        self.assertEqual(
            (second["elements"][1]["url"], second["elements"][1]["text"]),
            ("https://example.org/map", "辖区地图"),
        )

        # Back to .pptx: read again with python-pptx.
        status, data = await self._get(alice, f"{DOCS}/{doc_id}/export?format=pptx")
        self.assertEqual(status, 200)
        from pptx import Presentation
        from pptx.enum.shapes import MSO_SHAPE_TYPE

        again = Presentation(io.BytesIO(data))
        self.assertEqual((again.slide_width, again.slide_height), (12192000, 6858000))
        slides = list(again.slides)
        self.assertEqual(len(slides), 2)
        shapes = list(slides[0].shapes)
        run = shapes[0].text_frame.paragraphs[0].runs[0]
        self.assertEqual(
            (run.text, run.font.bold, run.font.size.pt, str(run.font.color.rgb)),
            ("警情通报", True, 40.0, "C00000"),
        )
        self.assertEqual(
            shapes[0].text_frame.paragraphs[2].runs[0].hyperlink.address,
            "https://example.org/case/1",
        )
        self.assertEqual(shapes[1].shape_type, MSO_SHAPE_TYPE.PICTURE)
        self.assertEqual(shapes[1].image.blob, PICTURE)
        self.assertEqual(shapes[3].shape_type, MSO_SHAPE_TYPE.EMBEDDED_OLE_OBJECT)
        self.assertEqual(shapes[3].ole_format.blob, ATTACHED)
        self.assertEqual(slides[0].notes_slide.notes_text_frame.text, "讲稿：先说结论")
        self.assertEqual(str(slides[0].background.fill.fore_color.rgb), "FFF5E0")
        table = next(s for s in slides[1].shapes if s.has_table).table
        self.assertEqual(table.cell(1, 2).text, "格12")
        # ... and that file imports again with nothing lost.
        status, body = await self._import(alice, "pptx", data, "再导入")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["report"]["lost"], {})
        kept = body["report"]["kept"]
        self.assertEqual((kept["image"], kept["file"], kept["table"]), (2, 1, 1))
        self.assertEqual((kept["link"], kept["notes"], kept["slide"]), (2, 1, 2))

        # Bad input: a clear error and nothing created.
        before = len((await alice.ok("GET", DOCS + "?filter=mine"))["documents"])
        for fmt, raw in (
            ("pptx", b"not a pptx"),
            ("pptx", b"PK\x03\x04broken"),
            ("pptx", _zip_of({"word/document.xml": b"<w/>"})),  # a zip, no deck
        ):
            self.assertErrcode(
                await self._import(alice, fmt, raw, "坏"), 400, "M_INVALID_PARAM"
            )
        self.assertErrcode(
            await self._import(alice, "pptx", b"x" * (MAX_IMPORT + 1), "大"),
            413,
            "M_TOO_LARGE",
        )
        self.assertErrcode(
            await self._import(alice, "key", sample_pptx(), "格式"),
            400,
            "M_INVALID_PARAM",
        )
        after = len((await alice.ok("GET", DOCS + "?filter=mine"))["documents"])
        self.assertEqual(after, before)
        sheet = await alice.ok("POST", DOCS, {"title": "表", "kind": "sheet"})
        self.assertErrcode(
            await alice.request("GET", f"{DOCS}/{sheet['doc_id']}/export?format=pptx"),
            400,
            "M_INVALID_PARAM",
        )
        self.assertErrcode(
            await alice.request("POST", DOCS, {"title": "x", "kind": "keynote"}),
            400,
            "M_INVALID_PARAM",
        )
        # Someone without a role learns nothing.
        self.assertErrcode(
            await bob.request("GET", f"{DOCS}/{doc_id}/export?format=pptx"),
            404,
            "M_NOT_FOUND",
        )

    async def test_two_editors_type_into_one_text_box_at_once(self) -> None:
        """A text box is a Y.Text: two officers inserting into it at once both keep
        their characters; the .pptx round trip goes through it; a box written as JSON
        paragraphs (a deck from before) gets its Y.Text when an editor opens it."""
        from pycrdt import Map, Text

        alice, bob = self.user("alice"), self.user("bob")
        status, body = await self._import(alice, "pptx", sample_pptx(), "协同")
        self.assertEqual(status, 200, body)
        doc_id, url = body["doc_id"], body["websocket_url"]
        grants = [{"kind": "user", "id": bob.user_id, "role": "editor"}]
        await alice.ok("PUT", f"{DOCS}/{doc_id}/sharing", {"grants": grants})

        def box(doc: Any, element_id: str) -> Any:
            for slide in doc.get("slides", type=Map).values():
                if element_id in slide["elements"]:
                    return slide["elements"][element_id]
            return None

        async def scenario() -> tuple[bool, str, bool]:
            async with AsyncExitStack() as stack:
                a = await yjs.open_editor(stack, url, alice.token)
                b = await yjs.open_editor(stack, url, bob.token)
                await yjs.until(lambda: box(a.doc, "e1-1") is not None, "a synced")
                first = str(box(a.doc, "e1-1")["text"])
                self.assertTrue(first.startswith("警情通报\n注意安全\n"), first)
                await yjs.until(
                    lambda: str(box(b.doc, "e1-1")["text"]) == first, "b synced"
                )
                ta, tb = box(a.doc, "e1-1")["text"], box(b.doc, "e1-1")["text"]
                self.assertIsInstance(ta, Text)
                # At once: neither has seen the other's insert when making its own.
                ta.insert(0, "紧急", {})
                tb.insert(len("警情通报".encode()), "（二）")
                both = "紧急警情通报（二）" + first[len("警情通报") :]
                for who in (a, b):
                    await yjs.until(
                        lambda w=who: str(box(w.doc, "e1-1")["text"]) == both,
                        f"{who} has both",
                    )
                # A box as a deck from before held it: JSON paragraphs.
                add_element(a.doc, 1, "old", text_box("旧的框", italic=True))
                await yjs.until(lambda: box(b.doc, "old") is not None, "b has it")
                c = await yjs.open_editor(stack, url, alice.token)  # an editor opens
                await yjs.until(
                    lambda: isinstance(box(b.doc, "old").get("text"), Text),
                    "upgraded",
                )
                upgraded = box(c.doc, "old")
                return (
                    str(box(c.doc, "e1-1")["text"]) == both,
                    str(upgraded["text"]),
                    "paragraphs" in upgraded,
                )

        merged, old, kept_json = await threads.deferToThread(yjs.run, scenario)
        self.assertTrue(merged)
        self.assertEqual((old, kept_json), ("旧的框\n", False))
        deck = (await alice.ok("GET", f"{DOCS}/{doc_id}/export"))["content"]["slides"]
        paragraphs = deck[0]["elements"][0]["paragraphs"]
        self.assertEqual(
            paragraphs[0]["runs"],
            [
                {"text": "紧急"},
                {
                    "text": "警情通报（二）",
                    "bold": True,
                    "size": 40,
                    "color": "#c00000",
                },
            ],
        )
        self.assertEqual(
            paragraphs[1],
            {"bullet": True, "runs": [{"text": "注意安全", "italic": True}]},
        )
        old_box = [e for e in deck[1]["elements"] if e["type"] == "text"]
        self.assertEqual(
            old_box[0]["paragraphs"],
            [{"bullet": False, "runs": [{"text": "旧的框", "italic": True}]}],
        )
        # Out as .pptx and in again: the merged text and its formatting kept.
        status, data = await self._get(alice, f"{DOCS}/{doc_id}/export?format=pptx")
        self.assertEqual(status, 200)
        from pptx import Presentation

        frame = list(Presentation(io.BytesIO(data)).slides)[0].shapes[0].text_frame
        self.assertEqual(
            [p.text for p in frame.paragraphs][:2], ["紧急警情通报（二）", "注意安全"]
        )
        run = frame.paragraphs[0].runs[1]
        self.assertEqual((run.text, run.font.bold), ("警情通报（二）", True))
        status, again = await self._import(alice, "pptx", data, "再导入")
        self.assertEqual(status, 200, again)
        back = await alice.ok("GET", f"{DOCS}/{again['doc_id']}/export")
        self.assertEqual(
            back["content"]["slides"][0]["elements"][0]["paragraphs"][:2],
            paragraphs[:2],
        )

    async def test_legacy_ppt_through_libreoffice_impress(self) -> None:
        soffice = shutil.which("soffice")
        if soffice is None:
            raise SkipTest("LibreOffice (soffice) is not installed: make tools")
        if not (Path(soffice).resolve().parent.parent / IMPRESS).exists():
            raise SkipTest(
                "LibreOffice Impress (libreoffice-impress-nogui) is not installed: "
                "make tools"
            )

        def legacy() -> bytes:  # the sample deck saved as PowerPoint 97 by LibreOffice
            with tempfile.TemporaryDirectory() as folder:
                work = Path(folder)
                (work / "sample.pptx").write_bytes(sample_pptx())
                subprocess.run(
                    [
                        soffice,
                        f"-env:UserInstallation={(work / 'p').as_uri()}",
                        "--headless",
                        "--convert-to",
                        "ppt",
                        "--outdir",
                        str(work),
                        str(work / "sample.pptx"),
                    ],
                    check=True,
                    capture_output=True,
                    timeout=300,
                )
                return (work / "sample.ppt").read_bytes()

        data = await threads.deferToThread(legacy)
        alice = self.user("alice")
        status, body = await self._import(alice, "ppt", data, "旧版演示")
        self.assertEqual(status, 200, body)
        self.assertEqual((body["title"], body["kind"]), ("旧版演示", "slides"))
        self.assertEqual(body["report"]["kept"]["slide"], 2)
        self.assertEqual(body["report"]["kept"]["table"], 1)
        deck = (await alice.ok("GET", f"{DOCS}/{body['doc_id']}/export"))["content"]
        text = json.dumps(deck, ensure_ascii=False)
        self.assertIn("警情通报", text)
        self.assertIn("讲稿：先说结论", text)
        self.assertIn("格12", text)
        # A file LibreOffice cannot read as a presentation: 400, nothing created.
        before = len((await alice.ok("GET", DOCS + "?filter=mine"))["documents"])
        self.assertErrcode(
            await self._import(alice, "ppt", b"\xd0\xcf\x11\xe0 not really", "坏"),
            400,
            "M_INVALID_PARAM",
        )
        after = len((await alice.ok("GET", DOCS + "?filter=mine"))["documents"])
        self.assertEqual(after, before)

    test_legacy_ppt_through_libreoffice_impress.timeout = 600  # type: ignore


class SlideBrowserTests:
    """The page is the same on either engine: run on SQLite only."""

    server: TestServer

    async def test_two_officers_edit_and_present_a_deck_in_the_browser(self) -> None:
        alice, doc_id = await edit_imported_in_pages(
            self,
            "pptx",
            sample_pptx(),
            PPTX_TYPE,
            "警情通报会",
            "slides",
            _edit_in_two_pages,
        )
        deck = (await alice.ok("GET", f"{DOCS}/{doc_id}/export"))["content"]["slides"]
        self.assertEqual(len(deck), 3)  # Bob added one
        typed = [
            e
            for e in deck[0]["elements"]
            if e["type"] == "text" and "警情速报" in json.dumps(e, ensure_ascii=False)
        ]
        self.assertEqual(len(typed), 1)
        runs = [r for p in typed[0]["paragraphs"] for r in p["runs"]]
        self.assertEqual(
            [(r["text"], r.get("bold")) for r in runs], [("警情速报", True)]
        )
        uploaded = {e["name"]: e for e in deck[0]["elements"] if e["type"] != "text"}
        self.assertEqual(uploaded["现场.png"]["type"], "image")
        self.assertTrue(uploaded["现场.png"]["src"].startswith("mxc://"))
        self.assertEqual(uploaded["笔录.pdf"]["type"], "file")
        self.assertEqual(uploaded["笔录.pdf"]["size"], len(ATTACHED))

    async def test_two_officers_type_into_one_text_box_in_the_browser(self) -> None:
        require_browser()
        alice, bob = self.user("alice"), self.user("bob")
        doc = await alice.ok("POST", DOCS, {"title": "同框", "kind": "slides"})
        doc_id = doc["doc_id"]
        grants = [{"kind": "user", "id": bob.user_id, "role": "editor"}]
        await alice.ok("PUT", f"{DOCS}/{doc_id}/sharing", {"grants": grants})
        url = f"{self.server.base_url}/_jwwx/docs/app/#doc={q(doc_id)}&kind=slides"
        errors = await threads.deferToThread(_type_together, url, (alice, bob))
        self.assertEqual(errors, [])
        deck = (await alice.ok("GET", f"{DOCS}/{doc_id}/export"))["content"]["slides"]
        # Three slides, the last added dragged first; the typed box on the second.
        self.assertEqual([len(s["elements"]) for s in deck], [0, 1, 0])
        (box,) = deck[1]["elements"]
        text = "".join(r["text"] for p in box["paragraphs"] for r in p["runs"])
        self.assertEqual(text, "一二三前后四五六")
        bold = [
            r["text"] for p in box["paragraphs"] for r in p["runs"] if r.get("bold")
        ]
        self.assertIn("前后", "".join(bold))


def _type_together(url: str, officers: tuple[MatrixClient, ...]) -> list:
    """Alice adds a text box and types into it; Bob opens the same box; then Alice
    types at its start and Bob at its end, a character each in turn, neither waiting
    for the other's to arrive: both pages end with every character in place, and
    Bob's bold (set meanwhile on the first text) is kept. Then Alice drags a slide to
    another place in the sorter and Bob sees the new order. The pages' JavaScript
    errors are returned."""
    alice, bob = officers
    with browser_page() as a:
        b = another_page(a)
        for page, officer in ((a, alice), (b, bob)):
            sign_in(page, officer, url, ".sorter li[data-index='1']")
        a.click(".insert-text")
        a.wait_for_selector(".text-body[contenteditable=true]")
        a.keyboard.type("前后")
        b.wait_for_selector(".slide-canvas.editing .el-text:has-text('前后')")
        b.locator(".slide-canvas.editing .el-text").dblclick()  # edits it
        b.wait_for_selector(".text-body[contenteditable=true]")
        b.keyboard.press("Control+A")
        b.click(".slide-toolbar .bold")  # Bob makes it bold while Alice edits
        a.wait_for_function(
            """() => [...document.querySelectorAll('.text-body span')]
              .some((s) => s.textContent === '前后' && s.style.fontWeight === 'bold')"""
        )
        b.keyboard.press("End")
        a.keyboard.press("Home")
        for mine, theirs in zip("一二三", "四五六", strict=True):
            a.keyboard.type(mine)
            b.keyboard.type(theirs)
        for page in (a, b):
            page.wait_for_function(
                """() => document.querySelector('.text-body[contenteditable=true]')
                  .textContent === '一二三前后四五六'"""
            )
        screenshot(b, "docs-slides-one-box-two-officers")
        for page in (a, b):
            page.keyboard.press("Escape")
        # Two slides more, then the last dragged in the sorter to the first place:
        # Bob's sorter shows it first.
        a.click(".sorter-tools .slide-add")
        a.wait_for_selector(".sorter li[data-index='2'].active")
        a.click(".sorter-tools .slide-add")
        a.wait_for_selector(".sorter li[data-index='3'].active")
        last = a.get_attribute(".sorter li[data-index='3']", "data-slide")
        first = a.get_attribute(".sorter li[data-index='1']", "data-slide")
        b.wait_for_selector(".sorter li[data-index='3']")
        a.drag_and_drop(".sorter li[data-index='3']", ".sorter li[data-index='1']")
        b.wait_for_selector(f".sorter li[data-index='1'][data-slide='{last}']")
        b.wait_for_selector(f".sorter li[data-index='2'][data-slide='{first}']")
        a.wait_for_selector(f".sorter li[data-index='1'].active[data-slide='{last}']")
        return list(a.errors) + list(b.errors)


def _edit_in_two_pages(url: str, officers: tuple[MatrixClient, ...]) -> list:
    """Alice types into a new text box, Bob sees it (and her selection) and makes it
    bold, Alice sees that; Bob uploads a picture and a file, Alice sees them; Bob adds a slide after the first; Alice presents the deck
    with the arrow keys; the reader sees everything without the tools. The pages' JavaScript errors
    are returned."""
    alice, bob, dave = officers
    with browser_page() as a:
        b, reader = another_page(a), another_page(a)
        for page, officer in ((a, alice), (b, bob), (reader, dave)):
            _sign_in(page, officer, url)
        # The imported picture is fetched from the media API and shown.
        a.wait_for_selector(".slide-canvas.editing .el-image img[src^='blob:']")
        a.click(".insert-text")
        a.wait_for_selector(".text-body[contenteditable=true]")
        a.keyboard.type("警情速报")
        alice_name = alice.user_id[1:].split(":")[0]
        b.wait_for_selector(".slide-canvas.editing .el-text:has-text('警情速报')")
        b.wait_for_selector(f".slide-canvas.editing .el.peer[data-peer='{alice_name}']")
        screenshot(b, "docs-slides-two-editors")
        a.locator(".slide-canvas.editing").click(position={"x": 3, "y": 3})  # done
        b.locator(".slide-canvas.editing .el-text:has-text('警情速报')").click()
        b.click(".slide-toolbar .bold")
        a.wait_for_function(
            """() => [...document.querySelectorAll('.slide-canvas.editing .el-text span')]
              .some((s) => s.textContent === '警情速报' && s.style.fontWeight === 'bold')"""
        )
        # Bob uploads a picture and a file from his page: Alice sees both.
        b.set_input_files(
            ".hidden-input[accept='image/*']",
            files=[{"name": "现场.png", "mimeType": "image/png", "buffer": PICTURE}],
        )
        a.wait_for_function(
            """() => document.querySelectorAll(
              ".slide-canvas.editing .el-image img[src^='blob:']").length === 2"""
        )
        b.set_input_files(
            ".hidden-input:not([accept])",
            files=[
                {"name": "笔录.pdf", "mimeType": "application/pdf", "buffer": ATTACHED}
            ],
        )
        a.wait_for_selector(".slide-canvas.editing .file-card:has-text('笔录.pdf')")
        b.click(".sorter-tools .slide-add")
        a.wait_for_selector(".sorter li[data-index='3']")
        reader.wait_for_selector(".slide-canvas.editing .el-text:has-text('警情速报')")
        # 放映: the first slide full screen, then the next with the arrow key.
        a.click(".sorter li[data-index='1']")
        a.click(".present-start")
        a.wait_for_selector(
            ".present .present-frame[data-index='1']:has-text('警情通报')"
        )
        screenshot(a, "docs-slides-present")
        a.keyboard.press("ArrowRight")  # Bob's new slide, after the first
        a.wait_for_selector(".present .present-frame[data-index='2']")
        a.keyboard.press("ArrowRight")
        a.wait_for_selector(".present .present-frame[data-index='3']:has-text('格12')")
        a.keyboard.press("ArrowLeft")
        a.wait_for_selector(".present .present-frame[data-index='2']")
        a.keyboard.press("Escape")
        a.wait_for_selector(".present", state="detached")
        # The reader sees the deck and can change nothing.
        assert reader.locator(".insert-text").count() == 0
        assert reader.locator(".sorter-tools .slide-add").count() == 0
        assert reader.locator(".notes[readonly]").count() == 1
        reader.locator(".slide-canvas.editing .el-text:has-text('警情通报')").dblclick()
        assert reader.locator("[contenteditable=true]").count() == 0
        assert reader.locator(".status[data-status=connected]").count() == 1
        return list(a.errors) + list(b.errors) + list(reader.errors)


def _sign_in(page: Any, client: MatrixClient, url: str) -> None:
    sign_in(page, client, url, ".sorter li[data-index='2']")


PICTURE = bytes.fromhex(  # a 2×2 PNG (what Pillow writes for a blue square)
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73"
    "0000001649444154789c6364883ac1c0c0c0c4c0c0c0c0c000000cfa0126acfa21"
    "660000000049454e44ae426082"
)
ATTACHED = b"%PDF-1.4 an attached file\n"


def _zip_of(files: dict[str, bytes]) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for name, data in files.items():
            package.writestr(name, data)
    return out.getvalue()


def sample_pptx() -> bytes:
    """A generated widescreen deck: a text box with a bold red 40 pt run, a bulleted
    italic paragraph and a hyperlink; a picture; a group holding a drawn shape with
    text; an embedded file; notes and a solid background; then a table, a shape that
    is a hyperlink, a chart and the same picture again."""
    from pptx import Presentation
    from pptx.chart.data import CategoryChartData
    from pptx.dml.color import RGBColor
    from pptx.enum.chart import XL_CHART_TYPE
    from pptx.enum.shapes import MSO_SHAPE
    from pptx.oxml.ns import qn
    from pptx.util import Emu, Inches, Pt

    deck = Presentation()
    deck.slide_width, deck.slide_height = Emu(12192000), Emu(6858000)
    blank = deck.slide_layouts[6]
    first = deck.slides.add_slide(blank)
    fill = first.background.fill
    fill.solid()
    fill.fore_color.rgb = RGBColor(0xFF, 0xF5, 0xE0)
    box = first.shapes.add_textbox(Inches(1), Inches(1), Inches(6), Inches(2))
    frame = box.text_frame
    run = frame.paragraphs[0].add_run()
    run.text = "警情通报"
    run.font.bold = True
    run.font.size = Pt(40)
    run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    bulleted = frame.add_paragraph()
    italic = bulleted.add_run()
    italic.text = "注意安全"
    italic.font.italic = True
    properties = box.element.findall(".//" + qn("a:p"))[1].get_or_add_pPr()
    properties.append(properties.makeelement(qn("a:buChar"), {"char": "•"}))
    link = frame.add_paragraph().add_run()
    link.text = "详情"
    link.hyperlink.address = "https://example.org/case/1"
    first.shapes.add_picture(
        io.BytesIO(PICTURE), Inches(8), Inches(1), Inches(4), Inches(3)
    )
    group = first.shapes.add_group_shape()
    drawn = group.shapes.add_shape(
        MSO_SHAPE.ROUNDED_RECTANGLE, Inches(1), Inches(4), Inches(3), Inches(1)
    )
    drawn.text_frame.text = "分组内的字"
    first.shapes.add_ole_object(
        io.BytesIO(ATTACHED),
        "AcroExch.Document",
        Inches(8),
        Inches(5),
        Inches(1),
        Inches(1),
    )
    first.notes_slide.notes_text_frame.text = "讲稿：先说结论"
    second = deck.slides.add_slide(blank)
    table = second.shapes.add_table(
        2, 3, Inches(1), Inches(1), Inches(6), Inches(2)
    ).table
    for r in range(2):
        for c in range(3):
            table.cell(r, c).text = f"格{r}{c}"
    linked = second.shapes.add_textbox(Inches(1), Inches(4), Inches(3), Inches(1))
    linked.text_frame.text = "辖区地图"
    linked.click_action.hyperlink.address = "https://example.org/map"
    data = CategoryChartData()
    data.categories = ["一", "二"]
    data.add_series("案件", (3, 5))
    second.shapes.add_chart(
        XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(7), Inches(1), Inches(5), Inches(4), data
    )
    second.shapes.add_picture(  # the same picture again: one part of the package
        io.BytesIO(PICTURE), Inches(1), Inches(5.5), Inches(1), Inches(1)
    )
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


class SlideNoImpressTest(SQLiteCase):
    """LibreOffice without its presentation component: a .ppt import answers 501 with
    the converter's errcode (a .doc would still convert) and creates nothing."""

    @classmethod
    def configure_server(cls, server: TestServer) -> None:
        without_component(server)

    async def test_ppt_without_impress(self) -> None:
        await check_no_converter(
            self,
            "ppt",
            b"\xd0\xcf\x11\xe0 a legacy deck",
            "application/vnd.ms-powerpoint",
            "impress",
        )


class SlideSQLiteTest(SlideTests, SlideBrowserTests, SQLiteCase):
    pass


class SlidePostgresTest(SlideTests, PostgresCase):
    pass
