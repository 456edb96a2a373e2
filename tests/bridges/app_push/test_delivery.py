# SPDX-License-Identifier: AGPL-3.0-or-later
"""The app push bridge end to end: started by the launcher beside a real homeserver
(`jwwx_bridges.app_push` in conf.d/: its registration loaded by Synapse, the bridge
supervised); the reference sender pushes a signed message; the officer reads it in the
source app's conversation; a retry with the same msgid is answered again and not
delivered twice, also after the bridge was killed and started again by the supervisor;
forged and unknown pushes deliver nothing; a target outside the open-API app's range
is reported, not reached. The apps with a `workbench` mapping appear on the officers'
workbench as zone2_app entries when the bridge starts, and leave when removed from its
config."""

import os
import signal
import time
from pathlib import Path
from typing import Any

from twisted.internet import defer, threads

import yaml

from tests.bridges import supervised
from tests.bridges.app_push import sender
from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.harness.server import TestServer, free_port
from tests.modules.openapi.helpers import (
    CORPID,
    create_app,
    enrol_officer,
    root_department,
    sleep,
)

ROOT = Path(__file__).resolve().parents[3]
SECRET = b"z" * 48
ADMIN_ENTRIES = "/_jwwx/admin/v1/workbench/entries"
DUTY_SECRET = b"d" * 40


def _bridge_pid(data_dir: Path, port: int, other_than: int | None = None) -> int:
    return supervised.bridge_pid(data_dir, "app_push", port, other_than)


def _write_config(server: TestServer, port: int, case: int, duty: int) -> Path:
    """The bridge's config: two source apps delivering through the open-API apps
    `case` and `duty` (agentids), both on the workbench."""
    config = server.data_dir / "app_push" / "app_push.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "server_name": server.server_name,
                "homeserver_url": server.base_url,
                "bridge_url": f"http://127.0.0.1:{port}",
                "corpid": CORPID,
                "as_token_file": "as_token",
                "hs_token_file": "hs_token",
                "apps": [
                    {
                        "app_id": "case",
                        "name": "案件管理系统",
                        "secret_file": "case.secret",
                        "agentid": case,
                        "corpsecret_file": "corp.secret",
                        "workbench": {
                            "url": "jwapp://open?page=case",
                            "category": "移动警务",
                        },
                    },
                    {
                        "app_id": "duty",
                        "name": "值班系统",
                        "secret_file": "duty.secret",
                        "signature": "hmac-sha256",
                        "agentid": duty,
                        "corpsecret_file": "duty-corp.secret",
                        "workbench": {"url": "https://duty.zone2.example/"},
                    },
                ],
            },
            allow_unicode=True,
        )
    )
    return config


