"""Behaviour that needs other config values (conf.d, restart): a push bigger than
`inline_recipients` goes on as a background job after the answer; rate limiting."""

from typing import Any

import yaml

from tests.harness.case import PostgresCase, SQLiteCase
from tests.modules.openapi.helpers import (
    APPS,
    DIRECTORY,
    create_app,
    sleep,
    token_for,
    wait_account,
    wecom,
)


class BackgroundPushTests:
    async def _configure(self) -> None:
        """inline_recipients: 1 and rate_limit_per_minute: 20 (conf.d replaces the
        whole `modules` list), then restart; once per class."""
        if getattr(type(self), "_configured", None) is self.server:  # type: ignore[attr-defined]
            return
        server: Any = self.server  # type: ignore[attr-defined]
        rendered = yaml.safe_load((server.data_dir / "homeserver.yaml").read_text())
        modules = rendered["modules"]
        for entry in modules:
            if entry["module"] == "modules.openapi.OpenApiModule":
                entry["config"]["inline_recipients"] = 1
                entry["config"]["rate_limit_per_minute"] = 20
        (server.data_dir / "conf.d" / "zz_openapi.yaml").write_text(
            yaml.safe_dump({"modules": modules}, allow_unicode=True), encoding="utf-8"
        )
        server.restart()
        type(self)._configured = server  # type: ignore[attr-defined]

    async def test_large_push_runs_in_background(self) -> None:
        await self._configure()
        admin = self.user("bgadmin", admin=True)  # type: ignore[attr-defined]
        client = self.anonymous()  # type: ignore[attr-defined]
        root = (
            await admin.ok(
                "POST", f"{DIRECTORY}/departments", {"name": "市局", "parent_id": None}
            )
        )["id"]
        officers = []
        for _ in range(3):
            officer = self.user("bg")  # type: ignore[attr-defined]
            userid = officer.user_id[1:].split(":")[0]
            await admin.ok(
                "POST",
                f"{DIRECTORY}/members",
                {"userid": userid, "name": "警员", "department": [root]},
            )
            await wait_account(admin, userid)
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
        for _ in range(100):
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
        await self._configure()
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


class BackgroundPushSQLiteTest(BackgroundPushTests, SQLiteCase):
    pass


class BackgroundPushPostgresTest(BackgroundPushTests, PostgresCase):
    pass
