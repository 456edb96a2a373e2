# SPDX-License-Identifier: AGPL-3.0-or-later
"""Collaborative documents through the running server, on both engines: pycrdt
clients over the Yjs WebSocket protocol edit one document at once and converge; a
reader's edit is refused by the server; the content survives a restart; history and
restore; the SM3 chain's verifier (admin endpoint and CLI) finds an altered and a
missing revision; every open, share, edit session and export is in the audit archive."""

import asyncio
import base64
import io
import json
import secrets
import urllib.request
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import quote

from twisted.internet import threads

from homeserver.audit_verify import connect_database
from homeserver.config_file import load_server_config
from homeserver.http import request_json
from modules.common.dbapi import run_in_transaction
from tests.harness.browser import (
    another_page,
    browser_page,
    require_browser,
    screenshot,
)
from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import TestServer, launcher
from tests.modules.audit.helpers import wait_for
from tests.modules.docs import yjs
from tests.modules.docs.docflow import DocflowTests
from tests.modules.docs.richchart import RichChartTests
from tests.modules.docs.richcontent import RichContentTests

DOCS = "/_jwwx/client/v1/docs"
ADMIN = "/_jwwx/admin/v1/docs"
DIRECTORY = "/_jwwx/admin/v1/directory"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def q(value: str) -> str:
    return quote(value, safe="")


