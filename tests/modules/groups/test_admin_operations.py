# SPDX-License-Identifier: AGPL-3.0-or-later
"""Forced membership changes by Synapse's own admin API and server notices pass the group
rules (issue 14): room shutdown and delete (v1 and v2, with purge and block, moving
members to a new room), account deactivation (with erase), server notices; the admin join is an invite.

Mixed into the group test classes of test_groups.py, so they share its servers."""

from typing import Any

from twisted.internet import reactor, task

from tests.modules.groups.helpers import make_group, q

SYNAPSE_ADMIN = "/_synapse/admin"


def _sleep(seconds: float) -> Any:
    return task.deferLater(reactor, seconds, lambda: None)


class AdminOperationTests:
    async def _assert_gone(self, admin: Any, room: str, *members: Any) -> None:
        """Nobody of `members` is in the room any more or can post in it."""
        for member in members:
            joined = await member.ok("GET", "/_matrix/client/v3/joined_rooms")
            self.assertNotIn(room, joined["joined_rooms"], member.user_id)
            status, _ = await member.send_text(room, "还在吗")
            self.assertEqual(status, 403, member.user_id)

    async def test_admin_shutdown_removes_the_owner_too(self) -> None:
        admin = self.user("admin", admin=True)
        alice, bob, carol = (self.user(n) for n in ("alice", "bob", "carol"))
        room = await make_group(alice, bob, carol, owner_only_manage=True)
        result = await admin.ok(
            "DELETE", f"{SYNAPSE_ADMIN}/v1/rooms/{q(room)}", {"purge": False}
        )
        self.assertEqual(result["failed_to_kick_users"], [], result)
        self.assertEqual(
            sorted(result["kicked_users"]),
            sorted(u.user_id for u in (alice, bob, carol)),
        )
        members = await admin.ok("GET", f"{SYNAPSE_ADMIN}/v1/rooms/{q(room)}/members")
        self.assertEqual(members["members"], [])
        await self._assert_gone(admin, room, alice, bob, carol)
        # Outside a shutdown the owner still may not walk out of a group.
        other = await make_group(alice, bob)
        self.assertErrcode(
            await alice.request(
                "POST", f"/_matrix/client/v3/rooms/{q(other)}/leave", {}
            ),
            403,
            "CN_JWWX_GROUP_OWNER_CANNOT_LEAVE",
        )

    async def test_admin_shutdown_moving_members_to_a_new_room(self) -> None:
        admin = self.user("admin", admin=True)
        alice, bob = self.user("alice"), self.user("bob")
        room = await make_group(alice, bob, owner_only_manage=True)
        result = await admin.ok(
            "DELETE",
            f"{SYNAPSE_ADMIN}/v1/rooms/{q(room)}",
            {
                "new_room_user_id": admin.user_id,
                "room_name": "已关闭的群聊",
                "message": "该群聊已被管理员关闭",
                "purge": False,
            },
        )
        self.assertEqual(result["failed_to_kick_users"], [], result)
        new_room = result["new_room_id"]
        self.assertTrue(new_room)
        await self._assert_gone(admin, room, alice, bob)
        for member in (alice, bob):
            joined = await member.ok("GET", "/_matrix/client/v3/joined_rooms")
            self.assertIn(new_room, joined["joined_rooms"], member.user_id)

    async def test_admin_join_is_judged_like_any_invite(self) -> None:
        """POST /_synapse/admin/v1/join invites the officer as the calling server admin,
        then joins them: not a forced change but an invite, so the owner-only switch
        judges it like any other (docs/groups.md) and nothing changes."""
        admin = self.user("admin", admin=True)
        alice, bob, dave = self.user("alice"), self.user("bob"), self.user("dave")
        room = await make_group(alice, bob, owner_only_manage=True)
        self.assertErrcode(
            await admin.request(
                "POST", f"{SYNAPSE_ADMIN}/v1/join/{q(room)}", {"user_id": dave.user_id}
            ),
            403,
            "CN_JWWX_GROUP_OWNER_ONLY",
        )
        joined = await dave.ok("GET", "/_matrix/client/v3/joined_rooms")
        self.assertNotIn(room, joined["joined_rooms"])

    async def test_admin_delete_with_purge_and_block(self) -> None:
        admin = self.user("admin", admin=True)
        alice, bob = self.user("alice"), self.user("bob")
        room = await make_group(alice, bob)
        await alice.send_text(room, "删除前的消息")
        result = await admin.ok(
            "DELETE",
            f"{SYNAPSE_ADMIN}/v1/rooms/{q(room)}",
            {"purge": True, "block": True},
        )
        self.assertEqual(result["failed_to_kick_users"], [], result)
        self.assertIn(alice.user_id, result["kicked_users"])
        status, _ = await admin.request("GET", f"{SYNAPSE_ADMIN}/v1/rooms/{q(room)}")
        self.assertEqual(status, 404)  # purged
        blocked = await admin.ok("GET", f"{SYNAPSE_ADMIN}/v1/rooms/{q(room)}/block")
        self.assertTrue(blocked["block"])
        await self._assert_gone(admin, room, alice, bob)

    async def test_admin_delete_v2_purges_a_group(self) -> None:
        admin = self.user("admin", admin=True)
        alice, bob, carol = (self.user(n) for n in ("alice", "bob", "carol"))
        room = await make_group(alice, bob, carol)
        started = await admin.ok(
            "DELETE", f"{SYNAPSE_ADMIN}/v2/rooms/{q(room)}", {"purge": True}
        )
        status_path = f"{SYNAPSE_ADMIN}/v2/rooms/delete_status/{started['delete_id']}"
        for _ in range(150):
            status = await admin.ok("GET", status_path)
            if status["status"] in ("complete", "failed"):
                break
            await _sleep(0.2)
        self.assertEqual(status["status"], "complete", status)
        shutdown = status["shutdown_room"]
        self.assertEqual(shutdown["failed_to_kick_users"], [], status)
        self.assertIn(alice.user_id, shutdown["kicked_users"])
        status_code, _ = await admin.request(
            "GET", f"{SYNAPSE_ADMIN}/v1/rooms/{q(room)}"
        )
        self.assertEqual(status_code, 404)
        await self._assert_gone(admin, room, alice, bob, carol)

    async def test_deactivating_and_erasing_the_owner_parts_it(self) -> None:
        admin = self.user("admin", admin=True)
        alice, bob = self.user("alice"), self.user("bob")
        room = await make_group(alice, bob)
        await admin.ok(
            "POST", f"{SYNAPSE_ADMIN}/v1/deactivate/{q(alice.user_id)}", {"erase": True}
        )
        for _ in range(450):
            member = await bob.ok(
                "GET",
                f"/_matrix/client/v3/rooms/{q(room)}/state/m.room.member/"
                f"{q(alice.user_id)}",
            )
            if member["membership"] == "leave":
                break
            await _sleep(0.2)
        self.assertEqual(member["membership"], "leave")

    async def test_server_notices_reach_an_officer_who_left_the_notice_room(
        self,
    ) -> None:
        admin = self.user("admin", admin=True)
        officer = self.user("officer")
        notice = {
            "user_id": officer.user_id,
            "content": {"msgtype": "m.text", "body": "系统维护通知"},
        }
        await admin.ok("POST", f"{SYNAPSE_ADMIN}/v1/send_server_notice", notice)
        # The notice room is a room like any other for the rules: the officer may
        # leave it, and the next notice invites them again.
        for _ in range(450):
            joined = (await officer.ok("GET", "/_matrix/client/v3/joined_rooms"))[
                "joined_rooms"
            ]
            if joined:
                break
            await _sleep(0.2)
        self.assertTrue(joined)
        for room in joined:
            await officer.ok("POST", f"/_matrix/client/v3/rooms/{q(room)}/leave", {})
        await admin.ok("POST", f"{SYNAPSE_ADMIN}/v1/send_server_notice", notice)
        for _ in range(450):
            again = (await officer.ok("GET", "/_matrix/client/v3/joined_rooms"))[
                "joined_rooms"
            ]
            if again:
                break
            await _sleep(0.2)
        self.assertEqual(sorted(again), sorted(joined))
