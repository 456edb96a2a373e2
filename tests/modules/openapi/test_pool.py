# SPDX-License-Identifier: AGPL-3.0-or-later
"""The pool of spare broadcast rooms (modules/openapi/pool.py), over HTTP on both
engines: the pool holds every deliverable officer (rooms of 2 here), in department
order; an app created with a department range claims the spare room that lies wholly
in it (same room, no new join), builds a room for the officer of the straddling room,
and its push right after creation reaches each officer of the range once and nobody
else; the straddling room stays spare and refuses strangers; the pool refills; recall
redacts the claimed room's copy. The claim's events (the room renamed, the app's bot
joined) go with that first push as one batch: the first /sync answer of a claimed
room's officer that shows the room shows both. Without a push they go alone once
`broadcast_claim_announce_seconds` passed, and a later push is delivered there as into
any room of the app. `broadcast_pool: false` is test_broadcast's config."""

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

POOL = "/_jwwx/admin/v1/openapi/broadcast/pool"
SPARE = "cn.jwwx.openapi.spare"
MARKER = "cn.jwwx.openapi.broadcast"


async def _rooms(who: MatrixClient) -> set[str]:
    return set((await who.ok("GET", "/_matrix/client/v3/joined_rooms"))["joined_rooms"])


async def _state(who: MatrixClient, room: str, kind: str) -> dict[str, Any]:
    path = f"/_matrix/client/v3/rooms/{quote(room)}/state/{kind}/"
    return dict(await who.ok("GET", path))


async def _timeline(who: MatrixClient, room: str) -> list[dict[str, Any]]:
    return await who.messages(room)


async def _pool_settled(admin: MatrixClient, covered: int, rooms: int) -> None:
    answer: dict[str, Any] = {}
    for _ in range(1200):
        answer = await admin.ok("GET", POOL)
        if (answer["covered"], answer["spare_rooms"], answer["building"]) == (
            covered,
            rooms,
            False,
        ):
            return
        await sleep(0.1)
    raise AssertionError(f"pool never reached {covered} in {rooms} rooms: {answer}")


