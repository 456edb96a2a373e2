# SPDX-License-Identifier: AGPL-3.0-or-later
"""Collection forms (收集表) through the running server, on both engines: a draft,
publishing with the docs bot's cards, answers checked server-side (bad ones refused,
nothing stored), one answer per officer (edits only on an editable form), the
deadline, respondents from the directory (persons, departments, tags, the bureau),
who answered per unit, summaries, reminders, the .xlsx export read back with
openpyxl, the answers as a sheet document, document admins, the audit records; and
an officer filling the form page in headless Chromium."""

import io
import json
import secrets
from typing import Any
from urllib.parse import quote

from twisted.internet import defer, threads

import treq

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import TestServer
from tests.modules.docs import yjs
from tests.modules.docs.docflow import DocflowTests
from tests.modules.docs.test_docs import DocsTests

DOCS = "/_jwwx/client/v1/docs"
FORMS = f"{DOCS}/forms"
ADMIN_FORMS = "/_jwwx/admin/v1/docs/forms"
DIRECTORY = "/_jwwx/admin/v1/directory"
DAY = 86_400_000


def _questions() -> list[dict[str, Any]]:
    return [
        {"id": "name", "type": "text", "title": "值班人员", "required": True},
        {
            "id": "count",
            "type": "number",
            "title": "出警次数",
            "required": True,
            "min": 0,
            "max": 100,
        },
        {"id": "day", "type": "date", "title": "值班日期"},
        {
            "id": "shift",
            "type": "single",
            "title": "班次",
            "required": True,
            "options": ["白班", "夜班"],
        },
        {
            "id": "gear",
            "type": "multiple",
            "title": "装备",
            "options": ["对讲机", "执法记录仪", "警棍"],
        },
    ]