class DocsTests(DocflowTests, RichContentTests, RichChartTests):
    server: TestServer
    _auditor: MatrixClient | None = None

    @classmethod
    def configure_server(cls, server: TestServer) -> None:
        yjs.configure_docs(server, snapshot_every=10)

    # Helpers

    async def _document(self, owner: MatrixClient, **sharing: Any) -> dict[str, Any]:
        doc = await owner.ok("POST", DOCS, {"title": "案情通报", "kind": "text"})
        if sharing:
            await owner.ok("PUT", f"{DOCS}/{doc['doc_id']}/sharing", sharing)
        return dict(doc)

    async def _auditor_client(self) -> MatrixClient:
        cls = type(self)
        if cls._auditor is None or cls._auditor.base_url != self.server.base_url:
            auditor = self.user("auditor")
            admin = self.user("superadmin", admin=True)
            await admin.ok(
                "PUT",
                f"/_jwwx/admin/v1/admins/roles/{q(auditor.user_id)}",
                {"roles": ["audit"]},
            )
            cls._auditor = auditor
        return cls._auditor

    async def _audited(self, doc_id: str, action: str, user_id: str) -> dict[str, Any]:
        async def find() -> dict[str, Any] | None:
            records = await self._audit_actions(doc_id, action)
            return next((dict(r) for r in records if r["user_id"] == user_id), None)

        return dict(await wait_for(find))

    async def _audit_actions(self, doc_id: str, action: str) -> list[dict[str, Any]]:
        """Every archived record of this action on the document (what is there now)."""
        auditor = await self._auditor_client()
        found, after = [], 0
        while True:
            page = await auditor.ok(
                "GET",
                f"/_jwwx/admin/v1/audit/export/document?after_seq={after}&limit=500",
            )
            found += [
                r["record"]
                for r in page["records"]
                if (r["record"]["doc_id"], r["record"]["action"]) == (doc_id, action)
            ]
            if not page["more"]:
                return found
            after = page["next_cursor"]

    def _db(self, fn: Any, *args: Any) -> Any:
        config = load_server_config(self.server.data_dir)
        connection, engine = connect_database(config.raw["database"])
        try:
            return run_in_transaction(connection, engine, fn, *args)
        finally:
            connection.close()

    # Editing together

    async def test_two_editors_converge(self) -> None:
        alice, bob = self.user("alice"), self.user("bob")
        doc = await self._document(
            alice, grants=[{"kind": "user", "id": bob.user_id, "role": "editor"}]
        )
        url = doc["websocket_url"]

        async def scenario() -> tuple[str, str]:
            async with AsyncExitStack() as stack:
                a = await yjs.open_editor(stack, url, alice.token)
                b = await yjs.open_editor(stack, url, bob.token)
                for i in range(15):  # both type at once, interleaved
                    a.text.insert(0, f"a{i};")
                    b.text += f"b{i};"
                    await asyncio.sleep(0)
                words = [f"a{i};" for i in range(15)] + [f"b{i};" for i in range(15)]
                await yjs.until(
                    lambda: str(a) == str(b) and all(w in str(a) for w in words),
                    "both editors hold every edit",
                )
                return str(a), str(b)

        text_a, text_b = await threads.deferToThread(yjs.run, scenario)
        self.assertEqual(text_a, text_b)
        self.assertEqual(len(text_a), sum(len(f"a{i};") * 2 for i in range(15)))

        async def stored() -> dict[str, Any] | None:
            got = await bob.ok("GET", f"{DOCS}/{doc['doc_id']}/export")
            return got if got["content"]["content"] == text_a else None

        await wait_for(stored)
        await self._audited(doc["doc_id"], "open", bob.user_id)
        session = await self._audited(doc["doc_id"], "edit_session", alice.user_id)
        self.assertGreater(session["updates"], 0)
        await self._audited(doc["doc_id"], "share", alice.user_id)
        await self._audited(doc["doc_id"], "export", bob.user_id)

    async def test_sharing_change_closes_open_connections(self) -> None:
        alice, bob = self.user("alice"), self.user("bob")
        doc = await self._document(
            alice, grants=[{"kind": "user", "id": bob.user_id, "role": "editor"}]
        )
        url, sharing = doc["websocket_url"], f"{DOCS}/{doc['doc_id']}/sharing"

        async def scenario() -> tuple[int | None, int]:
            async with AsyncExitStack() as stack:
                b = await yjs.open_editor(stack, url, bob.token)
                await asyncio.to_thread(
                    request_json,
                    "PUT",
                    self.server.base_url + sharing,
                    {"grants": []},
                    token=alice.token,
                    timeout=60,
                )
                await yjs.until(lambda: b.channel.close_code is not None, "bob closed")
                return b.channel.close_code, await yjs.refused_status(url, bob.token)

        code, status = await threads.deferToThread(yjs.run, scenario)
        self.assertEqual((code, status), (4401, 404))

    async def test_offline_edits_merge_on_reconnect(self) -> None:
        alice, bob, carol = self.user("alice"), self.user("bob"), self.user("carol")
        doc = await self._document(
            alice,
            grants=[
                {"kind": "user", "id": bob.user_id, "role": "editor"},
                {"kind": "user", "id": carol.user_id, "role": "editor"},
            ],
        )
        url = doc["websocket_url"]

        async def scenario() -> list[str]:
            async with AsyncExitStack() as stack:
                a = await yjs.open_editor(stack, url, alice.token)
                b = await yjs.open_editor(stack, url, bob.token)
                a.text += "共同起草。"
                await yjs.until(lambda: str(b) == "共同起草。", "bob has the start")
                async with AsyncExitStack() as offline:  # carol reads it, then leaves
                    c = await yjs.open_editor(offline, url, carol.token)
                    await yjs.until(lambda: str(c) == "共同起草。", "carol has it")
                await stack.aclose()  # alice and bob are offline now
                a.text.insert(0, "【甲】")  # both edit while offline
                b.text += "【乙】"
            async with AsyncExitStack() as stack:
                c = await yjs.open_editor(stack, url, carol.token)
                back_a = await yjs.open_editor(stack, url, alice.token, a.doc)
                back_b = await yjs.open_editor(stack, url, bob.token, b.doc)
                editors = [c, back_a, back_b]
                await yjs.until(
                    lambda: (
                        len({str(e) for e in editors}) == 1
                        and "【甲】" in str(c)
                        and "【乙】" in str(c)
                    ),
                    "the three copies converge with both offline edits",
                )
                return [str(e) for e in editors]

        texts = await threads.deferToThread(yjs.run, scenario)
        self.assertEqual(texts, ["【甲】共同起草。【乙】"] * 3)

    async def test_reader_edit_refused_by_server(self) -> None:
        alice, carol, dave = self.user("alice"), self.user("carol"), self.user("dave")
        doc = await self._document(
            alice, grants=[{"kind": "user", "id": carol.user_id, "role": "reader"}]
        )
        url = doc["websocket_url"]

        async def scenario() -> tuple[str, str, int | None, list[int]]:
            async with AsyncExitStack() as stack:
                a = await yjs.open_editor(stack, url, alice.token)
                a.text += "原文"
                c = await yjs.open_editor(stack, url, carol.token)
                await yjs.until(lambda: str(c) == "原文", "the reader sees the text")
                c.text += "篡改"
                await yjs.until(
                    lambda: c.channel.close_code is not None, "the reader is closed"
                )
                a.text += "。"
                await yjs.until(lambda: str(a) == "原文。", "the editor goes on")
                refusals = [
                    await yjs.refused_status(url, dave.token),  # no role: 404
                    await yjs.refused_status(url, "not-a-token"),  # 401
                ]
                return str(a), str(c), c.channel.close_code, refusals

        text_a, text_c, code, refusals = await threads.deferToThread(yjs.run, scenario)
        self.assertEqual(code, 4403)
        self.assertEqual(text_a, "原文。")
        self.assertEqual(refusals, [404, 401])

        async def stored() -> dict[str, Any] | None:
            got = await alice.ok("GET", f"{DOCS}/{doc['doc_id']}/export")
            return got if got["content"]["content"] == "原文。" else None

        await wait_for(stored)
        await self._audited(doc["doc_id"], "edit_refused", carol.user_id)

    # Storage: restart, history, restore, verifier

    async def test_restart_history_restore_and_tamper(self) -> None:
        alice = self.user("alice")
        doc = await self._document(alice)
        doc_id, url = doc["doc_id"], doc["websocket_url"]

        async def type_lines() -> str:
            async with AsyncExitStack() as stack:
                a = await yjs.open_editor(stack, url, alice.token)
                for i in range(25):
                    a.text += f"第{i}行\n"
                    await asyncio.sleep(0.01)
                return str(a)

        typed = await threads.deferToThread(yjs.run, type_lines)

        async def stored() -> dict[str, Any] | None:
            got = await alice.ok("GET", f"{DOCS}/{doc_id}/export")
            return got if got["content"]["content"] == typed else None

        await wait_for(stored)
        self.server.restart()

        async def reopen() -> str:
            async with AsyncExitStack() as stack:
                return str(await yjs.open_editor(stack, url, alice.token))

        self.assertEqual(await threads.deferToThread(yjs.run, reopen), typed)
        history = await alice.ok("GET", f"{DOCS}/{doc_id}/history")
        self.assertTrue(any(v["kind"] == "snapshot" for v in history["versions"]))
        first = await alice.ok("GET", f"{DOCS}/{doc_id}/export?revision=1")
        self.assertEqual(first["content"]["content"], "第0行\n")

        await alice.ok("POST", f"{DOCS}/{doc_id}/restore", {"revision": 1})
        self.assertEqual(await threads.deferToThread(yjs.run, reopen), "第0行\n")
        await self._audited(doc_id, "restore", alice.user_id)

        auditor = await self._auditor_client()
        report = await auditor.ok("GET", f"{ADMIN}/{q(doc_id)}/verify")
        self.assertTrue(report["ok"], report)
        head = report["head_seq"]

        # An altered body (re-sealed by someone without the chain) and a removed row.
        def tamper(txn: Any) -> None:
            txn.execute(
                "UPDATE jwwx_docs_revisions SET body = ? WHERE doc_id = ? AND seq = 2",
                (base64.b64encode(b"\x00" * 48).decode(), doc_id),
            )
            txn.execute(
                "DELETE FROM jwwx_docs_revisions WHERE doc_id = ? AND seq = 4",
                (doc_id,),
            )

        self._db(tamper)
        report = await auditor.ok("GET", f"{ADMIN}/{q(doc_id)}/verify")
        self.assertFalse(report["ok"])
        problems = {(p["seq"], p["problem"]) for p in report["problems"]}
        self.assertIn((2, "altered"), problems)
        self.assertIn((4, "missing"), problems)
        self.assertEqual(report["head_seq"], head)
        cli = launcher(
            "docs-verify",
            "--data-dir",
            str(self.server.data_dir),
            "--",  # an id may start with "-"
            doc_id,
            check=False,
        )
        self.assertEqual(cli.returncode, 1, cli.stderr)
        self.assertIn('"missing"', cli.stdout)

    # Roles from the directory

    async def _officer(
        self, admin: MatrixClient, departments: list[int]
    ) -> MatrixClient:
        """A Matrix user that is also a directory member (userid = its localpart)."""
        client = self.user("officer")
        body = {
            "userid": client.user_id[1:].split(":")[0],
            "name": "警员" + secrets.token_hex(3),
            "department": departments,
        }
        await admin.ok("POST", f"{DIRECTORY}/members", body)
        return client

    async def _department(self, admin: MatrixClient, parent: int | None) -> int:
        body = {"name": "部门" + secrets.token_hex(3), "parent_id": parent}
        return int((await admin.ok("POST", f"{DIRECTORY}/departments", body))["id"])

    async def test_department_and_tag_grants(self) -> None:
        admin = self.user("diradmin", admin=True)
        root = await self._department(admin, None)
        team = await self._department(admin, root)
        outside = await self._department(admin, None)
        alice = await self._officer(admin, [outside])
        frank = await self._officer(admin, [team])  # in the shared subtree
        grace = await self._officer(admin, [outside])
        henry = await self._officer(admin, [outside])
        tag = await admin.ok(
            "POST",
            f"{DIRECTORY}/tags",
            {
                "name": "标签" + secrets.token_hex(3),
                "userids": [henry.user_id[1:].split(":")[0]],
            },
        )
        doc = await self._document(
            alice,
            grants=[
                {"kind": "department", "id": root, "role": "editor"},
                {"kind": "tag", "id": tag["id"], "role": "reader"},
            ],
        )
        doc_id = doc["doc_id"]
        self.assertEqual((await frank.ok("GET", f"{DOCS}/{doc_id}"))["role"], "editor")
        self.assertEqual((await henry.ok("GET", f"{DOCS}/{doc_id}"))["role"], "reader")
        self.assertErrcode(
            await grace.request("GET", f"{DOCS}/{doc_id}"), 404, "M_NOT_FOUND"
        )
        for client, role in ((frank, "editor"), (henry, "reader")):
            shared = await client.ok("GET", DOCS + "?filter=shared")
            self.assertIn(
                (doc_id, role), [(d["doc_id"], d["role"]) for d in shared["documents"]]
            )

        async def scenario() -> tuple[str, int | None]:
            async with AsyncExitStack() as stack:
                f = await yjs.open_editor(stack, doc["websocket_url"], frank.token)
                f.text += "部门可编辑"
                h = await yjs.open_editor(stack, doc["websocket_url"], henry.token)
                await yjs.until(
                    lambda: str(h) == "部门可编辑", "the tag's reader sees it"
                )
                h.text += "!"
                await yjs.until(
                    lambda: h.channel.close_code is not None, "reader closed"
                )
                return str(f), h.channel.close_code

        text, code = await threads.deferToThread(yjs.run, scenario)
        self.assertEqual((text, code), ("部门可编辑", 4403))

    # Import

    async def test_docx_import_keeps_structure_and_reports_losses(self) -> None:
        alice = self.user("alice")
        status, body = await alice.request(
            "POST",
            DOCS + "/import?format=docx&title=" + q("导入测试"),
            raw=_sample_docx(),
            content_type=DOCX_TYPE,
        )
        self.assertEqual(status, 200, body)
        self.assertEqual((body["kind"], body["title"]), ("rich", "导入测试"))
        report = body["report"]
        self.assertEqual(report["kept"]["heading"], 2)
        self.assertEqual(report["kept"]["bulletList"], 1)
        self.assertEqual(report["kept"]["orderedList"], 1)
        self.assertEqual(report["kept"]["table"], 1)
        self.assertEqual(report["kept"]["image"], 1)  # uploaded: richcontent.py
        self.assertNotIn("image", report["lost"])
        self.assertEqual(report["lost"]["merged_cell"], 1)
        self.assertEqual(report["lost"]["header_footer"], 1)
        got = await alice.ok("GET", f"{DOCS}/{body['doc_id']}/export")
        xml = got["content"]["default"]
        for piece in (
            '<heading level="1">案情通报</heading>',
            "<paragraph>正文<bold>加粗</bold><italic>斜体</italic></paragraph>",
            "<bulletList><listItem><paragraph>要点一</paragraph></listItem>"
            "<listItem><paragraph>要点二</paragraph></listItem></bulletList>",
            "<orderedList><listItem><paragraph>步骤一</paragraph></listItem>",
            "<tableCell><paragraph>姓名</paragraph></tableCell>",
        ):
            self.assertIn(piece, xml)
        await self._audited(body["doc_id"], "import", alice.user_id)
        for raw in (b"not a docx", b"PK\x03\x04broken"):
            self.assertErrcode(
                await alice.request(
                    "POST", DOCS + "/import", raw=raw, content_type=DOCX_TYPE
                ),
                400,
                "M_INVALID_PARAM",
            )
        self.assertErrcode(
            await alice.request("POST", DOCS + "/import?format=pdf", raw=b"x"),
            400,
            "M_INVALID_PARAM",
        )

    # The HTTP API

    # Comments on a range

    async def test_comments_on_a_range_follow_the_text(self) -> None:
        alice, carol, dave = self.user("alice"), self.user("carol"), self.user("dave")
        doc = await self._document(
            alice,
            grants=[
                {"kind": "user", "id": carol.user_id, "role": "commenter"},
                {"kind": "user", "id": dave.user_id, "role": "reader"},
            ],
        )
        doc_id, url = doc["doc_id"], doc["websocket_url"]
        comments = f"{DOCS}/{doc_id}/comments"

        async def write(text: str) -> tuple[str, str]:
            async with AsyncExitStack() as stack:
                a = await yjs.open_editor(stack, url, alice.token)
                a.text += text
                # the server has it once another connection receives it
                seen = await yjs.open_editor(stack, url, alice.token)
                await yjs.until(lambda: str(seen) == text, "the server has the text")
                return yjs.anchor(a, 6), yjs.anchor(a, 11)

        # ASCII: pycrdt's StickyIndex.get_index counts UTF-8 bytes for what comes
        # before the item (browsers' Yjs counts UTF-16), the test helper reads it back.
        start, end = await threads.deferToThread(
            yjs.run, lambda: write("plate AB123 white sedan")
        )
        body = {"body": "车辆颜色待核实", "start": start, "end": end, "quote": "AB123"}
        # A reader may not comment; bad anchors and bodies are refused, nothing stored.
        self.assertErrcode(
            await dave.request("POST", comments, body), 403, "M_FORBIDDEN"
        )
        bad = [
            {**body, "start": "!!"},
            {**body, "end": base64.b64encode(b"\x07\x01").decode()},
            # an item of a client this document never saw
            {**body, "start": base64.b64encode(b"\x00\x9f\x8d\x06\x00\x00").decode()},
            {**body, "body": "  "},
            {**body, "body": 5},
            {**body, "colour": "red"},
        ]
        for wrong in bad:
            self.assertErrcode(
                await carol.request("POST", comments, wrong), 400, "M_INVALID_PARAM"
            )
        self.assertEqual((await dave.ok("GET", comments))["comments"], [])

        made = await carol.ok("POST", comments, body)
        self.assertEqual(
            (made["author"], made["body"], made["resolved"]),
            (carol.user_id, "车辆颜色待核实", False),
        )

        async def follow() -> tuple[dict[str, Any], str]:
            async with AsyncExitStack() as stack:
                a = await yjs.open_editor(stack, url, alice.token)
                seen = yjs.comments(a)
                a.text.insert(0, "0930 ")  # the range moves with its characters
                return seen, yjs.covered(a, made["start"], made["end"])

        seen, covered = await threads.deferToThread(yjs.run, follow)
        self.assertEqual(seen[made["id"]]["body"], "车辆颜色待核实")
        self.assertEqual(covered, "AB123")

        one = f"{comments}/{q(made['id'])}"
        self.assertErrcode(
            await dave.request("PUT", one, {"resolved": True}), 403, "M_FORBIDDEN"
        )
        self.assertErrcode(
            await carol.request("PUT", one, {"resolved": 1}), 400, "M_INVALID_PARAM"
        )
        resolved = await carol.ok("PUT", one, {"resolved": True})
        self.assertTrue(resolved["resolved"])
        listed = (await dave.ok("GET", comments))["comments"]
        self.assertEqual(
            [(c["id"], c["resolved"]) for c in listed], [(made["id"], True)]
        )
        await self._audited(doc_id, "comment", carol.user_id)
        await alice.ok("DELETE", one)  # the owner removes it
        self.assertErrcode(
            await carol.request("PUT", one, {"resolved": False}),
            404,
            "CN_JWWX_DOC_COMMENT_NOT_FOUND",
        )
        self.assertEqual((await dave.ok("GET", comments))["comments"], [])
        # The comments are revisions of the chain like the content.
        report = await (await self._auditor_client()).ok(
            "GET", f"{ADMIN}/{doc_id}/verify"
        )
        self.assertTrue(report["ok"], report)

    # The browser editor

    async def test_two_officers_edit_together_in_the_browser(self) -> None:
        require_browser()
        alice, bob, dave = self.user("alice"), self.user("bob"), self.user("dave")
        doc = await alice.ok("POST", DOCS, {"title": "巡逻日志", "kind": "rich"})
        doc_id = doc["doc_id"]
        grants = [
            {"kind": "user", "id": bob.user_id, "role": "editor"},
            {"kind": "user", "id": dave.user_id, "role": "reader"},
        ]
        await alice.ok("PUT", f"{DOCS}/{doc_id}/sharing", {"grants": grants})
        page_url = f"{self.server.base_url}/_jwwx/docs/app/#doc={q(doc_id)}"
        sharing = (f"{self.server.base_url}{DOCS}/{doc_id}/sharing", {"grants": grants})
        errors = await threads.deferToThread(
            _edit_in_two_pages, page_url, (alice, bob, dave), sharing
        )
        self.assertEqual(errors, [])
        text = await alice.ok("GET", f"{DOCS}/{doc_id}/export")
        self.assertIn("甲方输入", text["content"]["default"])
        self.assertIn("乙方补充", text["content"]["default"])
        listed = (await bob.ok("GET", f"{DOCS}/{doc_id}/comments"))["comments"]
        self.assertEqual(
            [(c["body"], c["resolved"]) for c in listed], [("请补充时间", True)]
        )
        # The reader's page sent no edit the server had to refuse.
        refused = await self._audit_actions(doc_id, "edit_refused")
        self.assertEqual(refused, [])

    async def test_api_lists_renames_and_refuses_bad_input(self) -> None:
        alice, bob, eve = self.user("alice"), self.user("bob"), self.user("eve")
        doc = await self._document(
            alice,
            grants=[{"kind": "user", "id": bob.user_id, "role": "commenter"}],
        )
        doc_id = doc["doc_id"]
        mine = await alice.ok("GET", DOCS + "?filter=mine")
        self.assertEqual([d["doc_id"] for d in mine["documents"]], [doc_id])
        shared = await bob.ok("GET", DOCS + "?filter=shared")
        self.assertEqual(
            [(d["doc_id"], d["role"]) for d in shared["documents"]],
            [(doc_id, "commenter")],
        )
        self.assertErrcode(
            await bob.request("PUT", f"{DOCS}/{doc_id}/title", {"title": "x"}),
            403,
            "M_FORBIDDEN",
        )
        await alice.ok("PUT", f"{DOCS}/{doc_id}/title", {"title": "新标题"})
        self.assertErrcode(
            await eve.request("GET", f"{DOCS}/{doc_id}"), 404, "M_NOT_FOUND"
        )
        # Link sharing: any account of this bureau with the link, at the link's role.
        await alice.ok(
            "PUT", f"{DOCS}/{doc_id}/sharing", {"grants": [], "link_role": "reader"}
        )
        got = await eve.ok("GET", f"{DOCS}/{doc_id}")
        self.assertEqual((got["title"], got["role"]), ("新标题", "reader"))
        for body in (
            {"grants": [{"kind": "room", "id": "x", "role": "reader"}]},
            {"grants": [{"kind": "user", "id": "bob", "role": "reader"}]},
            {"grants": [{"kind": "department", "id": "7", "role": "owner"}]},
            {"grants": [], "link_role": "everyone"},
        ):
            self.assertErrcode(
                await alice.request("PUT", f"{DOCS}/{doc_id}/sharing", body),
                400,
                "M_INVALID_PARAM",
            )
        for answer in (
            await alice.request("POST", DOCS, {"kind": "video"}),
            await alice.request("POST", DOCS, {"title": ""}),
            await alice.request("GET", DOCS + "?filter=all"),
            await alice.request("POST", f"{DOCS}/{doc_id}/restore", {"revision": 99}),
        ):
            self.assertErrcode(answer, 400, "M_INVALID_PARAM")
        self.assertErrcode(
            await bob.request("DELETE", f"{DOCS}/{doc_id}"), 403, "M_FORBIDDEN"
        )
        await alice.ok("DELETE", f"{DOCS}/{doc_id}")
        self.assertErrcode(
            await alice.request("GET", f"{DOCS}/{doc_id}"), 404, "M_NOT_FOUND"
        )


