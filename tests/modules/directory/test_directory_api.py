# SPDX-License-Identifier: AGPL-3.0-or-later
"""The directory end to end: tree, members, visibility on every read path, search."""

import itertools
from typing import Any
from urllib.parse import quote

from twisted.internet import defer, reactor, task

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.modules.directory.helpers import ADMIN, CLIENT, department, member

_names = itertools.count(1)


def _sleep(seconds: float) -> Any:
    return task.deferLater(reactor, seconds, lambda: None)


def _unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


class DirectoryTests:
    async def _admin(self) -> MatrixClient:
        return self.user("diradmin", admin=True)

    async def _officer(
        self, admin: MatrixClient, name: str, departments: list[int], **extra: Any
    ) -> MatrixClient:
        """A Matrix user who is also a directory member (same localpart)."""
        client = self.user("officer")
        userid = client.user_id[1:].split(":")[0]
        await member(admin, userid, name, departments, **extra)
        return client

    async def test_tree_depth_move_cycle_and_counts(self) -> None:
        admin = await self._admin()
        root = await department(admin, _unique("市局"), None)
        chain = [root]
        for level in range(8):
            chain.append(await department(admin, f"第{level + 1}级", chain[-1]))
        deepest = chain[-1]
        await self._officer(admin, "甲", [deepest])
        await self._officer(admin, "乙", [chain[3]])
        details = await admin.ok("GET", f"{ADMIN}/departments/{root}")
        self.assertEqual(details["total_member_count"], 2)
        self.assertEqual(details["member_count"], 0)
        deep = await admin.ok("GET", f"{ADMIN}/departments/{deepest}")
        self.assertEqual([p["id"] for p in deep["path"]], chain[:-1])
        self.assertEqual(deep["member_count"], 1)
        # Moving a department under its own descendant is refused and changes nothing.
        answer = await admin.request(
            "PUT", f"{ADMIN}/departments/{chain[2]}", {"parent_id": chain[5]}
        )
        body = self.assertErrcode(answer, 400, "CN_JWWX_DEPARTMENT_CYCLE")
        self.assertEqual(body["wecom_errcode"], 60010)
        self.assertErrcode(
            await admin.request(
                "PUT", f"{ADMIN}/departments/{chain[2]}", {"parent_id": chain[2]}
            ),
            400,
            "CN_JWWX_DEPARTMENT_CYCLE",
        )
        # A real move carries the subtree and its counts.
        other = await department(admin, _unique("分局"), None)
        await admin.ok("PUT", f"{ADMIN}/departments/{chain[4]}", {"parent_id": other})
        self.assertEqual(
            (await admin.ok("GET", f"{ADMIN}/departments/{root}"))[
                "total_member_count"
            ],
            1,
        )
        self.assertEqual(
            (await admin.ok("GET", f"{ADMIN}/departments/{other}"))[
                "total_member_count"
            ],
            1,
        )
        moved = await admin.ok("GET", f"{ADMIN}/departments/{deepest}")
        self.assertEqual([p["id"] for p in moved["path"]], [other, *chain[4:-1]])
        # Sibling names are unique; non-empty departments cannot be deleted.
        self.assertErrcode(
            await admin.request(
                "POST", f"{ADMIN}/departments", {"name": "第1级", "parent_id": root}
            ),
            409,
            "CN_JWWX_DEPARTMENT_EXISTS",
        )
        self.assertErrcode(
            await admin.request("DELETE", f"{ADMIN}/departments/{other}"),
            400,
            "CN_JWWX_DEPARTMENT_HAS_CHILDREN",
        )
        self.assertErrcode(
            await admin.request("DELETE", f"{ADMIN}/departments/{chain[3]}"),
            400,
            "CN_JWWX_DEPARTMENT_HAS_MEMBERS",
        )
        empty = await department(admin, "空部门", root)
        await admin.ok("DELETE", f"{ADMIN}/departments/{empty}")
        self.assertErrcode(
            await admin.request("GET", f"{ADMIN}/departments/{empty}"),
            404,
            "CN_JWWX_DEPARTMENT_NOT_FOUND",
        )

    async def test_counts_follow_each_member_change(self) -> None:
        """Member counts move by the member's change alone (no recount of the tree):
        two departments in one subtree count once, disabled and hidden members not."""
        admin = await self._admin()
        root = await department(admin, _unique("市局"), None)
        a = await department(admin, "甲队", root)
        a1 = await department(admin, "甲一组", a)
        b = await department(admin, "乙队", root)

        async def counts() -> dict[int, tuple[int, int]]:
            out = {}
            for d in (root, a, a1, b):
                found = await admin.ok("GET", f"{ADMIN}/departments/{d}")
                out[d] = (found["member_count"], found["total_member_count"])
            return out

        one, two = _unique("countone"), _unique("counttwo")
        await member(admin, one, "计数一", [a1, b])
        await member(admin, two, "计数二", [a])
        expected = {root: (0, 2), a: (1, 2), a1: (1, 1), b: (1, 1)}
        self.assertEqual(await counts(), expected)
        await admin.ok("PUT", f"{ADMIN}/members/{one}", {"position": "民警"})
        self.assertEqual(await counts(), expected)
        await admin.ok("PUT", f"{ADMIN}/members/{one}", {"department": [a1, a]})
        self.assertEqual(
            await counts(), {root: (0, 2), a: (2, 2), a1: (1, 1), b: (0, 0)}
        )
        await admin.ok("PUT", f"{ADMIN}/members/{one}", {"enable": 0})
        disabled = {root: (0, 1), a: (1, 1), a1: (0, 0), b: (0, 0)}
        self.assertEqual(await counts(), disabled)
        await admin.ok("PUT", f"{ADMIN}/members/{two}", {"hidden": True})
        self.assertEqual(
            await counts(), {root: (0, 0), a: (0, 0), a1: (0, 0), b: (0, 0)}
        )
        await admin.ok("PUT", f"{ADMIN}/members/{two}", {"hidden": False})
        await admin.ok("PUT", f"{ADMIN}/members/{one}", {"enable": 1})
        await admin.ok("PUT", f"{ADMIN}/members/{one}", {"department": [b]})
        self.assertEqual(
            await counts(), {root: (0, 2), a: (1, 1), a1: (0, 0), b: (1, 1)}
        )
        await admin.ok("DELETE", f"{ADMIN}/members/{one}")
        self.assertEqual(
            await counts(), {root: (0, 1), a: (1, 1), a1: (0, 0), b: (0, 0)}
        )

    async def test_children_listing_order_and_paging(self) -> None:
        admin = await self._admin()
        root = await department(admin, _unique("市局"), None)
        second = await department(admin, "二队", root, order=2)
        first = await department(admin, "一队", root, order=1)
        officers = []
        for order, name in ((3, "丙"), (1, "甲"), (2, "乙")):
            client = self.user("officer")
            userid = client.user_id[1:].split(":")[0]
            await member(admin, userid, name, [root], order=[order])
            officers.append(client)
        viewer = officers[0]
        page = await viewer.ok("GET", f"{CLIENT}/departments/{root}/children?limit=3")
        self.assertEqual([d["id"] for d in page["departments"]], [first, second])
        self.assertEqual([m["name"] for m in page["members"]], ["甲"])
        self.assertEqual((page["total"], page["department_total"]), (5, 2))
        rest = await viewer.ok(
            "GET",
            f"{CLIENT}/departments/{root}/children?limit=3&from={page['next_from']}",
        )
        self.assertEqual([m["name"] for m in rest["members"]], ["乙", "丙"])
        self.assertIsNone(rest["next_from"])
        self.assertErrcode(
            await viewer.request(
                "GET", f"{CLIENT}/departments/{root}/children?limit=0"
            ),
            400,
            "M_INVALID_PARAM",
        )
        self.assertErrcode(
            await self.anonymous().request("GET", f"{CLIENT}/departments/{root}"),
            401,
            "M_MISSING_TOKEN",
        )

    async def test_manual_order_moves_one_item(self) -> None:
        admin = await self._admin()
        root = await department(admin, _unique("市局"), None)
        subs = [await department(admin, f"{n}队", root) for n in "一二三"]
        userids = []
        for name in ("甲", "乙", "丙"):
            userids.append(_unique("ord"))
            await member(admin, userids[-1], name, [root])
        order = f"{ADMIN}/departments/{root}/order"

        async def listing() -> tuple[list[int], list[str]]:
            page = await admin.ok("GET", f"{ADMIN}/departments/{root}/children")
            return (
                [d["id"] for d in page["departments"]],
                [m["userid"] for m in page["members"]],
            )

        # Never ordered by hand (all 0): by id / userid. Moves renumber the siblings.
        moved = await admin.ok("POST", order, {"member": userids[2], "position": 0})
        self.assertEqual((moved["from"], moved["to"], moved["count"]), (2, 0, 3))
        await admin.ok("POST", order, {"department": subs[0], "position": 2})
        expected = ([subs[1], subs[2], subs[0]], [userids[2], userids[0], userids[1]])
        self.assertEqual(await listing(), expected)
        # The member's order in that department is the stored one.
        found = await admin.ok("GET", f"{ADMIN}/members/{userids[1]}")
        self.assertEqual([d["order"] for d in found["departments"]], [2])
        # Bad requests change nothing.
        for body, errcode in (
            ({"member": userids[0], "position": 3}, "M_INVALID_PARAM"),
            ({"member": "nobody", "position": 0}, "M_INVALID_PARAM"),
            ({"department": root, "position": 0}, "M_INVALID_PARAM"),
            ({"member": userids[0], "department": subs[0], "position": 0}, None),
            ({"member": userids[0], "position": -1}, None),
            ({"member": userids[0], "position": True}, None),
            ({"member": userids[0]}, None),
        ):
            self.assertErrcode(
                await admin.request("POST", order, body),
                400,
                errcode or "M_INVALID_PARAM",
            )
        self.assertErrcode(
            await admin.request(
                "POST",
                f"{ADMIN}/departments/999999/order",
                {"member": userids[0], "position": 0},
            ),
            404,
            "CN_JWWX_DEPARTMENT_NOT_FOUND",
        )
        self.assertEqual(await listing(), expected)
        # Officers may not.
        officer = await self._officer(admin, "丁", [root])
        self.assertErrcode(
            await officer.request("POST", order, {"member": userids[0], "position": 0}),
            403,
            "M_FORBIDDEN",
        )

    async def test_search_by_name_pinyin_and_initials(self) -> None:
        admin = await self._admin()
        # No digits in the name: searching by the id below must not match it by name
        # (alone on a fresh server this is department 1, and "市局1" contains "1").
        letters = "".join(chr(ord("a") + int(d)) for d in _unique(""))
        root = await department(admin, "市局" + letters, None)
        viewer = await self._officer(admin, "查看者", [root])
        tag = _unique("x")
        names = {"张三" + tag: None, "单雄信": None, "曾国藩": None}
        for name in names:
            await self._officer(admin, name, [root])

        async def search(q: str) -> list[str]:
            result = await viewer.ok("GET", f"{CLIENT}/search/members?q={q}")
            return [m["name"] for m in result["results"]]

        self.assertIn("张三" + tag, await search("张三" + tag))
        self.assertIn("张三" + tag, await search("zhangsan" + tag))
        self.assertIn("张三" + tag, await search("zsx"))
        self.assertIn("单雄信", await search("shanxiongxin"))
        self.assertIn("单雄信", await search("sxx"))
        self.assertIn("曾国藩", await search("zengguofan"))
        self.assertIn("单雄信", await search("雄信"))
        self.assertNotIn("单雄信", await search("danxiongxin"))
        self.assertErrcode(
            await viewer.request("GET", f"{CLIENT}/search/members?q=%20"),
            400,
            "M_MISSING_PARAM",
        )
        # Departments are searched by name, not id (another test's "市局16" may match "16").
        found = await viewer.ok("GET", f"{CLIENT}/search/departments?q={root}")
        self.assertNotIn(root, [d["id"] for d in found["results"]])
        root_name = (await admin.ok("GET", f"{ADMIN}/departments/{root}"))["name"]
        found = await viewer.ok("GET", f"{CLIENT}/search/departments?q={root_name}")
        self.assertEqual([d["id"] for d in found["results"]], [root])

    async def test_synapse_user_search_finds_chinese_names_and_pinyin(self) -> None:
        """Synapse's /user_directory/search (Element's start-chat and invite dialogs)
        answers from the directory: name substrings, full pinyin, initials; hidden
        members are never found; the answer keeps Synapse's shape."""
        admin = await self._admin()
        root = await department(admin, _unique("搜索局"), None)
        secret = await department(admin, "隐藏科", root, hidden=True)
        shown = await self._officer(admin, "欧阳锋", [root])
        await self._officer(admin, "欧阳克", [secret])
        viewer = await self._officer(admin, "洪七公", [root])

        async def search(term: str) -> list[tuple[str, str]]:
            found = await viewer.ok(
                "POST",
                "/_matrix/client/v3/user_directory/search",
                {"search_term": term, "limit": 10},
            )
            self.assertIn("limited", found)
            return [(r["user_id"], r.get("display_name")) for r in found["results"]]

        expected = [(shown.user_id, "欧阳锋")]
        for _ in range(900):  # the account is marked provisioned within a second
            if await search("欧阳锋") == expected:
                break
            await _sleep(0.1)
        # The directory's terms: the name and its start, full pinyin, initials.
        for term in ("欧阳锋", "欧阳", "ouyangfeng", "oyf", "OuYang"):
            self.assertEqual(await search(term), expected, term)
        self.assertEqual(await search("欧阳克"), [])  # hidden: Synapse's own finds none
        self.assertEqual(await search("ouyangke"), [])
        # Someone outside the directory is still found by Synapse's own search.
        bot = self.user("searchbot")  # type: ignore[attr-defined]
        found = await search(bot.user_id[1:].split(":")[0])
        self.assertEqual([user for user, _name in found], [bot.user_id])

    async def test_hidden_entries_are_invisible_to_officers_on_every_path(self) -> None:
        admin = await self._admin()
        root = await department(admin, _unique("市局"), None)
        secret = await department(admin, "秘密支队", root, hidden=True)
        below = await department(admin, "秘密大队", secret)
        viewer = await self._officer(admin, "普通民警", [root])
        tag = _unique("h")
        agent = await self._officer(admin, "卧底" + tag, [below])
        hidden_member = await self._officer(admin, "隐身" + tag, [root], hidden=True)
        agent_id = agent.user_id[1:].split(":")[0]
        hidden_id = hidden_member.user_id[1:].split(":")[0]

        listing = await viewer.ok("GET", f"{CLIENT}/departments/{root}/children")
        self.assertNotIn(secret, [d["id"] for d in listing["departments"]])
        self.assertNotIn("隐身" + tag, [m["name"] for m in listing["members"]])
        for path in (
            f"departments/{secret}",
            f"departments/{below}",
            f"departments/{below}/children",
        ):
            self.assertErrcode(
                await viewer.request("GET", f"{CLIENT}/{path}"),
                404,
                "CN_JWWX_DEPARTMENT_NOT_FOUND",
            )
        for userid in (agent_id, hidden_id):
            self.assertErrcode(
                await viewer.request("GET", f"{CLIENT}/members/{userid}"),
                404,
                "CN_JWWX_MEMBER_NOT_FOUND",
            )
        self.assertEqual(
            (await viewer.ok("GET", f"{CLIENT}/search/members?q={tag}"))["results"], []
        )
        self.assertEqual(
            (await viewer.ok("GET", f"{CLIENT}/search/departments?q=秘密"))["results"],
            [],
        )
        # Synapse's own user directory search obeys the same rules.
        found = await viewer.ok(
            "POST",
            "/_matrix/client/v3/user_directory/search",
            {"search_term": tag, "limit": 50},
        )
        self.assertEqual([r["user_id"] for r in found["results"]], [])
        # And so does Synapse's /profile (issue 15): no name of a hidden member.
        for who in (hidden_member, agent):
            for suffix in ("", "/displayname", "/avatar_url"):
                path = f"/_matrix/client/v3/profile/{quote(who.user_id)}{suffix}"
                self.assertErrcode(
                    await viewer.request("GET", path), 404, "M_NOT_FOUND"
                )
                if suffix != "/avatar_url":  # none set: Synapse's own 404
                    status, _ = await admin.request("GET", path)
                    self.assertEqual(status, 200, path)
            own = await who.ok(
                "GET", f"/_matrix/client/v3/profile/{quote(who.user_id)}"
            )
            self.assertIn("displayname", own)
        # Admins see everything, on the client API too.
        listing = await admin.ok("GET", f"{CLIENT}/departments/{root}/children")
        self.assertIn(secret, [d["id"] for d in listing["departments"]])
        self.assertEqual(
            len((await admin.ok("GET", f"{CLIENT}/search/members?q={tag}"))["results"]),
            2,
        )
        # Unhiding makes the department and its members visible again.
        await admin.ok("PUT", f"{ADMIN}/departments/{secret}", {"hidden": False})
        self.assertEqual(
            (await viewer.ok("GET", f"{CLIENT}/members/{agent_id}"))["name"],
            "卧底" + tag,
        )
        found = await viewer.ok(
            "POST",
            "/_matrix/client/v3/user_directory/search",
            {"search_term": agent_id, "limit": 50},
        )
        self.assertEqual([r["user_id"] for r in found["results"]], [agent.user_id])
        path = f"/_matrix/client/v3/profile/{quote(agent.user_id)}"
        self.assertEqual(await viewer.ok("GET", path), await admin.ok("GET", path))

    async def test_restricted_department_sees_only_its_subtree(self) -> None:
        admin = await self._admin()
        root = await department(admin, _unique("市局"), None)
        closed = await department(admin, "封闭单位", root, restricted=True)
        inner = await department(admin, "内设科室", closed)
        open_dept = await department(admin, "开放单位", root)
        tag = _unique("r")
        insider = await self._officer(admin, "内部" + tag, [inner])
        colleague = await self._officer(admin, "同事" + tag, [closed])
        outsider = await self._officer(admin, "外部" + tag, [open_dept])
        colleague_id = colleague.user_id[1:].split(":")[0]
        outsider_id = outsider.user_id[1:].split(":")[0]

        names = [
            m["name"]
            for m in (await insider.ok("GET", f"{CLIENT}/search/members?q={tag}"))[
                "results"
            ]
        ]
        self.assertEqual(sorted(names), sorted(["内部" + tag, "同事" + tag]))
        self.assertEqual(
            (await insider.ok("GET", f"{CLIENT}/members/{colleague_id}"))["name"],
            "同事" + tag,
        )
        self.assertErrcode(
            await insider.request("GET", f"{CLIENT}/members/{outsider_id}"),
            404,
            "CN_JWWX_MEMBER_NOT_FOUND",
        )
        # The way up to the root is visible as a breadcrumb, the open unit is not.
        roots = await insider.ok("GET", f"{CLIENT}/roots")
        self.assertIn(root, [d["id"] for d in roots["departments"]])
        listing = await insider.ok("GET", f"{CLIENT}/departments/{root}/children")
        self.assertEqual([d["id"] for d in listing["departments"]], [closed])
        self.assertEqual(listing["members"], [])
        self.assertErrcode(
            await insider.request("GET", f"{CLIENT}/departments/{open_dept}"),
            404,
            "CN_JWWX_DEPARTMENT_NOT_FOUND",
        )
        found = await insider.ok(
            "POST",
            "/_matrix/client/v3/user_directory/search",
            {"search_term": outsider_id},
        )
        self.assertEqual(found["results"], [])
        # The outsider is not restricted.
        names = [
            m["name"]
            for m in (await outsider.ok("GET", f"{CLIENT}/search/members?q={tag}"))[
                "results"
            ]
        ]
        self.assertEqual(len(names), 3)
        # Synapse's user search follows a change of restriction at once (issue 15: the
        # searcher's cached visibility is dropped by the directory write).
        insider_id = insider.user_id[1:].split(":")[0]

        async def outsider_finds_insider() -> list[Any]:
            found = await outsider.ok(
                "POST",
                "/_matrix/client/v3/user_directory/search",
                {"search_term": insider_id},
            )
            return [r["user_id"] for r in found["results"]]

        self.assertEqual(await outsider_finds_insider(), [insider.user_id])
        await admin.ok("PUT", f"{ADMIN}/departments/{open_dept}", {"restricted": True})
        self.assertEqual(await outsider_finds_insider(), [])

    async def test_field_visibility_setting(self) -> None:
        admin = await self._admin()
        root = await department(admin, _unique("市局"), None)
        viewer = await self._officer(admin, "看的人", [root])
        target = await self._officer(
            admin,
            "被看的人",
            [root],
            mobile="13800138000",
            email="x@police.example",
            position="民警",
        )
        target_id = target.user_id[1:].split(":")[0]
        try:
            await admin.ok("PUT", f"{ADMIN}/settings", {"visible_fields": ["position"]})
            profile = await viewer.ok("GET", f"{CLIENT}/members/{target_id}")
            self.assertEqual(profile["position"], "民警")
            for hidden_field in ("mobile", "email", "departments", "gender"):
                self.assertNotIn(hidden_field, profile)
            full = await admin.ok("GET", f"{CLIENT}/members/{target_id}")
            self.assertEqual(full["mobile"], "13800138000")
            self.assertErrcode(
                await admin.request(
                    "PUT", f"{ADMIN}/settings", {"visible_fields": ["salary"]}
                ),
                400,
                "M_INVALID_PARAM",
            )
        finally:
            await admin.ok(
                "PUT",
                f"{ADMIN}/settings",
                {
                    "visible_fields": [
                        "gender",
                        "mobile",
                        "telephone",
                        "email",
                        "position",
                        "avatar",
                        "departments",
                    ]
                },
            )
        self.assertEqual(
            (await viewer.ok("GET", f"{CLIENT}/members/{target_id}"))["mobile"],
            "13800138000",
        )

    async def test_member_validation_and_updates(self) -> None:
        admin = await self._admin()
        root = await department(admin, _unique("市局"), None)
        userid = _unique("wangwu")
        bad_bodies = [
            {"userid": "Bad User", "name": "x", "department": [root]},
            {"userid": userid, "name": "", "department": [root]},
            {"userid": userid, "name": "王五", "department": [root], "mobile": "12345"},
            {
                "userid": userid,
                "name": "王五",
                "department": [root],
                "email": "not-an-email",
            },
            {"userid": userid, "name": "王五", "department": []},
            {"userid": userid, "name": "王五", "department": [root], "colour": "red"},
        ]
        for body in bad_bodies:
            self.assertErrcode(
                await admin.request("POST", f"{ADMIN}/members", body),
                400,
                "M_INVALID_PARAM",
            )
        self.assertErrcode(
            await admin.request(
                "POST",
                f"{ADMIN}/members",
                {"userid": userid, "name": "王五", "department": [999999]},
            ),
            404,
            "CN_JWWX_DEPARTMENT_NOT_FOUND",
        )
        self.assertErrcode(
            await admin.request("GET", f"{ADMIN}/members/{userid}"),
            404,
            "CN_JWWX_MEMBER_NOT_FOUND",
        )
        created = await member(admin, userid, "王五", [root], mobile="13900139000")
        self.assertEqual(created["mobile"], "13900139000")
        self.assertErrcode(
            await admin.request(
                "POST",
                f"{ADMIN}/members",
                {
                    "userid": _unique("dup"),
                    "name": "重号",
                    "department": [root],
                    "mobile": "13900139000",
                },
            ),
            409,
            "CN_JWWX_MOBILE_EXISTS",
        )
        updated = await admin.ok(
            "PUT", f"{ADMIN}/members/{userid}", {"name": "王五六", "position": "所长"}
        )
        self.assertEqual(
            (updated["name"], updated["position"], updated["mobile"]),
            ("王五六", "所长", "13900139000"),
        )
        found = await admin.ok("GET", f"{CLIENT}/search/members?q=wangwuliu")
        self.assertIn(userid, [m["userid"] for m in found["results"]])
        await admin.ok("DELETE", f"{ADMIN}/members/{userid}")
        self.assertErrcode(
            await admin.request("GET", f"{ADMIN}/members/{userid}"),
            404,
            "CN_JWWX_MEMBER_NOT_FOUND",
        )

    async def test_favorites(self) -> None:
        admin = await self._admin()
        root = await department(admin, _unique("市局"), None)
        viewer = await self._officer(admin, "收藏者", [root])
        friend = await self._officer(admin, "好友", [root])
        friend_id = friend.user_id[1:].split(":")[0]
        await viewer.ok("PUT", f"{CLIENT}/favorites/{friend_id}", {})
        await viewer.ok("PUT", f"{CLIENT}/favorites/{friend_id}", {})
        listed = await viewer.ok("GET", f"{CLIENT}/favorites")
        self.assertEqual([m["userid"] for m in listed["favorites"]], [friend_id])
        self.assertEqual(
            (await friend.ok("GET", f"{CLIENT}/favorites"))["favorites"], []
        )
        self.assertErrcode(
            await viewer.request("PUT", f"{CLIENT}/favorites/nobody-here", {}),
            404,
            "CN_JWWX_MEMBER_NOT_FOUND",
        )
        await viewer.ok("DELETE", f"{CLIENT}/favorites/{friend_id}")
        self.assertEqual(
            (await viewer.ok("GET", f"{CLIENT}/favorites"))["favorites"], []
        )
        self.assertErrcode(
            await viewer.request("DELETE", f"{CLIENT}/favorites/{friend_id}"),
            404,
            "CN_JWWX_MEMBER_NOT_FOUND",
        )

    async def test_tags_for_officers_follow_visibility(self) -> None:
        """GET tags and tags/{id}: only what the reader's visibility shows; a tag with
        nothing visible is not listed and answers 404 like a missing one."""
        admin = await self._admin()
        root = await department(admin, _unique("市局"), None)
        closed = await department(admin, "封闭单位", root, restricted=True)
        open_dept = await department(admin, "开放单位", root)
        tag = _unique("t")
        insider = await self._officer(admin, "甲" + tag, [closed])
        outsider = await self._officer(admin, "乙" + tag, [open_dept])
        hidden = await self._officer(admin, "丙" + tag, [open_dept], hidden=True)
        ids = [c.user_id[1:].split(":")[0] for c in (insider, outsider, hidden)]
        both = await admin.ok(
            "POST",
            f"{ADMIN}/tags",
            {"name": "专案" + tag, "userids": ids, "department_ids": [open_dept]},
        )
        outside = await admin.ok(
            "POST", f"{ADMIN}/tags", {"name": "外勤" + tag, "userids": [ids[1]]}
        )

        async def listed(client: MatrixClient) -> dict[int, Any]:
            found = (await client.ok("GET", f"{CLIENT}/tags"))["tags"]
            return {t["id"]: t for t in found if t["id"] in (both["id"], outside["id"])}

        seen = await listed(outsider)
        self.assertEqual(
            seen[both["id"]],
            {
                "id": both["id"],
                "name": "专案" + tag,
                "member_count": 2,
                "department_count": 1,
            },
        )
        self.assertEqual(seen[outside["id"]]["member_count"], 1)
        first = await outsider.ok("GET", f"{CLIENT}/tags/{both['id']}?limit=1")
        self.assertEqual([d["id"] for d in first["departments"]], [open_dept])
        self.assertEqual([m["name"] for m in first["members"]], ["乙" + tag])
        self.assertEqual(first["next_from"], "1")
        rest = await outsider.ok(
            "GET", f"{CLIENT}/tags/{both['id']}?limit=1&from={first['next_from']}"
        )
        self.assertEqual([m["name"] for m in rest["members"]], ["甲" + tag])
        self.assertIsNone(rest["next_from"])
        # The restricted unit sees only its own member, neither the open unit nor a tag
        # holding nothing else.
        seen = await listed(insider)
        self.assertEqual(list(seen), [both["id"]])
        self.assertEqual(
            (seen[both["id"]]["member_count"], seen[both["id"]]["department_count"]),
            (1, 0),
        )
        only = await insider.ok("GET", f"{CLIENT}/tags/{both['id']}")
        self.assertEqual(
            (only["departments"], [m["userid"] for m in only["members"]]), ([], ids[:1])
        )
        for path in (f"tags/{outside['id']}", "tags/999999999"):
            self.assertErrcode(
                await insider.request("GET", f"{CLIENT}/{path}"),
                404,
                "CN_JWWX_TAG_NOT_FOUND",
            )
        self.assertErrcode(
            await insider.request("GET", f"{CLIENT}/tags/abc"), 400, "M_INVALID_PARAM"
        )

    async def test_concurrent_member_writes_keep_counts(self) -> None:
        """Writers updating the same department counts at once all succeed (on
        PostgreSQL they used to fail with serialization errors → HTTP 500)."""
        admin = await self._admin()
        top = await department(admin, _unique("并发"), None)
        unit = await department(admin, _unique("并发科"), top)
        userids = [_unique("cc") for _ in range(8)]
        bodies = [
            {"userid": u, "name": f"并发{i}", "department": [unit]}
            for i, u in enumerate(userids)
        ]
        answers = await defer.gatherResults(
            [
                defer.ensureDeferred(admin.request("POST", f"{ADMIN}/members", b))
                for b in bodies
            ]
        )
        self.assertEqual([status for status, _ in answers], [200] * 8, answers)  # type: ignore[attr-defined]
        moves = await defer.gatherResults(
            [
                defer.ensureDeferred(
                    admin.request("PUT", f"{ADMIN}/members/{u}", {"department": [top]})
                )
                for u in userids[:4]
            ]
        )
        self.assertEqual([status for status, _ in moves], [200] * 4, moves)  # type: ignore[attr-defined]
        detail = await admin.ok("GET", f"{ADMIN}/departments/{unit}")
        self.assertEqual(detail["member_count"], 4)  # type: ignore[attr-defined]
        detail = await admin.ok("GET", f"{ADMIN}/departments/{top}")
        self.assertEqual(detail["member_count"], 4)  # type: ignore[attr-defined]
        self.assertEqual(detail["total_member_count"], 8)  # type: ignore[attr-defined]

    async def test_officers_cannot_use_the_admin_api(self) -> None:
        officer = self.user("plain")
        for method, path, body in (
            ("POST", "departments", {"name": "x", "parent_id": None}),
            ("GET", "settings", None),
            ("GET", "export", None),
            ("POST", "import/members?filename=a.csv", None),
        ):
            self.assertErrcode(
                await officer.request(method, f"{ADMIN}/{path}", body),
                403,
                "M_FORBIDDEN",
            )


class DirectorySQLiteTest(DirectoryTests, SQLiteCase):
    pass


class DirectoryPostgresTest(DirectoryTests, PostgresCase):
    pass
