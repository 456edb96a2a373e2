# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.search over HTTP on both engines: Chinese substrings, numbers, plates and
mixed text through the standard POST /_matrix/client/v3/search (spec shape, context,
groups, paging), exact visibility (joined rooms only, history visibility, nothing after
leaving; redacted, burned, purged and edited-away text never found and forgotten by
the index), and our unified /_jwwx/client/v1/search with its kinds, filters, paging
and bad input. One server per engine."""

from typing import Any

from tests.harness.case import PostgresCase, SQLiteCase
from tests.modules.directory.helpers import department, member
from tests.modules.search.helpers import (
    SearchHelpers,
    found_bodies,
    matrix_search,
    ours,
    q,
    sleep,
)

TEXTS = [
    "关于协查通报的说明",
    "车牌京A·12345已布控，请各单位注意",
    "嫌疑人身份证号110101199003071234",
    "Police report 第2026-0815号案件",
    "协查，通报",
]


class SearchTests(SearchHelpers):
    async def _room(self, owner: Any, *members: Any, **extra: Any) -> str:
        room = await owner.create_room(
            preset="private_chat", invite=[m.user_id for m in members], **extra
        )
        for joiner in members:
            await joiner.join(room)
        return room

    async def test_chinese_numbers_and_mixed_text(self) -> None:
        alice, bob = self.user("alice"), self.user("bob")
        room = await self._room(alice, bob)
        for text in TEXTS:
            await alice.send_text(room, text)
        await self.indexed(bob, room)
        cases = {
            "协查": [TEXTS[4], TEXTS[0]],
            "协查通报": [TEXTS[0]],
            "12345": [TEXTS[1]],
            "京A12": [TEXTS[1]],
            "a·12345": [TEXTS[1]],
            "19900307": [TEXTS[2]],
            "1234": [TEXTS[2], TEXTS[1]],
            "police": [TEXTS[3]],
            "0815号": [TEXTS[3]],
            "协查 说明": [TEXTS[0]],
            "通协": [],
        }
        for term, expected in cases.items():
            self.assertEqual(await found_bodies(bob, term), expected, term)
        # order_by rank (Synapse's default) finds the same, newest ranked first.
        ranked = await matrix_search(bob, "协查")
        self.assertEqual(
            [r["result"]["content"]["body"] for r in ranked["results"]],
            [TEXTS[4], TEXTS[0]],
        )
        self.assertEqual(ranked["count"], 2)
        self.assertEqual(ranked["highlights"], ["协查"])

    async def test_synapse_keeps_room_names_not_message_bodies(self) -> None:
        """Synapse's own index of message bodies is never read while ours answers
        /search, so it is not written (issue 19: the cost on PostgreSQL); room names
        and topics still are (Synapse's search answers those keys)."""
        alice, bob = self.user("alice"), self.user("bob")
        room = await self._room(alice, bob, name="协查专案组", topic="专案topic")
        code, sent = await alice.send_text(room, "专案组今晚开会")
        self.assertEqual(code, 200, sent)
        await self.indexed(bob, room)
        self.assertEqual(await found_bodies(bob, "今晚开会"), ["专案组今晚开会"])
        keys = self.rows(
            "SELECT DISTINCT key FROM event_search WHERE room_id = ?", (room,)
        )
        self.assertEqual(sorted(k[0] for k in keys), ["content.name", "content.topic"])

    async def test_spec_shape_context_groups_and_paging(self) -> None:
        alice, bob = self.user("alice"), self.user("bob")
        room = await self._room(alice, bob)
        sent = []
        for i in range(7):
            code, body = await (alice if i % 2 else bob).send_text(
                room, f"第{i}条协查消息"
            )
            self.assertEqual(code, 200, body)
            sent.append(body["event_id"])
            await alice.send_text(room, f"闲聊{i}")
        await self.indexed(alice, room)
        seen: list[str] = []
        batch = None
        pages = 0
        while True:
            cat = await matrix_search(
                alice,
                "协查消息",
                batch,
                order_by="recent",
                filter={"limit": 3},
                event_context={"before_limit": 1, "after_limit": 1},
                groupings={"group_by": [{"key": "room_id"}, {"key": "sender"}]},
            )
            pages += 1
            self.assertEqual(cat["count"], 7)
            self.assertEqual(cat["highlights"], ["协查消息"])
            for result in cat["results"]:
                event = result["result"]
                self.assertEqual(event["room_id"], room)
                seen.append(event["event_id"])
                context = result["context"]
                self.assertEqual(len(context["events_after"]), 1)
                self.assertTrue(
                    context["events_after"][0]["content"]["body"].startswith("闲聊")
                )
                self.assertIn("start", context)
            if cat["results"]:
                self.assertEqual(
                    cat["groups"]["room_id"][room]["results"],
                    [r["result"]["event_id"] for r in cat["results"]],
                )
            batch = cat.get("next_batch")
            if not batch:
                break
        self.assertEqual(seen, list(reversed(sent)))
        self.assertEqual(pages, 3)
        # Filters of the spec still apply (Synapse's handler applies them).
        only_bob = await matrix_search(
            alice, "协查", order_by="recent", filter={"senders": [bob.user_id]}
        )
        self.assertEqual(
            {r["result"]["sender"] for r in only_bob["results"]}, {bob.user_id}
        )
        self.assertEqual(len(only_bob["results"]), 4)
        # A page token that is not ours: a clear 400, not a 500.
        bad = await alice.request(
            "POST",
            "/_matrix/client/v3/search?next_batch=YWxsCgp4eXo",
            {
                "search_categories": {
                    "room_events": {"search_term": "协查", "order_by": "recent"}
                }
            },
        )
        self.assertEqual(bad[0], 400, bad)

    async def test_visibility(self) -> None:
        alice, bob, carol = self.user("alice"), self.user("bob"), self.user("carol")
        room = await alice.create_room(
            preset="private_chat",
            initial_state=[
                {
                    "type": "m.room.history_visibility",
                    "state_key": "",
                    "content": {"history_visibility": "joined"},
                }
            ],
        )
        await alice.send_text(room, "入群前的协查甲")
        await alice.ok(
            "POST",
            f"/_matrix/client/v3/rooms/{q(room)}/invite",
            {"user_id": bob.user_id},
        )
        await bob.join(room)
        await alice.send_text(room, "入群后的协查乙")
        await self.indexed(alice, room)
        self.assertEqual(
            await found_bodies(alice, "的协查"), ["入群后的协查乙", "入群前的协查甲"]
        )
        # Bob sees only what was sent while he was joined; carol, never there, nothing.
        self.assertEqual(await found_bodies(bob, "的协查"), ["入群后的协查乙"])
        self.assertEqual(await found_bodies(carol, "的协查"), [])
        self.assertEqual(await found_bodies(carol, "协查甲"), [])
        await bob.ok("POST", f"/_matrix/client/v3/rooms/{q(room)}/leave", {})
        await alice.send_text(room, "退群后的协查丙")
        await self.indexed(alice, room)
        self.assertEqual(await found_bodies(bob, "协查丙"), [])
        self.assertEqual(await found_bodies(bob, "的协查"), [])
        code, answer = await ours(bob, q="协查")
        self.assertEqual((code, answer["messages"]["results"]), (200, []))

    async def test_redacted_burned_purged_and_edited_text(self) -> None:
        alice, bob = self.user("alice"), self.user("bob")
        admin = self.user("admin", admin=True)
        room = await self._room(alice, bob)
        await alice.ok(
            "POST",
            f"/_matrix/client/v3/rooms/{q(room)}/invite",
            {"user_id": admin.user_id},
        )
        await admin.join(room)
        _, recalled = await alice.send_text(room, "撤回的协查线索")
        _, burned = await alice.send(
            room,
            {
                "msgtype": "m.text",
                "body": "阅后即焚协查线索",
                "org.matrix.self_destruct": 600000,
            },
        )
        _, old = await alice.send_text(room, "旧的协查内容")
        await alice.send(
            room,
            {
                "msgtype": "m.text",
                "body": "* 新的布控内容",
                "m.new_content": {"msgtype": "m.text", "body": "新的布控内容"},
                "m.relates_to": {"rel_type": "m.replace", "event_id": old["event_id"]},
            },
        )
        _, purged = await alice.send_text(room, "将被清除的协查记录")
        await self.indexed(bob, room)
        self.assertEqual(self.index_rows(recalled["event_id"]), 1)
        self.assertEqual(self.index_rows(burned["event_id"]), 0)  # never indexed
        self.assertEqual(await found_bodies(bob, "焚协查"), [])
        # The edit replaced the original's text: old words gone, new ones found once.
        self.assertEqual(await found_bodies(bob, "旧的协查"), [])
        self.assertEqual(await found_bodies(bob, "新的布控"), ["旧的协查内容"])
        # Recall (the sender's redaction): gone from results and from the index.
        await alice.ok(
            "PUT",
            f"/_matrix/client/v3/rooms/{q(room)}/redact/{q(recalled['event_id'])}/r1",
            {"reason": "撤回"},
        )
        await self.indexed(bob, room)
        self.assertEqual(await found_bodies(bob, "撤回的协查"), [])
        self.assertEqual(self.index_rows(recalled["event_id"]), 0)
        # Purged by Synapse (what its retention purge jobs run): not found, forgotten.
        _, later = await alice.send_text(room, "清除点")
        status, started = await admin.request(
            "POST",
            f"/_synapse/admin/v1/purge_history/{q(room)}",
            {"purge_up_to_event_id": later["event_id"], "delete_local_events": True},
        )
        self.assertEqual(status, 200, started)
        for _ in range(900):
            done = await admin.ok(
                "GET", f"/_synapse/admin/v1/purge_history_status/{started['purge_id']}"
            )
            if done["status"] != "active":
                break
            await sleep(0.1)
        self.assertEqual(done["status"], "complete", done)
        # The sweep (every 5 s) forgets it without anybody searching for it.
        for _ in range(1800):
            if self.index_rows(purged["event_id"]) == 0:
                break
            await sleep(0.05)
        self.assertEqual(self.index_rows(purged["event_id"]), 0)
        self.assertEqual(await found_bodies(bob, "被清除的协查"), [])

    async def test_redacted_edit_falls_back_and_unified_shows_the_edit(self) -> None:
        """Edits replace the text; a redacted edit gives way to the one before it, then
        to the message's own text (what Synapse shows). The unified search shows the
        current text, not the original body."""
        alice, bob = self.user("alice"), self.user("bob")
        room = await self._room(alice, bob)
        _, original = await alice.send_text(room, "原文巡逻安排")

        async def edit(body: str) -> str:
            _, sent = await alice.send(
                room,
                {
                    "msgtype": "m.text",
                    "body": f"* {body}",
                    "m.new_content": {"msgtype": "m.text", "body": body},
                    "m.relates_to": {
                        "rel_type": "m.replace",
                        "event_id": original["event_id"],
                    },
                },
            )
            return str(sent["event_id"])

        async def redact(event_id: str) -> None:
            await alice.ok(
                "PUT",
                f"/_matrix/client/v3/rooms/{q(room)}/redact/{q(event_id)}/{event_id[1:9]}",
                {},
            )
            await self.indexed(bob, room)

        async def shown(term: str) -> list[str]:
            code, answer = await ours(bob, q=term, kinds="messages")
            self.assertEqual(code, 200, answer)
            return [r["body"] for r in answer["messages"]["results"]]

        first = await edit("第一次修改值班")
        second = await edit("第二次修改布控")
        await self.indexed(bob, room)
        self.assertEqual(await found_bodies(bob, "第二次修改"), ["原文巡逻安排"])
        self.assertEqual(await found_bodies(bob, "第一次修改"), [])
        self.assertEqual(await shown("修改布控"), ["第二次修改布控"])
        await redact(second)
        self.assertEqual(await found_bodies(bob, "第二次修改"), [])
        self.assertEqual(await found_bodies(bob, "第一次修改"), ["原文巡逻安排"])
        self.assertEqual(await shown("修改值班"), ["第一次修改值班"])
        await redact(first)
        self.assertEqual(await found_bodies(bob, "第一次修改"), [])
        self.assertEqual(await found_bodies(bob, "原文巡逻"), ["原文巡逻安排"])
        self.assertEqual(await shown("原文巡逻"), ["原文巡逻安排"])

    async def test_unified_search(self) -> None:
        alice, bob = self.user("alice"), self.user("bob")
        room = await self._room(alice, bob)
        other = await self._room(bob)
        await alice.send(
            room,
            {
                "msgtype": "m.file",
                "body": "协查通报2026.docx",
                "url": "mxc://example/abc",
                "info": {"mimetype": "application/msword", "size": 12},
            },
        )
        await bob.send(
            room,
            {"msgtype": "m.image", "body": "现场照片.jpg", "url": "mxc://example/img"},
        )
        for i in range(5):
            await bob.send_text(other, f"协查任务{i}")
        await alice.send_text(room, "协查会议纪要")
        await self.indexed(bob, room)
        code, answer = await ours(bob, q="协查")
        self.assertEqual(code, 200, answer)
        self.assertEqual(
            [r["body"] for r in answer["messages"]["results"]],
            ["协查会议纪要"] + [f"协查任务{i}" for i in reversed(range(5))],
        )
        self.assertEqual(answer["messages"]["count"], 6)
        files = answer["files"]["results"]
        self.assertEqual(len(files), 1)
        self.assertEqual(
            files[0]["file"],
            {
                "name": "协查通报2026.docx",
                "mimetype": "application/msword",
                "url": "mxc://example/abc",
                "size": 12,
            },
        )
        self.assertEqual(answer["images"]["results"], [])
        # Images by sender, without a query; files by a number in their name.
        code, images = await ours(bob, kinds="images", sender=bob.user_id)
        self.assertEqual(
            [r["body"] for r in images["images"]["results"]], ["现场照片.jpg"]
        )
        code, files = await ours(alice, q="2026", kinds="files")
        self.assertEqual(len(files["files"]["results"]), 1)
        # A room filter and paging through one kind.
        bodies: list[str] = []
        params = {"q": "协查任务", "kinds": "messages", "limit": "2", "room": other}
        while True:
            code, page = await ours(bob, **params)
            self.assertEqual(code, 200, page)
            bodies.extend(r["body"] for r in page["messages"]["results"])
            if "next_batch" not in page["messages"]:
                break
            params["from"] = page["messages"]["next_batch"]
        self.assertEqual(bodies, [f"协查任务{i}" for i in reversed(range(5))])
        # Alice is not in `other`: naming it does not let her see it.
        code, none = await ours(alice, q="协查任务", room=other)
        self.assertEqual(none["messages"]["results"], [])
        # Time range: everything is before now + 1 h, nothing after it.
        code, later = await ours(bob, q="协查", since=str(2**52))
        self.assertEqual(later["messages"]["results"], [])

    async def test_contacts_departments_favorites_apps_and_sender_names(self) -> None:
        """The other kinds through their own modules, as each shows them to this
        officer: hidden directory entries stay hidden, favourites are one's own, apps
        by their visible range; messages by a sender's name in pinyin or initials."""
        admin = self.user("searchadmin", admin=True)
        root = await department(admin, "搜索市局", None)
        secret = await department(admin, "搜索秘密科", root, hidden=True)

        async def officer(name: str, dept: int) -> Any:
            client = self.user("officer")
            await member(admin, client.user_id[1:].split(":")[0], name, [dept])
            return client

        zhang = await officer("张三丰", root)
        await officer("张三峰", root)
        await officer("张三影", secret)
        li = await officer("李四", root)

        async def names(client: Any, kind: str, **params: str) -> list[str]:
            code, answer = await ours(client, kinds=kind, **params)
            self.assertEqual(code, 200, answer)
            return [r.get("name") or r.get("body") for r in answer[kind]["results"]]

        self.assertEqual(
            sorted(await names(li, "contacts", q="zhangsan")), ["张三丰", "张三峰"]
        )
        self.assertEqual(
            sorted(await names(li, "contacts", q="张三")), ["张三丰", "张三峰"]
        )
        self.assertEqual(await names(li, "contacts", q="张三影"), [])  # hidden
        self.assertIn("张三影", await names(admin, "contacts", q="张三影"))
        # Paged by offset.
        code, first = await ours(li, q="zs", kinds="contacts", limit="1")
        self.assertEqual(len(first["contacts"]["results"]), 1, first)
        code, second = await ours(
            li, q="zs", kinds="contacts", limit="1", **{"from": "1"}
        )
        self.assertEqual(len(second["contacts"]["results"]), 1, second)
        self.assertNotEqual(first["contacts"]["results"], second["contacts"]["results"])
        self.assertEqual(await names(li, "departments", q="搜索市局"), ["搜索市局"])
        self.assertEqual(await names(li, "departments", q="秘密科"), [])
        # Favourites: one's own only.
        room = await self._room(li, zhang)
        await admin.ok(  # officers may not rename themselves here
            "PUT",
            f"/_synapse/admin/v2/users/{q(zhang.user_id)}",
            {"displayname": "张三丰"},
        )
        _, sent = await zhang.send_text(room, "周末巡逻报告")
        await li.send_text(room, "巡逻收到")
        await li.ok(
            "POST",
            "/_jwwx/client/v1/favorites",
            {"room_id": room, "event_id": sent["event_id"]},
        )
        code, favs = await ours(li, q="巡逻", kinds="favorites")
        self.assertEqual(code, 200, favs)
        self.assertEqual(len(favs["favorites"]["results"]), 1, favs)
        self.assertEqual(
            (await ours(zhang, q="巡逻", kinds="favorites"))[1]["favorites"]["results"],
            [],
        )
        # Apps by visible range, by name and its pinyin.
        await admin.ok(
            "POST",
            "/_jwwx/admin/v1/openapi/apps",
            {"name": "反诈宣传", "visible_range": {"department_ids": [root]}},
        )
        await admin.ok(
            "POST",
            "/_jwwx/admin/v1/openapi/apps",
            {"name": "秘密审批", "visible_range": {"department_ids": [secret]}},
        )
        self.assertEqual(await names(li, "apps", q="fanzha"), ["反诈宣传"])
        self.assertEqual(await names(li, "apps", q="审批"), [])
        self.assertEqual(await names(self.user("outsider"), "apps", q="反诈"), [])
        # What the workbench shows, with its visibility: an app's entry shows once
        # (not again as the app), another zone's entry to everyone, an entry of the
        # hidden unit to nobody else; public accounts as the officer's client lists them.
        alert = await admin.ok(
            "POST",
            "/_jwwx/admin/v1/openapi/apps",
            {
                "name": "警情通报",
                "redirect_domain": "h5.example.cn",
                "visible_range": {"department_ids": [root]},
            },
        )
        for entry in (
            {
                "name": "警情通报",
                "url": "https://h5.example.cn/notice",
                "agentid": alert["agentid"],
                "visible_range": {"department_ids": [root]},
            },
            {
                "name": "移动执法",
                "url": "https://zone2.example.cn/",
                "zone": "external",
            },
            {
                "name": "秘密门户",
                "url": "http://secret.example.cn/",
                "visible_range": {"department_ids": [secret]},
            },
        ):
            await admin.ok("POST", "/_jwwx/admin/v1/workbench/entries", entry)
        await admin.ok(
            "POST",
            "/_jwwx/admin/v1/pubaccounts/accounts",
            {"name": "治安公众号", "description": "治安防范提示"},
        )
        code, found = await ours(li, q="jqtb", kinds="apps")
        self.assertEqual(code, 200, found)
        self.assertEqual(
            [(r["name"], r["source"]) for r in found["apps"]["results"]],
            [("警情通报", "workbench")],
        )
        self.assertTrue(found["apps"]["results"][0]["jump_required"])
        self.assertEqual(await names(li, "apps", q="执法"), ["移动执法"])
        self.assertEqual(
            await names(self.user("outsider"), "apps", q="执法"), ["移动执法"]
        )
        self.assertEqual(await names(li, "apps", q="门户"), [])
        self.assertEqual(await names(li, "apps", q="jingqing"), ["警情通报"])
        code, found = await ours(li, q="防范", kinds="apps")
        self.assertEqual(
            [
                (r["name"], r["source"], r["subscribed"])
                for r in found["apps"]["results"]
            ],
            [("治安公众号", "pubaccount", False)],
        )
        self.assertEqual(await names(li, "apps", q="zhian"), ["治安公众号"])
        # Messages by the sender's name, pinyin or initials (q may then be empty).
        await self.indexed(li, room)
        for who in ("zhangsanfeng", "zsf", "张三"):
            self.assertEqual(
                await names(li, "messages", q="巡逻", sender_name=who),
                ["周末巡逻报告"],
                who,
            )
        self.assertEqual(
            await names(li, "messages", sender_name="zsf"), ["周末巡逻报告"]
        )
        self.assertEqual(
            await names(li, "messages", q="巡逻", sender_name="wangwu"), []
        )

    async def test_groups_by_name_member_and_pinyin(self) -> None:
        alice, bob, carol = self.user("alice"), self.user("bob"), self.user("carol")
        room = await self._room(alice, bob, name="城东协查专班")
        elsewhere = await self._room(carol, name="城东协查二组")
        await self.indexed(alice, room)
        await self.indexed(carol, elsewhere)

        async def groups(client: Any, term: str) -> list[tuple[str, list[str]]]:
            code, answer = await ours(client, q=term, kinds="groups")
            self.assertEqual(code, 200, answer)
            return [
                (g["room_id"], [m["user_id"] for m in g["members"]])
                for g in answer["groups"]["results"]
            ]

        for term in ("协查专班", "chengdong", "CDXC", "zhuanban"):
            self.assertEqual(await groups(alice, term), [(room, [])], term)
        # By a member: bob's name finds the room with bob named in it.
        bob_name = bob.user_id[1:].split(":")[0]
        self.assertEqual(await groups(alice, bob_name), [(room, [bob.user_id])])
        # Carol's group is not alice's; after leaving, bob no longer finds the room.
        self.assertEqual(await groups(carol, "城东协查"), [(elsewhere, [])])
        await bob.ok("POST", f"/_matrix/client/v3/rooms/{q(room)}/leave", {})
        await self.indexed(alice, room)
        self.assertEqual(await groups(bob, "协查专班"), [])
        self.assertEqual(await groups(alice, bob_name), [])

    async def test_index_survives_a_restart(self) -> None:
        """The index and its cursor are in the database: after a restart the indexer
        goes on from where it was (nothing lost, nothing indexed twice)."""
        alice = self.user("alice")
        room = await alice.create_room(preset="private_chat")
        await alice.send_text(room, "重启前的协查线索")
        await self.indexed(alice, room)
        self.server.restart()
        await alice.send_text(room, "重启后的协查线索")
        await self.indexed(alice, room)
        self.assertEqual(
            await found_bodies(alice, "的协查线索"),
            ["重启后的协查线索", "重启前的协查线索"],
        )

    async def test_bad_input(self) -> None:
        alice = self.user("alice")
        await alice.create_room(preset="private_chat")  # /search asks the index
        for params, errcode in [
            ({"q": "协" * 1000}, "M_INVALID_PARAM"),
            ({"q": "协查", "kinds": "weapons"}, "M_INVALID_PARAM"),
            ({"q": "协查", "colour": "red"}, "M_INVALID_PARAM"),
            ({"q": "协查", "from": "12"}, "M_INVALID_PARAM"),
            ({"q": "协查", "kinds": "messages", "from": "x"}, "M_INVALID_PARAM"),
            ({"q": "协查", "limit": "0"}, "M_INVALID_PARAM"),
            ({"q": "协查", "sender": "nobody"}, "M_INVALID_PARAM"),
            ({"q": ""}, "M_MISSING_PARAM"),
            ({"q": " ", "kinds": "groups"}, "M_MISSING_PARAM"),
            ({"q": "协\x00查"}, "M_INVALID_PARAM"),
            ({"q": "协查", "sender_name": "\x00", "kinds": "messages"}, None),
            ({"q": "协查", "since": "yesterday"}, "M_INVALID_PARAM"),
        ]:
            if errcode is None:
                errcode = "M_INVALID_PARAM"
            self.assertErrcode(await ours(alice, **params), 400, errcode)
        for term in [
            '"协查',
            "*",
            "(",
            "') OR 1=1 --",
            "%_\\",
            "协查 AND OR NOT",
            "!!",
        ]:
            code, answer = await ours(alice, q=term)
            self.assertEqual(code, 200, (term, answer))
            cat = await matrix_search(alice, term, order_by="recent")
            self.assertEqual(cat["results"], [], term)
        code, answer = await alice.request(
            "POST",
            "/_matrix/client/v3/search",
            {"search_categories": {"room_events": {"search_term": "协" * 1000}}},
        )
        self.assertErrcode((code, answer), 400, "M_INVALID_PARAM")
        # The standard endpoint's other bad shapes (Synapse's handler alone answers
        # 500 to several of them): a 400 naming the field; a NUL only separates words.
        for events in [
            {"search_term": "协查", "order_by": "sideways"},
            {"search_term": "协查", "filter": {"rooms": "!notalist"}},
            {"search_term": "协查", "filter": {"limit": "many"}},
            {"search_term": "协查", "keys": ["content.secret"]},
            {"search_term": "协查", "event_context": {"before_limit": "x"}},
            {"search_term": 12},
            {"search_term": "协查", "groupings": {"group_by": [{"key": "colour"}]}},
            {"search_term": "协查", "event_context": {"before_limit": 10**6}},
            {},
        ]:
            code, answer = await alice.request(
                "POST",
                "/_matrix/client/v3/search",
                {"search_categories": {"room_events": events}},
            )
            self.assertEqual(code, 400, (events, answer))
            self.assertIn(answer["errcode"], ("M_INVALID_PARAM", "M_MISSING_PARAM"))
        cat = await matrix_search(alice, "协\x00查", order_by="recent")
        self.assertEqual(cat["results"], [])


class SearchSQLiteTest(SearchTests, SQLiteCase):
    pass


class SearchPostgresTest(SearchTests, PostgresCase):
    pass