class FormTests:
    server: TestServer
    timeout = 600

    @classmethod
    def configure_server(cls, server: TestServer) -> None:
        yjs.configure_docs(server, snapshot_every=10)

    # Helpers (the document tests' own: audit, directory, bot cards)
    _auditor: MatrixClient | None = None
    _auditor_client = DocsTests._auditor_client
    _audited = DocsTests._audited
    _audit_actions = DocsTests._audit_actions
    _officer = DocsTests._officer
    _department = DocsTests._department
    _db = DocsTests._db
    _bot_cards = DocflowTests._bot_cards
    _cards_until = DocflowTests._cards_until

    async def _now(self, client: MatrixClient) -> int:
        # The server's clock is this machine's: a deadline a day away is in the future.
        import time

        return int(time.time() * 1000)

    async def _form(self, creator: MatrixClient, **overrides: Any) -> dict[str, Any]:
        body = {
            "title": "值班情况收集",
            "description": "请各位如实填写",
            "questions": _questions(),
            "deadline": await self._now(creator) + DAY,
            **overrides,
        }
        return dict(await creator.ok("POST", FORMS, body))

    async def _file(self, client: MatrixClient, path: str) -> tuple[int, bytes]:
        response = await treq.get(
            f"{self.server.base_url}{path}",
            headers={"Authorization": [f"Bearer {client.token}"]},
            persistent=False,
        )
        return response.code, await response.content()

    # The whole flow, named, over HTTP

    async def test_publish_answer_results_export_and_sheet(self) -> None:
        t: Any = self
        alice, bob, carol, eve = (t.user(n) for n in ("alice", "bob", "carol", "eve"))
        respondents = {"users": [bob.user_id, carol.user_id]}
        # Bad definitions: 400, nothing made.
        good = {"title": "x", "questions": _questions(), "respondents": respondents}
        for bad in (
            {**good, "title": ""},
            {**good, "questions": []},
            {**good, "questions": [{"type": "video", "title": "x"}]},
            {**good, "questions": [{"type": "single", "title": "x", "options": ["a"]}]},
            {**good, "questions": [{"type": "text", "title": "x", "options": ["a"]}]},
            {**good, "respondents": {}},
            {**good, "respondents": {"users": ["bob"]}},
            {**good, "respondents": {"users": ["@bob:elsewhere.example"]}},
            {**good, "deadline": 1},
            {**good, "respondents": {"departments": [987654321]}},
            {**good, "respondents": {"tags": [987654321]}},
            {**good, "colour": "red"},
        ):
            t.assertErrcode(
                await alice.request("POST", FORMS, bad), 400, "M_INVALID_PARAM"
            )
        t.assertEqual((await alice.ok("GET", FORMS))["forms"], [])

        form = await self._form(alice, respondents=respondents)
        form_id = form["form_id"]
        t.assertEqual((form["status"], form["editable"]), ("draft", False))
        one = f"{FORMS}/{form_id}"
        answer = f"{one}/answer"
        filled = {
            "name": "张三",
            "count": 3,
            "day": "2026-12-06",
            "shift": "夜班",
            "gear": ["警棍", "对讲机"],
        }
        # A draft: nobody else sees it, nobody answers it.
        t.assertErrcode(
            await bob.request("GET", one), 404, "CN_JWWX_DOC_FORM_NOT_FOUND"
        )
        t.assertErrcode(
            await bob.request("PUT", answer, {"answers": filled}),
            404,
            "CN_JWWX_DOC_FORM_NOT_FOUND",
        )
        changed = await alice.ok("PUT", one, {"title": "值班情况收集表"})
        t.assertEqual(changed["title"], "值班情况收集表")

        published = await alice.ok("POST", f"{one}/publish", {})
        t.assertEqual((published["status"], published["pushed"]), ("published", 2))
        t.assertIn(f"/_jwwx/docs/form/#form={form_id}", published["link"])
        t.assertErrcode(
            await alice.request("POST", f"{one}/publish", {}),
            409,
            "CN_JWWX_DOC_FORM_PUBLISHED",
        )
        t.assertErrcode(
            await alice.request("PUT", one, {"title": "改"}),
            409,
            "CN_JWWX_DOC_FORM_PUBLISHED",
        )
        card = (await self._cards_until(bob, 1))[0]
        t.assertEqual(card["title"], "收集表：值班情况收集表")
        t.assertIn(f"#form={form_id}", card["url"])
        seen = await bob.ok("GET", one)
        t.assertEqual(
            (seen["role"], seen["can_answer"], seen["my_answer"]),
            ("respondent", True, None),
        )
        t.assertNotIn("respondents", seen)
        todo = (await bob.ok("GET", f"{FORMS}?filter=todo"))["forms"]
        t.assertIn((form_id, False), [(f["form_id"], f["answered"]) for f in todo])

        # Not asked: refused, clearly.
        t.assertErrcode(
            await eve.request("GET", one), 403, "CN_JWWX_DOC_FORM_NOT_RESPONDENT"
        )
        t.assertErrcode(
            await eve.request("PUT", answer, {"answers": filled}),
            403,
            "CN_JWWX_DOC_FORM_NOT_RESPONDENT",
        )
        todo = (await eve.ok("GET", f"{FORMS}?filter=todo"))["forms"]
        t.assertNotIn(form_id, [f["form_id"] for f in todo])

        # Bad answers: 400 naming the question, nothing stored.
        for bad, question in (
            ({**filled, "name": ""}, "name"),
            ({k: v for k, v in filled.items() if k != "shift"}, "shift"),
            ({**filled, "count": "three"}, "count"),
            ({**filled, "count": 101}, "count"),
            ({**filled, "count": True}, "count"),
            ({**filled, "day": "2026-02-30"}, "day"),
            ({**filled, "day": "昨天"}, "day"),
            ({**filled, "shift": "早班"}, "shift"),
            ({**filled, "gear": ["手铐"]}, "gear"),
            ({**filled, "gear": "警棍"}, "gear"),
            ({**filled, "extra": 1}, "extra"),
        ):
            refused = t.assertErrcode(
                await bob.request("PUT", answer, {"answers": bad}),
                400,
                "M_INVALID_PARAM",
            )
            t.assertEqual(refused.get("question"), question, refused)
        t.assertErrcode(
            await bob.request("PUT", answer, filled), 400, "M_INVALID_PARAM"
        )
        t.assertEqual((await alice.ok("GET", f"{one}/results"))["answered"], 0)

        saved = await bob.ok("PUT", answer, {"answers": filled})
        t.assertEqual(saved["answers"]["gear"], ["对讲机", "警棍"])  # options' order
        t.assertFalse(saved["edited"])
        t.assertErrcode(
            await bob.request("PUT", answer, {"answers": {**filled, "count": 4}}),
            409,
            "CN_JWWX_DOC_FORM_ANSWERED",
        )
        mine = await bob.ok("GET", answer)
        t.assertEqual(
            (mine["answer"]["answers"]["count"], mine["can_answer"]), (3, False)
        )

        # The creator's results: who answered, who has not, the summaries.
        t.assertErrcode(await bob.request("GET", f"{one}/results"), 403, "M_FORBIDDEN")
        results = await alice.ok("GET", f"{one}/results")
        t.assertEqual(
            (results["expected"], results["answered"], results["pending"]), (2, 1, 1)
        )
        [unit] = results["units"]  # neither officer is in the directory
        t.assertEqual(unit["unit_id"], None)
        t.assertEqual([p["user_id"] for p in unit["pending"]], [carol.user_id])
        t.assertEqual([u["user_id"] for u in results["answered_users"]], [bob.user_id])
        summary = {q["id"]: q for q in results["questions"]}
        t.assertEqual(
            summary["shift"]["options"],
            [{"option": "白班", "count": 0}, {"option": "夜班", "count": 1}],
        )
        t.assertEqual((summary["count"]["sum"], summary["count"]["mean"]), (3, 3))
        t.assertEqual(summary["day"]["earliest"], "2026-12-06")
        listed = await alice.ok("GET", f"{one}/answers")
        t.assertEqual(
            [(a["user_id"], a["answers"]["name"]) for a in listed["answers"]],
            [(bob.user_id, "张三")],
        )

        # A reminder to those who have not answered.
        reminded = await alice.ok("POST", f"{one}/remind", {})
        t.assertEqual(reminded["reminded"], 1)
        cards = await self._cards_until(carol, 2)
        t.assertEqual(
            sorted(c["title"] for c in cards),
            ["提醒填写收集表：值班情况收集表", "收集表：值班情况收集表"],
        )
        t.assertEqual(len(await self._bot_cards(bob)), 1)

        # Export as .xlsx, read back with openpyxl.
        status, data = await self._file(alice, f"{one}/export?format=xlsx")
        t.assertEqual(status, 200)
        t.assertErrcode(
            await alice.request("GET", f"{one}/export?format=pdf"),
            400,
            "M_INVALID_PARAM",
        )
        t.assertErrcode(await bob.request("GET", f"{one}/export"), 403, "M_FORBIDDEN")
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(data))
        t.assertEqual(book.sheetnames, ["答卷", "选项统计"])
        rows = [list(r) for r in book["答卷"].iter_rows(values_only=True)]
        t.assertEqual(
            rows[0],
            ["序号", "填写人", "账号", "提交时间", "值班人员", "出警次数", "值班日期"]
            + ["班次", "装备"],
        )
        t.assertEqual(rows[1][0:3], [1, bob.user_id, bob.user_id])
        t.assertEqual(rows[1][4:], ["张三", 3, "2026-12-06", "夜班", "对讲机、警棍"])
        counts = list(book["选项统计"].iter_rows(values_only=True))
        t.assertIn(("班次", "夜班", 1), counts)
        t.assertIn(("装备", "执法记录仪", 0), counts)

        # The answers as a sheet document, to work on them.
        sheet = await alice.ok("POST", f"{one}/to-sheet", {})
        t.assertEqual(
            (sheet["kind"], sheet["title"]), ("sheet", "值班情况收集表（汇总）")
        )
        content = (await alice.ok("GET", f"{DOCS}/{sheet['doc_id']}/export"))["content"]
        first = content["sheets"][0]
        t.assertEqual(first["name"], "答卷")
        t.assertEqual(
            (first["cells"]["E2"]["v"], first["cells"]["F2"]["v"]), ("张三", 3)
        )
        t.assertErrcode(
            await bob.request("POST", f"{one}/to-sheet", {}), 403, "M_FORBIDDEN"
        )

        # Every publish, answer and export is in the audit archive.
        await t._audited(form_id, "form_publish", alice.user_id)
        await t._audited(form_id, "form_answer", bob.user_id)
        exported = await t._audited(form_id, "form_export", alice.user_id)
        t.assertEqual(exported["format"], "xlsx")
        await t._audited(form_id, "form_to_sheet", alice.user_id)
        await t._audited(form_id, "form_results", alice.user_id)

        # After the deadline (here: the creator ends it) answers are refused.
        closed = await alice.ok("POST", f"{one}/close", {})
        t.assertTrue(closed["closed"])
        t.assertErrcode(
            await carol.request("PUT", answer, {"answers": filled}),
            409,
            "CN_JWWX_DOC_FORM_CLOSED",
        )
        t.assertFalse((await carol.ok("GET", one))["can_answer"])
        t.assertErrcode(
            await alice.request("POST", f"{one}/remind", {}),
            409,
            "CN_JWWX_DOC_FORM_CLOSED",
        )
        await alice.ok("DELETE", one)
        t.assertErrcode(
            await carol.request("GET", one), 404, "CN_JWWX_DOC_FORM_NOT_FOUND"
        )

    # Anonymous, editable; a deadline that has passed

    async def test_anonymous_editable_form_and_deadline(self) -> None:
        t: Any = self
        alice, bob, carol = t.user("alice"), t.user("bob"), t.user("carol")
        form = await self._form(
            alice,
            respondents={"users": [bob.user_id, carol.user_id]},
            editable=True,
            anonymous=True,
        )
        form_id = form["form_id"]
        one = f"{FORMS}/{form_id}"
        await alice.ok("POST", f"{one}/publish", {})
        first = {"name": "甲", "count": 1, "shift": "白班"}
        t.assertFalse(
            (await bob.ok("PUT", f"{one}/answer", {"answers": first}))["edited"]
        )
        again = await bob.ok("PUT", f"{one}/answer", {"answers": {**first, "count": 2}})
        t.assertTrue(again["edited"])
        t.assertEqual(
            (await bob.ok("GET", f"{one}/answer"))["answer"]["answers"]["count"], 2
        )
        listed = await alice.ok("GET", f"{one}/answers")
        t.assertTrue(listed["anonymous"])
        t.assertEqual(listed["answers"], [{"answers": {**first, "count": 2}}])
        results = await alice.ok("GET", f"{one}/results")
        t.assertEqual((results["answered"], results["pending"]), (1, 1))
        status, data = await self._file(alice, f"{one}/export")
        t.assertEqual(status, 200)
        import openpyxl

        rows = list(
            openpyxl.load_workbook(io.BytesIO(data))["答卷"].iter_rows(values_only=True)
        )
        t.assertEqual(rows[0][:3], ("序号", "值班人员", "出警次数"))
        t.assertNotIn(bob.user_id, json.dumps(rows, ensure_ascii=False, default=str))
        # Stored sealed: the database holds neither the answer nor bob's id with it.

        def stored(txn: Any) -> list[Any]:
            txn.execute(
                "SELECT answer_key, body FROM jwwx_docs_form_answers WHERE form_id = ?",
                (form_id,),
            )
            return list(txn.fetchall())

        rows_db = await threads.deferToThread(t._db, stored)
        t.assertEqual(len(rows_db), 1)
        t.assertNotIn(bob.user_id, rows_db[0][0])
        t.assertNotIn("甲", rows_db[0][1])

        # The deadline passes (moved into the past in the database).
        def expire(txn: Any) -> None:
            txn.execute(
                "UPDATE jwwx_docs_forms SET deadline_ts = 1 WHERE form_id = ?",
                (form_id,),
            )

        await threads.deferToThread(t._db, expire)
        for client in (bob, carol):
            t.assertErrcode(
                await client.request("PUT", f"{one}/answer", {"answers": first}),
                409,
                "CN_JWWX_DOC_FORM_CLOSED",
            )
        todo = (await carol.ok("GET", f"{FORMS}?filter=todo"))["forms"]
        t.assertNotIn(form_id, [f["form_id"] for f in todo])
        t.assertErrcode(
            await alice.request("PUT", one, {"deadline": 5}), 400, "M_INVALID_PARAM"
        )
        await alice.ok("PUT", one, {"deadline": await self._now(alice) + DAY})
        t.assertFalse((await carol.ok("GET", one))["closed"])
        # Sent five times at once: one answer, four edits of it.
        sent = await defer.gatherResults(
            [
                defer.ensureDeferred(
                    carol.request("PUT", f"{one}/answer", {"answers": first})
                )
                for _ in range(5)
            ]
        )
        t.assertEqual([status for status, _ in sent], [200] * 5, sent)
        t.assertEqual(sorted(body["edited"] for _, body in sent), [False] + [True] * 4)
        results = await alice.ok("GET", f"{one}/results")
        t.assertEqual((results["answered"], results["pending"]), (2, 0))
        t.assertEqual(len((await alice.ok("GET", f"{one}/answers"))["answers"]), 2)

    # Respondents from the directory, per unit, document admins

    async def test_directory_respondents_per_unit_and_document_admins(self) -> None:
        t: Any = self
        boss = t.user("formboss", admin=True)
        root = await t._department(boss, None)
        unit_a = await t._department(boss, root)
        station = await t._department(boss, unit_a)
        unit_b = await t._department(boss, root)
        creator = await t._officer(boss, [station])
        a1 = await t._officer(boss, [station])
        b1 = await t._officer(boss, [unit_b])
        b2 = await t._officer(boss, [unit_b])
        tag = await boss.ok(
            "POST",
            f"{DIRECTORY}/tags",
            {
                "name": "标签" + secrets.token_hex(3),
                "userids": [b2.user_id[1:].split(":")[0]],
            },
        )
        form = await self._form(
            creator, respondents={"departments": [unit_a], "tags": [tag["id"]]}
        )
        form_id = form["form_id"]
        one = f"{FORMS}/{form_id}"
        published = await creator.ok("POST", f"{one}/publish", {})
        t.assertEqual(published["pushed"], 3)  # the creator and a1 (unit A), b2 (tag)
        answer = {"name": "乙", "count": 5, "shift": "夜班"}
        await a1.ok("PUT", f"{one}/answer", {"answers": answer})
        t.assertErrcode(
            await b1.request("PUT", f"{one}/answer", {"answers": answer}),
            403,
            "CN_JWWX_DOC_FORM_NOT_RESPONDENT",
        )
        results = await creator.ok("GET", f"{one}/results")
        units = {u["unit_id"]: u for u in results["units"]}
        t.assertEqual(
            (units[unit_a]["expected"], units[unit_a]["answered"]), (2, 1)
        )  # the creator is in unit A's station too
        t.assertEqual([p["user_id"] for p in units[unit_b]["pending"]], [b2.user_id])

        # Document admins of unit A see it; those of unit B may not.
        admins = []
        for scope in (unit_a, unit_b):
            admin = t.user("formadmin")
            await boss.ok(
                "POST",
                "/_jwwx/admin/v1/admins/groups",
                {
                    "name": "收集表管理" + admin.user_id[1:].split(":")[0],
                    "members": [admin.user_id],
                    "scope": [scope],
                    "rights": ["docs.manage"],
                },
            )
            admins.append(admin)
        seen = await admins[0].ok("GET", f"{ADMIN_FORMS}/{form_id}/results")
        t.assertEqual(seen["answered"], 1)
        listed = await admins[0].ok("GET", f"{ADMIN_FORMS}?unit={unit_a}")
        t.assertIn(form_id, [f["form_id"] for f in listed["forms"]])
        status, _ = await self._file(admins[0], f"{ADMIN_FORMS}/{form_id}/export")
        t.assertEqual(status, 200)
        t.assertEqual(
            (await admins[0].ok("POST", f"{ADMIN_FORMS}/{form_id}/remind", {}))[
                "reminded"
            ],
            2,
        )
        for path in ("results", "answers", "export"):
            t.assertErrcode(
                await admins[1].request("GET", f"{ADMIN_FORMS}/{form_id}/{path}"),
                403,
                "CN_JWWX_ADMIN_SCOPE",
            )
        t.assertEqual((await admins[1].ok("GET", ADMIN_FORMS))["forms"], [])
        t.assertErrcode(
            await a1.request("GET", f"{ADMIN_FORMS}/{form_id}/results"),
            403,
            "M_FORBIDDEN",
        )
        # The bureau's newest form is out of unit A's scope: unit A's is still found.
        await self._form(b1, respondents={"departments": [unit_b]})
        first = (await admins[0].ok("GET", f"{ADMIN_FORMS}?limit=1"))["forms"]
        t.assertEqual([f["form_id"] for f in first], [form_id])

        # Open to the whole bureau: any account of this server with the link.
        everyone = await self._form(creator, respondents={"bureau": True})
        everyone_url = f"{FORMS}/{everyone['form_id']}"
        t.assertEqual(
            (await creator.ok("POST", f"{everyone_url}/publish", {}))["pushed"], 0
        )
        # Its card shared into a chat; whoever opens it answers as himself.
        outsider = t.user("walkin")
        room_id = await creator.create_room(invite=[outsider.user_id])
        await outsider.join(room_id)
        share = f"{everyone_url}/share-to-room"
        sent = await creator.ok("POST", share, {"room_id": room_id})
        event = next(
            e
            for e in await outsider.messages(room_id)
            if e.get("event_id") == sent["event_id"]
        )
        t.assertEqual(event["sender"], creator.user_id)
        t.assertEqual(event["content"]["cn.jwwx.form"]["form_id"], everyone["form_id"])
        url = event["content"]["cn.jwwx.wecom"]["textcard"]["url"]
        t.assertTrue(url.endswith(f"/_jwwx/docs/form/#form={everyone['form_id']}"))
        await outsider.ok("PUT", f"{everyone_url}/answer", {"answers": answer})
        other = await b1.create_room()
        t.assertErrcode(
            await creator.request("POST", share, {"room_id": other}), 403, "M_FORBIDDEN"
        )
        t.assertErrcode(
            await creator.request("POST", share, {"room_id": "lobby"}),
            400,
            "M_INVALID_PARAM",
        )
        t.assertErrcode(
            await outsider.request("POST", share, {"room_id": room_id}),
            403,
            "M_FORBIDDEN",
        )
        await t._audited(everyone["form_id"], "form_share_to_room", creator.user_id)

    # The form page

    async def test_officer_fills_the_form_page(self) -> None:
        from tests.harness.browser import browser_page, require_browser, screenshot

        require_browser()
        t: Any = self
        alice, bob = t.user("alice"), t.user("bob")
        form = await self._form(alice, respondents={"users": [bob.user_id]})
        form_id = form["form_id"]
        await alice.ok("POST", f"{FORMS}/{form_id}/publish", {})
        url = f"{t.server.base_url}/_jwwx/docs/form/#form={quote(form_id)}"

        def fill() -> list[str]:
            with browser_page() as page:
                page.set_viewport_size({"width": 390, "height": 844})  # a phone
                _sign_in(page, bob, url)
                page.wait_for_selector("form.answer h1:has-text('值班情况收集')")
                page.fill("[name=name]", "李四")
                page.fill("[name=count]", "120")
                page.check("[name=shift][value=白班]")
                page.check("[name=gear][value=执法记录仪]")
                page.fill("[name=day]", "2026-12-05")
                page.click("form.answer button[type=submit]")
                # The server refuses 120 (at most 100): its message, nothing stored.
                page.wait_for_selector(".error:has-text('出警次数')")
                page.fill("[name=count]", "12")
                page.click("form.answer button[type=submit]")
                page.wait_for_selector(".done")
                screenshot(page, "docs-form-filled")
                return list(page.errors)

        t.assertEqual(await threads.deferToThread(fill), [])

        def review() -> list[str]:  # the creator's panel on the same page
            with browser_page() as page:
                _sign_in(page, alice, url)
                page.wait_for_selector(".results .totals[data-answered='1']")
                page.wait_for_selector(".results .summary:has-text('白班 1')")
                page.click(".results button.remind")
                page.wait_for_selector(".results .note:has-text('已提醒 0 人')")
                with page.expect_download() as download:
                    page.click(".results button.export")
                assert download.value.suggested_filename == "值班情况收集.xlsx"
                page.click(".results button.to-sheet")
                page.wait_for_selector(".results a.sheet-link")
                screenshot(page, "docs-form-results")
                return list(page.errors)

        t.assertEqual(await threads.deferToThread(review), [])
        await t._audited(form_id, "form_to_sheet", alice.user_id)
        listed = await alice.ok("GET", f"{FORMS}/{form_id}/answers")
        t.assertEqual(
            listed["answers"][0]["answers"],
            {
                "name": "李四",
                "count": 12,
                "day": "2026-12-05",
                "shift": "白班",
                "gear": ["执法记录仪"],
            },
        )

    test_officer_fills_the_form_page.timeout = 360  # type: ignore


def _sign_in(page: Any, client: MatrixClient, url: str) -> None:
    """Open the page as this officer (the web client's session of the tab)."""
    session = {"token": client.token, "userId": client.user_id}
    page.add_init_script(
        f"sessionStorage.setItem('jwwx.web.session', {json.dumps(json.dumps(session))})"
    )
    page.goto(url)


class FormsSQLiteTest(FormTests, SQLiteCase):
    pass


class FormsPostgresTest(FormTests, PostgresCase):
    pass
