# SPDX-License-Identifier: AGPL-3.0-or-later
"""A group whose owner account is gone (admin override), and room upgrades (refused).

Mixed into the group test classes of test_groups.py, so they share its servers."""

from typing import Any

from twisted.internet import reactor, task

from tests.modules.groups.helpers import group_path, make_group, q, state

ADMIN_ROOMS = "/_jwwx/admin/v1/groups/rooms"


def _sleep(seconds: float) -> Any:
    return task.deferLater(reactor, seconds, lambda: None)


def _room(room_id: str, *rest: str) -> str:
    return "/".join([f"/_matrix/client/v3/rooms/{q(room_id)}", *rest])


def _admin_room(room_id: str, *rest: str) -> str:
    return "/".join([ADMIN_ROOMS, q(room_id), *rest])


class OwnerGoneTests:
    async def _deactivate(self, admin: Any, user: Any, room: str, witness: Any) -> None:
        await admin.ok(
            "POST",
            f"/_synapse/admin/v1/deactivate/{q(user.user_id)}",
            {"erase": False},
        )
        # Synapse parts a deactivated account from its rooms in the background.
        for _ in range(450):
            member = await witness.ok(
                "GET", _room(room, "state/m.room.member", q(user.user_id))
            )
            if member["membership"] == "leave":
                return
            await _sleep(0.2)
        self.fail(f"{user.user_id} was never parted from {room}")

    async def test_admin_override_transfers_from_a_deactivated_owner(self) -> None:
        admin = self.user("admin", admin=True)
        alice, bob, carol = (self.user(n) for n in ("alice", "bob", "carol"))
        room = await make_group(alice, bob, carol, owner_only_manage=True)
        await alice.ok(
            "PUT", group_path(room, "admins", q(bob.user_id)), {"admin": True}
        )
        transfer = _admin_room(room, "transfer")
        # Officers may not use the override; while the owner is there, nobody may.
        self.assertErrcode(
            await bob.request("POST", transfer, {"user_id": bob.user_id}),
            403,
            "M_FORBIDDEN",
        )
        self.assertErrcode(
            await admin.request("POST", transfer, {"user_id": bob.user_id}),
            409,
            "CN_JWWX_GROUP_OWNER_PRESENT",
        )
        await self._deactivate(admin, alice, room, bob)
        info = await admin.ok("GET", _admin_room(room))
        self.assertEqual((info["owner"], info["owner_gone"]), (alice.user_id, True))
        # By the room's own rules nobody can take the owner's place.
        levels = await state(bob, room, "m.room.power_levels")
        levels["users"][bob.user_id] = 100
        status, _ = await bob.request(
            "PUT", _room(room, "state/m.room.power_levels/"), levels
        )
        self.assertEqual(status, 403)
        self.assertErrcode(
            await bob.request(
                "POST", group_path(room, "transfer"), {"user_id": bob.user_id}
            ),
            403,
            "CN_JWWX_GROUP_FORBIDDEN",
        )
        # Bad input changes nothing.
        outsider = self.user("outsider")
        for bad in ({}, {"user_id": outsider.user_id}, {"user_id": 5}):
            self.assertErrcode(
                await admin.request("POST", transfer, bad), 400, "M_INVALID_PARAM"
            )
        self.assertErrcode(
            await admin.request(
                "POST", _admin_room("!nope:test.jwwx", "transfer"), {"user_id": "x"}
            ),
            404,
            "CN_JWWX_GROUP_NOT_FOUND",
        )
        result = await admin.ok("POST", transfer, {"user_id": bob.user_id})
        self.assertEqual((result["owner"], result["owner_gone"]), (bob.user_id, False))
        levels = await state(carol, room, "m.room.power_levels")
        self.assertEqual(levels["users"][bob.user_id], 100)
        self.assertNotIn(alice.user_id, levels["users"])
        member = await carol.ok(
            "GET", _room(room, "state/m.room.member", q(alice.user_id))
        )
        self.assertEqual(member["membership"], "leave")
        # The new owner manages the owner-only group; a member still may not.
        status, _ = await bob.request(
            "PUT", _room(room, "state/m.room.name/"), {"name": "新群主的群"}
        )
        self.assertEqual(status, 200)
        self.assertErrcode(
            await carol.request(
                "PUT", _room(room, "state/m.room.name/"), {"name": "不行"}
            ),
            403,
            "CN_JWWX_GROUP_OWNER_ONLY",
        )
        events = await carol.sync_timeline_until(
            room, lambda e: e["content"].get("cn.jwwx.notice") == "owner_transfer"
        )
        notice = next(
            e for e in events if e["content"].get("cn.jwwx.notice") == "owner_transfer"
        )
        self.assertIn("管理员", notice["content"]["body"])
        # Done once: the owner is present again.
        self.assertErrcode(
            await admin.request("POST", transfer, {"user_id": carol.user_id}),
            409,
            "CN_JWWX_GROUP_OWNER_PRESENT",
        )

    async def test_admin_override_dissolves_a_group_whose_owner_is_gone(self) -> None:
        admin = self.user("admin", admin=True)
        alice, bob, carol = (self.user(n) for n in ("alice", "bob", "carol"))
        room = await make_group(alice, bob, carol)
        dissolve = _admin_room(room, "dissolve")
        self.assertErrcode(
            await admin.request("POST", dissolve, {}),
            409,
            "CN_JWWX_GROUP_OWNER_PRESENT",
        )
        await self._deactivate(admin, alice, room, bob)
        self.assertErrcode(
            await bob.request("POST", group_path(room, "dissolve"), {}),
            403,
            "CN_JWWX_GROUP_FORBIDDEN",
        )
        self.assertErrcode(await bob.request("POST", dissolve, {}), 403, "M_FORBIDDEN")
        result = await admin.ok("POST", dissolve, {})
        self.assertEqual(
            sorted(result["removed"]), sorted([bob.user_id, carol.user_id])
        )
        for member in (bob, carol):
            joined = await member.ok("GET", "/_matrix/client/v3/joined_rooms")
            self.assertNotIn(room, joined["joined_rooms"])
            self.assertErrcode(
                await member.send_text(room, "还在吗"), 403, "M_FORBIDDEN"
            )
        # No member left: the server is out of the room, there is no group to manage.
        for answer in (
            await admin.request("GET", _admin_room(room)),
            await admin.request("POST", dissolve, {}),
        ):
            self.assertErrcode(answer, 404, "CN_JWWX_GROUP_NOT_FOUND")
        history = await admin.ok(
            "GET", f"/_synapse/admin/v1/rooms/{q(room)}/messages?dir=b&limit=50"
        )
        bodies = [e["content"].get("body") for e in history["chunk"]]
        self.assertIn("原群主账号已注销，管理员已解散该群聊", bodies)

    async def test_groups_are_never_upgraded(self) -> None:
        alice, bob = self.user("alice"), self.user("bob")
        room = await make_group(alice, bob)
        before = (await alice.ok("GET", "/_matrix/client/v3/joined_rooms"))[
            "joined_rooms"
        ]
        for version in ("11", "12"):
            body = self.assertErrcode(
                await alice.request(
                    "POST", _room(room, "upgrade"), {"new_version": version}
                ),
                403,
                "CN_JWWX_GROUP_UPGRADE_REFUSED",
            )
            self.assertIn("不支持升级", body["error"])
        status, _ = await bob.request(
            "POST", _room(room, "upgrade"), {"new_version": "11"}
        )
        self.assertEqual(status, 403)
        # Nothing was created or tombstoned; the group goes on as before.
        after = (await alice.ok("GET", "/_matrix/client/v3/joined_rooms"))[
            "joined_rooms"
        ]
        self.assertEqual(sorted(after), sorted(before))
        status, _ = await alice.request("GET", _room(room, "state/m.room.tombstone/"))
        self.assertEqual(status, 404)
        self.assertEqual((await bob.send_text(room, "群还在"))[0], 200)
        # A direct chat is no group: it upgrades as Matrix says.
        direct = await alice.create_room(
            preset="trusted_private_chat", is_direct=True, invite=[bob.user_id]
        )
        await bob.join(direct)
        upgraded = await alice.ok(
            "POST", _room(direct, "upgrade"), {"new_version": "11"}
        )
        self.assertTrue(upgraded["replacement_room"].startswith("!"))
