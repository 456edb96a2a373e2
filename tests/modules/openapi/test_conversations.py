# SPDX-License-Identifier: AGPL-3.0-or-later
"""Conversations prepared in the background when an app's visible range is set, so a
first push does not create rooms; message/send's duplicate check; user/batchdelete."""

from typing import Any
from urllib.parse import quote

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.modules.openapi.helpers import (
    APPS,
    create_app,
    enrol_officer,
    root_department,
    sleep,
    token_for,
    wecom,
)


class ConversationTests:
    async def _officer(
        self, admin: MatrixClient, root: int
    ) -> tuple[MatrixClient, str]:
        officer: MatrixClient = self.user("cv")  # type: ignore[attr-defined]
        return officer, await enrol_officer(admin, officer, root)

    async def _root(self, admin: MatrixClient, name: str) -> int:
        return await root_department(admin, name)

    async def _prepared(self, admin: MatrixClient, agentid: int, count: int) -> None:
        stats: dict[str, Any] = {}
        for _ in range(300):
            stats = await admin.ok("GET", f"{APPS}/{agentid}/statistics")
            if stats["conversations"] >= count:
                break
            await sleep(0.1)
        self.assertEqual(stats["conversations"], count)  # type: ignore[attr-defined]

    async def _direct_rooms(self, officer: MatrixClient, bot: str) -> list[str]:
        path = f"/_matrix/client/v3/user/{quote(officer.user_id)}/account_data/m.direct"
        status, direct = await officer.request("GET", path)
        return list(direct.get(bot, [])) if status == 200 else []

    async def _direct_rooms_once_joined(
        self, officer: MatrixClient, bot: str
    ) -> list[str]:
        """A conversation is counted once claimed; the officer's join and the m.direct
        mark follow it."""
        for _ in range(900):
            direct = await self._direct_rooms(officer, bot)
            if direct:
                return direct
            await sleep(0.1)
        return []

    async def test_conversations_prepared_when_range_is_set(self) -> None:
        admin = self.user("cvadmin", admin=True)  # type: ignore[attr-defined]
        client = self.anonymous()  # type: ignore[attr-defined]
        root = await self._root(admin, "预建分局")
        officers = [await self._officer(admin, root) for _ in range(3)]
        app = await create_app(admin, visible_range={"department_ids": [root]})
        await self._prepared(admin, app["agentid"], 3)
        bot = app["bot_user_id"]
        rooms = {}
        for officer, userid in officers:
            # Already joined and marked direct before any message was sent.
            direct = await self._direct_rooms_once_joined(officer, bot)
            self.assertEqual(len(direct), 1, direct)  # type: ignore[attr-defined]
            joined = await officer.ok("GET", "/_matrix/client/v3/joined_rooms")
            self.assertIn(direct[0], joined["joined_rooms"])  # type: ignore[attr-defined]
            rooms[userid] = direct[0]
        # A newcomer is prepared when the range is set again.
        newcomer, new_userid = await self._officer(admin, root)
        await admin.ok(
            "PUT",
            f"{APPS}/{app['agentid']}",
            {"visible_range": {"department_ids": [root]}},
        )
        await self._prepared(admin, app["agentid"], 4)
        rooms[new_userid] = (await self._direct_rooms_once_joined(newcomer, bot))[0]
        # The push uses the prepared rooms (no new ones).
        t = await token_for(client, app["secret"])
        sent = await wecom(
            client,
            "message/send",
            t,
            {
                "toparty": str(root),
                "msgtype": "text",
                "agentid": app["agentid"],
                "text": {"content": "预建会话"},
            },
        )
        self.assertEqual(sent["errcode"], 0, sent)  # type: ignore[attr-defined]
        for officer, userid in [*officers, (newcomer, new_userid)]:
            events = await officer.sync_timeline_until(
                rooms[userid], lambda e: e.get("content", {}).get("body") == "预建会话"
            )
            self.assertTrue(events)  # type: ignore[attr-defined]
            self.assertEqual(  # type: ignore[attr-defined]
                await self._direct_rooms(officer, bot), [rooms[userid]]
            )
        stats = await admin.ok("GET", f"{APPS}/{app['agentid']}/statistics")
        self.assertEqual(stats["conversations"], 4)  # type: ignore[attr-defined]

    async def test_duplicate_check(self) -> None:
        admin = self.user("dupadmin", admin=True)  # type: ignore[attr-defined]
        client = self.anonymous()  # type: ignore[attr-defined]
        root = await self._root(admin, "重复检查")
        _, userid = await self._officer(admin, root)
        app = await create_app(admin, visible_range={"userids": [userid]})
        t = await token_for(client, app["secret"])

        async def send(content: str, **extra: Any) -> dict[str, Any]:
            body = {
                "touser": userid,
                "msgtype": "text",
                "agentid": app["agentid"],
                "text": {"content": content},
                **extra,
            }
            return await wecom(client, "message/send", t, body)

        first = await send("只发一次", enable_duplicate_check=1)
        again = await send("只发一次", enable_duplicate_check=1)
        self.assertEqual(  # type: ignore[attr-defined]
            (again["errcode"], again["msgid"]), (0, first["msgid"])
        )
        other = await send("另一条", enable_duplicate_check=1)
        unchecked = await send("只发一次")
        self.assertEqual(  # type: ignore[attr-defined]
            len({first["msgid"], other["msgid"], unchecked["msgid"]}), 3
        )
        stats = await admin.ok("GET", f"{APPS}/{app['agentid']}/statistics")
        self.assertEqual(  # type: ignore[attr-defined]
            (stats["messages"], stats["delivered"]), (3, 3)
        )
        # A recalled message does not hold back its repetition.
        recalled = await wecom(client, "message/recall", t, {"msgid": first["msgid"]})
        self.assertEqual(recalled["errcode"], 0, recalled)  # type: ignore[attr-defined]
        resent = await send("只发一次", enable_duplicate_check=1)
        self.assertNotEqual(resent["msgid"], first["msgid"])  # type: ignore[attr-defined]
        for extra in (
            {"enable_duplicate_check": 2},
            {"enable_duplicate_check": 1, "duplicate_check_interval": 0},
            {"enable_duplicate_check": 1, "duplicate_check_interval": 5 * 3600},
            {"enable_duplicate_check": "yes"},
        ):
            answer = await send("参数", **extra)
            self.assertEqual(answer["errcode"], 40058, extra)  # type: ignore[attr-defined]
        stats = await admin.ok("GET", f"{APPS}/{app['agentid']}/statistics")
        self.assertEqual(stats["messages"], 4)  # type: ignore[attr-defined]

    async def test_user_batchdelete(self) -> None:
        admin = self.user("bdadmin", admin=True)  # type: ignore[attr-defined]
        client = self.anonymous()  # type: ignore[attr-defined]
        root = await self._root(admin, "批量删除")
        writer = await create_app(
            admin, directory_write=True, visible_range={"department_ids": [root]}
        )
        reader = await create_app(admin, visible_range={"department_ids": [root]})
        w = await token_for(client, writer["secret"])
        r = await token_for(client, reader["secret"])
        userids = []
        for name in ("bd_a", "bd_b"):
            created = await wecom(
                client,
                "user/create",
                w,
                {"userid": name, "name": "待删", "department": [root]},
            )
            self.assertEqual(created["errcode"], 0, created)  # type: ignore[attr-defined]
            userids.append(name)
        for body, token, errcode in (
            ({"useridlist": userids}, r, 48002),
            ({"useridlist": [userids[0], "nobody_here"]}, w, 60111),
            ({"useridlist": []}, w, 40058),
            ({"useridlist": [1]}, w, 40058),
            ({"useridlist": "bd_a"}, w, 40058),
        ):
            answer = await wecom(client, "user/batchdelete", token, body)
            self.assertEqual(answer["errcode"], errcode, body)  # type: ignore[attr-defined]
        # Nothing was deleted by the refused calls.
        for userid in userids:
            got = await wecom(client, "user/get", w, userid=userid)
            self.assertEqual(got["errcode"], 0, got)  # type: ignore[attr-defined]
        answer = await wecom(client, "user/batchdelete", w, {"useridlist": userids})
        self.assertEqual(  # type: ignore[attr-defined]
            (answer["errcode"], answer["errmsg"]), (0, "deleted")
        )
        for userid in userids:
            got = await wecom(client, "user/get", w, userid=userid)
            self.assertEqual(got["errcode"], 60111, got)  # type: ignore[attr-defined]


class ConversationSQLiteTest(ConversationTests, SQLiteCase):
    pass


class ConversationPostgresTest(ConversationTests, PostgresCase):
    pass
