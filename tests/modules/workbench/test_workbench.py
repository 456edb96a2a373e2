# SPDX-License-Identifier: AGPL-3.0-or-later
"""The workbench (工作台) over HTTP on both engines: officers see only the entries of
their range, grouped and searchable (pinyin too); a jump into an app carries an OAuth2
code the app redeems with /cgi-bin/auth/getuserinfo; a jump into another network zone
comes with the risk prompt; a public account's entry opens the officer's conversation
of it; a zone-II APP's entry its app link after the prompt; every jump is counted
(usage per entry and day); admins' writes are checked, scoped, and change nothing
when refused."""

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.modules.directory.helpers import department
from tests.modules.openapi.helpers import create_app, sleep, token_for, wecom

from ...admin_api.wiring import ADMINS, officer, unique

BENCH = "/_jwwx/client/v1/workbench"
ENTRIES = "/_jwwx/admin/v1/workbench/entries"
PUBACCOUNTS = "/_jwwx/admin/v1/pubaccounts/accounts"


class WorkbenchTests:
    user: Any
    anonymous: Any
    assertErrcode: Any
    assertEqual: Any
    assertIn: Any
    assertTrue: Any
    assertFalse: Any
    assertIsNone: Any
    assertGreaterEqual: Any

    async def _units(self) -> tuple[MatrixClient, int, int]:
        boss = self.user("wbboss", admin=True)
        root = await department(boss, unique("工作台市局"), None)
        east = await department(boss, unique("东城分局"), root)
        west = await department(boss, unique("西城分局"), root)
        return boss, east, west

    async def _entry(self, admin: MatrixClient, **fields: Any) -> dict[str, Any]:
        return dict(await admin.ok("POST", ENTRIES, fields))

    @staticmethod
    def _names(view: dict[str, Any]) -> set[str]:
        return {e["name"] for c in view["categories"] for e in c["entries"]}

    async def test_officers_see_their_entries_and_jump(self) -> None:
        boss, east, west = await self._units()
        easterner, east_userid = await officer(self, boss, [east])
        westerner, _ = await officer(self, boss, [west])
        app = await create_app(
            boss,
            name="警情通报",
            redirect_domain="h5.example.cn",
            visible_range={"department_ids": [east]},
        )
        notice = await self._entry(
            boss,
            name="警情通报",
            category="办公",
            url="https://h5.example.cn/notice?from=bench",
            agentid=app["agentid"],
            visible_range={"department_ids": [east]},
        )
        field = await self._entry(
            boss,
            name="移动执法",
            category="业务",
            url="https://zone2.example.cn/app",
            zone="external",
        )
        site = await self._entry(boss, name="内网门户", url="http://portal.example.cn/")
        off = await self._entry(
            boss, name="停用入口", url="http://old.example.cn/", enabled=False
        )
        # Everyone may see this one, but the app's own range is the east only.
        wide = await self._entry(
            boss,
            name="全员入口",
            url="https://h5.example.cn/all",
            agentid=app["agentid"],
        )

        east_view = await easterner.ok("GET", BENCH)
        self.assertEqual(
            self._names(east_view), {"警情通报", "移动执法", "内网门户", "全员入口"}
        )
        entries = {e["id"]: e for c in east_view["categories"] for e in c["entries"]}
        self.assertTrue(entries[notice["id"]]["jump_required"])
        self.assertEqual(entries[notice["id"]].get("url"), None)
        # An internal link opens at once; its jump (the use) answers its address too.
        self.assertFalse(entries[site["id"]]["jump_required"])
        self.assertEqual(entries[site["id"]]["url"], "http://portal.example.cn/")
        self.assertEqual(entries[site["id"]]["kind"], "link")
        self.assertEqual(entries[notice["id"]]["kind"], "app")
        portal = await easterner.ok("POST", f"{BENCH}/entries/{site['id']}/jump", {})
        self.assertEqual(portal["url"], "http://portal.example.cn/")
        self.assertIn("办公", [c["name"] for c in east_view["categories"]])
        west_view = await westerner.ok("GET", BENCH)
        self.assertEqual(self._names(west_view), {"移动执法", "内网门户", "全员入口"})

        # Search by substring, full pinyin and initials; never beyond the range.
        for query in ("警情", "jingqing", "jqtb"):
            found = await easterner.ok("GET", f"{BENCH}?q={query}")
            self.assertEqual(self._names(found), {"警情通报"}, query)
        self.assertEqual(
            self._names(await westerner.ok("GET", f"{BENCH}?q=jqtb")), set()
        )
        only = await easterner.ok("GET", f"{BENCH}?category=业务")
        self.assertEqual(self._names(only), {"移动执法"})

        # Into the app: a code the app turns into the officer, once.
        jump = await easterner.ok("POST", f"{BENCH}/entries/{notice['id']}/jump", {})
        self.assertFalse(jump["confirm_required"])
        self.assertIsNone(jump["prompt"])
        parts = urlsplit(jump["url"])
        query = dict(parse_qsl(parts.query))
        self.assertEqual((parts.netloc, parts.path), ("h5.example.cn", "/notice"))
        self.assertEqual((query["from"], query["state"]), ("bench", "workbench"))
        client = self.anonymous()
        token = await token_for(client, app["secret"])
        info = await wecom(client, "auth/getuserinfo", token, code=query["code"])
        self.assertEqual((info["errcode"], info.get("userid")), (0, east_userid), info)
        again = await wecom(client, "auth/getuserinfo", token, code=query["code"])
        self.assertEqual(again["errcode"], 40029)

        # Another network zone: the prompt, and the address only after it.
        out = await easterner.ok("POST", f"{BENCH}/entries/{field['id']}/jump", {})
        self.assertTrue(out["confirm_required"])
        self.assertIn("网络区域", out["prompt"])
        self.assertEqual(out["url"], "https://zone2.example.cn/app")

        # Not there for this officer: outside the range, disabled, unknown.
        for entry_id in (notice["id"], off["id"], 999999):
            self.assertErrcode(
                await westerner.request("POST", f"{BENCH}/entries/{entry_id}/jump", {}),
                404,
                "M_NOT_FOUND",
            )
        # The entry is for everyone, the app is not: the app's range wins.
        self.assertErrcode(
            await westerner.request("POST", f"{BENCH}/entries/{wide['id']}/jump", {}),
            403,
            "CN_JWWX_WORKBENCH_JUMP_REFUSED",
        )
        self.assertErrcode(
            await westerner.request("POST", f"{BENCH}/entries/abc/jump", {}),
            400,
            "M_INVALID_PARAM",
        )
        self.assertErrcode(
            await self.anonymous().request("GET", BENCH), 401, "M_MISSING_TOKEN"
        )

        # An admin's change shows at once; a deleted entry is gone.
        await boss.ok("PUT", f"{ENTRIES}/{site['id']}", {"name": "新门户"})
        await boss.ok("DELETE", f"{ENTRIES}/{field['id']}")
        self.assertEqual(
            self._names(await westerner.ok("GET", BENCH)), {"新门户", "全员入口"}
        )

    async def test_admin_input_and_scope(self) -> None:
        boss, east, west = await self._units()
        app = await create_app(boss, name="核录", redirect_domain="hl.example.cn")
        url = "https://hl.example.cn/"
        before = await boss.ok("GET", ENTRIES)
        for body in (
            {"url": url},
            {"name": "甲"},
            {"name": "甲", "url": "javascript:alert(1)"},
            {"name": "甲", "url": "https://a b.example.cn/"},
            {"name": "甲", "url": url, "zone": "zone3"},
            {"name": "甲", "url": url, "visible_range": {}},
            {"name": "甲", "url": url, "visible_range": {"department_ids": [999999]}},
            {"name": "甲", "url": url, "visible_range": {"userids": ["nobody-x"]}},
            {"name": "甲", "url": url, "visible_range": {"roles": [1]}},
            {"name": "甲", "url": url, "visible_range": {"department_ids": ["1"]}},
            {"name": "甲", "url": url, "colour": "red"},
            {"name": "甲", "url": url, "icon": "http://x.example.cn/i.png"},
            {"name": "甲", "url": url, "position": -1},
            {"name": "甲", "url": url, "enabled": "yes"},
            {"name": "名" * 33, "url": url},
            {
                "name": "甲",
                "url": "https://other.example.cn/",
                "agentid": app["agentid"],
            },
            {"name": "甲", "url": url, "agentid": 987654321},
        ):
            status, answer = await boss.request("POST", ENTRIES, body)
            self.assertEqual(
                (status, answer.get("errcode")), (400, "M_INVALID_PARAM"), body
            )
        self.assertEqual(await boss.ok("GET", ENTRIES), before)
        self.assertErrcode(
            await boss.request("PUT", f"{ENTRIES}/999999", {"name": "乙"}),
            404,
            "M_NOT_FOUND",
        )

        # An admin of the east with the workbench right and no apps.
        east_admin = self.user("wbadmin")
        await boss.ok(
            "POST",
            f"{ADMINS}/groups",
            {
                "name": unique("东城工作台管理组"),
                "members": [east_admin.user_id],
                "scope": [east],
                "rights": ["apps.workbench"],
            },
        )
        mine = await self._entry(
            east_admin,
            name="东城考勤",
            url="https://kq.example.cn/",
            visible_range={"department_ids": [east]},
        )
        theirs = await self._entry(
            boss,
            name="西城考勤",
            url="https://kq.example.cn/w",
            visible_range={"department_ids": [west]},
        )
        for body in (
            {"name": "全员", "url": url},
            {"name": "西城", "url": url, "visible_range": {"department_ids": [west]}},
            {
                "name": "应用",
                "url": url,
                "agentid": app["agentid"],
                "visible_range": {"department_ids": [east]},
            },
        ):
            self.assertErrcode(
                await east_admin.request("POST", ENTRIES, body),
                403,
                "CN_JWWX_ADMIN_SCOPE",
            )
        listed = await east_admin.ok("GET", ENTRIES)
        self.assertEqual([e["id"] for e in listed["entries"]], [mine["id"]])
        self.assertErrcode(
            await east_admin.request(
                "PUT",
                f"{ENTRIES}/{mine['id']}",
                {"visible_range": {"department_ids": [west]}},
            ),
            403,
            "CN_JWWX_ADMIN_SCOPE",
        )
        for method in ("GET", "DELETE"):
            self.assertErrcode(
                await east_admin.request(method, f"{ENTRIES}/{theirs['id']}"),
                403,
                "CN_JWWX_ADMIN_SCOPE",
            )
        unchanged = await boss.ok("GET", f"{ENTRIES}/{mine['id']}")
        self.assertEqual(unchanged["visible_range"]["department_ids"], [east])
        self.assertErrcode(
            await self.user("wbofficer").request("GET", ENTRIES), 403, "M_FORBIDDEN"
        )

    async def test_public_account_and_zone2_entries_and_usage(self) -> None:
        boss, east, west = await self._units()
        easterner, _ = await officer(self, boss, [east])
        westerner, _ = await officer(self, boss, [west])
        account = await boss.ok(
            "POST",
            PUBACCOUNTS,
            {"name": unique("东城发布"), "subscribers": {"department_ids": [east]}},
        )
        news = await self._entry(
            boss,
            name="东城发布",
            kind="pubaccount",
            pubaccount_id=account["id"],
            visible_range={"department_ids": [east]},
        )
        self.assertEqual((news["url"], news["zone"]), ("", "internal"))
        launch = "jwapp://case/open?page=todo"
        zone2 = await self._entry(boss, name="移动办案", kind="zone2_app", url=launch)
        self.assertEqual(zone2["zone"], "external")  # always behind the prompt
        for body in (
            {"name": "甲", "kind": "pubaccount"},
            {"name": "甲", "kind": "pubaccount", "pubaccount_id": 987654321},
            {"name": "甲", "kind": "zone2_app", "url": "javascript:alert(1)"},
            {"name": "甲", "kind": "zone2_app", "url": "data:text/html,x"},
            {"name": "甲", "kind": "zone2_app", "url": "jwapp:"},
            {"name": "甲", "kind": "app", "url": "https://a.example.cn/"},
            {"name": "甲", "kind": "robot", "url": "https://a.example.cn/"},
            {"name": "甲", "url": "jwapp://case/open"},  # a link is http(s)
            {"name": "甲", "url": "https://a.example.cn/", "pubaccount_id": 1},
        ):
            status, answer = await boss.request("POST", ENTRIES, body)
            self.assertEqual(
                (status, answer.get("errcode")), (400, "M_INVALID_PARAM"), body
            )

        # The account's entry opens the officer's conversation (once he is placed).
        found: dict[str, Any] = {}
        for _ in range(450):
            jump = await easterner.ok("POST", f"{BENCH}/entries/{news['id']}/jump", {})
            found = jump["pubaccount"]
            if found["room_id"]:
                break
            await sleep(0.2)
        self.assertEqual((jump["kind"], jump["url"]), ("pubaccount", None))
        self.assertEqual(found["pubaccount_id"], account["id"])
        self.assertTrue(found["subscribed"])
        joined = await easterner.ok("GET", "/_matrix/client/v3/joined_rooms")
        self.assertIn(found["room_id"], joined["joined_rooms"])
        # The zone-II APP: its app link, after the prompt.
        out = await westerner.ok("POST", f"{BENCH}/entries/{zone2['id']}/jump", {})
        self.assertEqual((out["kind"], out["url"]), ("zone2_app", launch))
        self.assertTrue(out["confirm_required"])
        self.assertIn("网络区域", out["prompt"])
        await easterner.ok("POST", f"{BENCH}/entries/{zone2['id']}/jump", {})
        await easterner.ok("POST", f"{BENCH}/entries/{zone2['id']}/jump", {})

        # Usage: opens and distinct officers per entry and day.
        used = await boss.ok("GET", f"{ENTRIES}/{zone2['id']}/statistics?days=7")
        self.assertEqual((used["opens"], used["officers"]), (3, 2), used)
        self.assertEqual(used["days"], [{"day": used["to"], "opens": 3, "officers": 2}])
        every = await boss.ok("GET", "/_jwwx/admin/v1/workbench/statistics")
        rows = {e["id"]: e for e in every["entries"]}
        self.assertEqual(rows[zone2["id"]]["opens"], 3)
        self.assertEqual(rows[news["id"]]["officers"], 1)
        self.assertGreaterEqual(rows[news["id"]]["opens"], 1)
        self.assertErrcode(
            await boss.request("GET", f"{ENTRIES}/{zone2['id']}/statistics?days=0"),
            400,
            "M_INVALID_PARAM",
        )
        self.assertErrcode(
            await westerner.request("GET", f"{ENTRIES}/{zone2['id']}/statistics"),
            403,
            "M_FORBIDDEN",
        )


class WorkbenchSQLiteTest(WorkbenchTests, SQLiteCase):
    pass


class WorkbenchPostgresTest(WorkbenchTests, PostgresCase):
    pass
