# SPDX-License-Identifier: AGPL-3.0-or-later
"""Behaviour that needs other config values (conf.d, from the server's start): a push
bigger than `inline_recipients` goes on as a background job after the answer; rate
limiting."""

from typing import Any

from modules.openapi.crypto import MODES, MsgCrypt, generate_encoding_aes_key
from tests.harness.case import PostgresCase, SQLiteCase
from tests.modules.openapi.helpers import (
    APPS,
    CORPID,
    create_app,
    enrol_officer,
    root_department,
    sleep,
    token_for,
    wecom,
)
from tests.modules.openapi.receiver import Receiver

# inline_recipients: 1 and rate_limit_per_minute: 20, from the start (no restart).
OPENAPI_CONFIG = {
    "modules.openapi.OpenApiModule": {
        "inline_recipients": 1,
        "rate_limit_per_minute": 20,
    }
}


class BackgroundPushTests:
    async def test_large_push_runs_in_background(self) -> None:
        admin = self.user("bgadmin", admin=True)  # type: ignore[attr-defined]
        client = self.anonymous()  # type: ignore[attr-defined]
        root = await root_department(admin, "市局")
        officers = []
        for _ in range(3):
            officer = self.user("bg")  # type: ignore[attr-defined]
            await enrol_officer(admin, officer, root)
            officers.append(officer)
        app = await create_app(admin, visible_range={"department_ids": [root]})
        t = await token_for(client, app["secret"])
        sent = await wecom(
            client,
            "message/send",
            t,
            {
                "toparty": str(root),
                "msgtype": "text",
                "agentid": app["agentid"],
                "text": {"content": "后台推送"},
            },
        )
        self.assertEqual(sent["errcode"], 0, sent)  # type: ignore[attr-defined]
        detail: dict[str, Any] = {}
        for _ in range(900):
            detail = await admin.ok(
                "GET", f"{APPS}/{app['agentid']}/messages/{sent['msgid']}"
            )
            if detail["state"] == "done":
                break
            await sleep(0.1)
        self.assertEqual(  # type: ignore[attr-defined]
            (detail["state"], detail["recipients"], detail["delivered"]), ("done", 3, 3)
        )
        for officer in officers:
            result = await officer.sync(timeout_ms=1000)
            bodies = [
                e["content"].get("body")
                for room in result.get("rooms", {}).get("join", {}).values()
                for e in room.get("timeline", {}).get("events", [])
            ]
            self.assertIn("后台推送", bodies)  # type: ignore[attr-defined]

    async def test_rate_limit(self) -> None:
        admin = self.user("rladmin", admin=True)  # type: ignore[attr-defined]
        client = self.anonymous()  # type: ignore[attr-defined]
        app = await create_app(admin)
        t = await token_for(client, app["secret"])
        # 41 calls: even split across a minute boundary, one window exceeds 20.
        codes = [(await wecom(client, "tag/list", t))["errcode"] for _ in range(41)]
        self.assertIn(45009, codes)  # type: ignore[attr-defined]
        self.assertEqual(codes[0], 0)  # type: ignore[attr-defined]
        # gettoken is not counted.
        self.assertEqual(  # type: ignore[attr-defined]
            (await token_for(client, app["secret"])), t
        )

    async def test_callbacks_survive_a_restart(self) -> None:
        """Officers' messages reach the app's callback URL through a reader of the
        event stream with a durable cursor: a restart right after a send neither
        loses the message nor sends it twice, and nothing older is replayed."""
        admin = self.user("cbadmin", admin=True)  # type: ignore[attr-defined]
        client = self.anonymous()  # type: ignore[attr-defined]
        root = await root_department(admin, "回调")
        officer = self.user("cb")  # type: ignore[attr-defined]
        userid = await enrol_officer(admin, officer, root)
        key = generate_encoding_aes_key()
        receiver = Receiver(MsgCrypt("Tok3n", key, CORPID, MODES[0]))
        url = receiver.start()
        try:
            app = await create_app(
                admin,
                crypto_mode=MODES[0],
                callback={"url": url, "token": "Tok3n", "encoding_aes_key": key},
                visible_range={"department_ids": [root]},
            )
            t = await token_for(client, app["secret"])
            sent = await wecom(
                client,
                "message/send",
                t,
                {
                    "touser": userid,
                    "msgtype": "text",
                    "agentid": app["agentid"],
                    "text": {"content": "欢迎"},
                },
            )
            self.assertEqual(sent["errcode"], 0, sent)  # type: ignore[attr-defined]
            room_id = await self._conversation(officer, app["bot_user_id"])
            await officer.send_text(room_id, "重启前")
            self.server.restart()  # type: ignore[attr-defined]
            await officer.send_text(room_id, "重启后")
            for _ in range(900):
                if len(receiver.messages) >= 2:
                    break
                await sleep(0.1)
            await sleep(1.5)  # anything sent twice would have come by now
            self.assertEqual(  # type: ignore[attr-defined]
                [m["Content"] for m in receiver.messages], ["重启前", "重启后"]
            )
        finally:
            await receiver.stop()

    async def _conversation(self, officer: Any, bot_user_id: str) -> str:
        for _ in range(20):
            result = await officer.sync(timeout_ms=1000)
            for room_id, room in result.get("rooms", {}).get("join", {}).items():
                for event in room.get("timeline", {}).get("events", []):
                    if event.get("sender") == bot_user_id:
                        return str(room_id)
        raise AssertionError("no conversation")


class BackgroundPushSQLiteTest(BackgroundPushTests, SQLiteCase):
    module_config = OPENAPI_CONFIG


class BackgroundPushPostgresTest(BackgroundPushTests, PostgresCase):
    module_config = OPENAPI_CONFIG