def _sample_docx() -> bytes:
    """A generated .docx: headings, marks, both list kinds, a table with a merged
    cell, an image and a header."""
    import docx
    from PIL import Image

    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "内部资料"
    document.add_heading("案情通报", level=1)
    paragraph = document.add_paragraph("正文")
    paragraph.add_run("加粗").bold = True
    paragraph.add_run("斜体").italic = True
    document.add_paragraph("要点一", style="List Bullet")
    document.add_paragraph("要点二", style="List Bullet")
    document.add_paragraph("步骤一", style="List Number")
    document.add_heading("附表", level=2)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "姓名"
    table.cell(0, 1).text = "单位"
    table.cell(1, 0).merge(table.cell(1, 1))
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(image, "PNG")
    image.seek(0)
    document.add_picture(image)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _sign_in(page: Any, client: MatrixClient, url: str) -> None:
    """Open the editor as this officer (the web client's session of the tab)."""
    session = {"token": client.token, "userId": client.user_id}
    page.add_init_script(
        f"sessionStorage.setItem('jwwx.web.session', {json.dumps(json.dumps(session))})"
    )
    page.goto(url)
    page.wait_for_selector(".status[data-status=connected][data-synced=true]")


def _put_json(url: str, token: str, body: Any) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="PUT",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=90) as answer:
        assert answer.status == 200