async def _push_to_all(
    client: Any, admin: MatrixClient, app: dict[str, Any], text: str, expected: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """message/send to the app's whole range; (its answer, the push's statistics once
    `expected` officers got it or after two minutes)."""
    agentid = app["agentid"]
    t = await token_for(client, app["secret"])
    sent = await wecom(
        client,
        "message/send",
        t,
        {
            "touser": "@all",
            "msgtype": "text",
            "agentid": agentid,
            "text": {"content": text},
        },
    )
    assert sent["errcode"] == 0, sent
    detail: dict[str, Any] = {}
    for _ in range(1200):
        detail = await admin.ok("GET", f"{APPS}/{agentid}/messages/{sent['msgid']}")
        if detail["delivered"] == expected:
            break
        await sleep(0.1)
    return sent, detail


class PoolTests:
    async def test_claim_at_creation(self) -> None:
        admin: MatrixClient = self.user("pladmin", admin=True)  # type: ignore[attr-defined]
        client: MatrixClient = self.anonymous()  # type: ignore[attr-defined]
        stranger: MatrixClient = self.user("plstranger")  # type: ignore[attr-defined]
        first = await root_department(admin, "池甲")
        second = await root_department(admin, "池乙")
        ours = [self.user("pa") for _ in range(3)]  # type: ignore[attr-defined]
        others = [self.user("pb") for _ in range(3)]  # type: ignore[attr-defined]
        for officer in ours:
            await enrol_officer(admin, officer, first)
        for officer in others:
            await enrol_officer(admin, officer, second)
        await admin.ok("POST", POOL)
        await _pool_settled(admin, 6, 3)
        spare: dict[str, str] = {}  # user id → their one spare room
        for officer in ours + others:
            rooms = await _rooms(officer)
            self.assertEqual(len(rooms), 1, rooms)  # type: ignore[attr-defined]
            spare[officer.user_id] = rooms.pop()
            marker = await _state(officer, spare[officer.user_id], SPARE)
            self.assertEqual(marker, {"agentid": 0})  # type: ignore[attr-defined]
        # Department order: 3 rooms of 2, one of them straddling the two departments.
        ours_ids = {o.user_id for o in ours}
        by_room: dict[str, set[str]] = {}
        for user_id, room in spare.items():
            by_room.setdefault(room, set()).add(user_id)
        whole = [r for r, us in by_room.items() if us <= ours_ids]
        straddling = [r for r, us in by_room.items() if us & ours_ids and us - ours_ids]
        self.assertEqual((len(whole), len(straddling)), (1, 1), by_room)  # type: ignore[attr-defined]
        claimed, mixed = whole[0], straddling[0]
        # Nobody else may join a spare room (its join rule is public).
        outsider = next(o for o in others if spare[o.user_id] != claimed)
        for who in (outsider, stranger):
            status, answer = await who.request(
                "POST", f"/_matrix/client/v3/join/{quote(claimed)}", {}
            )
            self.assertEqual(status, 403, answer)  # type: ignore[attr-defined]

        # The app is created and pushes at once: the whole spare room is its room.
        member = next(o for o in ours if o.user_id in by_room[claimed])
        await member.sync()
        app = await create_app(
            admin, name="池应用", visible_range={"department_ids": [first]}
        )
        answers = [await member.sync(timeout_ms=1000)]  # the claim is made meanwhile
        agentid = app["agentid"]
        bot = f"@jwwx_app_{agentid}:{admin.user_id.split(':', 1)[1]}"
        sent, detail = await _push_to_all(client, admin, app, "池通知", 3)
        self.assertEqual(  # type: ignore[attr-defined]
            (detail["recipients"], detail["delivered"], detail["failed"]), (3, 3, 0)
        )
        # One /sync answer for the claim and the push: the first that shows the
        # claimed room has the new name and the push together.
        for _ in range(60):
            if any(claimed in a.get("rooms", {}).get("join", {}) for a in answers):
                break
            answers.append(await member.sync(timeout_ms=1000))
        first_answer = next(
            a["rooms"]["join"][claimed]
            for a in answers
            if claimed in a.get("rooms", {}).get("join", {})
        )
        shown = first_answer.get("state", {}).get("events", []) + first_answer.get(
            "timeline", {}
        ).get("events", [])
        self.assertIn(  # type: ignore[attr-defined]
            ("m.room.name", "池应用"),
            [(e["type"], e["content"].get("name")) for e in shown],
        )
        self.assertIn(  # type: ignore[attr-defined]
            ("m.room.message", bot, "池通知"),
            [(e["type"], e["sender"], e["content"].get("body")) for e in shown],
        )
        got: dict[str, str] = {}  # user id → room where the push is
        for officer in ours + others:
            for room in await _rooms(officer):
                bodies = [
                    e
                    for e in await _timeline(officer, room)
                    if e["type"] == "m.room.message" and e["sender"] == bot
                ]
                if bodies:
                    self.assertEqual(len(bodies), 1, bodies)  # type: ignore[attr-defined]
                    self.assertNotIn(officer.user_id, got)  # type: ignore[attr-defined]
                    got[officer.user_id] = room
        self.assertEqual(set(got), ours_ids)  # type: ignore[attr-defined]
        for user_id in by_room[claimed]:
            self.assertEqual(got[user_id], claimed)  # type: ignore[attr-defined]
        (in_mixed,) = by_room[mixed] & ours_ids
        self.assertNotIn(got[in_mixed], (claimed, mixed))  # type: ignore[attr-defined]
        # The claimed room is the app's now, without a second join of its officers.
        marker = await _state(member, claimed, MARKER)
        self.assertEqual(marker, {"agentid": agentid})  # type: ignore[attr-defined]
        self.assertEqual(await _state(member, claimed, SPARE), {})  # type: ignore[attr-defined]
        name = await _state(member, claimed, "m.room.name")
        self.assertEqual(name["name"], "池应用")  # type: ignore[attr-defined]
        for officer in ours:
            if officer.user_id in by_room[claimed]:
                joins = [
                    e
                    for e in await _timeline(officer, claimed)
                    if e["type"] == "m.room.member"
                    and e.get("state_key") == officer.user_id
                ]
                self.assertEqual(len(joins), 1, joins)  # type: ignore[attr-defined]
        # The straddling room stays spare.
        mixed_member = next(o for o in ours if o.user_id == in_mixed)
        self.assertEqual(  # type: ignore[attr-defined]
            await _state(mixed_member, mixed, SPARE), {"agentid": 0}
        )

        # The pool refills: the two claimed officers get a new spare room.
        await _pool_settled(admin, 6, 3)
        for user_id in by_room[claimed]:
            who = next(o for o in ours if o.user_id == user_id)
            self.assertEqual(len(await _rooms(who)), 2)  # type: ignore[attr-defined]

        # Recall redacts the claimed room's one copy.
        t = await token_for(client, app["secret"])
        recalled = await wecom(client, "message/recall", t, {"msgid": sent["msgid"]})
        self.assertEqual(recalled["errcode"], 0, recalled)  # type: ignore[attr-defined]
        for _ in range(900):
            left = [
                e
                for e in await _timeline(member, claimed)
                if e["type"] == "m.room.message" and e["content"].get("body")
            ]
            if not left:
                break
            await sleep(0.1)
        self.assertEqual(left, [])  # type: ignore[attr-defined]


class AnnounceTests:
    async def test_claim_announced_without_a_push(self) -> None:
        admin: MatrixClient = self.user("anadmin", admin=True)  # type: ignore[attr-defined]
        client: MatrixClient = self.anonymous()  # type: ignore[attr-defined]
        department = await root_department(admin, "池丙")
        ours = [self.user("pc") for _ in range(2)]  # type: ignore[attr-defined]
        for officer in ours:
            await enrol_officer(admin, officer, department)
        await admin.ok("POST", POOL)
        await _pool_settled(admin, 2, 1)
        (room,) = await _rooms(ours[0])
        self.assertEqual(await _state(ours[0], room, SPARE), {"agentid": 0})  # type: ignore[attr-defined]
        app = await create_app(
            admin, name="定时应用", visible_range={"department_ids": [department]}
        )
        agentid = app["agentid"]
        bot = f"@jwwx_app_{agentid}:{admin.user_id.split(':', 1)[1]}"
        # No push: the claim's events go alone once due (1 s here).
        name: dict[str, Any] = {}
        for _ in range(600):
            name = await _state(ours[0], room, "m.room.name")
            if name.get("name") == "定时应用":
                break
            await sleep(0.1)
        self.assertEqual(name, {"name": "定时应用"})  # type: ignore[attr-defined]
        marker = await _state(ours[0], room, MARKER)
        self.assertEqual(marker, {"agentid": agentid})  # type: ignore[attr-defined]
        self.assertEqual(await _state(ours[0], room, SPARE), {})  # type: ignore[attr-defined]
        # A push afterwards goes into the room as into any of the app's rooms.
        sent, detail = await _push_to_all(client, admin, app, "定时通知", 2)
        self.assertEqual(  # type: ignore[attr-defined]
            (detail["recipients"], detail["delivered"], detail["failed"]), (2, 2, 0)
        )
        for officer in ours:
            self.assertEqual(await _rooms(officer), {room})  # type: ignore[attr-defined]
            bodies = [
                e["content"].get("body")
                for e in await _timeline(officer, room)
                if e["type"] == "m.room.message" and e["sender"] == bot
            ]
            self.assertEqual(bodies, ["定时通知"])  # type: ignore[attr-defined]
            joins = [
                e
                for e in await _timeline(officer, room)
                if e["type"] == "m.room.member" and e.get("state_key") == bot
            ]
            self.assertEqual(len(joins), 1, joins)  # type: ignore[attr-defined]


POOL_CONFIG = {
    "modules.openapi.OpenApiModule": {
        "broadcast_min_range": 2,
        "broadcast_room_size": 2,
        "broadcast_pool_refill_delay_seconds": 0,
        "prepare_conversations": False,
    }
}
# The claim's events due 1 s after the claim; the pool's refill later than the test.
ANNOUNCE_CONFIG = {
    "modules.openapi.OpenApiModule": {
        **POOL_CONFIG["modules.openapi.OpenApiModule"],
        "broadcast_claim_announce_seconds": 1,
        "broadcast_pool_refill_delay_seconds": 3600,
    }
}


class PoolSQLiteTest(PoolTests, SQLiteCase):
    module_config = POOL_CONFIG


class PoolPostgresTest(PoolTests, PostgresCase):
    module_config = POOL_CONFIG


class AnnounceSQLiteTest(AnnounceTests, SQLiteCase):
    module_config = ANNOUNCE_CONFIG


class AnnouncePostgresTest(AnnounceTests, PostgresCase):
    module_config = ANNOUNCE_CONFIG
