# SPDX-License-Identifier: AGPL-3.0-or-later
"""The open API end to end on a real server: apps, gettoken and the token check, the
directory endpoints, message/send and recall reaching officers' /sync."""

import itertools
import json
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from twisted.internet import defer

from modules.openapi.crypto import (
    MODES,
    MsgCrypt,
    generate_encoding_aes_key,
    jsapi_signature,
)
from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.modules.openapi.helpers import (
    APPS,
    CORPID,
    DIRECTORY,
    create_app,
    download,
    execute_sql,
    get_page,
    make_audit_admin,
    sleep,
    token_for,
    upload,
    wait_account,
    wecom,
)
from tests.modules.openapi.receiver import Receiver

_names = itertools.count(1)


def _unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


class OpenApiTests:
    keywords = ("协查通报",)

    async def _admin(self) -> MatrixClient:
        return self.user("oaadmin", admin=True)  # type: ignore[attr-defined, no-any-return]

    async def _department(self, admin: MatrixClient, parent: int | None) -> int:
        body = {"name": _unique("部门"), "parent_id": parent}
        return int((await admin.ok("POST", f"{DIRECTORY}/departments", body))["id"])

    async def _officer(
        self, admin: MatrixClient, departments: list[int]
    ) -> tuple[MatrixClient, str]:
        """A Matrix user that is also a directory member with a linked account."""
        client: MatrixClient = self.user("off")  # type: ignore[attr-defined]
        userid = client.user_id[1:].split(":")[0]
        await admin.ok(
            "POST",
            f"{DIRECTORY}/members",
            {"userid": userid, "name": _unique("警员"), "department": departments},
        )
        await wait_account(admin, userid)
        return client, userid

    # Apps.

    async def test_admin_manages_apps_and_bot_accounts(self) -> None:
        admin = await self._admin()
        app = await create_app(admin, name="执法办案", description="案件提醒")
        self.assertEqual(len(app["secret"]), 43)
        agentid = app["agentid"]
        self.assertEqual(app["bot_user_id"], f"@jwwx_app_{agentid}:test.jwwx")
        profile = await admin.ok(
            "GET", f"/_matrix/client/v3/profile/{app['bot_user_id']}"
        )
        self.assertEqual(profile["displayname"], "执法办案")
        listed = await admin.ok("GET", APPS)
        self.assertIn(agentid, [a["agentid"] for a in listed["apps"]])
        self.assertNotIn("secret", (await admin.ok("GET", f"{APPS}/{agentid}")))
        updated = await admin.ok(
            "PUT",
            f"{APPS}/{agentid}",
            {
                "name": "执法办案助手",
                "ip_allowlist": ["10.0.0.0/8"],
                "crypto_mode": "sm4",
            },
        )
        self.assertEqual(updated["crypto_mode"], "sm4")
        # A callback URL is saved only once it passes URL verification.
        self.assertErrcode(  # type: ignore[attr-defined]
            await admin.request(
                "PUT",
                f"{APPS}/{agentid}",
                {
                    "callback": {
                        "url": "http://127.0.0.1:9/cb",
                        "token": "abc123",
                        "encoding_aes_key": "a" * 43,
                    }
                },
            ),
            400,
            "CN_JWWX_CALLBACK_VERIFY_FAILED",
        )
        self.assertIsNone((await admin.ok("GET", f"{APPS}/{agentid}"))["callback"])
        profile = await admin.ok(
            "GET", f"/_matrix/client/v3/profile/{app['bot_user_id']}"
        )
        self.assertEqual(profile["displayname"], "执法办案助手")
        for bad in (
            {"name": ""},
            {"ip_allowlist": ["not-an-ip"]},
            {"crypto_mode": "des"},
            {"callback": {"url": "x", "token": "t", "encoding_aes_key": "k"}},
            {"colour": "red"},
        ):
            self.assertErrcode(  # type: ignore[attr-defined]
                await admin.request("PUT", f"{APPS}/{agentid}", bad),
                400,
                "M_INVALID_PARAM",
            )
        self.assertErrcode(  # type: ignore[attr-defined]
            await admin.request("POST", APPS, {"name": "x", "agentid": agentid}),
            409,
            "CN_JWWX_APP_EXISTS",
        )
        officer = self.user("plain")  # type: ignore[attr-defined]
        self.assertErrcode(  # type: ignore[attr-defined]
            await officer.request("GET", APPS), 403, "M_FORBIDDEN"
        )
        await admin.ok("DELETE", f"{APPS}/{agentid}")
        self.assertErrcode(  # type: ignore[attr-defined]
            await admin.request("GET", f"{APPS}/{agentid}"),
            404,
            "CN_JWWX_APP_NOT_FOUND",
        )

    # Tokens.

    async def test_gettoken_and_token_errors(self) -> None:
        admin = await self._admin()
        app = await create_app(admin)
        client = self.anonymous()  # type: ignore[attr-defined]
        for params, errcode in (
            ({"corpsecret": app["secret"]}, 41002),
            ({"corpid": "wrong", "corpsecret": app["secret"]}, 40013),
            ({"corpid": CORPID}, 41004),
            ({"corpid": CORPID, "corpsecret": "x" * 43}, 40001),
        ):
            answer = await wecom(client, "gettoken", **params)
            self.assertEqual(answer["errcode"], errcode, answer)
        first = await wecom(client, "gettoken", corpid=CORPID, corpsecret=app["secret"])
        self.assertEqual((first["errcode"], first["errmsg"]), (0, "ok"))
        self.assertGreater(first["expires_in"], 7190)
        again = await wecom(client, "gettoken", corpid=CORPID, corpsecret=app["secret"])
        self.assertEqual(again["access_token"], first["access_token"])
        token = first["access_token"]
        self.assertEqual((await wecom(client, "tag/list"))["errcode"], 41001)
        self.assertEqual((await wecom(client, "tag/list", "nope"))["errcode"], 40014)
        self.assertEqual((await wecom(client, "tag/list", token))["errcode"], 0)
        self.assertEqual((await wecom(client, "no/such", token))["errcode"], 48001)
        # IP allow-list: the test client comes from 127.0.0.1.
        await admin.ok(
            "PUT", f"{APPS}/{app['agentid']}", {"ip_allowlist": ["10.0.0.0/8"]}
        )
        self.assertEqual((await wecom(client, "tag/list", token))["errcode"], 60020)
        refused = await wecom(
            client, "gettoken", corpid=CORPID, corpsecret=app["secret"]
        )
        self.assertEqual(refused["errcode"], 60020)
        await admin.ok(
            "PUT",
            f"{APPS}/{app['agentid']}",
            {"ip_allowlist": ["10.0.0.0/8", "127.0.0.1"]},
        )
        self.assertEqual((await wecom(client, "tag/list", token))["errcode"], 0)
        # An expired token answers 42001, and gettoken then issues a new one.
        execute_sql(
            self.server,  # type: ignore[attr-defined]
            "UPDATE jwwx_openapi_tokens SET expires_ts = 1 WHERE agentid = ?",
            (app["agentid"],),
        )
        fresh_check = await wecom(
            client, "gettoken", corpid=CORPID, corpsecret=app["secret"]
        )
        self.assertNotEqual(fresh_check["access_token"], token)
        # (the old token was cached by this process; a token never checked is read
        # from the database)
        expired = fresh_check["access_token"]
        execute_sql(
            self.server,  # type: ignore[attr-defined]
            "UPDATE jwwx_openapi_tokens SET expires_ts = 1 WHERE agentid = ?",
            (app["agentid"],),
        )
        self.assertEqual((await wecom(client, "tag/list", expired))["errcode"], 42001)
        # A new secret: the old one and its tokens stop working.
        renewed = await admin.ok("POST", f"{APPS}/{app['agentid']}/secret")
        answer = await wecom(
            client, "gettoken", corpid=CORPID, corpsecret=app["secret"]
        )
        self.assertEqual(answer["errcode"], 40001)
        new_token = await token_for(client, renewed["secret"])
        self.assertEqual((await wecom(client, "tag/list", new_token))["errcode"], 0)
        self.assertEqual((await wecom(client, "tag/list", token))["errcode"], 40014)

    # Directory.

    async def test_directory_endpoints(self) -> None:
        admin = await self._admin()
        client = self.anonymous()  # type: ignore[attr-defined]
        sync = await create_app(admin, name="通讯录同步", directory_write=True)
        w = await token_for(client, sync["secret"])
        root = await wecom(
            client, "department/create", w, {"name": _unique("市局"), "parentid": 0}
        )
        self.assertEqual((root["errcode"], root["errmsg"]), (0, "created"))
        unit = await wecom(
            client,
            "department/create",
            w,
            {"name": "刑侦支队", "parentid": root["id"], "order": 5},
        )
        other = await wecom(
            client, "department/create", w, {"name": _unique("分局"), "parentid": 0}
        )
        dup = await wecom(
            client,
            "department/create",
            w,
            {"name": "刑侦支队", "parentid": root["id"]},
        )
        self.assertEqual(dup["errcode"], 60008)
        userid = _unique("zhangsan")
        created = await wecom(
            client,
            "user/create",
            w,
            {
                "userid": userid,
                "name": "张三",
                "department": [root["id"], unit["id"]],
                "main_department": unit["id"],
                "is_leader_in_dept": [0, 1],
                "gender": "1",
                "mobile": f"139{next(_names):08d}",
                "position": "侦查员",
                "to_invite": False,
            },
        )
        self.assertEqual((created["errcode"], created["errmsg"]), (0, "created"))
        self.assertEqual(
            (
                await wecom(
                    client,
                    "user/create",
                    w,
                    {"userid": userid, "name": "x", "department": [root["id"]]},
                )
            )["errcode"],
            60102,
        )
        self.assertEqual(
            (
                await wecom(
                    client,
                    "user/create",
                    w,
                    {"userid": _unique("u"), "name": "x", "department": [999999]},
                )
            )["errcode"],
            60003,
        )
        self.assertEqual(
            (
                await wecom(
                    client,
                    "user/create",
                    w,
                    {
                        "userid": _unique("u"),
                        "name": "x",
                        "department": [root["id"]],
                        "alias": "a",
                    },
                )
            )["errcode"],
            40058,
        )
        got = await wecom(client, "user/get", w, userid=userid)
        self.assertEqual(got["department"], [unit["id"], root["id"]])
        self.assertEqual(got["main_department"], unit["id"])
        self.assertEqual(got["is_leader_in_dept"], [1, 0])
        self.assertEqual(
            (got["gender"], got["position"], got["enable"]), ("1", "侦查员", 1)
        )
        self.assertIn(got["status"], (1, 4))
        updated = await wecom(
            client,
            "user/update",
            w,
            {"userid": userid, "position": "探长", "enable": 0},
        )
        self.assertEqual(updated["errmsg"], "updated")
        got = await wecom(client, "user/get", w, userid=userid)
        self.assertEqual(
            (got["position"], got["enable"], got["status"]), ("探长", 0, 2)
        )
        self.assertEqual(
            (await wecom(client, "user/get", w, userid="nobody"))["errcode"], 60111
        )
        self.assertEqual((await wecom(client, "user/get", w))["errcode"], 41009)
        simple = await wecom(
            client, "user/simplelist", w, department_id=root["id"], fetch_child=1
        )
        self.assertEqual([u["userid"] for u in simple["userlist"]], [userid])
        self.assertEqual(
            (await wecom(client, "user/list", w, department_id=other["id"]))[
                "userlist"
            ],
            [],
        )
        departments = await wecom(client, "department/list", w, id=root["id"])
        self.assertEqual(
            [(d["id"], d["parentid"]) for d in departments["department"]],
            [(root["id"], 0), (unit["id"], root["id"])],
        )
        self.assertEqual(
            (await wecom(client, "department/list", w, id=999999))["errcode"], 60003
        )
        simple_departments = await wecom(
            client, "department/simplelist", w, id=root["id"]
        )
        self.assertEqual(
            simple_departments["department_id"][1],
            {"id": unit["id"], "parentid": root["id"], "order": 5},
        )
        # Tags.
        made = await wecom(client, "tag/create", w, {"tagname": _unique("标签")})
        self.assertEqual((made["errcode"], made["errmsg"]), (0, "created"), made)
        renamed = _unique("改名标签")
        self.assertEqual(
            (
                await wecom(
                    client,
                    "tag/update",
                    w,
                    {"tagid": made["tagid"], "tagname": renamed},
                )
            )["errmsg"],
            "updated",
        )
        self.assertEqual(
            (await wecom(client, "tag/get", w, tagid=made["tagid"]))["tagname"], renamed
        )
        self.assertEqual(
            (await wecom(client, "tag/create", w, {"tagname": renamed}))["errcode"],
            40071,
        )
        self.assertEqual(
            (await wecom(client, "tag/delete", w, tagid=made["tagid"]))["errmsg"],
            "deleted",
        )
        tag = await admin.ok("POST", f"{DIRECTORY}/tags", {"name": _unique("标签")})
        added = await wecom(
            client,
            "tag/addtagusers",
            w,
            {
                "tagid": tag["id"],
                "userlist": [userid, "ghost"],
                "partylist": [other["id"]],
            },
        )
        self.assertEqual((added["errcode"], added["invalidlist"]), (0, "ghost"))
        got_tag = await wecom(client, "tag/get", w, tagid=tag["id"])
        self.assertEqual([u["userid"] for u in got_tag["userlist"]], [userid])
        self.assertEqual(got_tag["partylist"], [other["id"]])
        self.assertIn(
            tag["id"],
            [t["tagid"] for t in (await wecom(client, "tag/list", w))["taglist"]],
        )
        removed = await wecom(
            client, "tag/deltagusers", w, {"tagid": tag["id"], "userlist": [userid]}
        )
        self.assertEqual(removed["errcode"], 0)
        self.assertEqual(
            (await wecom(client, "tag/get", w, tagid=tag["id"]))["userlist"], []
        )
        self.assertEqual(
            (await wecom(client, "tag/get", w, tagid=999999))["errcode"], 40068
        )
        # Visible range and write permission of an ordinary app.
        reader = await create_app(admin, visible_range={"department_ids": [unit["id"]]})
        r = await token_for(client, reader["secret"])
        self.assertEqual(
            (await wecom(client, "user/get", r, userid=userid))["userid"], userid
        )
        self.assertEqual(
            (await wecom(client, "department/list", r, id=root["id"]))["errcode"], 60011
        )
        self.assertEqual(
            [
                d["id"]
                for d in (await wecom(client, "department/list", r))["department"]
            ],
            [unit["id"]],
        )
        self.assertEqual(
            (await wecom(client, "user/simplelist", r, department_id=other["id"]))[
                "errcode"
            ],
            60011,
        )
        self.assertEqual(
            (await wecom(client, "department/create", r, {"name": "x", "parentid": 0}))[
                "errcode"
            ],
            48002,
        )
        # Deletes.
        self.assertEqual(
            (await wecom(client, "department/delete", w, id=unit["id"]))["errcode"],
            60005,
        )
        self.assertEqual(
            (await wecom(client, "user/delete", w, userid=userid))["errmsg"], "deleted"
        )
        self.assertEqual(
            (await wecom(client, "user/get", w, userid=userid))["errcode"], 60111
        )
        self.assertEqual(
            (await wecom(client, "department/delete", w, id=unit["id"]))["errmsg"],
            "deleted",
        )
        self.assertEqual(
            (
                await wecom(
                    client, "department/update", w, {"id": other["id"], "name": "改名"}
                )
            )["errmsg"],
            "updated",
        )
        self.assertEqual(
            (await wecom(client, "user/create", w, "{bad"))["errcode"], 47001
        )

    # Messages.

    async def test_message_send_of_a_blocked_text_is_refused(self) -> None:
        """A keyword (in any form, in any field) answers 87014 and nothing is recorded
        or delivered; it used to answer errcode 0 with a msgid."""
        admin = await self._admin()
        client = self.anonymous()  # type: ignore[attr-defined]
        root = await self._department(admin, None)
        alice, alice_id = await self._officer(admin, [root])
        app = await create_app(
            admin, name="通知", visible_range={"department_ids": [root]}
        )
        t = await token_for(client, app["secret"])
        base = {"touser": alice_id, "agentid": app["agentid"]}
        for body in (
            {"msgtype": "text", "text": {"content": "请注意協查通報"}},
            {"msgtype": "markdown", "markdown": {"content": "协<!-- > -->查通报"}},
            {
                "msgtype": "textcard",
                "textcard": {
                    "title": "协\u200b查通報",
                    "description": "说明",
                    "url": "https://example.invalid/",
                },
            },
        ):
            answer = await wecom(client, "message/send", t, {**base, **body})
            self.assertEqual(answer["errcode"], 87014, answer)
            self.assertNotIn("msgid", answer)
        stats = await admin.ok("GET", f"{APPS}/{app['agentid']}/statistics")
        self.assertEqual(stats["messages"], 0, stats)
        sent = await wecom(
            client,
            "message/send",
            t,
            {**base, "msgtype": "text", "text": {"content": "協查工作通知"}},
        )
        self.assertEqual(sent["errcode"], 0, sent)
        rooms = (await alice.sync(timeout_ms=1000)).get("rooms", {}).get("join", {})
        self.assertNotIn("查通", json.dumps(rooms, ensure_ascii=False))

    async def test_admin_pushes_on_behalf_of_the_app(self) -> None:
        admin = await self._admin()
        root = await self._department(admin, None)
        outside = await self._department(admin, None)
        alice, alice_id = await self._officer(admin, [root])
        _carol, carol_id = await self._officer(admin, [outside])
        app = await create_app(
            admin, name="值班推送", visible_range={"department_ids": [root]}
        )
        push = f"{APPS}/{app['agentid']}/messages"
        text = f"管理后台推送{_unique('')}"
        sent = await admin.ok(
            "POST",
            push,
            {
                "touser": f"{alice_id}|{carol_id}",
                "msgtype": "text",
                "text": {"content": text},
            },
        )
        self.assertEqual(sent["invaliduser"], carol_id)  # outside the app's range
        for _ in range(20):
            result = await alice.sync(timeout_ms=1000)
            bodies = [
                (e["sender"], e["content"].get("body"))
                for room in result.get("rooms", {}).get("join", {}).values()
                for e in room.get("timeline", {}).get("events", [])
            ]
            if (app["bot_user_id"], text) in bodies:
                break
        else:
            raise AssertionError(f"{alice_id} never got the push")
        stats = await admin.ok("GET", f"{APPS}/{app['agentid']}/statistics")
        self.assertEqual(stats["messages"], 1, stats)
        # message/send's refusals, as a Matrix error with WeCom's number; nothing sent.
        for body, wecom_errcode in (
            (
                {
                    "touser": alice_id,
                    "msgtype": "text",
                    "text": {"content": "协查通报"},
                },
                87014,
            ),
            ({"touser": carol_id, "msgtype": "text", "text": {"content": "x"}}, 81013),
            ({"touser": alice_id, "msgtype": "text", "text": {}}, 44004),
        ):
            refused = self.assertErrcode(  # type: ignore[attr-defined]
                await admin.request("POST", push, body), 400, "CN_JWWX_APP_PUSH_REFUSED"
            )
            self.assertEqual(refused["wecom_errcode"], wecom_errcode, refused)
        stats = await admin.ok("GET", f"{APPS}/{app['agentid']}/statistics")
        self.assertEqual(stats["messages"], 1, stats)
        self.assertErrcode(  # type: ignore[attr-defined]
            await alice.request("POST", push, {"touser": alice_id}), 403, "M_FORBIDDEN"
        )

    async def test_message_send_and_recall(self) -> None:
        admin = await self._admin()
        client = self.anonymous()  # type: ignore[attr-defined]
        root = await self._department(admin, None)
        team = await self._department(admin, root)
        outside = await self._department(admin, None)
        alice, alice_id = await self._officer(admin, [root])
        bob, bob_id = await self._officer(admin, [team])
        carol, carol_id = await self._officer(admin, [outside])
        tag = await admin.ok(
            "POST", f"{DIRECTORY}/tags", {"name": _unique("标签"), "userids": [bob_id]}
        )
        app = await create_app(
            admin, name="通知公告", visible_range={"department_ids": [root]}
        )
        bot = app["bot_user_id"]
        t = await token_for(client, app["secret"])
        sent = await wecom(
            client,
            "message/send",
            t,
            {
                "touser": f"{alice_id}|{carol_id}|ghost",
                "msgtype": "text",
                "agentid": app["agentid"],
                "text": {"content": "今晚8点集合"},
            },
        )
        self.assertEqual(sent["errcode"], 0, sent)
        self.assertEqual(sent["invaliduser"], f"{carol_id}|ghost")
        msgid = sent["msgid"]

        async def received(who: MatrixClient, text: str) -> dict[str, Any]:
            for _ in range(20):
                result = await who.sync(timeout_ms=1000)
                for room_id, room in result.get("rooms", {}).get("join", {}).items():
                    for event in room.get("timeline", {}).get("events", []):
                        if event.get("sender") == bot and event["content"].get(
                            "body", ""
                        ).startswith(text):
                            return {"room_id": room_id, **event}
            raise AssertionError(f"{who.user_id} never got {text!r}")

        first = await received(alice, "今晚8点集合")
        self.assertEqual(first["content"]["cn.jwwx.openapi"]["msgid"], msgid)
        # The audit archive keeps the push: app, target range as given, content
        # (read by an audit admin: the export is not for plain server admins).
        auditor: MatrixClient = self.user("oaauditor")  # type: ignore[attr-defined]
        await make_audit_admin(self.server, auditor.user_id)  # type: ignore[attr-defined]
        archived: list[dict[str, Any]] = []
        for _ in range(900):
            page = await auditor.ok(
                "GET", "/_jwwx/admin/v1/audit/export/app?after_seq=0&limit=500"
            )
            archived = [
                r["record"]
                for r in page["records"]
                if r["record"].get("msgid") == msgid
            ]
            if archived:
                break
            await sleep(0.1)
        self.assertEqual(len(archived), 1, archived)
        self.assertEqual(archived[0]["app_id"], str(app["agentid"]))
        self.assertEqual(
            archived[0]["targets"]["touser"], f"{alice_id}|{carol_id}|ghost"
        )
        self.assertEqual(archived[0]["content"]["body"], "今晚8点集合")
        # Departments (with sub-departments), tags, @all; markdown, textcard, news.
        party = await wecom(
            client,
            "message/send",
            t,
            {
                "toparty": f"{team}|{outside}",
                "msgtype": "markdown",
                "agentid": app["agentid"],
                "markdown": {"content": "**紧急** 通知"},
            },
        )
        self.assertEqual(party["invalidparty"], str(outside))
        markdown = await received(bob, "**紧急**")
        self.assertIn("<strong>紧急</strong>", markdown["content"]["formatted_body"])
        card = await wecom(
            client,
            "message/send",
            t,
            {
                "totag": f"{tag['id']}|999999",
                "msgtype": "textcard",
                "agentid": app["agentid"],
                "textcard": {
                    "title": "警情",
                    "description": "详见链接",
                    "url": "https://app.example/1",
                },
            },
        )
        self.assertEqual(card["invalidtag"], "999999")
        await received(bob, "警情")
        news = await wecom(
            client,
            "message/send",
            t,
            {
                "touser": "@all",
                "msgtype": "news",
                "agentid": app["agentid"],
                "news": {
                    "articles": [{"title": "简报", "url": "https://app.example/n"}]
                },
            },
        )
        self.assertEqual(news["errcode"], 0)
        news_event = await received(alice, "简报")
        await received(bob, "简报")
        # The same conversation every time.
        self.assertEqual(news_event["room_id"], first["room_id"])
        # Statistics: delivered, and read once a recipient sends a read receipt.
        receipt = (
            f"/_matrix/client/v3/rooms/{quote(news_event['room_id'])}"
            f"/receipt/m.read/{quote(news_event['event_id'])}"
        )
        await alice.ok("POST", receipt, {})
        detail = await admin.ok(
            "GET", f"{APPS}/{app['agentid']}/messages/{news['msgid']}"
        )
        self.assertEqual(
            (detail["recipients"], detail["delivered"], detail["read"]), (2, 2, 1)
        )
        self.assertErrcode(  # type: ignore[attr-defined]
            await admin.request("GET", f"{APPS}/{app['agentid']}/messages/nope"),
            404,
            "CN_JWWX_MESSAGE_NOT_FOUND",
        )
        # Errors.
        for body, errcode in (
            (
                {
                    "touser": carol_id,
                    "msgtype": "text",
                    "agentid": app["agentid"],
                    "text": {"content": "x"},
                },
                81013,
            ),
            (
                {
                    "touser": alice_id,
                    "msgtype": "text",
                    "agentid": 1,
                    "text": {"content": "x"},
                },
                40056,
            ),
            ({"touser": alice_id, "msgtype": "text", "text": {"content": "x"}}, 41011),
            (
                {
                    "touser": alice_id,
                    "msgtype": "text",
                    "agentid": app["agentid"],
                    "text": {"content": ""},
                },
                44004,
            ),
            (
                {"touser": alice_id, "msgtype": "bogus", "agentid": app["agentid"]},
                40008,
            ),
        ):
            self.assertEqual(
                (await wecom(client, "message/send", t, body))["errcode"], errcode, body
            )
        # Recall: the event is redacted for the officer.
        recalled = await wecom(client, "message/recall", t, {"msgid": msgid})
        self.assertEqual(recalled["errcode"], 0, recalled)
        events = await alice.sync_timeline_until(
            first["room_id"],
            lambda e: e.get("type") == "m.room.redaction",
        )
        self.assertTrue(
            any(
                e.get("redacts") == first["event_id"]
                or e["content"].get("redacts") == first["event_id"]
                for e in events
            )
        )
        self.assertEqual(
            (await wecom(client, "message/recall", t, {"msgid": msgid}))["errcode"],
            40058,
        )
        self.assertEqual(
            (await wecom(client, "message/recall", t, {"msgid": "nope"}))["errcode"],
            40058,
        )
        stats = await admin.ok("GET", f"{APPS}/{app['agentid']}/statistics")
        self.assertEqual(stats["messages"], 4)
        self.assertEqual(stats["delivered"], 5)
        # Read over the whole app: the sum of its messages' own counts.
        self.assertGreaterEqual(stats["read"], 1)
        self.assertEqual(stats["read"], sum(m["read"] for m in stats["recent"]))
        del carol

    async def test_a_push_racing_a_new_apps_preparation_opens_one_conversation(
        self,
    ) -> None:
        """message/send right after the app is created meets the background
        preparation of its range at the same officers: each gets one conversation,
        never a spare room joined and then left (one they could write in unheard)."""
        admin = await self._admin()
        client = self.anonymous()  # type: ignore[attr-defined]
        root = await self._department(admin, None)
        officers = [await self._officer(admin, [root]) for _ in range(8)]
        app = await create_app(
            admin, name="并发", visible_range={"department_ids": [root]}
        )
        t = await token_for(client, app["secret"])
        sent = await defer.gatherResults(
            [
                defer.Deferred.fromCoroutine(
                    wecom(
                        client,
                        "message/send",
                        t,
                        {
                            "touser": userid,
                            "msgtype": "text",
                            "agentid": app["agentid"],
                            "text": {"content": "欢迎使用"},
                        },
                    )
                )
                # Last first: the preparation goes in userid order, so some of
                # these meet it at the same officer.
                for _, userid in reversed(officers)
            ]
        )
        self.assertEqual([s["errcode"] for s in sent], [0] * len(officers), sent)
        for officer in officers:
            room_id = await self._officer_room(client, t, app, officer)
            # An initial sync leaves out rooms left unless asked for them.
            with_left = quote(json.dumps({"room": {"include_leave": True}}))
            code, whole = await officer[0].request(
                "GET", f"/_matrix/client/v3/sync?filter={with_left}"
            )
            self.assertEqual(code, 200, whole)
            rooms = whole["rooms"]
            self.assertEqual(list(rooms.get("join", {})), [room_id])
            self.assertEqual(rooms.get("leave", {}), {})
            self.assertEqual(rooms.get("invite", {}), {})

    async def test_media_upload_and_media_messages(self) -> None:
        admin = await self._admin()
        client = self.anonymous()  # type: ignore[attr-defined]
        base = self.server.base_url  # type: ignore[attr-defined]
        root = await self._department(admin, None)
        officer, userid = await self._officer(admin, [root])
        app = await create_app(admin, visible_range={"userids": [userid]})
        other = await create_app(admin)
        t = await token_for(client, app["secret"])
        png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
        # WeCom SDKs upload multipart/form-data (field "media"); the raw file as the
        # body works too.
        status, form = await upload(
            base, t, "image", "现场.png", png, "image/png", True
        )
        assert form is not None
        self.assertEqual((status, form["errcode"], form["type"]), (200, 0, "image"))
        ctype, data = await download(base, t, form["media_id"])
        self.assertEqual((ctype, data), ("image/png", png))
        _, answer = await upload(base, t, "image", "现场.png", png, "image/png")
        assert answer is not None
        self.assertEqual((answer["errcode"], answer["type"]), (0, "image"), answer)
        image_id = answer["media_id"]
        ctype, data = await download(base, t, image_id)
        self.assertEqual((ctype, data), ("image/png", png))
        # A form without the media field: WeCom's 41005, nothing stored.
        status, form = await upload(
            base, t, "image", "a.png", png, "image/png", True, field="other"
        )
        assert form is not None
        self.assertEqual((status, form["errcode"]), (200, 41005), form)
        # Only media/upload accepts forms: Synapse still refuses them elsewhere.
        status, _ = await upload(
            base, t, "image", "a.png", png, "image/png", True, path="message/send"
        )
        self.assertEqual(status, 415)
        report = "案情报告".encode() * 100
        _, answer = await upload(base, t, "file", "报告.txt", report, "text/plain")
        assert answer is not None
        file_id = answer["media_id"]
        for media_type, data, errcode in (
            ("gif", png, 40004),
            ("image", b"", 41005),
            ("voice", b"x" * (3 * 1024 * 1024), 40006),
        ):
            _, bad = await upload(base, t, media_type, "x", data, "image/png")
            assert bad is not None
            self.assertEqual(bad["errcode"], errcode, media_type)
        # Another app cannot use or read this app's media.
        o = await token_for(client, other["secret"])
        _, data = await download(base, o, image_id)
        self.assertEqual(json.loads(data)["errcode"], 40007)
        sent = await wecom(
            client,
            "message/send",
            t,
            {
                "touser": userid,
                "msgtype": "image",
                "agentid": app["agentid"],
                "image": {"media_id": image_id},
            },
        )
        self.assertEqual(sent["errcode"], 0, sent)
        sent = await wecom(
            client,
            "message/send",
            t,
            {
                "touser": userid,
                "msgtype": "file",
                "agentid": app["agentid"],
                "file": {"media_id": file_id},
            },
        )
        self.assertEqual(sent["errcode"], 0, sent)
        for body in (
            {"msgtype": "image", "image": {"media_id": "nope"}},
            {"msgtype": "voice", "voice": {"media_id": image_id}},
        ):
            answer = await wecom(
                client,
                "message/send",
                t,
                {"touser": userid, "agentid": app["agentid"], **body},
            )
            self.assertEqual(answer["errcode"], 40007, body)
        seen: list[dict[str, Any]] = []
        for _ in range(20):
            result = await officer.sync(timeout_ms=1000)
            for room in result.get("rooms", {}).get("join", {}).values():
                seen.extend(room.get("timeline", {}).get("events", []))
            kinds = {
                e["content"].get("msgtype")
                for e in seen
                if e.get("sender") == app["bot_user_id"]
            }
            if {"m.image", "m.file"} <= kinds:
                break
        image = next(e for e in seen if e["content"].get("msgtype") == "m.image")
        self.assertTrue(image["content"]["url"].startswith("mxc://"))
        self.assertEqual(image["content"]["info"]["mimetype"], "image/png")
        document = next(e for e in seen if e["content"].get("msgtype") == "m.file")
        self.assertEqual(document["content"]["filename"], "报告.txt")

    async def test_jsapi_tickets_and_page_signatures(self) -> None:
        admin = await self._admin()
        client = self.anonymous()  # type: ignore[attr-defined]
        app = await create_app(admin)
        t = await token_for(client, app["secret"])
        corp = await wecom(client, "get_jsapi_ticket", t)
        self.assertEqual(corp["errcode"], 0, corp)
        self.assertGreater(corp["expires_in"], 7190)
        self.assertEqual(
            (await wecom(client, "get_jsapi_ticket", t))["ticket"], corp["ticket"]
        )
        agent = await wecom(client, "ticket/get", t, type="agent_config")
        self.assertNotEqual(agent["ticket"], corp["ticket"])
        self.assertEqual(
            (await wecom(client, "ticket/get", t, type="other"))["errcode"], 40058
        )
        self.assertEqual((await wecom(client, "get_jsapi_ticket"))["errcode"], 41001)
        # What an H5 page's backend computes, checked as a client's JS bridge would.
        officer = self.user("h5")  # type: ignore[attr-defined]
        page = "https://h5.example.cn/case/list?id=7#top"
        stamp, nonce = "1700000000", "Wm3WZYTPz0wzccnW"
        signed = jsapi_signature(corp["ticket"], nonce, stamp, page)
        verify = "/_jwwx/client/v1/openapi/jsapi/verify"
        body = {"timestamp": stamp, "nonceStr": nonce, "url": page, "signature": signed}
        self.assertEqual((await officer.ok("POST", verify, body))["valid"], True)
        agent_signed = jsapi_signature(agent["ticket"], nonce, stamp, page)
        self.assertTrue(
            (
                await officer.ok(
                    "POST",
                    verify,
                    {**body, "signature": agent_signed, "agentid": app["agentid"]},
                )
            )["valid"]
        )
        for wrong in (
            {**body, "url": "https://h5.example.cn/other"},
            {**body, "agentid": app["agentid"]},
        ):
            self.assertErrcode(  # type: ignore[attr-defined]
                await officer.request("POST", verify, wrong),
                400,
                "CN_JWWX_JSAPI_SIGNATURE_INVALID",
            )
        self.assertErrcode(  # type: ignore[attr-defined]
            await client.request("POST", verify, body), 401, "M_MISSING_TOKEN"
        )

    async def test_oauth2_code_flow(self) -> None:
        admin = await self._admin()
        client = self.anonymous()  # type: ignore[attr-defined]
        base = self.server.base_url  # type: ignore[attr-defined]
        root = await self._department(admin, None)
        outside = await self._department(admin, None)
        officer, userid = await self._officer(admin, [root])
        stranger, _ = await self._officer(admin, [outside])
        app = await create_app(
            admin,
            name="移动警务",
            redirect_domain="h5.example.cn",
            visible_range={"department_ids": [root]},
        )
        other = await create_app(admin, redirect_domain="other.example.cn")
        t = await token_for(client, app["secret"])

        def authorize(redirect: str, **extra: str) -> str:
            params = {
                "appid": CORPID,
                "redirect_uri": redirect,
                "response_type": "code",
                "scope": "snsapi_base",
                "state": "s1",
                "agentid": str(app["agentid"]),
                **extra,
            }
            return "/connect/oauth2/authorize?" + urlencode(params)

        page = "https://h5.example.cn/entry?from=menu"
        status, location, _ = await get_page(base, authorize(page), officer.token)
        self.assertEqual(status, 302)
        assert location is not None
        parts = urlsplit(location)
        query = dict(parse_qsl(parts.query))
        self.assertEqual((parts.netloc, parts.path), ("h5.example.cn", "/entry"))
        self.assertEqual((query["from"], query["state"]), ("menu", "s1"))
        info = await wecom(client, "auth/getuserinfo", t, code=query["code"])
        self.assertEqual((info["errcode"], info["userid"]), (0, userid), info)
        # Single use.
        again = await wecom(client, "auth/getuserinfo", t, code=query["code"])
        self.assertEqual(again["errcode"], 40029)
        # A code is for the app that asked.
        _, location, _ = await get_page(base, authorize(page), officer.token)
        code = dict(parse_qsl(urlsplit(location or "").query))["code"]
        o = await token_for(client, other["secret"])
        self.assertEqual(
            (await wecom(client, "auth/getuserinfo", o, code=code))["errcode"], 40029
        )
        # An expired code.
        _, location, _ = await get_page(base, authorize(page), officer.token)
        code = dict(parse_qsl(urlsplit(location or "").query))["code"]
        execute_sql(
            self.server,  # type: ignore[attr-defined]
            "UPDATE jwwx_openapi_oauth_codes SET expires_ts = 1",
        )
        self.assertEqual(
            (await wecom(client, "auth/getuserinfo", t, code=code))["errcode"], 40029
        )
        # Refusals never redirect: an untrusted domain, a wrong corp id, an officer
        # outside the visible range.
        for path, token in (
            (authorize("https://evil.example.com/steal"), officer.token),
            (authorize("https://h5.example.cn.evil.com/x"), officer.token),
            (authorize(page, appid="wrong"), officer.token),
            (authorize(page), stranger.token),
        ):
            status, location, body = await get_page(base, path, token)
            self.assertEqual((status, location), (400, None), body)
        # Without a Matrix token: the login page, which finishes through POST.
        status, location, body = await get_page(base, authorize(page))
        self.assertEqual((status, location), (200, None))
        self.assertIn("移动警务", body)
        answer = await officer.ok(
            "POST",
            "/connect/oauth2/authorize",
            {
                "appid": CORPID,
                "redirect_uri": page,
                "state": "s2",
                "agentid": app["agentid"],
            },
        )
        code = dict(parse_qsl(urlsplit(answer["redirect"]).query))["code"]
        info = await wecom(client, "auth/getuserinfo", t, code=code)
        self.assertEqual(info["userid"], userid)
        refused = await officer.request(
            "POST",
            "/connect/oauth2/authorize",
            {"appid": CORPID, "redirect_uri": "https://evil.example.com/"},
        )
        body = self.assertErrcode(  # type: ignore[attr-defined]
            refused, 400, "CN_JWWX_OAUTH_REFUSED"
        )
        self.assertEqual(body["wecom_errcode"], 50001)

    async def _officer_room(
        self, client: MatrixClient, token: str, app: dict[str, Any], officer: Any
    ) -> str:
        """Open the app's conversation with an officer (message/send) and return it."""
        client_, userid = officer
        sent = await wecom(
            client,
            "message/send",
            token,
            {
                "touser": userid,
                "msgtype": "text",
                "agentid": app["agentid"],
                "text": {"content": "欢迎使用"},
            },
        )
        self.assertEqual(sent["errcode"], 0, sent)
        for _ in range(20):
            result = await client_.sync(timeout_ms=1000)
            for room_id, room in result.get("rooms", {}).get("join", {}).items():
                for event in room.get("timeline", {}).get("events", []):
                    if (
                        event.get("sender") == app["bot_user_id"]
                        and event.get("content", {}).get("body") == "欢迎使用"
                    ):
                        return str(room_id)
        raise AssertionError("no conversation")

    async def test_callbacks_in_both_crypto_modes(self) -> None:
        admin = await self._admin()
        client = self.anonymous()  # type: ignore[attr-defined]
        root = await self._department(admin, None)
        officer = await self._officer(admin, [root])
        officer_client, userid = officer
        for mode in MODES:
            key = generate_encoding_aes_key()
            receiver = Receiver(MsgCrypt("Tok3n", key, CORPID, mode))
            url = receiver.start()
            try:
                callback = {"url": url, "token": "Tok3n", "encoding_aes_key": key}
                # A receiver holding another key refuses the verification.
                refused = await admin.request(
                    "POST",
                    APPS,
                    {
                        "name": "x",
                        "crypto_mode": mode,
                        "callback": {**callback, "encoding_aes_key": "b" * 43},
                    },
                )
                self.assertErrcode(  # type: ignore[attr-defined]
                    refused, 400, "CN_JWWX_CALLBACK_VERIFY_FAILED"
                )
                app = await create_app(
                    admin,
                    name=f"回调{mode}",
                    crypto_mode=mode,
                    callback=callback,
                    visible_range={"department_ids": [root]},
                )
                self.assertEqual(receiver.verifications, 1)
                # Verified again on demand (the console's 验证回调地址).
                check = f"{APPS}/{app['agentid']}/callback/verification"
                self.assertTrue((await admin.ok("GET", check))["verified"])
                good, receiver.crypt = (
                    receiver.crypt,
                    MsgCrypt("0ther", key, CORPID, mode),
                )
                failed = await admin.ok("GET", check)
                receiver.crypt = good
                self.assertFalse(failed["verified"])
                self.assertIn("未通过验证", failed["error"])
                self.assertEqual(receiver.verifications, 2)
                t = await token_for(client, app["secret"])
                room_id = await self._officer_room(client, t, app, officer)
                await officer_client.send_text(room_id, f"收到 {mode}")
                messages = await self._received_callbacks(receiver, 1)
                first = messages[0]
                self.assertEqual(
                    (first["MsgType"], first["Content"], first["FromUserName"]),
                    ("text", f"收到 {mode}", userid),
                )
                self.assertEqual(first["AgentID"], str(app["agentid"]))
                self.assertEqual(first["ToUserName"], CORPID)
                # The app server fails once: the message comes again, once.
                receiver.fail_next = 1
                await officer_client.send(
                    room_id,
                    {
                        "msgtype": "m.location",
                        "body": "市局大楼",
                        "geo_uri": "geo:39.9042,116.4074",
                    },
                )
                messages = await self._received_callbacks(receiver, 2)
                location = messages[1]
                self.assertEqual(
                    (location["MsgType"], location["Location_X"], location["Label"]),
                    ("location", "39.9042", "市局大楼"),
                )
                self.assertEqual(receiver.posts, 3)
                self.assertNotEqual(location["MsgId"], first["MsgId"])
                # A passive reply in the answer reaches the officer from the app.
                receiver.reply = (
                    f"<xml><ToUserName><![CDATA[{userid}]]></ToUserName>"
                    f"<FromUserName><![CDATA[{CORPID}]]></FromUserName>"
                    "<CreateTime>1700000000</CreateTime><MsgType>text</MsgType>"
                    f"<Content><![CDATA[自动回复 {mode}]]></Content></xml>"
                )
                await officer_client.send_text(room_id, "请回复")
                await self._received_callbacks(receiver, 3)

                def is_reply(e: dict[str, Any], mode: str = mode) -> bool:
                    return bool(e.get("content", {}).get("body") == f"自动回复 {mode}")

                events = await officer_client.sync_timeline_until(room_id, is_reply)
                reply = next(e for e in events if is_reply(e))
                self.assertEqual(reply["sender"], app["bot_user_id"])
                # A reply that is not validly encrypted is dropped, not retried.
                receiver.reply_crypt = MsgCrypt("0ther", key, CORPID, mode)
                await officer_client.send_text(room_id, "再来")
                await self._received_callbacks(receiver, 4)
                receiver.reply = None
                stats = await admin.ok("GET", f"{APPS}/{app['agentid']}/statistics")
                self.assertEqual(stats["messages"], 2)  # welcome + the one reply
                self.assertEqual(receiver.posts, 5)
            finally:
                await receiver.stop()

    async def _received_callbacks(
        self, receiver: Receiver, count: int
    ) -> list[dict[str, str]]:
        for _ in range(900):
            if len(receiver.messages) >= count:
                return receiver.messages
            await sleep(0.1)
        raise AssertionError(
            f"callback got {receiver.messages}, posts={receiver.posts}"
        )


class OpenApiSQLiteTest(OpenApiTests, SQLiteCase):
    pass


class OpenApiPostgresTest(OpenApiTests, PostgresCase):
    pass