def _edit_in_two_pages(
    url: str, officers: tuple[MatrixClient, ...], sharing: tuple[str, Any]
) -> list:
    """Two officers type into one document in two pages and each sees the other's
    text, name and comment; a reader's page follows, read-only (its socket stays
    open: it sends no update the server would refuse). The pages' JavaScript errors
    are returned."""
    alice, bob, dave = officers
    with browser_page() as a:
        b, reader = another_page(a), another_page(a)
        _sign_in(a, alice, url)
        _sign_in(b, bob, url)
        _sign_in(reader, dave, url)
        a.click(".ProseMirror")
        a.keyboard.type("甲方输入")
        b.wait_for_selector(".ProseMirror:has-text('甲方输入')")
        b.click(".ProseMirror")
        b.keyboard.press("End")
        b.keyboard.type("乙方补充")
        a.wait_for_selector(".ProseMirror:has-text('甲方输入乙方补充')")
        bob_name = bob.user_id[1:].split(":")[0]
        a.wait_for_selector(f".people li:has-text('{bob_name}')")
        a.wait_for_selector(f".caret-label:has-text('{bob_name}')")
        # A comment on what is selected, seen at once by the other page.
        a.click(".ProseMirror")
        a.keyboard.press("Control+A")
        a.fill("textarea[name=comment]", "请补充时间")
        a.click(".comment-form button[type=submit]")
        b.wait_for_selector(
            ".comment:has-text('请补充时间') blockquote:has-text('甲方输入')"
        )
        reader.wait_for_selector(
            ".ProseMirror[contenteditable=false]:has-text('乙方补充')"
        )
        reader.wait_for_selector(".comment:has-text('请补充时间')")
        assert reader.locator("textarea[name=comment]").count() == 0
        # The commented range is marked in the text until the comment is resolved.
        b.wait_for_selector(".ProseMirror .commented:has-text('甲方输入')")
        screenshot(a, "docs-two-editors")
        b.click(".comment button.resolve")
        a.wait_for_selector(".comment.resolved:has-text('请补充时间')")
        a.wait_for_selector(".ProseMirror .commented", state="detached")
        # The reader's socket was never refused (it sent no content).
        assert reader.locator(".status[data-status=connected]").count() == 1
        # A change of the sharing closes the sockets (4401): the pages connect again
        # (y-websocket would stop on a 44xx code by default) and go on editing.
        _put_json(sharing[0], alice.token, sharing[1])
        again = ".status[data-status=connected][data-synced=true][data-connections='2']"
        b.wait_for_selector(again)
        b.click(".ProseMirror")
        b.keyboard.press("End")
        b.keyboard.type("重连后")
        a.wait_for_selector(".ProseMirror:has-text('重连后')")
        return list(a.errors) + list(b.errors) + list(reader.errors)


class DocsSQLiteTest(DocsTests, SQLiteCase):
    pass


class DocsPostgresTest(DocsTests, PostgresCase):
    pass
