# SPDX-License-Identifier: AGPL-3.0-or-later
"""Group management end to end: size cap, owner-only switch, owner transfer, mute,
announcement, dissolve — each from the refused user's side as well as the allowed one."""

import itertools
from typing import Any
from urllib.parse import quote

from twisted.internet import reactor, task

from tests.harness.case import PostgresCase, SQLiteCase
from tests.modules.directory import helpers as directory
from tests.modules.groups.helpers import (
    GROUPS,
    SETTINGS,
    group_path,
    make_group,
    q,
    state,
)
from tests.modules.groups.test_admin_operations import AdminOperationTests
from tests.modules.groups.test_owner_gone import OwnerGoneTests

_names = itertools.count(1)


def _sleep(seconds: float) -> Any:
    return task.deferLater(reactor, seconds, lambda: None)


def _room(room_id: str, *rest: str) -> str:
    return "/".join([f"/_matrix/client/v3/rooms/{q(room_id)}", *rest])


class GroupTests:
    async def _admin(self) -> Any:
        return self.user("admin", admin=True)

    async def _settings(self, admin: Any, **values: Any) -> dict[str, Any]:
        return dict(await admin.ok("PUT", SETTINGS, values))

    # Size cap

    async def test_size_cap_refuses_invites_and_whitelist_lifts_it(self) -> None:
        admin = await self._admin()
        await self._settings(admin, max_members=3, whitelist=[])
        try:
            alice, bob, carol, dave = (
                self.user(n) for n in ("alice", "bob", "carol", "dave")
            )
            room = await make_group(alice, bob)
            status, _ = await alice.request(
                "POST", _room(room, "invite"), {"user_id": carol.user_id}
            )
            self.assertEqual(status, 200)
            body = self.assertErrcode(
                await alice.request(
                    "POST", _room(room, "invite"), {"user_id": dave.user_id}
                ),
                403,
                "CN_JWWX_GROUP_FULL",
            )
            self.assertIn("上限（3人）", body["error"])
            self.assertEqual(body["cn.jwwx.limit"], 3)
            # A plain /createRoom with too many invites is refused before anything exists.
            self.assertErrcode(
                await dave.request(
                    "POST",
                    "/_matrix/client/v3/createRoom",
                    {"invite": [alice.user_id, bob.user_id, carol.user_id]},
                ),
                403,
                "CN_JWWX_GROUP_FULL",
            )
            # Server admins are held to the cap too (Synapse's spam checker skips them).
            self.assertErrcode(
                await admin.request(
                    "POST",
                    "/_matrix/client/v3/createRoom",
                    {"invite": [alice.user_id, bob.user_id, carol.user_id]},
                ),
                403,
                "CN_JWWX_GROUP_FULL",
            )
            await self._settings(admin, whitelist=[alice.user_id])
            status, _ = await alice.request(
                "POST", _room(room, "invite"), {"user_id": dave.user_id}
            )
            self.assertEqual(status, 200)
            await dave.join(room)
            info = await alice.ok("GET", group_path(room))
            self.assertEqual(info["member_count"], 3)
            self.assertEqual(info["max_members"], 3)
        finally:
            await self._settings(admin, max_members=500, whitelist=[])

    async def test_admin_settings_api(self) -> None:
        admin = await self._admin()
        officer = self.user("officer")
        self.assertErrcode(await officer.request("GET", SETTINGS), 403, "M_FORBIDDEN")
        self.assertErrcode(
            await officer.request("PUT", SETTINGS, {"max_members": 10}),
            403,
            "M_FORBIDDEN",
        )
        for bad in (
            {"max_members": 1},
            {"max_members": "500"},
            {"whitelist": ["not-a-user"]},
            {"read_status_enabled": "yes"},
            {"unknown": 1},
        ):
            status, body = await admin.request("PUT", SETTINGS, bad)
            self.assertEqual((status, body["errcode"]), (400, "M_INVALID_PARAM"), bad)
        current = await admin.ok("GET", SETTINGS)
        self.assertEqual(current["max_members"], 500)
        self.assertTrue(current["read_status_enabled"])

    # Owner-only switch, owner and admins

    async def test_owner_only_switch(self) -> None:
        alice, bob, carol, dave, erin = (
            self.user(n) for n in ("alice", "bob", "carol", "dave", "erin")
        )
        room = await make_group(alice, bob, carol, erin)
        await alice.ok(
            "PUT", group_path(room, "admins", q(bob.user_id)), {"admin": True}
        )
        # Off: a plain member may not remove anyone; the admin may.
        status, _ = await carol.request(
            "POST", _room(room, "kick"), {"user_id": erin.user_id}
        )
        self.assertEqual(status, 403)
        status, _ = await bob.request(
            "POST", _room(room, "kick"), {"user_id": erin.user_id}
        )
        self.assertEqual(status, 200)
        # Off: the admin renames and publishes; a plain member may not announce.
        self.assertEqual(
            (
                await bob.request(
                    "PUT", _room(room, "state/m.room.name/"), {"name": "改名"}
                )
            )[0],
            200,
        )
        await bob.ok("PUT", group_path(room, "announcement"), {"text": "明早八点集合"})
        self.assertErrcode(
            await carol.request("PUT", group_path(room, "announcement"), {"text": "x"}),
            403,
            "CN_JWWX_GROUP_FORBIDDEN",
        )
        # Only the owner turns the switch.
        self.assertErrcode(
            await bob.request(
                "PUT", group_path(room, "settings"), {"owner_only_manage": True}
            ),
            403,
            "CN_JWWX_GROUP_FORBIDDEN",
        )
        info = await alice.ok(
            "PUT", group_path(room, "settings"), {"owner_only_manage": True}
        )
        self.assertTrue(info["owner_only_manage"])
        # On: the admin is refused everything the owner keeps, through any API.
        refusals = [
            await bob.request(
                "PUT", _room(room, "state/m.room.name/"), {"name": "再改"}
            ),
            await bob.request(
                "PUT", _room(room, "state/m.room.topic/"), {"topic": "t"}
            ),
            await bob.request("POST", _room(room, "invite"), {"user_id": dave.user_id}),
            await bob.request("POST", _room(room, "kick"), {"user_id": carol.user_id}),
            await bob.request(
                "PUT", _room(room, "state/cn.jwwx.announcement/"), {"text": "raw"}
            ),
        ]
        for answer in refusals:
            self.assertErrcode(answer, 403, "CN_JWWX_GROUP_OWNER_ONLY")
        self.assertErrcode(
            await bob.request("PUT", group_path(room, "announcement"), {"text": "x"}),
            403,
            "CN_JWWX_GROUP_FORBIDDEN",
        )
        # A raw cn.jwwx.group change by a non-owner is refused as well.
        self.assertErrcode(
            await bob.request(
                "PUT", _room(room, "state/cn.jwwx.group/"), {"owner_only_manage": False}
            ),
            403,
            "CN_JWWX_GROUP_OWNER_ONLY",
        )
        # The owner still does all of it.
        self.assertEqual(
            (
                await alice.request(
                    "PUT", _room(room, "state/m.room.name/"), {"name": "新名"}
                )
            )[0],
            200,
        )
        status, _ = await alice.request(
            "POST", _room(room, "invite"), {"user_id": dave.user_id}
        )
        self.assertEqual(status, 200)
        status, _ = await alice.request(
            "POST", _room(room, "kick"), {"user_id": carol.user_id}
        )
        self.assertEqual(status, 200)
        self.assertEqual((await state(alice, room, "m.room.name"))["name"], "新名")

    async def test_owner_transfer_and_owner_cannot_leave(self) -> None:
        alice, bob, carol = (self.user(n) for n in ("alice", "bob", "carol"))
        room = await make_group(alice, bob, carol)
        body = self.assertErrcode(
            await alice.request("POST", _room(room, "leave"), {}),
            403,
            "CN_JWWX_GROUP_OWNER_CANNOT_LEAVE",
        )
        self.assertIn("转让群主", body["error"])
        self.assertErrcode(
            await bob.request(
                "POST", group_path(room, "transfer"), {"user_id": carol.user_id}
            ),
            403,
            "CN_JWWX_GROUP_FORBIDDEN",
        )
        # A second owner through a raw power-levels change is refused.
        levels = await state(alice, room, "m.room.power_levels")
        levels["users"][bob.user_id] = 100
        self.assertErrcode(
            await alice.request(
                "PUT", _room(room, "state/m.room.power_levels/"), levels
            ),
            403,
            "CN_JWWX_GROUP_SINGLE_OWNER",
        )
        outsider = self.user("outsider")
        self.assertErrcode(
            await alice.request(
                "POST", group_path(room, "transfer"), {"user_id": outsider.user_id}
            ),
            400,
            "M_INVALID_PARAM",
        )
        info = await alice.ok(
            "POST", group_path(room, "transfer"), {"user_id": bob.user_id}
        )
        self.assertEqual(info["owner"], bob.user_id)
        self.assertEqual(info["admins"], [alice.user_id])
        levels = await state(carol, room, "m.room.power_levels")
        self.assertEqual(levels["users"][bob.user_id], 100)
        self.assertEqual(levels["users"][alice.user_id], 50)
        # The old owner may leave now; the new one may not.
        self.assertEqual(
            (await alice.request("POST", _room(room, "leave"), {}))[0], 200
        )
        self.assertErrcode(
            await bob.request("POST", _room(room, "leave"), {}),
            403,
            "CN_JWWX_GROUP_OWNER_CANNOT_LEAVE",
        )
        # A member leaves freely.
        self.assertEqual(
            (await carol.request("POST", _room(room, "leave"), {}))[0], 200
        )

    async def test_deactivated_owner_still_leaves(self) -> None:
        admin = await self._admin()
        alice, bob = self.user("alice"), self.user("bob")
        room = await make_group(alice, bob)
        await admin.ok(
            "POST",
            f"/_synapse/admin/v1/deactivate/{q(alice.user_id)}",
            {"erase": False},
        )
        for _ in range(450):
            member = await bob.ok(
                "GET", _room(room, "state/m.room.member", q(alice.user_id))
            )
            if member["membership"] == "leave":
                break
            await _sleep(0.2)
        self.assertEqual(member["membership"], "leave")

    # Mute

    async def test_standard_create_room_makes_a_group_in_room_version_11(self) -> None:
        alice, bob = self.user("alice"), self.user("bob")
        room = await alice.create_room(preset="private_chat", invite=[bob.user_id])
        await bob.join(room)
        create = await state(alice, room, "m.room.create")
        self.assertEqual(create["room_version"], "11")
        self.assertEqual(
            await state(alice, room, "cn.jwwx.group"), {"owner_only_manage": False}
        )
        self.assertErrcode(
            await alice.request("POST", _room(room, "leave"), {}),
            403,
            "CN_JWWX_GROUP_OWNER_CANNOT_LEAVE",
        )
        # A direct chat is not a group: either side leaves freely.
        direct = await alice.create_room(
            preset="trusted_private_chat", is_direct=True, invite=[bob.user_id]
        )
        await bob.join(direct)
        self.assertEqual(
            (await alice.request("POST", _room(direct, "leave"), {}))[0], 200
        )
        # Room version 12 asked for explicitly: the creator is a permanent owner.
        v12 = await alice.create_room(room_version="12", invite=[bob.user_id])
        await bob.join(v12)
        self.assertErrcode(
            await alice.request(
                "POST", group_path(v12, "transfer"), {"user_id": bob.user_id}
            ),
            400,
            "M_INVALID_PARAM",
        )
        self.assertEqual(
            (await alice.ok("GET", group_path(v12)))["owner"], alice.user_id
        )

    async def test_mute_members_and_mute_all(self) -> None:
        alice, bob, carol, dave = (
            self.user(n) for n in ("alice", "bob", "carol", "dave")
        )
        room = await make_group(alice, bob, carol, dave)
        await alice.ok(
            "PUT", group_path(room, "admins", q(bob.user_id)), {"admin": True}
        )
        # A plain member may not mute; nobody mutes the owner or an admin.
        self.assertErrcode(
            await carol.request(
                "PUT",
                group_path(room, "muted"),
                {"user_ids": [dave.user_id], "muted": True},
            ),
            403,
            "CN_JWWX_GROUP_FORBIDDEN",
        )
        self.assertErrcode(
            await bob.request(
                "PUT",
                group_path(room, "muted"),
                {"user_ids": [alice.user_id], "muted": True},
            ),
            403,
            "CN_JWWX_GROUP_FORBIDDEN",
        )
        # The admin mutes carol (power levels need the owner: sent on the admin's behalf).
        info = await bob.ok(
            "PUT",
            group_path(room, "muted"),
            {"user_ids": [carol.user_id], "muted": True},
        )
        self.assertEqual(info["muted"], [carol.user_id])
        self.assertErrcode(
            await carol.send_text(room, "我被禁言了吗"), 403, "M_FORBIDDEN"
        )
        self.assertEqual((await dave.send_text(room, "我可以说话"))[0], 200)
        events = await dave.sync_timeline_until(
            room, lambda e: e["content"].get("cn.jwwx.notice") == "mute"
        )
        notice = next(e for e in events if e["content"].get("cn.jwwx.notice") == "mute")
        self.assertEqual(notice["sender"], bob.user_id)
        self.assertEqual(notice["content"]["msgtype"], "m.notice")
        # Mute all: members are silent, owner and admins are not.
        self.assertErrcode(
            await dave.request("PUT", group_path(room, "mute_all"), {"mute_all": True}),
            403,
            "CN_JWWX_GROUP_FORBIDDEN",
        )
        info = await bob.ok("PUT", group_path(room, "mute_all"), {"mute_all": True})
        self.assertTrue(info["mute_all"])
        self.assertErrcode(await dave.send_text(room, "全员禁言"), 403, "M_FORBIDDEN")
        self.assertEqual((await bob.send_text(room, "管理员发言"))[0], 200)
        self.assertEqual((await alice.send_text(room, "群主发言"))[0], 200)
        await alice.ok("PUT", group_path(room, "mute_all"), {"mute_all": False})
        self.assertEqual((await dave.send_text(room, "又能说话了"))[0], 200)
        self.assertErrcode(await carol.send_text(room, "还在禁言"), 403, "M_FORBIDDEN")
        info = await alice.ok(
            "PUT",
            group_path(room, "muted"),
            {"user_ids": [carol.user_id], "muted": False},
        )
        self.assertEqual(info["muted"], [])
        self.assertEqual((await carol.send_text(room, "解除禁言"))[0], 200)

    # Announcement

    async def test_announcement(self) -> None:
        alice, bob, carol = (self.user(n) for n in ("alice", "bob", "carol"))
        room = await make_group(alice, bob, carol)
        self.assertEqual(
            (await carol.ok("GET", group_path(room, "announcement")))["announcement"],
            None,
        )
        self.assertErrcode(
            await carol.request(
                "PUT", group_path(room, "announcement"), {"text": "我来发"}
            ),
            403,
            "CN_JWWX_GROUP_FORBIDDEN",
        )
        self.assertErrcode(
            await alice.request("PUT", group_path(room, "announcement"), {"text": ""}),
            400,
            "M_INVALID_PARAM",
        )
        result = await alice.ok(
            "PUT", group_path(room, "announcement"), {"text": "周五下午全员学习"}
        )
        self.assertEqual(result["announcement"]["text"], "周五下午全员学习")
        events = await bob.sync_timeline_until(
            room, lambda e: e["content"].get("cn.jwwx.notice") == "announcement"
        )
        message = next(
            e for e in events if e["content"].get("cn.jwwx.notice") == "announcement"
        )
        self.assertEqual(message["content"]["m.mentions"], {"room": True})
        self.assertIn("@room", message["content"]["body"])
        self.assertIn("周五下午全员学习", message["content"]["body"])
        stored = await carol.ok("GET", group_path(room, "announcement"))
        self.assertEqual(stored["announcement"]["text"], "周五下午全员学习")
        self.assertEqual(stored["announcement"]["updated_by"], alice.user_id)
        raw = await state(carol, room, "cn.jwwx.announcement")
        self.assertEqual(raw["event_id"], message["event_id"])
        # A non-member sees nothing.
        outsider = self.user("outsider")
        self.assertErrcode(
            await outsider.request("GET", group_path(room, "announcement")),
            404,
            "CN_JWWX_GROUP_NOT_FOUND",
        )

    # Dissolve

    async def test_dissolve(self) -> None:
        admin = await self._admin()
        alice, bob, carol = (self.user(n) for n in ("alice", "bob", "carol"))
        room = await make_group(alice, bob, carol)
        status, sent = await bob.send_text(room, "解散前的消息")
        self.assertEqual(status, 200)
        link = await alice.ok("POST", group_path(room, "join_links"), {})
        self.assertErrcode(
            await bob.request("POST", group_path(room, "dissolve"), {}),
            403,
            "CN_JWWX_GROUP_FORBIDDEN",
        )
        result = await alice.ok("POST", group_path(room, "dissolve"), {})
        # Its join links died with it.
        self.assertErrcode(
            await self.user("dave").request(
                "POST", f"{GROUPS}/join/{link['token']}", {}
            ),
            403,
            "CN_JWWX_JOIN_LINK_REVOKED",
        )
        self.assertEqual(
            sorted(result["removed"]), sorted([bob.user_id, carol.user_id])
        )
        for member in (alice, bob, carol):
            joined = await member.ok("GET", "/_matrix/client/v3/joined_rooms")
            self.assertNotIn(room, joined["joined_rooms"])
            fresh = await member.ok("GET", "/_matrix/client/v3/sync?timeout=0")
            for section in ("join", "invite", "leave"):
                self.assertNotIn(room, fresh.get("rooms", {}).get(section, {}))
        # Nobody joins or sends again, server admins included (with no member left
        # Synapse itself cannot join anyone: 404; the dissolved rule says 403 before).
        for client in (bob, admin):
            status, _ = await client.request(
                "POST", f"/_matrix/client/v3/join/{quote(room)}", {}
            )
            self.assertIn(status, (403, 404))
            self.assertErrcode(
                await client.send_text(room, "还能发吗"), 403, "M_FORBIDDEN"
            )
        # The history is kept for audit (Synapse's admin API still reads it).
        history = await admin.ok(
            "GET", f"/_synapse/admin/v1/rooms/{q(room)}/messages?dir=b&limit=50"
        )
        bodies = [e["content"].get("body") for e in history["chunk"]]
        self.assertIn("解散前的消息", bodies)
        self.assertIn("群主已解散该群聊", bodies)
        self.assertTrue(sent["event_id"])

    async def test_dissolved_flag_stops_everything_but_leaving(self) -> None:
        alice, bob, carol = (self.user(n) for n in ("alice", "bob", "carol"))
        room = await make_group(alice, bob)
        status, _ = await alice.request(
            "POST", _room(room, "invite"), {"user_id": carol.user_id}
        )
        self.assertEqual(status, 200)
        # Only the owner may set the flag, even by a raw state event.
        group = await state(alice, room, "cn.jwwx.group")
        self.assertErrcode(
            await bob.request(
                "PUT", _room(room, "state/cn.jwwx.group/"), {**group, "dissolved": True}
            ),
            403,
            "CN_JWWX_GROUP_OWNER_ONLY",
        )
        status, _ = await alice.request(
            "PUT", _room(room, "state/cn.jwwx.group/"), {**group, "dissolved": True}
        )
        self.assertEqual(status, 200)
        self.assertErrcode(
            await bob.send_text(room, "还在吗"), 403, "CN_JWWX_GROUP_DISSOLVED"
        )
        self.assertErrcode(
            await alice.send_text(room, "群主也不行"), 403, "CN_JWWX_GROUP_DISSOLVED"
        )
        self.assertErrcode(
            await carol.request("POST", f"/_matrix/client/v3/join/{quote(room)}", {}),
            403,
            "CN_JWWX_GROUP_DISSOLVED",
        )
        # Nor can the flag be taken back.
        self.assertErrcode(
            await alice.request(
                "PUT",
                _room(room, "state/cn.jwwx.group/"),
                {**group, "dissolved": False},
            ),
            403,
            "CN_JWWX_GROUP_DISSOLVED",
        )
        # The owner finishes it through the API: everyone (the invitee too) is out.
        result = await alice.ok("POST", group_path(room, "dissolve"), {})
        self.assertEqual(
            sorted(result["removed"]), sorted([bob.user_id, carol.user_id])
        )
        joined = await bob.ok("GET", "/_matrix/client/v3/joined_rooms")
        self.assertNotIn(room, joined["joined_rooms"])

    async def test_quick_department_group(self) -> None:
        admin = await self._admin()
        dept = await directory.department(admin, f"一大队{next(_names)}", None)
        hidden = await directory.department(
            admin, f"隐藏组{next(_names)}", None, hidden=True
        )
        userids = [f"dg{next(_names)}" for _ in range(3)]
        jobs = [
            (await directory.member(admin, userids[0], "张三", [dept]))["job_id"],
            (await directory.member(admin, userids[1], "李四", [dept]))["job_id"],
            (await directory.member(admin, userids[2], "王五", [dept], hidden=True))[
                "job_id"
            ],
        ]
        for job_id in jobs:
            await self._wait_job(admin, job_id)
        alice = self.user("alice")
        server = alice.user_id.split(":", 1)[1]
        visible = sorted(f"@{u}:{server}" for u in userids[:2])
        # Refused: a department the caller may not see; a department over the cap.
        self.assertErrcode(
            await alice.request(
                "POST", GROUPS, {"name": "隐藏", "department_id": hidden}
            ),
            404,
            "CN_JWWX_DEPARTMENT_NOT_FOUND",
        )
        await self._settings(admin, max_members=2)
        try:
            self.assertErrcode(
                await alice.request(
                    "POST", GROUPS, {"name": "大队群", "department_id": dept}
                ),
                403,
                "CN_JWWX_GROUP_FULL",
            )
        finally:
            await self._settings(admin, max_members=500)
        result = await alice.ok(
            "POST", GROUPS, {"name": "大队群", "department_id": dept}
        )
        self.assertEqual(sorted(result["invited"]), visible)
        info = await alice.ok("GET", group_path(result["room_id"]))
        self.assertEqual((info["owner"], info["invited_count"]), (alice.user_id, 2))

    async def _wait_job(self, admin: Any, job_id: int) -> None:
        for _ in range(150):
            job = await admin.ok("GET", f"/_jwwx/admin/v1/directory/jobs/{job_id}")
            if job["finished"]:
                return
            await _sleep(0.2)
        raise AssertionError(f"provisioning job {job_id} did not finish")

    async def test_saved_groups(self) -> None:
        alice, bob = self.user("alice"), self.user("bob")
        first = await alice.ok(
            "POST", GROUPS, {"name": "刑侦一组", "invite": [bob.user_id]}
        )
        second = await alice.ok(
            "POST", GROUPS, {"name": "治安巡逻", "invite": [bob.user_id]}
        )
        await bob.join(first["room_id"])
        await bob.join(second["room_id"])
        outsider = self.user("outsider")
        self.assertErrcode(
            await outsider.request("PUT", group_path(first["room_id"], "saved"), {}),
            404,
            "CN_JWWX_GROUP_NOT_FOUND",
        )
        for room in (first, second):
            await bob.ok("PUT", group_path(room["room_id"], "saved"), {})
        await bob.ok("PUT", group_path(first["room_id"], "saved"), {})
        saved = await bob.ok("GET", f"{GROUPS}/saved")
        self.assertEqual(
            [g["room_id"] for g in saved["groups"]],
            [second["room_id"], first["room_id"]],
        )
        found = await bob.ok("GET", f"{GROUPS}/saved?q={q('刑侦')}")
        self.assertEqual([g["name"] for g in found["groups"]], ["刑侦一组"])
        self.assertEqual((await alice.ok("GET", f"{GROUPS}/saved"))["groups"], [])
        await bob.ok("DELETE", group_path(second["room_id"], "saved"))
        self.assertErrcode(
            await bob.request("DELETE", group_path(second["room_id"], "saved")),
            404,
            "CN_JWWX_GROUP_NOT_FOUND",
        )
        # A group left is no longer listed.
        await bob.ok("POST", _room(first["room_id"], "leave"), {})
        self.assertEqual((await bob.ok("GET", f"{GROUPS}/saved"))["groups"], [])

    async def test_create_validation(self) -> None:
        alice = self.user("alice")
        for bad in (
            {},
            {"name": ""},
            {"name": "x", "invite": "bob"},
            {"name": "x", "owner_only_manage": 1},
        ):
            status, body = await alice.request("POST", GROUPS, bad)
            self.assertEqual((status, body["errcode"]), (400, "M_INVALID_PARAM"), bad)
        self.assertErrcode(
            await self.anonymous().request("POST", GROUPS, {"name": "x"}),
            401,
            "M_MISSING_TOKEN",
        )


class GroupSQLiteTest(GroupTests, OwnerGoneTests, AdminOperationTests, SQLiteCase):
    pass


class GroupPostgresTest(GroupTests, OwnerGoneTests, AdminOperationTests, PostgresCase):
    pass
