# SPDX-License-Identifier: AGPL-3.0-or-later
"""Pushes to an app's whole range go into its broadcast room (modules/openapi/
broadcast.py), over HTTP on both engines: one event for everyone, replies refused
there (they stay private), duplicate check, statistics with read receipts, the audit
archive, recall, an officer who enters the range later and one who leaves it, and a
push at once after a second app's creation (early send)."""

from typing import Any
from urllib.parse import quote

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.modules.openapi.helpers import (
    APPS,
    DIRECTORY,
    create_app,
    enrol_officer,
    make_audit_admin,
    root_department,
    sleep,
    token_for,
    wecom,
)


async def _received(who: MatrixClient, bot: str, text: str) -> dict[str, Any]:
    """The bot's event whose body starts with `text`, as the officer's /sync shows it."""
    for _ in range(30):
        result = await who.sync(timeout_ms=1000)
        for room_id, room in result.get("rooms", {}).get("join", {}).items():
            for event in room.get("timeline", {}).get("events", []):
                body = event.get("content", {}).get("body", "")
                if event.get("sender") == bot and body.startswith(text):
                    return {"room_id": room_id, **event}
    raise AssertionError(f"{who.user_id} never got {text!r}")


async def _bodies(who: MatrixClient, room_id: str) -> list[str]:
    return [
        e["content"].get("body", "")
        for e in await who.messages(room_id)
        if e["type"] == "m.room.message"
    ]


