# SPDX-License-Identifier: AGPL-3.0-or-later
"""Document workflow tests, run by test_docs.py's classes on their servers (both
engines): comments cannot be forged over the socket; task blocks flow step by step
with the docs bot's pushes; business templates; Word export; sharing into a chat;
document admins per unit and unit quotas."""

import io
import json
from contextlib import AsyncExitStack
from typing import Any

from twisted.internet import threads

import treq
from pycrdt import Map, XmlElement, XmlFragment, XmlText

from tests.modules.audit.helpers import wait_for
from tests.modules.docs import yjs

DOCS = "/_jwwx/client/v1/docs"


class DocflowTests:
    """Mixed into test_docs.DocsTests (its helpers and its server)."""

    server: Any

    async def test_comments_cannot_be_written_over_the_socket(self) -> None:
        t: Any = self
        alice, bob = t.user("alice"), t.user("bob")
        doc = await t._document(
            alice, grants=[{"kind": "user", "id": bob.user_id, "role": "editor"}]
        )
        doc_id, url = doc["doc_id"], doc["websocket_url"]
        comments = f"{DOCS}/{doc_id}/comments"

        async def write() -> tuple[str, str]:
            async with AsyncExitStack() as stack:
                a = await yjs.open_editor(stack, url, alice.token)
                a.text += "plate AB123"
                seen = await yjs.open_editor(stack, url, alice.token)
                await yjs.until(lambda: str(seen) == "plate AB123", "stored")
                return yjs.anchor(a, 0), yjs.anchor(a, 5)

        start, end = await threads.deferToThread(yjs.run, write)
        made = await alice.ok(
            "POST", comments, {"body": "核实车牌", "start": start, "end": end}
        )

        def forge(edit: Any) -> Any:
            async def scenario() -> tuple[int | None, dict[str, Any], str]:
                async with AsyncExitStack() as stack:
                    a = await yjs.open_editor(stack, url, alice.token)
                    b = await yjs.open_editor(stack, url, bob.token)
                    edit(b.doc.get("comments", type=Map))
                    await yjs.until(lambda: b.channel.close_code is not None, "closed")
                    a.text += "。"  # the owner goes on; the forgery never reaches her
                    seen = await yjs.open_editor(stack, url, alice.token)
                    await yjs.until(lambda: str(seen).endswith("。"), "owner's edit")
                    return b.channel.close_code, yjs.comments(seen), str(seen)

            return threads.deferToThread(yjs.run, scenario)

        forged = {
            "id": "forged",
            "author": alice.user_id,
            "body": "伪造的评论",
            "start": start,
            "end": end,
            "ts": 1,
            "resolved": False,
        }
        code, seen, _ = await forge(lambda m: m.__setitem__("forged", forged))
        t.assertEqual(code, 4403)
        t.assertEqual(list(seen), [made["id"]])
        code, seen, _ = await forge(lambda m: m.pop(made["id"]))
        t.assertEqual(code, 4403)
        t.assertEqual(list(seen), [made["id"]])
        changed = {**made, "body": "改过的内容"}
        code, seen, text = await forge(lambda m: m.__setitem__(made["id"], changed))
        t.assertEqual((code, seen[made["id"]]["body"]), (4403, "核实车牌"))
        t.assertEqual(text, "plate AB123。。。")
        listed = (await bob.ok("GET", comments))["comments"]
        t.assertEqual(
            [(c["id"], c["author"], c["body"]) for c in listed],
            [(made["id"], alice.user_id, "核实车牌")],
        )

        # An editor that holds the comments (received from the server) still edits.
        async def edit_again() -> str:
            async with AsyncExitStack() as stack:
                b = await yjs.open_editor(stack, url, bob.token)
                await yjs.until(lambda: made["id"] in yjs.comments(b), "has comment")
                b.text += "!"
                seen = await yjs.open_editor(stack, url, alice.token)
                await yjs.until(lambda: str(seen).endswith("!"), "bob's edit")
                return str(b.channel.close_code)

        t.assertEqual(await threads.deferToThread(yjs.run, edit_again), "None")
        refused = await t._audited(doc_id, "edit_refused", bob.user_id)
        t.assertEqual(refused["root"], "comments")

    # Tasks: a block in the document, a flow of steps, pushes by the docs bot

    async def _bot_cards(self, client: Any) -> list[dict[str, Any]]:
        """The cards the docs bot sent this officer (oldest first)."""
        rooms = await client.ok("GET", "/_matrix/client/v3/joined_rooms")
        cards = []
        for room_id in rooms["joined_rooms"]:
            for event in reversed(await client.messages(room_id)):
                content = event.get("content", {})
                if event.get("sender", "").startswith("@jwwx_docs:") and (
                    "cn.jwwx.wecom" in content
                ):
                    cards.append(content["cn.jwwx.wecom"]["textcard"])
        return cards

    async def _cards_until(self, client: Any, count: int) -> list[dict[str, Any]]:
        async def enough() -> list[dict[str, Any]] | None:
            cards = await self._bot_cards(client)
            return cards if len(cards) >= count else None

        return list(await wait_for(enough))

    async def test_task_block_flows_step_by_step_with_pushes(self) -> None:
        t: Any = self
        alice, bob = t.user("alice"), t.user("bob")
        carol, dave = t.user("carol"), t.user("dave")
        doc = await alice.ok("POST", DOCS, {"title": "专案任务", "kind": "rich"})
        doc_id, url = doc["doc_id"], doc["websocket_url"]
        grants = [{"kind": "user", "id": bob.user_id, "role": "editor"}]
        await alice.ok("PUT", f"{DOCS}/{doc_id}/sharing", {"grants": grants})
        steps = [
            {"title": "初查", "assignee": carol.user_id},
            {"title": "复核", "assignee": dave.user_id},
        ]
        attrs = {
            "taskId": "t-1",
            "title": "核查车辆",
            "due": "2026-12-31",
            "createdBy": bob.user_id,
            "steps": json.dumps(steps, ensure_ascii=False),
        }

        async def add_block() -> None:  # bob's edit session: a task block, then gone
            async with AsyncExitStack() as stack:
                b = await yjs.open_editor(stack, url, bob.token)
                root = b.doc.get("default", type=XmlFragment)
                paragraph = root.children.append(XmlElement("paragraph"))
                paragraph.children.append(XmlText("请按步骤办理："))
                root.children.append(XmlElement("taskBlock", attrs))
                bad = {**attrs, "taskId": "t-2", "steps": "[{}]"}
                root.children.append(XmlElement("taskBlock", bad))
                seen = await yjs.open_editor(stack, url, alice.token)
                await yjs.until(
                    lambda: (
                        "taskBlock" in str(seen.doc.get("default", type=XmlFragment))
                    ),
                    "the server has the block",
                )

        await threads.deferToThread(yjs.run, add_block)

        async def assigned() -> dict[str, Any] | None:
            mine = (await carol.ok("GET", f"{DOCS}/tasks"))["tasks"]
            return mine[0] if mine else None

        task = await wait_for(assigned)  # read when bob's session ended
        t.assertEqual(
            (task["task_id"], task["current_step"], task["current_assignee"]),
            ("t-1", 0, carol.user_id),
        )
        t.assertEqual((task["doc_title"], task["due"]), ("专案任务", "2026-12-31"))
        card = (await self._cards_until(carol, 1))[0]
        t.assertEqual(card["title"], "任务：核查车辆")
        t.assertIn("初查", card["description"])
        t.assertIn(f"#doc={doc_id}", card["url"])
        synced = await bob.ok("POST", f"{DOCS}/{doc_id}/tasks/sync", {})
        t.assertEqual([x["task_id"] for x in synced["tasks"]], ["t-1"])
        t.assertEqual(len(synced["problems"]), 1)  # the block without steps
        t.assertEqual((await dave.ok("GET", f"{DOCS}/tasks"))["tasks"], [])

        one = f"{DOCS}/{doc_id}/tasks/t-1/complete"
        t.assertErrcode(
            await dave.request("POST", one, {}), 403, "CN_JWWX_DOC_TASK_NOT_YOURS"
        )
        t.assertErrcode(
            await carol.request("POST", one, {"step": 1}), 409, "CN_JWWX_DOC_TASK_STEP"
        )
        t.assertErrcode(
            await carol.request("POST", one, {"step": "0"}), 400, "M_INVALID_PARAM"
        )
        t.assertErrcode(
            await carol.request("POST", f"{DOCS}/{doc_id}/tasks/t-9/complete", {}),
            404,
            "CN_JWWX_DOC_TASK_NOT_FOUND",
        )
        moved = await carol.ok("POST", one, {"step": 0})
        t.assertEqual(
            (moved["current_step"], moved["current_assignee"]), (1, dave.user_id)
        )
        t.assertEqual(moved["steps"][0]["done_by"], carol.user_id)
        card = (await self._cards_until(dave, 1))[0]
        t.assertIn("复核", card["description"])
        mine = (await dave.ok("GET", f"{DOCS}/tasks"))["tasks"]
        t.assertEqual([x["task_id"] for x in mine], ["t-1"])
        t.assertEqual((await carol.ok("GET", f"{DOCS}/tasks"))["tasks"], [])

        done = await dave.ok("POST", one, {})
        t.assertEqual((done["status"], done["current_assignee"]), ("done", None))
        finished = await self._cards_until(bob, 1)  # its creator
        t.assertEqual(finished[-1]["title"], "任务已完成：核查车辆")
        listed = (await carol.ok("GET", f"{DOCS}/tasks?status=done"))["tasks"]
        t.assertEqual([x["status"] for x in listed], ["done"])
        t.assertErrcode(
            await carol.request("GET", f"{DOCS}/tasks?status=late"),
            400,
            "M_INVALID_PARAM",
        )
        t.assertErrcode(
            await dave.request("POST", one, {}), 409, "CN_JWWX_DOC_TASK_STEP"
        )

        async def progress() -> dict[str, Any]:  # written into the document
            async with AsyncExitStack() as stack:
                a = await yjs.open_editor(stack, url, alice.token)
                return {
                    k: dict(v) for k, v in a.doc.get("task_progress", type=Map).items()
                }

        held = (await threads.deferToThread(yjs.run, progress))["t-1"]
        t.assertEqual(held["status"], "done")
        t.assertEqual([d["by"] for d in held["done"]], [carol.user_id, dave.user_id])
        tasks_of_doc = (await alice.ok("GET", f"{DOCS}/{doc_id}/tasks"))["tasks"]
        t.assertEqual([x["status"] for x in tasks_of_doc], ["done"])

        async def assignments() -> list[str] | None:
            found = await t._audit_actions(doc_id, "task_assign")
            told = sorted(r["to"] for r in found)
            return told if len(told) >= 2 else None

        t.assertEqual(
            await wait_for(assignments), sorted([carol.user_id, dave.user_id])
        )
        await t._audited(doc_id, "task_step_done", carol.user_id)
        await t._audited(doc_id, "task_done", dave.user_id)

    # A flow of three officers' steps: longer than trial's 120 s on a loaded machine.
    test_task_block_flows_step_by_step_with_pushes.timeout = 360  # type: ignore

    # Business templates

    async def test_documents_from_shipped_and_added_templates(self) -> None:
        t: Any = self
        alice = t.user("alice")
        admin = t.user("tmpladmin", admin=True)
        listed = (await alice.ok("GET", f"{DOCS}/templates"))["templates"]
        names = {x["id"]: x["name"] for x in listed if x["shipped"]}
        t.assertEqual(
            names,
            {
                "work_brief": "工作简报",
                "meeting_minutes": "会议纪要",
                "case_assist_letter": "案件协查函",
            },
        )
        made = await alice.ok(
            "POST", f"{DOCS}/from-template", {"template": "case_assist_letter"}
        )
        t.assertEqual((made["title"], made["kind"]), ("案件协查函", "rich"))
        xml = (await alice.ok("GET", f"{DOCS}/{made['doc_id']}/export"))["content"]
        t.assertIn('<heading level="1">案件协查函</heading>', xml["default"])
        t.assertIn("协查事项", xml["default"])
        for body, status, errcode in (
            ({"template": "nope"}, 404, "CN_JWWX_DOC_TEMPLATE_NOT_FOUND"),
            ({}, 400, "M_INVALID_PARAM"),
            ({"template": "work_brief", "title": ""}, 400, "M_INVALID_PARAM"),
            ({"template": "work_brief", "x": 1}, 400, "M_INVALID_PARAM"),
        ):
            t.assertErrcode(
                await alice.request("POST", f"{DOCS}/from-template", body),
                status,
                errcode,
            )

        # An admin's own document with a comment becomes a template: content only.
        source = await admin.ok(
            "POST", f"{DOCS}/from-template", {"template": "meeting_minutes"}
        )
        templates = "/_jwwx/admin/v1/docs/templates"
        body = {"doc_id": source["doc_id"], "name": "专案会议纪要"}
        t.assertErrcode(
            await alice.request("POST", templates, body), 403, "M_FORBIDDEN"
        )
        t.assertErrcode(
            await admin.request("POST", templates, {**body, "doc_id": made["doc_id"]}),
            404,
            "M_NOT_FOUND",  # a document the admin may not open
        )
        added = await admin.ok("POST", templates, body)
        listed = (await alice.ok("GET", f"{DOCS}/templates"))["templates"]
        t.assertIn(
            (added["id"], "专案会议纪要", False),
            [(x["id"], x["name"], x["shipped"]) for x in listed],
        )
        copy = await alice.ok(
            "POST", f"{DOCS}/from-template", {"template": added["id"], "title": "纪要"}
        )
        original = await admin.ok("GET", f"{DOCS}/{source['doc_id']}/export")
        copied = await alice.ok("GET", f"{DOCS}/{copy['doc_id']}/export")
        t.assertEqual(copied["content"], original["content"])
        await admin.ok("DELETE", f"{templates}/{added['id']}")
        t.assertErrcode(
            await admin.request("DELETE", f"{templates}/{added['id']}"),
            404,
            "CN_JWWX_DOC_TEMPLATE_NOT_FOUND",
        )
        await t._audited(copy["doc_id"], "create", alice.user_id)

    # Word export

    async def test_export_to_word(self) -> None:
        import docx

        t: Any = self
        alice, eve = t.user("alice"), t.user("eve")
        made = await alice.ok(
            "POST", f"{DOCS}/from-template", {"template": "work_brief"}
        )
        path = f"{DOCS}/{made['doc_id']}/export?format=docx"
        answer = await treq.get(
            t.server.base_url + path,
            headers={"Authorization": [f"Bearer {alice.token}"]},
            persistent=False,
        )
        data = await answer.content()
        t.assertEqual(answer.code, 200, data[:200])
        document = docx.Document(io.BytesIO(data))
        paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
        t.assertIn(("Heading 1", "工作简报"), paragraphs)
        t.assertIn(("Heading 2", "二、存在问题"), paragraphs)
        t.assertErrcode(await eve.request("GET", path), 404, "M_NOT_FOUND")
        t.assertErrcode(
            await alice.request("GET", path.replace("docx", "pdf")),
            400,
            "M_INVALID_PARAM",
        )
        await t._audited(made["doc_id"], "export", alice.user_id)

    # Sharing into a chat

    async def test_share_to_room_posts_a_card(self) -> None:
        t: Any = self
        alice, bob, eve = t.user("alice"), t.user("bob"), t.user("eve")
        doc = await t._document(alice)
        doc_id = doc["doc_id"]
        room_id = await alice.create_room(invite=[bob.user_id])
        await bob.join(room_id)
        share = f"{DOCS}/{doc_id}/share-to-room"
        sent = await alice.ok("POST", share, {"room_id": room_id})
        events = await bob.messages(room_id)
        card = next(e for e in events if e.get("event_id") == sent["event_id"])
        content = card["content"]
        t.assertEqual(card["sender"], alice.user_id)
        t.assertEqual(content["cn.jwwx.document"]["doc_id"], doc_id)
        textcard = content["cn.jwwx.wecom"]["textcard"]
        t.assertEqual(textcard["title"], "案情通报")
        t.assertTrue(textcard["url"].endswith(f"/_jwwx/docs/app/#doc={doc_id}"))
        # bob opens it with his own identity: no role, no document
        t.assertErrcode(
            await bob.request("GET", f"{DOCS}/{doc_id}"), 404, "M_NOT_FOUND"
        )
        other = await eve.create_room()
        t.assertErrcode(
            await alice.request("POST", share, {"room_id": other}), 403, "M_FORBIDDEN"
        )
        t.assertErrcode(
            await alice.request("POST", share, {"room_id": "lobby"}),
            400,
            "M_INVALID_PARAM",
        )
        t.assertErrcode(
            await eve.request("POST", share, {"room_id": other}), 404, "M_NOT_FOUND"
        )
        await t._audited(doc_id, "share_to_room", alice.user_id)

    # Document admins per unit, unit quotas

    async def test_unit_document_admins_and_quotas(self) -> None:
        t: Any = self
        boss = t.user("docboss", admin=True)
        root = await t._department(boss, None)
        unit_a = await t._department(boss, root)
        station = await t._department(boss, unit_a)
        unit_b = await t._department(boss, root)
        officer_a = await t._officer(boss, [station])
        officer_b = await t._officer(boss, [unit_b])
        doc_a = await officer_a.ok(
            "POST", DOCS, {"title": "甲单位文档", "kind": "text"}
        )
        doc_b = await officer_b.ok(
            "POST", f"{DOCS}/from-template", {"template": "work_brief"}
        )
        docs_admin = t.user("docsadmin")
        await boss.ok(
            "POST",
            "/_jwwx/admin/v1/admins/groups",
            {
                "name": "文档管理组" + docs_admin.user_id[1:8],
                "members": [docs_admin.user_id],
                "scope": [unit_a],
                "rights": ["docs.manage"],
            },
        )
        admin_docs = "/_jwwx/admin/v1/docs"
        seen = (await docs_admin.ok("GET", admin_docs))["documents"]
        ids = [d["doc_id"] for d in seen]
        t.assertIn(doc_a["doc_id"], ids)
        t.assertNotIn(doc_b["doc_id"], ids)
        # The bureau's newest (doc_b) is out of his scope: his own is still found.
        first = (await docs_admin.ok("GET", f"{admin_docs}?limit=1"))["documents"]
        t.assertEqual([d["doc_id"] for d in first], [doc_a["doc_id"]])
        mine = next(d for d in seen if d["doc_id"] == doc_a["doc_id"])
        t.assertEqual((mine["unit_id"], mine["department_id"]), (unit_a, station))
        by_unit = await docs_admin.ok("GET", f"{admin_docs}?unit={unit_a}")
        t.assertEqual([d["doc_id"] for d in by_unit["documents"]], [doc_a["doc_id"]])
        got = await docs_admin.ok("GET", f"{admin_docs}/{doc_a['doc_id']}")
        t.assertEqual((got["title"], got["grants"]), ("甲单位文档", []))
        for method in ("GET", "DELETE"):
            t.assertErrcode(
                await docs_admin.request(method, f"{admin_docs}/{doc_b['doc_id']}"),
                403,
                "CN_JWWX_ADMIN_SCOPE",
            )
        t.assertErrcode(await officer_a.request("GET", admin_docs), 403, "M_FORBIDDEN")
        t.assertErrcode(
            await docs_admin.request("GET", f"{admin_docs}/nosuchdoc"),
            404,
            "M_NOT_FOUND",
        )
        await docs_admin.ok("DELETE", f"{admin_docs}/{doc_a['doc_id']}")
        t.assertErrcode(
            await officer_a.request("GET", f"{DOCS}/{doc_a['doc_id']}"),
            404,
            "M_NOT_FOUND",
        )
        await t._audited(doc_a["doc_id"], "delete", docs_admin.user_id)

        # Quotas (the super admin's): one document in unit A, one byte in unit B.
        quotas = f"{admin_docs}/quotas"
        t.assertErrcode(
            await docs_admin.request("PUT", f"{quotas}/{unit_a}", {"documents": 1}),
            403,
            "M_FORBIDDEN",
        )
        for unit, body, status, errcode in (
            (str(station), {"documents": 1}, 400, "CN_JWWX_DOCS_NOT_A_UNIT"),
            (str(unit_a), {"documents": -1}, 400, "M_INVALID_PARAM"),
            (str(unit_a), {"pages": 1}, 400, "M_INVALID_PARAM"),
            ("abc", {"documents": 1}, 400, "M_INVALID_PARAM"),
            ("999999999", {"documents": 1}, 404, "CN_JWWX_DEPARTMENT_NOT_FOUND"),
        ):
            t.assertErrcode(
                await boss.request("PUT", f"{quotas}/{unit}", body), status, errcode
            )
        await boss.ok("PUT", f"{quotas}/{unit_a}", {"documents": 1, "bytes": None})
        await boss.ok("PUT", f"{quotas}/{unit_b}", {"bytes": 1})
        await officer_a.ok("POST", DOCS, {"title": "第一个"})
        refused = t.assertErrcode(
            await officer_a.request("POST", DOCS, {"title": "第二个"}),
            403,
            "CN_JWWX_DOCS_UNIT_QUOTA",
        )
        t.assertEqual(refused["quota"], {"documents": 1})
        t.assertErrcode(
            await officer_b.request(
                "POST", f"{DOCS}/from-template", {"template": "work_brief"}
            ),
            403,
            "CN_JWWX_DOCS_UNIT_QUOTA",
        )
        listing = await boss.ok("GET", quotas)
        row = next(u for u in listing["units"] if u["id"] == unit_b)
        t.assertTrue(row["over_quota"])
        t.assertGreater(row["usage"]["bytes"], 1)
        t.assertEqual(row["usage"]["documents"], 1)

        async def edit_over_quota() -> int | None:  # unit B's editors: read-only
            async with AsyncExitStack() as stack:
                b = await yjs.open_editor(
                    stack, doc_b["websocket_url"], officer_b.token
                )
                b.doc.get("default", type=XmlFragment).children.append(
                    XmlElement("paragraph")
                )
                await yjs.until(lambda: b.channel.close_code is not None, "closed")
                return b.channel.close_code

        t.assertEqual(await threads.deferToThread(yjs.run, edit_over_quota), 4413)
        await boss.ok("PUT", f"{quotas}/{unit_b}", {"bytes": None, "documents": None})
        await boss.ok("PUT", f"{quotas}/{unit_a}", {"documents": None})
        await officer_b.ok("POST", DOCS, {"title": "配额解除后"})

    # The editor page's task block

    async def test_task_block_in_the_browser(self) -> None:
        from tests.harness.browser import browser_page, require_browser

        require_browser()
        t: Any = self
        alice, bob = t.user("alice"), t.user("bob")
        doc = await alice.ok("POST", DOCS, {"title": "任务页面", "kind": "rich"})
        doc_id = doc["doc_id"]
        grants = [{"kind": "user", "id": bob.user_id, "role": "editor"}]
        await alice.ok("PUT", f"{DOCS}/{doc_id}/sharing", {"grants": grants})
        page_url = f"{t.server.base_url}/_jwwx/docs/app/#doc={doc_id}"

        def insert(page_url: str) -> list[str]:
            from tests.modules.docs.test_docs import _sign_in

            with browser_page() as a:
                _sign_in(a, alice, page_url)
                a.click(".ProseMirror")
                a.fill("input[name=task-title]", "走访群众")
                a.fill("input[name=task-due]", "2026-12-31")
                a.fill("textarea[name=task-steps]", f"入户走访 {bob.user_id}")
                a.click(".task-form button[type=submit]")
                a.wait_for_selector(".task[data-status=open]:has-text('走访群众')")
                return list(a.errors)

        t.assertEqual(await threads.deferToThread(insert, page_url), [])
        mine = (await bob.ok("GET", f"{DOCS}/tasks"))["tasks"]
        t.assertEqual([(x["doc_id"], x["title"]) for x in mine], [(doc_id, "走访群众")])
        t.assertEqual(mine[0]["created_by"], alice.user_id)

        def complete(page_url: str) -> list[str]:
            from tests.modules.docs.test_docs import _sign_in

            with browser_page() as b:
                _sign_in(b, bob, page_url)
                b.click(".task button.complete")
                b.wait_for_selector(".task[data-status=done] li.done")
                return list(b.errors)

        t.assertEqual(await threads.deferToThread(complete, page_url), [])
        done = (await bob.ok("GET", f"{DOCS}/tasks?status=done"))["tasks"]
        t.assertEqual([x["status"] for x in done], ["done"])

    test_task_block_in_the_browser.timeout = 360  # type: ignore

    # Legacy Word (.doc) through LibreOffice

    async def test_legacy_doc_import_through_libreoffice(self) -> None:
        import shutil
        import subprocess
        import tempfile
        from pathlib import Path

        from twisted.trial.unittest import SkipTest

        from tests.modules.docs.test_docs import DOCX_TYPE, _sample_docx

        soffice = shutil.which("soffice")
        if soffice is None:
            raise SkipTest("LibreOffice (soffice) is not installed: make tools")
        t: Any = self

        def legacy() -> bytes:  # the sample .docx saved as Word 97 by LibreOffice
            with tempfile.TemporaryDirectory() as folder:
                work = Path(folder)
                (work / "sample.docx").write_bytes(_sample_docx())
                subprocess.run(
                    [
                        soffice,
                        f"-env:UserInstallation={(work / 'p').as_uri()}",
                        "--headless",
                        "--convert-to",
                        "doc",
                        "--outdir",
                        str(work),
                        str(work / "sample.docx"),
                    ],
                    check=True,
                    capture_output=True,
                    timeout=300,
                )
                return (work / "sample.doc").read_bytes()

        data = await threads.deferToThread(legacy)
        alice = t.user("alice")
        status, body = await alice.request(
            "POST",
            f"{DOCS}/import?format=doc&title=%E6%97%A7%E7%89%88",
            raw=data,
            content_type="application/msword",
        )
        t.assertEqual(status, 200, body)
        t.assertEqual((body["title"], body["kind"]), ("旧版", "rich"))
        t.assertEqual(body["report"]["kept"]["heading"], 2)
        t.assertEqual(body["report"]["kept"]["table"], 1)
        xml = (await alice.ok("GET", f"{DOCS}/{body['doc_id']}/export"))["content"]
        t.assertIn("案情通报", xml["default"])
        t.assertIn("<bold>加粗</bold>", xml["default"])
        await t._audited(body["doc_id"], "import", alice.user_id)
        t.assertErrcode(
            await alice.request(
                "POST", f"{DOCS}/import?format=pdf", raw=data, content_type=DOCX_TYPE
            ),
            400,
            "M_INVALID_PARAM",
        )

    test_legacy_doc_import_through_libreoffice.timeout = 360  # type: ignore
