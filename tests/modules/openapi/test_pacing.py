# SPDX-License-Identifier: AGPL-3.0-or-later
"""Pacing of pushes into broadcast rooms (modules/openapi/pacing.py), over HTTP on both
engines: with pacing at its strictest (`broadcast_pace_lag_ms` 1: each room waits for
its turn, up to its bound), an app created over 6 officers of the pool (3 claimed rooms
of 2) pushes twice to everyone back to back and once to one officer: every officer
gets the two pushes exactly once each, in the order they were sent, in the room the
app claimed; the one officer gets the third in the app's conversation; everything is
counted delivered, and the pool's counts show the rooms went through the pacer."""

from typing import Any

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

POOL = "/_jwwx/admin/v1/openapi/broadcast/pool"


async def _delivered(
    admin: MatrixClient, agentid: int, msgid: str, expected: int
) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    for _ in range(1200):
        detail = await admin.ok("GET", f"{APPS}/{agentid}/messages/{msgid}")
        if detail["delivered"] == expected:
            break
        await sleep(0.1)
    return detail


async def _bot_bodies(who: MatrixClient, bot: str) -> dict[str, list[str]]:
    """room → the bodies of the bot's messages there, oldest first."""
    rooms = (await who.ok("GET", "/_matrix/client/v3/joined_rooms"))["joined_rooms"]
    found: dict[str, list[str]] = {}
    for room in rooms:
        bodies = [
            e["content"].get("body", "")
            for e in reversed(await who.messages(room))
            if e["type"] == "m.room.message" and e["sender"] == bot
        ]
        if bodies:
            found[room] = bodies
    return found


class PacingTests:
    async def test_paced_pushes_reach_everyone_once_in_order(self) -> None:
        admin: MatrixClient = self.user("pcadmin", admin=True)  # type: ignore[attr-defined]
        client: MatrixClient = self.anonymous()  # type: ignore[attr-defined]
        dept = await root_department(admin, "节流大队")
        officers = [self.user("pc") for _ in range(6)]  # type: ignore[attr-defined]
        ids = [await enrol_officer(admin, o, dept) for o in officers]
        await admin.ok("POST", POOL)
        pool: dict[str, Any] = {}
        for _ in range(1200):
            pool = await admin.ok("GET", POOL)
            if (pool["covered"], pool["spare_rooms"], pool["building"]) == (
                6,
                3,
                False,
            ):
                break
            await sleep(0.1)
        self.assertEqual((pool["covered"], pool["spare_rooms"]), (6, 3), pool)  # type: ignore[attr-defined]
        before = pool["pacing"]
        self.assertEqual(before["lag_ms"], 1, before)  # type: ignore[attr-defined]

        app = await create_app(admin, visible_range={"department_ids": [dept]})
        agentid = app["agentid"]
        bot = f"@jwwx_app_{agentid}:{admin.user_id.split(':', 1)[1]}"
        t = await token_for(client, app["secret"])

        async def push(text: str, touser: str) -> str:
            answer = await wecom(
                client,
                "message/send",
                t,
                {
                    "touser": touser,
                    "msgtype": "text",
                    "agentid": agentid,
                    "text": {"content": text},
                },
            )
            self.assertEqual(answer["errcode"], 0, answer)  # type: ignore[attr-defined]
            return str(answer["msgid"])

        # Back to back: the second is queued behind the first's rooms.
        first = await push("节流一", "@all")
        second = await push("节流二", "@all")
        single = await push("单发", ids[0])
        for msgid in (first, second):
            detail = await _delivered(admin, agentid, msgid, 6)
            self.assertEqual(  # type: ignore[attr-defined]
                (detail["recipients"], detail["delivered"], detail["failed"]),
                (6, 6, 0),
                detail,
            )
        detail = await _delivered(admin, agentid, single, 1)
        self.assertEqual(detail["delivered"], 1, detail)  # type: ignore[attr-defined]

        broadcast_rooms: set[str] = set()
        for n, officer in enumerate(officers):
            by_room = await _bot_bodies(officer, bot)
            pushed = {r: bs for r, bs in by_room.items() if "节流一" in bs}
            self.assertEqual(len(pushed), 1, by_room)  # type: ignore[attr-defined]
            room, bodies = pushed.popitem()
            broadcast_rooms.add(room)
            self.assertEqual(bodies, ["节流一", "节流二"], by_room)  # type: ignore[attr-defined]
            others = [bs for r, bs in by_room.items() if r != room]
            self.assertEqual(others, [["单发"]] if n == 0 else [], by_room)  # type: ignore[attr-defined]
        self.assertEqual(len(broadcast_rooms), 3)  # type: ignore[attr-defined]

        after = (await admin.ok("GET", POOL))["pacing"]
        # 3 rooms, twice, went through the pacer, each after at least one probe.
        self.assertGreaterEqual(after["rooms"] - before["rooms"], 6, after)  # type: ignore[attr-defined]
        self.assertGreaterEqual(  # type: ignore[attr-defined]
            after["probes"] - before["probes"], after["rooms"] - before["rooms"], after
        )


PACING_CONFIG = {
    "modules.openapi.OpenApiModule": {
        "broadcast_min_range": 2,
        "broadcast_room_size": 2,
        "broadcast_pool_refill_delay_seconds": 3600,
        "broadcast_pace_lag_ms": 1,
        "prepare_conversations": False,
    }
}


class PacingSQLiteTest(PacingTests, SQLiteCase):
    module_config = PACING_CONFIG


class PacingPostgresTest(PacingTests, PostgresCase):
    module_config = PACING_CONFIG