class BroadcastTests:
    async def _configure(self, auditor: str) -> None:
        """The audit role for the auditor (given at run time; broadcast_min_range: 2
        is the classes' module_config, from the server's start)."""
        await make_audit_admin(self.server, auditor)  # type: ignore[attr-defined]

    async def test_whole_range_push(self) -> None:
        auditor: MatrixClient = self.user("bcauditor")  # type: ignore[attr-defined]
        await self._configure(auditor.user_id)
        admin: MatrixClient = self.user("bcadmin", admin=True)  # type: ignore[attr-defined]
        client: MatrixClient = self.anonymous()  # type: ignore[attr-defined]
        status, _ = await admin.request("GET", "/_jwwx/admin/v1/openapi/broadcast/pool")
        self.assertEqual(status, 404)  # type: ignore[attr-defined]  # the pool is off
        root = await root_department(admin, "广播大队")
        elsewhere = await root_department(admin, "别的大队")
        officers = [self.user("bc") for _ in range(3)]  # type: ignore[attr-defined]
        ids = [await enrol_officer(admin, o, root) for o in officers]
        alice, bob, carol = officers
        app = await create_app(admin, visible_range={"department_ids": [root]})
        agentid = app["agentid"]
        bot = f"@jwwx_app_{agentid}:{admin.user_id.split(':', 1)[1]}"
        t = await token_for(client, app["secret"])
        stats: dict[str, Any] = {}
        for _ in range(900):  # joined in the background once the range is set
            stats = await admin.ok("GET", f"{APPS}/{agentid}/statistics")
            if stats["broadcast_members"] == 3:
                break
            await sleep(0.1)
        self.assertEqual(stats["broadcast_members"], 3, stats)  # type: ignore[attr-defined]

        async def push(text: str, **target: Any) -> dict[str, Any]:
            answer = await wecom(
                client,
                "message/send",
                t,
                {
                    **target,
                    "msgtype": "text",
                    "agentid": agentid,
                    "text": {"content": text},
                    "enable_duplicate_check": 1,
                },
            )
            assert answer["errcode"] == 0, answer
            return answer

        first = await push("全体注意", toparty=str(root))
        got = [await _received(o, bot, "全体注意") for o in officers]
        room = got[0]["room_id"]
        # One event in one room for all three.
        self.assertEqual({g["room_id"] for g in got}, {room})  # type: ignore[attr-defined]
        self.assertEqual(len({g["event_id"] for g in got}), 1)  # type: ignore[attr-defined]
        self.assertEqual(  # type: ignore[attr-defined]
            got[0]["content"]["cn.jwwx.openapi"]["msgid"], first["msgid"]
        )
        # Duplicate check: the same push again answers the first msgid, sends nothing.
        again = await push("全体注意", toparty=str(root))
        self.assertEqual(again["msgid"], first["msgid"])  # type: ignore[attr-defined]
        self.assertEqual(await _bodies(alice, room), ["全体注意"])  # type: ignore[attr-defined]
        # Replies stay private: nobody but the bot may post in the broadcast room.
        status, _ = await bob.send_text(room, "收到")
        self.assertEqual(status, 403)  # type: ignore[attr-defined]
        # Statistics: three delivered copies, one read once Alice's receipt is in.
        path = f"{APPS}/{agentid}/messages/{first['msgid']}"
        detail = await admin.ok("GET", path)
        self.assertEqual(  # type: ignore[attr-defined]
            (detail["recipients"], detail["delivered"], detail["read"]), (3, 3, 0)
        )
        event_id = quote(got[0]["event_id"])
        await alice.ok(
            "POST",
            f"/_matrix/client/v3/rooms/{quote(room)}/receipt/m.read/{event_id}",
            {},
        )
        self.assertEqual((await admin.ok("GET", path))["read"], 1)  # type: ignore[attr-defined]
        stats = await admin.ok("GET", f"{APPS}/{agentid}/statistics")
        self.assertEqual(  # type: ignore[attr-defined]
            (stats["delivered"], stats["read"], stats["broadcast_members"]), (3, 1, 3)
        )
        # The audit archive keeps the push once, with its target as given.
        archived: list[dict[str, Any]] = []
        for _ in range(900):
            page = await auditor.ok(
                "GET", "/_jwwx/admin/v1/audit/export/app?after_seq=0&limit=500"
            )
            archived = [
                r["record"]
                for r in page["records"]
                if r["record"].get("msgid") == first["msgid"]
            ]
            if archived:
                break
            await sleep(0.1)
        self.assertEqual(len(archived), 1, archived)  # type: ignore[attr-defined]
        self.assertEqual(archived[0]["targets"], {"toparty": str(root)})  # type: ignore[attr-defined]

        # A one-officer push goes to the private conversation, not the broadcast room.
        await push("单独通知", touser=ids[0])
        private = await _received(alice, bot, "单独通知")
        self.assertNotEqual(private["room_id"], room)  # type: ignore[attr-defined]
        self.assertNotIn("单独通知", await _bodies(bob, room))  # type: ignore[attr-defined]

        # Dave enters the range later, Carol leaves it: the next @all push joins Dave
        # (who does not read the earlier push) and removes Carol before sending.
        dave: MatrixClient = self.user("bc")  # type: ignore[attr-defined]
        await enrol_officer(admin, dave, root)
        await admin.ok(
            "PUT", f"{DIRECTORY}/members/{ids[2]}", {"department": [elsewhere]}
        )
        second = await push("第二条", touser="@all")
        got_dave = await _received(dave, bot, "第二条")
        self.assertEqual(got_dave["room_id"], room)  # type: ignore[attr-defined]
        self.assertEqual(await _bodies(dave, room), ["第二条"])  # type: ignore[attr-defined]
        await _received(bob, bot, "第二条")
        visible = await carol.request(
            "GET", f"/_matrix/client/v3/rooms/{quote(room)}/messages?dir=b&limit=10"
        )
        bodies = [
            e["content"].get("body")
            for e in visible[1].get("chunk", [])
            if e["type"] == "m.room.message"
        ]
        self.assertNotIn("第二条", bodies)  # type: ignore[attr-defined]
        # Carol cannot come back by herself (the room's join rule is public).
        status, answer = await carol.request(
            "POST", f"/_matrix/client/v3/join/{quote(room)}", {}
        )
        self.assertEqual(status, 403, answer)  # type: ignore[attr-defined]
        detail = await admin.ok("GET", f"{APPS}/{agentid}/messages/{second['msgid']}")
        self.assertEqual(  # type: ignore[attr-defined]
            (detail["recipients"], detail["delivered"]), (3, 3)
        )

        # Recall: the one event is redacted for everyone.
        recalled = await wecom(client, "message/recall", t, {"msgid": second["msgid"]})
        self.assertEqual(recalled["errcode"], 0, recalled)  # type: ignore[attr-defined]
        for _ in range(900):
            if "第二条" not in await _bodies(bob, room):
                break
            await sleep(0.1)
        self.assertNotIn("第二条", await _bodies(bob, room))  # type: ignore[attr-defined]
        self.assertNotIn("第二条", await _bodies(dave, room))  # type: ignore[attr-defined]

        # A second app pushes at once, while its room is still being built (the push
        # goes into complete rooms as they become ready): each officer in range gets
        # it exactly once, all counted delivered.
        app2 = await create_app(admin, visible_range={"department_ids": [root]})
        t2 = await token_for(client, app2["secret"])
        bot2 = f"@jwwx_app_{app2['agentid']}:{admin.user_id.split(':', 1)[1]}"
        third = await wecom(
            client,
            "message/send",
            t2,
            {
                "touser": "@all",
                "msgtype": "text",
                "agentid": app2["agentid"],
                "text": {"content": "新应用上线"},
            },
        )
        self.assertEqual(third["errcode"], 0, third)  # type: ignore[attr-defined]
        in_range = [alice, bob, dave]
        rooms2 = {(await _received(o, bot2, "新应用上线"))["room_id"] for o in in_range}
        self.assertEqual(len(rooms2), 1)  # type: ignore[attr-defined]
        self.assertEqual(  # type: ignore[attr-defined]
            await _bodies(bob, rooms2.pop()), ["新应用上线"]
        )
        path2 = f"{APPS}/{app2['agentid']}/messages/{third['msgid']}"
        detail = {}
        for _ in range(900):
            detail = await admin.ok("GET", path2)
            if detail["delivered"] == 3:
                break
            await sleep(0.1)
        self.assertEqual(  # type: ignore[attr-defined]
            (detail["recipients"], detail["delivered"], detail["failed"]), (3, 3, 0)
        )


# Without the pool of spare rooms (test_pool.py): apps' rooms built from scratch.
OPENAPI_CONFIG = {
    "modules.openapi.OpenApiModule": {"broadcast_min_range": 2, "broadcast_pool": False}
}


class BroadcastSQLiteTest(BroadcastTests, SQLiteCase):
    module_config = OPENAPI_CONFIG


class BroadcastPostgresTest(BroadcastTests, PostgresCase):
    module_config = OPENAPI_CONFIG
