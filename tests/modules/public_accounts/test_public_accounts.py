# SPDX-License-Identifier: AGPL-3.0-or-later
"""Public accounts (公众号) over HTTP on both engines with real Matrix clients
(docs/pubaccounts.md): subscribers by department and by their own follow, the
read-only room and its history, preview, publish, the article page (sanitised body,
watermark, rights), edit after publish (m.replace), statistics and the XLSX export,
silent withdraw (redacted and purged, the page 410), unfollow, scheduled pushes, the
audit archive's app records (publish, edit, withdraw, every open), and what a page
costs the database (readers at the same moment share reads; images read nothing)."""

import io
import os
import re
import sqlite3
import time
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from twisted.internet import defer, reactor
from twisted.web.client import HTTPConnectionPool

import treq
from openpyxl import load_workbook

from tests.harness import postgres
from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import free_port
from tests.modules.openapi.helpers import (
    CORPID,
    DIRECTORY,
    create_app,
    enrol_officer,
    execute_sql,
    get_page,
    make_audit_admin,
    root_department,
    sleep,
    wait_account,
)

_POOL = HTTPConnectionPool(reactor, persistent=False)
PNG = bytes.fromhex(  # 1×1, red
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944"
    "4154789c6338c1c00000025c00c943c812460000000049454e44ae426082"
)
ADMIN = "/_jwwx/admin/v1/pubaccounts/accounts"
CLIENT = "/_jwwx/client/v1/pubaccounts"
CARD = "cn.jwwx.pubaccount"
EVIL = (
    "<h2>通报</h2><p onclick=\"steal()\">正文<script>alert('x')</script></p>"
    '<iframe src="https://evil.example/"></iframe><img src="a.png" onerror="alert(1)">'
    '<a href="javascript:alert(1)">点我</a><ul><li>要点</li></ul>'
)


def _cards(result: dict[str, Any], bot: str) -> list[dict[str, Any]]:
    """The bot's card events (room_id added) in one /sync answer."""
    found = []
    for room_id, room in result.get("rooms", {}).get("join", {}).items():
        for event in room.get("timeline", {}).get("events", []):
            if event.get("sender") == bot and CARD in event.get("content", {}):
                found.append({"room_id": room_id, **event})
    return found


async def _card(who: MatrixClient, bot: str, title: str) -> dict[str, Any]:
    """Long-poll until the officer's /sync shows a card with this title."""
    for _ in range(40):
        for event in _cards(await who.sync(timeout_ms=1000), bot):
            titles = [a["title"] for a in event["content"][CARD]["articles"]]
            if title in titles:
                return event
    raise AssertionError(f"{who.user_id} never got the card {title!r}")


async def _until_sent(editor: MatrixClient, base: str, push_id: int) -> None:
    """Until the push is marked sent (after its cards went out)."""
    state = ""
    for _ in range(900):
        pushes = (await editor.ok("GET", f"{base}/pushes"))["pushes"]
        state = next(p for p in pushes if p["id"] == push_id)["state"]
        if state == "sent":
            return
        await sleep(0.1)
    raise AssertionError(f"push {push_id} still {state}")


async def _page(who: MatrixClient, url_path: str) -> tuple[int, str]:
    status, body = await who.request("GET", url_path)
    return status, body if isinstance(body, str) else str(body)


