# SPDX-License-Identifier: AGPL-3.0-or-later
"""Rich content of text documents, run by test_docs.py's classes on their servers
(both engines): a Word file's pictures imported into the media repository, placed
where they stood, and exported back at their size; to-do checklists, contact cards,
embedded documents and files through the Yjs protocol and Word export; and in two
headless Chromium pages."""

import io
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import quote

from twisted.internet import threads

import treq
from pycrdt import XmlElement, XmlFragment, XmlText

from tests.modules.audit.helpers import wait_for
from tests.modules.docs import yjs

DOCS = "/_jwwx/client/v1/docs"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EMU_PER_PX = 9525


def _png(width: int, height: int, colour: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def _image_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.size


def _docx_with_pictures(first: bytes, second: bytes) -> bytes:
    """Text, a picture inside the paragraph, more text; a picture of its own below;
    the first picture again in a table's cell (one upload)."""
    import docx
    from docx.shared import Emu

    document = docx.Document()
    document.add_heading("现场照片", level=1)
    paragraph = document.add_paragraph("照片前")
    paragraph.add_run().add_picture(
        io.BytesIO(first), width=Emu(96 * EMU_PER_PX), height=Emu(48 * EMU_PER_PX)
    )
    paragraph.add_run("照片后")
    document.add_picture(
        io.BytesIO(second), width=Emu(200 * EMU_PER_PX), height=Emu(100 * EMU_PER_PX)
    )
    cell = document.add_table(rows=1, cols=1).cell(0, 0)
    cell.paragraphs[0].add_run().add_picture(
        io.BytesIO(first), width=Emu(30 * EMU_PER_PX), height=Emu(15 * EMU_PER_PX)
    )
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


class RichContentTests:
    """Mixed into test_docs.DocsTests (its helpers and its server)."""

    server: Any

    async def _get_bytes(self, client: Any, path: str) -> tuple[int, bytes]:
        t: Any = self
        answer = await treq.get(
            t.server.base_url + path,
            headers={"Authorization": [f"Bearer {client.token}"]},
            persistent=False,
        )
        return answer.code, await answer.content()

    async def _docx_export_record(self, doc_id: str) -> dict[str, Any]:
        t: Any = self

        async def find() -> dict[str, Any] | None:
            records = await t._audit_actions(doc_id, "export")
            return next((r for r in records if r.get("format") == "docx"), None)

        return dict(await wait_for(find))

    async def _import_docx(self, client: Any, data: bytes, title: str) -> Any:
        t: Any = self
        status, body = await client.request(
            "POST",
            f"{DOCS}/import?format=docx&title={quote(title)}",
            raw=data,
            content_type=DOCX_TYPE,
        )
        t.assertEqual(status, 200, body)
        return body

    async def test_word_pictures_round_trip(self) -> None:
        import docx

        t: Any = self
        alice = t.user("alice")
        red, blue = _png(40, 20, "red"), _png(50, 25, "blue")
        body = await self._import_docx(alice, _docx_with_pictures(red, blue), "照片")
        t.assertEqual(body["report"]["kept"]["image"], 3)
        t.assertNotIn("image", body["report"]["lost"])
        doc_id = body["doc_id"]
        xml = (await alice.ok("GET", f"{DOCS}/{doc_id}/export"))["content"]["default"]
        fragment = _fragment(xml)
        images = [e for e in _elements(fragment) if e.tag == "image"]
        t.assertEqual(
            [(i.attributes["width"], i.attributes["height"]) for i in images],
            [(96, 48), (200, 100), (30, 15)],
        )
        srcs = [str(i.attributes["src"]) for i in images]
        t.assertTrue(all(s.startswith("mxc://") for s in srcs), srcs)
        t.assertEqual(srcs[0], srcs[2])  # the same picture: uploaded once
        # Placed where it stood: between the paragraph's two runs of text.
        first = [e for e in _elements(fragment) if e.tag == "paragraph"][0]
        t.assertEqual(
            [c if isinstance(c, str) else c.tag for c in first.children],
            ["照片前", "image", "照片后"],
        )
        # In the media repository, as the importing officer's upload.
        server_name, media_id = srcs[1][len("mxc://") :].split("/")
        code, data = await self._get_bytes(
            alice, f"/_matrix/client/v1/media/download/{server_name}/{media_id}"
        )
        t.assertEqual(code, 200)
        t.assertEqual(_image_size(data), (50, 25))  # (the download is watermarked)

        # Exported back: each picture in its paragraph, at its size, its bytes.
        code, exported = await self._get_bytes(
            alice, f"{DOCS}/{doc_id}/export?format=docx"
        )
        t.assertEqual(code, 200, exported[:200])
        document = docx.Document(io.BytesIO(exported))
        shapes = document.inline_shapes
        t.assertEqual(
            [(s.width // EMU_PER_PX, s.height // EMU_PER_PX) for s in shapes],
            [(96, 48), (200, 100), (30, 15)],
        )
        blobs = [
            document.part.related_parts[
                s._inline.graphic.graphicData.pic.blipFill.blip.embed
            ].blob
            for s in shapes
        ]
        t.assertEqual(blobs, [red, blue, red])
        t.assertEqual(
            [p.text for p in document.paragraphs if "照片" in p.text],
            ["现场照片", "照片前照片后"],
        )
        record = await self._docx_export_record(doc_id)
        t.assertEqual(record["report"]["kept"], {"image": 3})

        # And imported again: the same three pictures.
        again = await self._import_docx(alice, exported, "照片二")
        t.assertEqual(again["report"]["kept"]["image"], 3)

    test_word_pictures_round_trip.timeout = 240  # type: ignore

    async def test_checklists_and_cards_over_the_protocol(self) -> None:
        """Two pycrdt editors: one ticks a to-do while the other adds cards; both
        converge; a reader's tick is refused (4403); the Word export carries them
        as text and its report says so."""
        import docx

        t: Any = self
        alice, bob, dave = t.user("alice"), t.user("bob"), t.user("dave")
        doc = await alice.ok("POST", DOCS, {"title": "巡查清单", "kind": "rich"})
        doc_id, url = doc["doc_id"], doc["websocket_url"]
        target = await alice.ok("POST", DOCS, {"title": "引用的预案", "kind": "rich"})
        # Bob's own document, which alice (who exports) may not read.
        secret = await bob.ok("POST", DOCS, {"title": "内部名单", "kind": "rich"})
        grants = [
            {"kind": "user", "id": bob.user_id, "role": "editor"},
            {"kind": "user", "id": dave.user_id, "role": "reader"},
        ]
        await alice.ok("PUT", f"{DOCS}/{doc_id}/sharing", {"grants": grants})

        def tags(editor: Any) -> str:
            return str(editor.doc.get("default", type=XmlFragment))

        async def scenario() -> tuple[str, str, int | None]:
            async with AsyncExitStack() as stack:
                a = await yjs.open_editor(stack, url, alice.token)
                b = await yjs.open_editor(stack, url, bob.token)
                root = a.doc.get("default", type=XmlFragment)
                todo = root.children.append(XmlElement("taskList"))
                for text in ("核对门岗登记", "检查消防通道"):
                    item = todo.children.append(
                        XmlElement("taskItem", {"checked": False})
                    )
                    item.children.append(XmlElement("paragraph")).children.append(
                        XmlText(text)
                    )
                await yjs.until(lambda: "检查消防通道" in tags(b), "bob has the list")
                # At once: alice ticks the first item, bob adds three cards.
                first = next(iter(todo.children))
                first.attributes["checked"] = True
                broot = b.doc.get("default", type=XmlFragment)
                broot.children.append(
                    XmlElement(
                        "contactCard",
                        {"userId": "@zhangwei:x", "name": "张伟", "unit": "巡警大队"},
                    )
                )
                broot.children.append(
                    XmlElement(
                        "docEmbed", {"docId": target["doc_id"], "title": "引用的预案"}
                    )
                )
                broot.children.append(
                    XmlElement(
                        "docEmbed", {"docId": secret["doc_id"], "title": "内部名单"}
                    )
                )
                broot.children.append(
                    XmlElement(
                        "fileEmbed",
                        {"src": "mxc://x/abc", "name": "现场记录.pdf", "size": 2048},
                    )
                )
                # A picture whose media is not there: its name in the export, lost.
                broot.children.append(XmlElement("paragraph")).children.append(
                    XmlElement("image", {"src": "mxc://x/gone", "name": "丢失.png"})
                )
                for editor in (a, b):
                    await yjs.until(
                        lambda e=editor: (
                            'checked="true"' in tags(e) and "fileEmbed" in tags(e)
                        ),
                        "both have the tick and the cards",
                    )
                # The reader's page may not tick.
                d = await yjs.open_editor(stack, url, dave.token)
                await yjs.until(lambda: "fileEmbed" in tags(d), "the reader sees all")
                droot = d.doc.get("default", type=XmlFragment)
                dlist = next(iter(droot.children))
                list(dlist.children)[1].attributes["checked"] = True
                await yjs.until(
                    lambda: d.channel.close_code is not None, "reader closed"
                )
                seen = await yjs.open_editor(stack, url, bob.token)
                return tags(a), tags(seen), d.channel.close_code

        mine, theirs, code = await threads.deferToThread(yjs.run, scenario)
        t.assertEqual(_canonical(mine), _canonical(theirs))
        t.assertEqual(code, 4403)
        t.assertEqual(theirs.count('checked="true"'), 1)  # the reader's tick: refused
        code, data = await self._get_bytes(alice, f"{DOCS}/{doc_id}/export?format=docx")
        t.assertEqual(code, 200, data[:200])
        lines = [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]
        t.assertIn("☑ 核对门岗登记", lines)
        t.assertIn("☐ 检查消防通道", lines)
        t.assertIn("联系人：张伟（巡警大队） @zhangwei:x", lines)
        t.assertIn(
            f"文档：引用的预案（{t.server.base_url}/_jwwx/docs/app/#doc={target['doc_id']}）",
            lines,
        )
        # Named only as the exporting officer may see it: never by a stored title.
        t.assertIn(
            f"文档：无权访问的文档（{t.server.base_url}/_jwwx/docs/app/#doc={secret['doc_id']}）",
            lines,
        )
        t.assertFalse(any("内部名单" in line for line in lines), lines)
        t.assertIn("附件：现场记录.pdf（2.0 KB）", lines)
        record = await self._docx_export_record(doc_id)
        t.assertEqual(
            record["report"]["as_text"],
            {"taskItem": 2, "contactCard": 1, "docEmbed": 2, "fileEmbed": 1},
        )
        t.assertEqual(record["report"]["lost"], {"image": 1})
        t.assertIn("［图片：丢失.png］", lines)

    async def test_checklist_and_cards_in_two_pages(self) -> None:
        """Two officers in two Chromium pages: a to-do ticked by one is ticked for
        the other; a contact card from the directory search, an embedded document
        (its title read with each viewer's rights), a file and a picture inserted by
        one are seen by the other and by a reader; the Word export has them."""
        import docx

        from tests.harness.browser import require_browser

        require_browser()
        t: Any = self
        admin = t.user("diradmin", admin=True)
        unit = await t._department(admin, None)
        alice = await t._officer(admin, [unit])
        contact = await t._officer(admin, [unit])
        profile = await alice.ok(
            "GET",
            "/_jwwx/client/v1/directory/members/"
            + quote(contact.user_id[1:].split(":")[0]),
        )
        bob, dave = t.user("bob"), t.user("dave")
        doc = await alice.ok("POST", DOCS, {"title": "巡查记录", "kind": "rich"})
        doc_id = doc["doc_id"]
        open_to_bob = await alice.ok(
            "POST", DOCS, {"title": "值班预案", "kind": "rich"}
        )
        await alice.ok("POST", DOCS, {"title": "内部名单", "kind": "rich"})
        await alice.ok(
            "PUT",
            f"{DOCS}/{open_to_bob['doc_id']}/sharing",
            {"grants": [{"kind": "user", "id": bob.user_id, "role": "reader"}]},
        )
        grants = [
            {"kind": "user", "id": bob.user_id, "role": "editor"},
            {"kind": "user", "id": dave.user_id, "role": "reader"},
        ]
        await alice.ok("PUT", f"{DOCS}/{doc_id}/sharing", {"grants": grants})
        page_url = f"{t.server.base_url}/_jwwx/docs/app/#doc={quote(doc_id)}"
        errors = await threads.deferToThread(
            _cards_in_two_pages, page_url, (alice, bob, dave), profile["name"]
        )
        t.assertEqual(errors, [])
        direct = await bob.ok(
            "GET", f"/_matrix/client/v3/user/{quote(bob.user_id)}/account_data/m.direct"
        )
        t.assertIn(contact.user_id, direct)  # the chat 发消息 opened
        code, data = await self._get_bytes(alice, f"{DOCS}/{doc_id}/export?format=docx")
        t.assertEqual(code, 200, data[:200])
        document = docx.Document(io.BytesIO(data))
        lines = [p.text for p in document.paragraphs]
        t.assertIn("☑ 核对门岗登记", lines)
        t.assertIn("☐ 检查消防通道", lines)
        t.assertTrue(
            any(x.startswith(f"联系人：{profile['name']}") for x in lines), lines
        )
        t.assertTrue(any(x.startswith("文档：值班预案（") for x in lines), lines)
        t.assertTrue(any(x.startswith("文档：内部名单（") for x in lines), lines)
        t.assertIn("附件：现场记录.txt（12 B）", lines)
        t.assertEqual(
            [
                (s.width // EMU_PER_PX, s.height // EMU_PER_PX)
                for s in document.inline_shapes
            ],
            [(60, 30)],
        )
        # The reader's page sent nothing the server had to refuse.
        t.assertEqual(await t._audit_actions(doc_id, "edit_refused"), [])

    test_checklist_and_cards_in_two_pages.timeout = 360  # type: ignore


def _canonical(xml: str) -> str:
    """The export's XML with each element's attributes in order (a Y.XmlElement's
    attributes are a map: no order)."""
    import xml.etree.ElementTree as ET

    return ET.canonicalize(f"<root>{xml}</root>")


def _fragment(xml: str) -> Any:
    """The export's XML string as a tree of (tag, attributes, children) to walk."""
    import xml.etree.ElementTree as ET

    return ET.fromstring(f"<root>{xml}</root>")


def _elements(root: Any) -> list[Any]:
    return [_Node(e) for e in root.iter() if e is not root]


class _Node:
    """An element of the exported XML with the names the tests use."""

    def __init__(self, element: Any) -> None:
        self.tag = element.tag
        self.attributes = {k: _number(v) for k, v in element.attrib.items()}
        self.children: list[Any] = []
        if element.text:
            self.children.append(element.text)
        for child in element:
            self.children.append(_Node(child))
            if child.tail:
                self.children.append(child.tail)


def _number(value: str) -> Any:
    return int(value) if value.isdigit() else value


def _cards_in_two_pages(
    url: str, officers: tuple[Any, ...], contact_name: str
) -> list[str]:
    """What test_checklist_and_cards_in_two_pages does in the pages; their
    JavaScript errors."""
    from tests.harness.browser import another_page, browser_page, screenshot
    from tests.modules.docs.test_docs import _sign_in

    alice, bob, dave = officers
    with browser_page() as a:
        b, reader = another_page(a), another_page(a)
        _sign_in(a, alice, url)
        _sign_in(b, bob, url)
        _sign_in(reader, dave, url)
        assert reader.locator(".rich-toolbar").count() == 0
        # A checklist: alice writes it, bob ticks the first item, alice sees it.
        a.click(".ProseMirror")
        a.click(".rich-toolbar button[name=todo]")
        a.keyboard.type("核对门岗登记")
        a.keyboard.press("Enter")
        a.keyboard.type("检查消防通道")
        item = "ul[data-type=taskList] > li:has-text('核对门岗登记')"
        b.wait_for_selector(item)
        b.click(f"{item} input[type=checkbox]")
        a.wait_for_selector(
            "ul[data-type=taskList] > li[data-checked=true]:has-text('核对门岗登记')"
        )
        reader.wait_for_selector(
            "ul[data-type=taskList] > li[data-checked=true]:has-text('核对门岗登记')"
        )
        a.keyboard.press("Enter")
        a.keyboard.press("Enter")  # out of the list
        # A contact card from the directory search.
        a.click(".rich-toolbar button[name=contact]")
        a.fill(".pick-panel input[name=pick-search]", contact_name)
        a.click(f".pick-item:has-text('{contact_name}')")
        card = f".doc-card.contactCard:has-text('{contact_name}')"
        b.wait_for_selector(card)
        assert "#dm=" in (b.get_attribute(f"{card} a.card-action", "href") or "")
        # Two embedded documents: bob may open one of them.
        for title in ("值班预案", "内部名单"):
            a.click(".rich-toolbar button[name=doc-embed]")
            a.fill(".pick-panel input[name=pick-search]", title)
            a.click(f".pick-item:has-text('{title}')")
        b.wait_for_selector(".doc-card.docEmbed[data-access=yes]:has-text('值班预案')")
        b.wait_for_selector(".doc-card.docEmbed[data-access=no]:has-text('无权访问')")
        assert b.locator(".doc-card.docEmbed:has-text('内部名单')").count() == 0
        a.wait_for_selector(".doc-card.docEmbed[data-access=yes]:has-text('内部名单')")
        # A file and a picture, uploaded to the media repository.
        a.set_input_files(
            ".rich-toolbar input[name=attach-file]",
            files=[
                {
                    "name": "现场记录.txt",
                    "mimeType": "text/plain",
                    "buffer": b"hello, world",
                }
            ],
        )
        b.wait_for_selector(".doc-card.fileEmbed:has-text('现场记录.txt')")
        a.set_input_files(
            ".rich-toolbar input[name=image-file]",
            files=[
                {
                    "name": "现场.png",
                    "mimeType": "image/png",
                    "buffer": _png(60, 30, "green"),
                }
            ],
        )
        b.wait_for_selector("img.doc-image[data-loaded=true][width='60']")
        reader.wait_for_selector(f".ProseMirror[contenteditable=false] {card}")
        reader.wait_for_selector(".doc-card.fileEmbed:has-text('现场记录.txt')")
        # Each insertion went after the last, none over it.
        assert b.locator(".doc-card").count() == 4, b.inner_html(".ProseMirror")
        screenshot(b, "docs-rich-content")
        # The contact card's 发消息 opens the chat with him in the web client.
        errors = list(a.errors) + list(b.errors) + list(reader.errors)
        href = b.get_attribute(f"{card} a.card-action", "href") or ""
        b.goto(url.split("/_jwwx/")[0] + href)
        b.wait_for_selector(".conversation")
        return errors + list(b.errors)