class AppPushDeliveryTests:
    server: Any
    user: Any
    assertEqual: Any
    assertIn: Any
    assertTrue: Any
    seen: dict[str, tuple[str, str]] = {}  # text → (room id, event id) last seen
    # Two bridge restarts and several /sync waits: past trial's 120 s on a loaded
    # machine.
    timeout = 420
    bridge_port = 0

    @classmethod
    def configure_server(cls, server: TestServer) -> None:
        """The launcher starts the bridge with the server (no restart of the server
        later): the open-API apps it delivers through do not exist yet, so its config
        names stand-ins until the test has created them."""
        cls.bridge_port = free_port()
        base = server.data_dir / "app_push"
        base.mkdir()
        (base / "case.secret").write_bytes(SECRET)
        (base / "duty.secret").write_bytes(DUTY_SECRET)
        for name in ("corp.secret", "duty-corp.secret"):
            (base / name).write_text("not-yet")
        _write_config(server, cls.bridge_port, 999_998, 999_999)
        (server.data_dir / "conf.d" / "bridges.yaml").write_text(
            yaml.safe_dump(
                {"jwwx_bridges": {"app_push": {"config": str(base / "app_push.yaml")}}}
            )
        )

    async def _texts(self, officer: MatrixClient, wanted: str, seconds: float) -> int:
        """How many messages with body `wanted` the officer's /sync shows: polled until
        one is seen (then one more /sync for a copy arriving with it) or `seconds`
        pass. That no copy came later is the statistics' exact counts at the end."""
        found: dict[str, str] = {}  # event id → room id
        deadline = time.monotonic() + seconds
        last = False
        while time.monotonic() < deadline or last:
            result = await officer.sync(timeout_ms=0 if last else 1000)
            for room_id in result.get("rooms", {}).get("invite", {}):
                await officer.join(room_id)
            for room_id, room in result.get("rooms", {}).get("join", {}).items():
                for event in room.get("timeline", {}).get("events", []):
                    if event.get("content", {}).get("body", "").endswith(wanted):
                        found[event["event_id"]] = room_id
                        self.seen[wanted] = (room_id, event["event_id"])
            if last:
                break
            last = bool(found)
        return len(found)

    async def test_push_reaches_the_officer_once(self) -> None:
        boss = self.user("pushboss", admin=True)
        unit = await root_department(boss, f"推送测试{os.urandom(3).hex()}")
        officer = self.user("pushmj")
        userid = await enrol_officer(boss, officer, unit)
        outsider = self.user("pushout")
        other_unit = await root_department(boss, f"外单位{os.urandom(3).hex()}")
        outsider_id = await enrol_officer(boss, outsider, other_unit)
        app = await create_app(
            boss, name="案件管理系统", visible_range={"department_ids": [unit]}
        )
        duty_app = await create_app(
            boss, name="值班系统", visible_range={"department_ids": [unit]}
        )
        base = self.server.data_dir / "app_push"
        (base / "corp.secret").write_text(app["secret"])
        (base / "duty-corp.secret").write_text(duty_app["secret"])
        port = self.bridge_port
        config = _write_config(self.server, port, app["agentid"], duty_app["agentid"])
        data_dir = self.server.data_dir
        # The bridge the launcher started with the server; restarted by the
        # supervisor once killed, it reads the config naming the apps.
        first = await threads.deferToThread(_bridge_pid, data_dir, port)
        os.kill(first, signal.SIGKILL)
        pid = await threads.deferToThread(_bridge_pid, data_dir, port, first)
        url = f"http://127.0.0.1:{port}"
        # Synapse loaded the generated registration: its as_token is the bridge's bot.
        as_token = (base / "as_token").read_text().strip()
        me = await MatrixClient(self.server.base_url, token=as_token).ok(
            "GET", "/_matrix/client/v3/account/whoami"
        )
        self.assertEqual(me["user_id"], f"@jwwx_app_push:{self.server.server_name}")

        async def push(
            message: dict[str, Any], **kw: Any
        ) -> tuple[int, dict[str, Any]]:
            app_id = kw.pop("app", "case")
            headers, body = sender.signed_request(
                app_id,
                kw.pop("secret", DUTY_SECRET if app_id == "duty" else SECRET),
                message,
                "hmac-sha256" if app_id == "duty" else "hmac-sm3",
            )
            return await threads.deferToThread(sender.push, url, headers, body)

        try:
            text = f"您有一条新的待办 {os.urandom(4).hex()}"
            message = {
                "msgid": "order-42",
                "touser": userid,
                "msgtype": "text",
                "text": {"content": text},
            }
            status, answer = await push(message)
            self.assertEqual((status, answer["errcode"]), (200, 0), answer)
            self.assertEqual(answer["push_msgid"], "order-42")
            again_status, again = await push(message)  # the sender's retry
            self.assertEqual((again_status, again["msgid"]), (200, answer["msgid"]))
            self.assertTrue(again["duplicate"])
            bridge = MatrixClient(self.server.base_url, token=as_token)
            case_entry = await self._bridged_entries(boss, officer, bridge)
            # The bridge dies; the supervisor starts it again; it still knows order-42.
            # Meanwhile the duty app lost its workbench mapping: its entry leaves.
            raw = yaml.safe_load(config.read_text())
            del raw["apps"][1]["workbench"]
            config.write_text(yaml.safe_dump(raw, allow_unicode=True))
            os.kill(pid, signal.SIGKILL)
            await threads.deferToThread(_bridge_pid, data_dir, port, pid)
            shown = await self._workbench_names(officer, {"案件管理系统"})
            self.assertEqual(shown["案件管理系统"]["id"], case_entry["id"])
            kept = await boss.ok("GET", f"{ADMIN_ENTRIES}/{case_entry['id']}")
            self.assertEqual(kept["position"], 7)  # the admin's order stays
            status, after = await push(message)
            self.assertEqual((status, after["msgid"]), (200, answer["msgid"]), after)
            self.assertTrue(after["duplicate"])
            self.assertEqual(await self._texts(officer, text, 90), 1)

            # Three copies of a new msgid at once (a sender retrying while the first is
            # still delivered): one delivery, the same answer for all three.
            burst = f"并发重试 {os.urandom(4).hex()}"
            copies = await defer.gatherResults(
                [
                    defer.ensureDeferred(
                        push(
                            {**message, "msgid": "order-45", "text": {"content": burst}}
                        )
                    )
                    for _ in range(3)
                ]
            )
            self.assertEqual({s for s, _ in copies}, {200}, copies)
            self.assertEqual(len({a["msgid"] for _, a in copies}), 1, copies)
            self.assertEqual(sum(1 for _, a in copies if a.get("duplicate")), 2, copies)
            self.assertEqual(await self._texts(officer, burst, 90), 1)

            # Forged, unknown, out of range: nothing delivered.
            bad = {**message, "msgid": "order-43"}
            status, forged = await push(bad, secret=b"y" * 48)
            self.assertEqual((status, forged["errcode"]), (401, 40001))
            status, unknown = await push(bad, app="nosuch")
            self.assertEqual((status, unknown["errcode"]), (401, 40056))
            outside = {**bad, "touser": outsider_id, "msgid": "order-44"}
            status, answer = await push(outside)
            # The open API's own answer: nobody in the app's range.
            self.assertEqual((status, answer["errcode"]), (400, 81013), answer)
            await sleep(1)
            self.assertEqual(await self._texts(outsider, text, 3), 0)

            # Statistics across the bridge's apps (the open API's): per app, per day,
            # per unit; the officer read the case push (a read receipt), not the duty one.
            duty_text = f"今晚值班安排 {os.urandom(4).hex()}"
            status, answer = await push(
                {"touser": userid, "msgtype": "text", "text": {"content": duty_text}},
                app="duty",
            )
            self.assertEqual((status, answer["errcode"]), (200, 0), answer)
            self.assertEqual(await self._texts(officer, duty_text, 90), 1)
            room_id, event_id = self.seen[text]
            await officer.ok(
                "POST",
                f"/_matrix/client/v3/rooms/{room_id}/receipt/m.read/{event_id}",
                {},
            )
            await self._cross_app_statistics(
                boss, (app["agentid"], duty_app["agentid"]), unit
            )
        finally:
            (data_dir / "conf.d" / "bridges.yaml").unlink(missing_ok=True)

    async def _workbench_names(
        self, officer: MatrixClient, wanted: set[str]
    ) -> dict[str, dict[str, Any]]:
        """The officer's zone2_app entries once their names are `wanted`."""
        shown: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            view = await officer.ok("GET", "/_jwwx/client/v1/workbench")
            shown = {
                e["name"]: e
                for c in view["categories"]
                for e in c["entries"]
                if e["kind"] == "zone2_app"
            }
            if set(shown) == wanted:
                break
            await sleep(0.3)
        self.assertEqual(set(shown), wanted)
        return shown

    async def _bridged_entries(
        self, boss: MatrixClient, officer: MatrixClient, bridge: MatrixClient
    ) -> dict[str, Any]:
        """The bridge's two apps are on the workbench without an admin adding them;
        admins keep range, order and enabled, not what the bridge's config says; only
        the bridge's registration may set them. The case app's admin view."""
        shown = await self._workbench_names(officer, {"案件管理系统", "值班系统"})
        case = shown["案件管理系统"]
        self.assertEqual((case["category"], case["zone"]), ("移动警务", "external"))
        jump = await officer.ok(
            "POST", f"/_jwwx/client/v1/workbench/entries/{case['id']}/jump", {}
        )
        self.assertEqual(jump["url"], "jwapp://open?page=case")
        self.assertTrue(jump["confirm_required"])
        self.assertTrue(jump["prompt"])
        path = f"{ADMIN_ENTRIES}/{case['id']}"
        entry = await boss.ok("PUT", path, {"position": 7})
        self.assertEqual(entry["source"], "jwwx_app_push:case")
        for bad in ({"name": "改名"}, {"url": "jwapp://other"}):
            status, answer = await boss.request("PUT", path, bad)
            self.assertEqual((status, answer["errcode"]), (400, "M_INVALID_PARAM"))
        status, _ = await boss.request("DELETE", path)
        self.assertEqual(status, 400)
        bridged = "/_jwwx/client/v1/workbench/bridged"
        status, _ = await officer.request("PUT", bridged, {"apps": []})
        self.assertEqual(status, 403)
        # The bridge's own token with a bad list: 400, and nothing changes.
        for bad in (
            {"apps": [{"app_id": "x", "name": "n", "url": "javascript:alert(1)"}]},
            {"apps": [{"app_id": "x", "name": "n", "url": "jwapp://x"}] * 2},
            {"apps": [{"app_id": "Bad Id", "name": "n", "url": "jwapp://x"}]},
            {"apps": {}},
        ):
            status, answer = await bridge.request("PUT", bridged, bad)
            self.assertEqual((status, answer["errcode"]), (400, "M_INVALID_PARAM"))
        await self._workbench_names(officer, {"案件管理系统", "值班系统"})
        self.assertIn("案件管理系统", str(await boss.ok("GET", ADMIN_ENTRIES)))
        return entry

    async def _cross_app_statistics(
        self, boss: MatrixClient, agentids: tuple[int, int], unit: int
    ) -> None:
        base = "/_jwwx/admin/v1/openapi/statistics"
        path = f"{base}?agentids={agentids[0]},{agentids[1]}&days=3"
        stats: dict[str, Any] = {}
        for _ in range(450):  # delivery records its copies in the background
            stats = await boss.ok("GET", path)
            if stats["totals"]["delivered"] == 3 and stats["totals"]["read"] == 1:
                break
            await sleep(0.2)
        # case: order-42 and the burst (once); duty: one.
        wanted = {"pushed": 3, "recipients": 3, "delivered": 3, "read": 1}
        self.assertEqual(stats["totals"], wanted, stats)
        case, duty = stats["apps"]
        self.assertEqual((case["agentid"], case["read"]), (agentids[0], 1))
        self.assertEqual((duty["pushed"], duty["read"]), (1, 0))
        self.assertEqual(len(stats["days"]), 3)
        today = stats["days"][-1]  # the pushes were sent today (UTC+8 days)
        self.assertEqual((today["day"], today["pushed"]), (stats["to"], 3))
        self.assertEqual([d["pushed"] for d in stats["days"][:2]], [0, 0])
        [row] = stats["units"]  # the officer is a member of the root `unit`
        self.assertEqual((row["unit_id"], row["delivered"], row["read"]), (unit, 3, 1))
        self.assertEqual([a["read"] for a in row["apps"]], [1, 0])
        # Bad input; the rights (apps.manage on every app named).
        for bad in ("", "x", ",".join(str(i) for i in range(1, 60))):
            status, _ = await boss.request(
                "GET", f"/_jwwx/admin/v1/openapi/statistics?agentids={bad}"
            )
            self.assertEqual(status, 400)
        status, _ = await boss.request(
            "GET",
            f"{base}?agentids={agentids[0]}&days=93",
        )
        self.assertEqual(status, 400)
        status, _ = await boss.request(
            "GET", "/_jwwx/admin/v1/openapi/statistics?agentids=987654321"
        )
        self.assertEqual(status, 404)
        stranger = self.user("pushstranger")
        status, _ = await stranger.request("GET", path)
        self.assertEqual(status, 403)


class AppPushDeliverySQLiteTest(AppPushDeliveryTests, SQLiteCase):
    pass


class AppPushDeliveryPostgresTest(AppPushDeliveryTests, PostgresCase):
    pass