class PublicAccountTests:
    module_config = {
        "modules.public_accounts.PublicAccountsModule": {
            "schedule_poll_seconds": 0.3,
            "sweep_interval_seconds": 0,
            "room_size": 2,
            # Long enough that a loaded machine does not see what a page keeps expire
            # within a test step; every write here is this process's (cleared at once).
            "page_cache_seconds": 60,
        },
        "modules.audit.AuditModule": {"poll_interval_seconds": 0.2},
    }

    _world: dict[str, Any] | None = None
    metrics_port = 0

    @classmethod
    def prepare_class(cls) -> None:
        cls.metrics_port = free_port()
        cls.init_args = ("--metrics-port", str(cls.metrics_port))

    async def _transactions(self, *descs: str) -> float:
        """Database transactions of these kinds so far (Synapse's metrics)."""
        url = f"http://127.0.0.1:{self.metrics_port}/_synapse/metrics"
        text = (await (await treq.get(url, persistent=False)).content()).decode()
        total = 0.0
        for line in text.splitlines():
            name, _, labels = line.partition("{")
            if name == "synapse_storage_transaction_time_count_total" and any(
                f'desc="{d}"' in labels.split("}")[0].split(",") for d in descs
            ):
                total += float(line.rsplit(" ", 1)[1])
        return total

    async def _setup(self) -> dict[str, Any]:
        """One account and its officers for the class (set up by its first test)."""
        world = type(self)._world
        if world is None:
            world = type(self)._world = await self._make_world()
        return world

    async def _make_world(self) -> dict[str, Any]:
        t: Any = self
        # The view links' signing key was read at start-up, before any page (session
        # 14: before, a process's first pages waited for its read and first write).
        t.assertEqual(await self._transactions("jwwx_pubacct_key"), 1)
        boss: MatrixClient = t.user("paboss", admin=True)
        tag = os.urandom(3).hex()
        unit = await root_department(boss, f"宣传处{tag}")
        elsewhere = await root_department(boss, f"后勤处{tag}")
        alice, bob, carol, editor = (t.user(p) for p in ("pa", "pa", "pa", "paed"))
        for officer in (alice, bob):
            await enrol_officer(boss, officer, unit)
        for officer in (carol, editor):
            await enrol_officer(boss, officer, elsewhere)
        account = await boss.ok(
            "POST",
            ADMIN,
            {
                "name": "市局发布",
                "description": "本局官方公众号",
                "editors": [editor.user_id[1:].split(":")[0]],
                "subscribers": {"department_ids": [unit]},
            },
        )
        base = f"{ADMIN}/{account['id']}"
        detail: dict[str, Any] = {}
        for _ in range(900):  # the rooms are filled in the background
            detail = await boss.ok("GET", base)
            if detail["subscriber_count"] == 2:
                break
            await sleep(0.1)
        t.assertEqual(detail["subscriber_count"], 2, detail)
        return {
            "boss": boss,
            "alice": alice,
            "bob": bob,
            "carol": carol,
            "editor": editor,
            "account": account,
            "base": base,
            "bot": account["bot_user_id"],
            "unit": unit,
        }

    async def test_publish_read_edit_withdraw(self) -> None:
        t: Any = self
        auditor: MatrixClient = t.user("paaudit")
        await make_audit_admin(t.server, auditor.user_id)
        s = await self._setup()
        boss, alice, bob, carol, editor = (
            s[k] for k in ("boss", "alice", "bob", "carol", "editor")
        )
        base, bot = s["base"], s["bot"]
        outsider: MatrixClient = t.user("paout")

        # Rights: an officer who is neither owner nor editor gets nothing.
        t.assertErrcode(
            await outsider.request("POST", f"{base}/articles", {"title": "x"}),
            403,
            "M_FORBIDDEN",
        )
        # The editor writes; the body is sanitised on the way in.
        article = await editor.ok(
            "POST",
            f"{base}/articles",
            {
                "title": "春季安全通报",
                "digest": "请各单位注意",
                "author": "宣传处",
                "body": EVIL,
            },
        )
        for gone in ("<script", "onclick", "onerror", "<iframe", "javascript:"):
            t.assertNotIn(gone, article["body"])
        t.assertIn("<h2>通报</h2>", article["body"])
        t.assertIn("<li>要点</li>", article["body"])
        # Bad input changes nothing.
        t.assertErrcode(
            await editor.request("POST", f"{base}/articles", {"title": "", "x": 1}),
            400,
            "M_INVALID_PARAM",
        )
        t.assertErrcode(
            await editor.request("POST", f"{base}/pushes", {"article_ids": [10**9]}),
            404,
            "CN_JWWX_PUBACCOUNT_ARTICLE_NOT_FOUND",
        )
        # Preview: the card to the editor alone, before publishing.
        preview = await editor.ok(
            "POST", f"{base}/articles/{article['id']}/preview", {}
        )
        card = await _card(editor, bot, "春季安全通报")
        t.assertTrue(card["content"][CARD]["preview"])
        t.assertEqual(card["event_id"], preview["event_id"])
        path = f"{CLIENT}/articles/{article['id']}"
        t.assertEqual((await _page(alice, path))[0], 404)  # a draft is not there yet

        # Publish: one card per room; officers cannot post there.
        push = await editor.ok(
            "POST", f"{base}/pushes", {"article_ids": [article["id"]]}
        )
        t.assertEqual((push["state"], push["delivered"]), ("sent", 2))
        got_a = await _card(alice, bot, "春季安全通报")
        got_b = await _card(bob, bot, "春季安全通报")
        t.assertFalse(got_a["content"][CARD]["preview"])
        t.assertEqual(got_a["content"][CARD]["push_id"], push["id"])
        t.assertIn(path, got_a["content"][CARD]["articles"][0]["url"])
        status, _ = await bob.send_text(got_b["room_id"], "收到")
        t.assertEqual(status, 403)

        # The page, with the officer's own token.
        status, html = await _page(alice, path)
        t.assertEqual(status, 200, html)
        t.assertIn("春季安全通报", html)
        t.assertIn("<h2>通报</h2>", html)
        for gone in ("onclick", "onerror", "<iframe", "javascript:", "alert("):
            t.assertNotIn(gone, html)
        t.assertIn(
            "data:image/svg+xml", html
        )  # the viewer's watermark (default policy)
        status, _ = await alice.request("GET", path, token="")
        t.assertEqual(status, 401)
        t.assertEqual((await _page(carol, path))[0], 403)  # not a subscriber
        # ?access_token= works where a web view cannot set headers.
        status, _ = await alice.request(
            "GET", f"{path}?access_token={quote(alice.token)}", token=""
        )
        t.assertEqual(status, 200)

        # Reading time through the page's signed link; a forged link is refused.
        report = re.search(r'"([^"]*read_time\?v=[^"]*)"', html)
        assert report is not None, html
        link = report.group(1).replace("\\u0026", "&")
        await alice.ok("POST", link, {"ms": 42000})
        forged = link[: link.index("v=") + 2] + "1.deadbeef.someone"
        t.assertEqual(
            (await alice.request("POST", forged, {"ms": 1}, token=""))[0], 403
        )

        # Carol follows: her room shows the account's history.
        await carol.ok("POST", f"{CLIENT}/{s['account']['id']}/follow", {})
        carol_card = await _card(carol, bot, "春季安全通报")
        status, _ = await _page(carol, path)
        t.assertEqual(status, 200)
        listing = await carol.ok("GET", CLIENT)
        mine = [a for a in listing["accounts"] if a["id"] == s["account"]["id"]]
        t.assertTrue(mine[0]["subscribed"])

        # Edit after publish: the page changes, the cards are replaced in place.
        edited = await editor.ok(
            "PUT", f"{base}/articles/{article['id']}", {"title": "春季安全通报（修订）"}
        )
        t.assertEqual(edited["state"], "published")
        replaced = await _card(alice, bot, "春季安全通报（修订）")
        t.assertEqual(
            replaced["content"]["m.relates_to"],
            {"rel_type": "m.replace", "event_id": got_a["event_id"]},
        )
        t.assertIn("春季安全通报（修订）", (await _page(alice, path))[1])

        # Statistics: delivered at push time, unique openers, reading time, per unit.
        stats = await boss.ok("GET", f"{base}/statistics")
        row = stats["articles"][0]
        t.assertEqual(
            (row["delivered"], row["opened"], row["opens"], row["read_ms"]),
            (2, 2, 4, 42000),
        )
        units = {u["unit_id"]: u for u in row["units"]}
        t.assertEqual(units[s["unit"]]["opened"], 1)
        t.assertEqual(units[s["unit"]]["subscribers"], 2)
        t.assertEqual(stats["subscribers"], 3)
        book = load_workbook(io.BytesIO(await _bytes(boss, f"{base}/statistics.xlsx")))
        sheet = book["文章"]
        t.assertEqual(sheet.cell(2, 2).value, "春季安全通报（修订）")
        t.assertEqual((sheet.cell(2, 4).value, sheet.cell(2, 5).value), (2, 2))

        # Silent withdraw: the cards and edits are redacted everywhere and purged,
        # the page answers 410, no notice is sent.
        withdrawn = await editor.ok("POST", f"{base}/pushes/{push['id']}/withdraw", {})
        t.assertEqual(withdrawn["events_removed"], 4)  # 2 cards + 2 edits (2 rooms)
        t.assertEqual(withdrawn["events_pending"], 0)
        t.assertEqual((await _page(alice, path))[0], 410)
        for who, room in ((alice, got_a["room_id"]), (carol, carol_card["room_id"])):
            events = await who.messages(room)
            messages = [e for e in events if e["type"] == "m.room.message"]
            t.assertTrue(messages)
            for event in messages:  # every copy is there only as a redacted shell
                t.assertEqual(event["content"], {})
        copies = [got_a["event_id"], replaced["event_id"], carol_card["event_id"]]
        stored = _stored_json(t.server, copies)
        t.assertEqual(len(stored), 3)
        for text in stored:  # purged: the content is gone from the database too
            t.assertNotIn("春季安全通报", text)
        t.assertErrcode(
            await editor.request("POST", f"{base}/pushes/{push['id']}/withdraw", {}),
            409,
            "CN_JWWX_PUBACCOUNT_WRONG_STATE",
        )

        # Unfollow: Bob leaves the account's room.
        await bob.ok("POST", f"{CLIENT}/{s['account']['id']}/unfollow", {})
        for _ in range(900):
            detail = await boss.ok("GET", base)
            if detail["subscriber_count"] == 2:
                break
            await sleep(0.1)
        t.assertEqual(detail["subscriber_count"], 2)

        # The audit archive: publish, edit and withdraw records, and every open.
        wanted = {"publish", "edit", "withdraw"}
        records: list[dict[str, Any]] = []
        for _ in range(900):
            page = await auditor.ok(
                "GET", "/_jwwx/admin/v1/audit/export/app?after_seq=0&limit=500"
            )
            records = [
                r["record"]
                for r in page["records"]
                if r["record"].get("app_id") == f"pubaccount:{s['account']['id']}"
            ]
            actions = {
                r["content"]["action"] for r in records if r["event"] == "message"
            }
            reads = [r for r in records if r["event"] == "read"]
            # one record per officer and article among opens written together
            opens = sum(r.get("opens", 1) for r in reads)
            if wanted <= actions and opens >= 4:
                break
            await sleep(0.1)
        t.assertEqual(actions, wanted)
        t.assertEqual(opens, 4)
        t.assertEqual({r["msgid"] for r in reads}, {f"article:{article['id']}"})

    async def test_scheduled_push_and_owner_rights(self) -> None:
        t: Any = self
        s = await self._setup()
        boss, alice, editor = s["boss"], s["alice"], s["editor"]
        base, bot = s["base"], s["bot"]
        first = await editor.ok("POST", f"{base}/articles", {"title": "定时一"})
        second = await editor.ok("POST", f"{base}/articles", {"title": "定时二"})
        now = _now_ms()
        push = await editor.ok(
            "POST",
            f"{base}/pushes",
            {"article_ids": [first["id"], second["id"]], "publish_at": now + 1500},
        )
        t.assertEqual(push["state"], "scheduled")
        t.assertErrcode(  # the articles are taken
            await editor.request(
                "POST", f"{base}/pushes", {"article_ids": [first["id"]]}
            ),
            409,
            "CN_JWWX_PUBACCOUNT_WRONG_STATE",
        )
        card = await _card(alice, bot, "定时二")
        t.assertEqual(
            [a["title"] for a in card["content"][CARD]["articles"]],
            ["定时一", "定时二"],
        )
        await _until_sent(editor, base, push["id"])  # marked after its cards went out
        # A push far ahead can be called off: its article is a draft again.
        third = await editor.ok("POST", f"{base}/articles", {"title": "取消的"})
        later = await editor.ok(
            "POST",
            f"{base}/pushes",
            {"article_ids": [third["id"]], "publish_at": now + 3600_000},
        )
        await editor.ok("DELETE", f"{base}/pushes/{later['id']}")
        again = await editor.ok("GET", f"{base}/articles/{third['id']}")
        t.assertEqual((again["state"], again["push_id"]), ("draft", None))
        await editor.ok("DELETE", f"{base}/articles/{third['id']}")
        # Editors cannot change the account; owners only name, description, editors.
        t.assertEqual((await editor.request("PUT", base, {"name": "改名"}))[0], 403)
        owner: MatrixClient = t.user("paowner")
        await enrol_officer(boss, owner, s["unit"])
        owner_id = owner.user_id[1:].split(":")[0]
        await boss.ok("PUT", base, {"owners": [owner_id]})
        await owner.ok("PUT", base, {"description": "新的介绍"})
        t.assertErrcode(
            await owner.request("PUT", base, {"subscribers": {"everyone": True}}),
            400,
            "M_INVALID_PARAM",
        )
        listed = await owner.ok("GET", ADMIN)
        t.assertEqual([a["role"] for a in listed["accounts"]], ["owner"])
        # An unknown department is refused and nothing changes.
        t.assertErrcode(
            await boss.request(
                "PUT", base, {"subscribers": {"department_ids": [99999]}}
            ),
            400,
            "M_INVALID_PARAM",
        )
        t.assertEqual(
            (await boss.ok("GET", base))["subscribers"]["department_ids"], [s["unit"]]
        )
        # A scoped admin who creates an account can manage it at once: its group
        # is given the account (as for open-API apps).
        scoped: MatrixClient = t.user("paadmin")
        group = await boss.ok(
            "POST",
            "/_jwwx/admin/v1/admins/groups",
            {
                "name": f"宣传管理组{os.urandom(3).hex()}",
                "members": [scoped.user_id],
                "scope": [s["unit"]],
                "rights": ["apps.create", "apps.manage"],
            },
        )
        created = await scoped.ok(
            "POST",
            ADMIN,
            {"name": "分局发布", "subscribers": {"department_ids": [s["unit"]]}},
        )
        t.assertEqual(created["admin_groups"], [group["id"]])
        await scoped.ok("PUT", f"{ADMIN}/{created['id']}", {"description": "分局的号"})

    async def test_withdraw_interrupted_is_finished_by_the_scheduler(self) -> None:
        """A withdraw marked in the database whose redactions never ran (the process
        died right after, or every redaction failed) is finished by the scheduler:
        the copies are redacted, nothing is left behind."""
        t: Any = self
        s = await self._setup()
        alice, editor, base, bot = s["alice"], s["editor"], s["base"], s["bot"]
        article = await editor.ok("POST", f"{base}/articles", {"title": "中断撤回"})
        push = await editor.ok(
            "POST", f"{base}/pushes", {"article_ids": [article["id"]]}
        )
        card = await _card(alice, bot, "中断撤回")
        await _until_sent(editor, base, push["id"])
        # What the withdraw's first transaction leaves, and nothing after it.
        execute_sql(
            t.server,
            "UPDATE jwwx_pubacct_pushes SET state = 'withdrawn', removal_pending = 1"
            " WHERE id = ?",
            (push["id"],),
        )
        execute_sql(
            t.server,
            "UPDATE jwwx_pubacct_articles SET state = 'withdrawn' WHERE id = ?",
            (article["id"],),
        )
        content: dict[str, Any] = {"body": "not yet"}
        for _ in range(450):
            events = await alice.messages(card["room_id"])
            content = next(e for e in events if e["event_id"] == card["event_id"])[
                "content"
            ]
            if not content:
                break
            await sleep(0.2)
        t.assertEqual(content, {})  # redacted by the scheduler's retry
        stored = _stored_json(t.server, [card["event_id"]])
        t.assertNotIn("中断撤回", stored[0])  # and purged
        t.assertErrcode(
            await editor.request("POST", f"{base}/pushes/{push['id']}/withdraw", {}),
            409,
            "CN_JWWX_PUBACCOUNT_WRONG_STATE",
        )

    async def test_withdraw_asked_at_once_is_done_once(self) -> None:
        """Withdraws of one push at the same moment (a double click, a client's retry
        while the first still runs, two editors): one withdraws, the others answer
        409, and each copy is redacted once: its officers see one redaction."""
        t: Any = self
        s = await self._setup()
        alice, editor, base, bot = s["alice"], s["editor"], s["base"], s["bot"]
        article = await editor.ok("POST", f"{base}/articles", {"title": "一次撤回"})
        push = await editor.ok(
            "POST", f"{base}/pushes", {"article_ids": [article["id"]]}
        )
        card = await _card(alice, bot, "一次撤回")
        await _until_sent(editor, base, push["id"])
        path = f"{base}/pushes/{push['id']}/withdraw"
        answers = await defer.gatherResults(
            [defer.ensureDeferred(editor.request("POST", path, {})) for _ in range(4)],
            consumeErrors=True,
        )
        t.assertEqual(sorted(status for status, _ in answers), [200, 409, 409, 409])
        redactions: list[dict[str, Any]] = []
        for _ in range(100):
            redactions = [
                e
                for e in await alice.messages(card["room_id"])
                if e["type"] == "m.room.redaction"
                and (e.get("redacts") or e["content"].get("redacts"))
                == card["event_id"]
            ]
            if redactions:
                break
            await sleep(0.1)
        t.assertEqual(len(redactions), 1, redactions)

    async def _metric(self, name: str) -> float:
        """A label-less counter's value (Synapse's metrics)."""
        url = f"http://127.0.0.1:{self.metrics_port}/_synapse/metrics"
        text = (await (await treq.get(url, persistent=False)).content()).decode()
        values = [
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(f"{name} ")
        ]
        return values[0] if values else 0.0

    async def test_x_first_pages_render_once(self) -> None:
        """Viewers opening an article's page for the first time at the same moment
        share one render of it (session 14: each first page rendered the template, 50
        renders in a burst), each page still with its viewer's own link token and
        watermark, escaped as the template escapes them (a directory name with < & and
        quotes); an edit renders the page anew, a withdraw answers 410."""
        t: Any = self
        s = await self._setup()
        editor, base, bot = s["editor"], s["base"], s["bot"]
        readers = [t.user("parender") for _ in range(5)]
        odd = "A<b>&\"c'd"
        # Officers of a unit the account does not reach, who follow it; the first
        # one's directory name (the watermark's) has < & and quotes.
        boss = s["boss"]
        unit = await root_department(boss, f"渲染处{os.urandom(3).hex()}")
        for n, reader in enumerate(readers):
            localpart = reader.user_id[1:].split(":")[0]
            name = odd if n == 0 else "警员"
            member = {"userid": localpart, "name": name, "department": [unit]}
            await boss.ok("POST", f"{DIRECTORY}/members", member)
            await wait_account(boss, localpart)
        for reader in readers:
            await reader.ok("POST", f"{CLIENT}/{s['account']['id']}/follow", {})
        article = await editor.ok(
            "POST", f"{base}/articles", {"title": "一次渲染", "body": "<p>正文</p>"}
        )
        push = await editor.ok(
            "POST", f"{base}/pushes", {"article_ids": [article["id"]]}
        )
        for reader in readers:
            await _card(reader, bot, "一次渲染")
        path = f"{CLIENT}/articles/{article['id']}"
        renders = "jwwx_pubacct_page_renders_total"
        before = await self._metric(renders)
        pages = await defer.gatherResults(
            [defer.ensureDeferred(_page(who, path)) for who in readers]
        )
        t.assertEqual([status for status, _ in pages], [200] * len(readers))
        # One render for all five (before: five, one per viewer's first page).
        t.assertEqual(await self._metric(renders) - before, 1)
        for who, (_, html) in zip(readers, pages, strict=True):
            localpart = who.user_id[1:].split(":")[0]
            report = re.search(r'var shown = [^;]*url = "([^"]*)"', html)
            assert report is not None, html
            t.assertTrue(report.group(1).endswith(quote(f".{localpart}")), html)
            tile = re.search(r'url\("(data:image/svg\+xml[^"]*)"\)', html)
            assert tile is not None, html
            t.assertIn(localpart, unquote(tile.group(1)))
        # The odd name: escaped inside the tile, then the tile URL-quoted (a page
        # holds no < & or quote of it outside the tile's quoting).
        tile = unquote(re.findall(r'url\("([^"]*)"\)', pages[0][1])[0])
        t.assertIn(">A&lt;b&gt;&amp;&quot;c&#x27;d ", tile)
        t.assertNotIn(odd, pages[0][1])
        t.assertNotIn("A<b>", pages[0][1])

        # Pages differ in the viewer's parts only: with those taken out, one text.
        def common(html: str) -> str:
            html = re.sub(r'nonce="[^"]*"', "", html)
            html = re.sub(r'url\("[^"]*"\)', "", html)
            return re.sub(r'url = "[^"]*"', "", html)

        t.assertEqual(len({common(html) for _, html in pages}), 1)

        # An edit: the page renders anew and shows it.
        await editor.ok(
            "PUT", f"{base}/articles/{article['id']}", {"title": "二次渲染"}
        )
        before = await self._metric(renders)
        status, html = await _page(readers[1], path)
        t.assertEqual(status, 200)
        t.assertIn("二次渲染", html)
        t.assertNotIn("一次渲染", html)
        t.assertEqual(await self._metric(renders) - before, 1)
        await editor.ok("POST", f"{base}/pushes/{push['id']}/withdraw", {})
        t.assertEqual((await _page(readers[2], path))[0], 410)

    async def test_y_page_reads_shared_and_media_kept(self) -> None:
        """Readers opening an article at
        the same moment share the page's database reads (one transaction for those
        who arrive while one runs) and the watermark's name lookup; the page's images
        read the database once, not twice per image; a withdraw answers 410 at once,
        images included."""
        t: Any = self
        s = await self._setup()
        alice, carol, editor = s["alice"], s["carol"], s["editor"]
        base, bot = s["base"], s["bot"]
        await carol.ok("POST", f"{CLIENT}/{s['account']['id']}/follow", {})
        status, uploaded = await editor.request(
            "POST",
            "/_matrix/media/v3/upload?filename=cover.png",
            raw=PNG,
            content_type="image/png",
        )
        t.assertEqual(status, 200, uploaded)
        mxc = uploaded["content_uri"]
        article = await editor.ok(
            "POST",
            f"{base}/articles",
            {"title": "同时阅读", "cover": mxc, "body": f'<p><img src="{mxc}"></p>'},
        )
        push = await editor.ok(
            "POST", f"{base}/pushes", {"article_ids": [article["id"]]}
        )
        for reader in (alice, carol):  # both subscribers by now
            await _card(reader, bot, "同时阅读")
        path = f"{CLIENT}/articles/{article['id']}"
        kinds = ("jwwx_pubacct_page", "jwwx_watermark_directory_names")
        before = await self._transactions(*kinds)
        keys_before = await self._transactions("jwwx_pubacct_key")
        opens = [_page(who, path) for who in (alice, carol) for _ in range(8)]
        pages = await defer.gatherResults([defer.ensureDeferred(o) for o in opens])
        t.assertEqual([status for status, _ in pages], [200] * 16)
        spent = await self._transactions(*kinds) - before
        # Each viewer's opens fall into at most two shared reads of each kind (the
        # one its first open joined, and the next; later opens find it kept): at
        # most 2 × 2 viewers × 2 kinds. Before, every open found nothing: up to 32.
        t.assertGreaterEqual(spent, 2)
        t.assertLessEqual(spent, 8, spent)
        # The view links' signing key is read at start-up (session 13: each open
        # that found it unset read and wrote it; then shared): no page reads it.
        keys = await self._transactions("jwwx_pubacct_key") - keys_before
        t.assertEqual(keys, 0)

        html = pages[0][1]
        links = re.findall(
            r'(/_jwwx/client/v1/pubaccounts/articles/[^"]*/media/[^"]*)', html
        )
        t.assertEqual(len(links), 2, html)  # the cover and the body's image
        link = links[0].replace("&amp;", "&")
        reads = ("jwwx_pubacct_page_article", "get_local_media")
        before = await self._transactions(*reads)
        for _ in range(5):
            status, body = await alice.request("GET", link, token="")
            t.assertEqual(status, 200, body)
        t.assertLessEqual(await self._transactions(*reads) - before, 1)

        await editor.ok("POST", f"{base}/pushes/{push['id']}/withdraw", {})
        t.assertEqual((await _page(alice, path))[0], 410)
        t.assertEqual((await alice.request("GET", link, token=""))[0], 410)

    async def test_y_opens_of_a_burst_each_counted(self) -> None:
        """Opens queued together are written per officer and article (one row's
        count raised by its opens) and archived as one audit read record per officer
        and article with its count of opens (`opens`), sealed in slices of
        `AUDIT_SLICE` (opens.py): every open counted, every one archived once."""
        t: Any = self
        s = await self._setup()
        boss, alice, carol, editor = s["boss"], s["alice"], s["carol"], s["editor"]
        base, bot = s["base"], s["bot"]
        auditor: MatrixClient = t.user("paaudit")
        await make_audit_admin(t.server, auditor.user_id)
        await carol.ok("POST", f"{CLIENT}/{s['account']['id']}/follow", {})
        article = await editor.ok("POST", f"{base}/articles", {"title": "连续阅读"})
        await editor.ok("POST", f"{base}/pushes", {"article_ids": [article["id"]]})
        for reader in (alice, carol):
            await _card(reader, bot, "连续阅读")
        path = f"{CLIENT}/articles/{article['id']}"
        each = 100  # 200 opens; the last 160, if in one batch, are two audit slices
        for wave in range(each // 20):
            burst = [_page(who, path) for who in (alice, carol) for _ in range(20)]
            pages = await defer.gatherResults([defer.ensureDeferred(o) for o in burst])
            t.assertEqual([status for status, _ in pages], [200] * 40)
            if wave == 0:  # statistics wait for the queue: the first burst's rows
                await boss.ok("GET", f"{base}/statistics")  # inserted, later raised
        stats = await boss.ok("GET", f"{base}/statistics")
        row = [r for r in stats["articles"] if r["article_id"] == article["id"]][0]
        t.assertEqual((row["opened"], row["opens"]), (2, 2 * each))
        reads: list[dict[str, Any]] = []
        after = 0  # the archive's app records, walked in pages of 500
        for _ in range(900):
            page = await auditor.ok(
                "GET", f"/_jwwx/admin/v1/audit/export/app?after_seq={after}&limit=500"
            )
            after = page["next_cursor"]
            reads += [
                r["record"]
                for r in page["records"]
                if r["record"].get("event") == "read"
                and r["record"].get("msgid") == f"article:{article['id']}"
            ]
            if sum(r.get("opens", 1) for r in reads) >= 2 * each:
                break
            if not page["records"]:
                await sleep(0.1)
        t.assertEqual(sum(r.get("opens", 1) for r in reads), 2 * each)
        t.assertEqual({r["user_id"] for r in reads}, {alice.user_id, carol.user_id})
        # 20 pages of each officer at once share a batch: fewer records than opens
        t.assertLess(len(reads), 2 * each)
        t.assertTrue(all(r["opens"] > 1 for r in reads if "opens" in r), reads)

    async def test_z_page_through_oauth2(self) -> None:
        """(Last: the first test counts the account's articles.) An app's web view without the officer's Matrix token opens the page through
        /connect/oauth2/authorize: the code the page receives is redeemed by the page,
        once; the officer is then the viewer, with the same rights."""
        t: Any = self
        s = await self._setup()
        boss, alice, bob, editor = s["boss"], s["alice"], s["bob"], s["editor"]
        base, bot = s["base"], s["bot"]
        article = await editor.ok("POST", f"{base}/articles", {"title": "授权阅读"})
        await editor.ok("POST", f"{base}/pushes", {"article_ids": [article["id"]]})
        card = await _card(alice, bot, "授权阅读")
        page_url = card["content"][CARD]["articles"][0]["url"]
        host = urlsplit(page_url).netloc
        readers = [who.user_id[1:].split(":")[0] for who in (alice, bob)]
        app = await create_app(
            boss,
            name="文章阅读",
            redirect_domain=host,
            visible_range={"userids": readers},
        )

        async def authorized(who: MatrixClient) -> str:
            query = urlencode(
                {
                    "appid": CORPID,
                    "redirect_uri": page_url,
                    "response_type": "code",
                    "scope": "snsapi_base",
                    "agentid": app["agentid"],
                    "state": "read",
                }
            )
            status, location, body = await get_page(
                t.server.base_url, f"/connect/oauth2/authorize?{query}", who.token
            )
            t.assertEqual(status, 302, body)
            assert location is not None
            return urlsplit(location).path + "?" + urlsplit(location).query

        landing = await authorized(alice)
        status, location, _ = await get_page(t.server.base_url, landing)
        t.assertEqual(status, 302)
        assert location is not None
        t.assertIn("?v=", location)
        status, _, html = await get_page(t.server.base_url, location)
        t.assertEqual(status, 200)
        t.assertIn("授权阅读", html)
        # The code is single use; a forged or another article's link is refused.
        t.assertEqual((await get_page(t.server.base_url, landing))[0], 403)
        forged = location.replace("?v=", "?v=1")
        t.assertEqual((await get_page(t.server.base_url, forged))[0], 403)
        other = location.replace(f"/{article['id']}?", f"/{article['id'] + 1}?")
        t.assertEqual((await get_page(t.server.base_url, other))[0], 403)
        # Bob unfollowed (the first test): the OAuth2 viewer has his token's rights.
        status, location, _ = await get_page(t.server.base_url, await authorized(bob))
        assert location is not None
        t.assertEqual((await get_page(t.server.base_url, location))[0], 403)


async def _bytes(client: MatrixClient, path: str) -> bytes:
    """A download's bytes (the harness client decodes non-JSON answers as text)."""
    response = await treq.get(
        client.base_url + path,
        headers={"Authorization": [f"Bearer {client.token}"]},
        pool=_POOL,
    )
    return bytes(await response.content())


def _now_ms() -> int:
    return int(time.time() * 1000)


def _stored_json(server: Any, event_ids: list[str]) -> list[str]:
    """The stored JSON (event_json) of these events, read from the database."""
    marks = ",".join("?" * len(event_ids))
    sql = f"SELECT json FROM event_json WHERE event_id IN ({marks})"
    if server.engine == "sqlite":
        conn = sqlite3.connect(server.data_dir / "homeserver.db", timeout=30)
        try:
            return [r[0] for r in conn.execute(sql, event_ids).fetchall()]
        finally:
            conn.close()
    pg = postgres.connect(server.pg_database)
    try:
        with pg.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), event_ids)
            return [r[0] for r in cur.fetchall()]
    finally:
        pg.close()


class PublicAccountSQLiteTest(PublicAccountTests, SQLiteCase):
    pass


class PublicAccountPostgresTest(PublicAccountTests, PostgresCase):
    pass
