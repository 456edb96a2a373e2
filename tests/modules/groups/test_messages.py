# SPDX-License-Identifier: AGPL-3.0-or-later
"""Read-receipt details, the read-status switch, QR join links and mark-all-read, end
to end with several real clients."""

import base64
import json
import time
from typing import Any

from twisted.internet import reactor, task

from tests.harness.case import PostgresCase, SQLiteCase
from tests.harness.client import MatrixClient
from tests.modules.directory import helpers as directory
from tests.modules.groups.helpers import (
    GROUPS,
    SETTINGS,
    group_path,
    make_group,
    q,
    read_receipt,
)

READ_ALL = "/_jwwx/client/v1/messages/read_all"
UNREAD = "/_jwwx/client/v1/messages/unread"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _sleep(seconds: float) -> Any:
    return task.deferLater(reactor, seconds, lambda: None)


def _ids(entries: list[dict[str, Any]]) -> list[str]:
    return sorted(e["user_id"] for e in entries)


class MessageFeatureTests:
    # Read-receipt details

    async def test_receipt_details_with_several_readers(self) -> None:
        alice, bob, carol, dave, erin = (
            self.user(n) for n in ("alice", "bob", "carol", "dave", "erin")
        )
        room = await make_group(alice, bob, carol, dave, erin)
        await alice.ok(
            "PUT", group_path(room, "admins", q(erin.user_id)), {"admin": True}
        )
        status, sent = await bob.send_text(room, "请各位确认收到")
        self.assertEqual(status, 200)
        event_id = sent["event_id"]
        path = group_path(room, "receipts", q(event_id))
        details = await bob.ok("GET", path)
        self.assertEqual(details["read"], [])
        self.assertEqual(
            _ids(details["unread"]),
            sorted([alice.user_id, carol.user_id, dave.user_id, erin.user_id]),
        )
        # carol reads exactly this message; alice reads a later one (reads it too).
        await read_receipt(carol, room, event_id)
        status, later = await dave.send_text(room, "收到")
        self.assertEqual(status, 200)
        await read_receipt(alice, room, later["event_id"])
        details = await bob.ok("GET", path)
        self.assertEqual(_ids(details["read"]), sorted([alice.user_id, carol.user_id]))
        # dave sent a later message but never sent a receipt: unread for this one.
        self.assertEqual(_ids(details["unread"]), sorted([dave.user_id, erin.user_id]))
        self.assertEqual((details["read_count"], details["unread_count"]), (2, 2))
        names = {e["user_id"]: e["name"] for e in details["read"] + details["unread"]}
        self.assertEqual(names[carol.user_id], carol.user_id[1:].split(":")[0])
        # The owner and admins may ask too; another member may not; nor an outsider.
        self.assertEqual((await alice.ok("GET", path))["read_count"], 2)
        self.assertEqual((await erin.ok("GET", path))["read_count"], 2)
        self.assertErrcode(
            await dave.request("GET", path), 403, "CN_JWWX_GROUP_FORBIDDEN"
        )
        self.assertErrcode(
            await self.user("outsider").request("GET", path),
            404,
            "CN_JWWX_GROUP_NOT_FOUND",
        )
        self.assertErrcode(
            await bob.request("GET", group_path(room, "receipts", q("$nope"))),
            404,
            "M_NOT_FOUND",
        )
        # A late joiner is neither reader nor non-reader of an older message.
        frank = self.user("frank")
        await alice.ok(
            "POST",
            f"/_matrix/client/v3/rooms/{q(room)}/invite",
            {"user_id": frank.user_id},
        )
        await frank.join(room)
        details = await bob.ok("GET", path)
        self.assertNotIn(frank.user_id, _ids(details["read"] + details["unread"]))

    async def test_read_status_can_be_switched_off(self) -> None:
        admin = self.user("admin", admin=True)
        alice, bob = self.user("alice"), self.user("bob")
        room = await make_group(alice, bob)
        _status, sent = await alice.send_text(room, "hello")
        path = group_path(room, "receipts", q(sent["event_id"]))
        await admin.ok("PUT", SETTINGS, {"read_status_enabled": False})
        try:
            self.assertErrcode(
                await alice.request("GET", path), 403, "CN_JWWX_READ_STATUS_DISABLED"
            )
        finally:
            await admin.ok("PUT", SETTINGS, {"read_status_enabled": True})
        self.assertEqual((await alice.ok("GET", path))["unread_count"], 1)

    # Recall window

    async def test_recall_window_own_messages_only(self) -> None:
        admin = self.user("admin", admin=True)
        alice, bob = self.user("alice"), self.user("bob")
        room = await make_group(alice, bob)

        def redact(client: MatrixClient, event_id: str, txn: str) -> Any:
            path = f"/_matrix/client/v3/rooms/{q(room)}/redact/{q(event_id)}/{txn}"
            return client.request("PUT", path, {"reason": "撤回"})

        async def event(event_id: str) -> Any:
            path = f"/_matrix/client/v3/rooms/{q(room)}/event/{q(event_id)}"
            return await alice.ok("GET", path)

        self.assertEqual(
            (await admin.ok("GET", SETTINGS))["recall_window_seconds"], 86400
        )
        # Officers' clients read the window (the web client offers 撤回 within it).
        self.assertEqual(
            await bob.ok("GET", f"{GROUPS}/settings"), {"recall_window_seconds": 86400}
        )
        _status, recent = await bob.send_text(room, "刚发的")
        self.assertEqual((await redact(bob, recent["event_id"], "r1"))[0], 200)
        for bad in (-1, "60", True, 365 * 86400 + 1):
            self.assertErrcode(
                await admin.request("PUT", SETTINGS, {"recall_window_seconds": bad}),
                400,
                "M_INVALID_PARAM",
            )
        self.assertEqual(
            (await admin.ok("GET", SETTINGS))["recall_window_seconds"], 86400
        )
        await admin.ok("PUT", SETTINGS, {"recall_window_seconds": 1})
        self.assertEqual(
            (await bob.ok("GET", f"{GROUPS}/settings"))["recall_window_seconds"], 1
        )
        try:
            _status, old = await bob.send_text(room, "一秒前的消息")
            _status, kept = await bob.send_text(room, "管理员清理这条")
            _status, burn = await bob.send_text(
                room, "阅后即焚", **{"org.matrix.self_destruct": 600000}
            )
            _status, other = await bob.send_text(room, "群主撤回这条")
            sent_ts = (await event(other["event_id"]))["origin_server_ts"]
            # The window is measured on the server's clock (this machine's).
            while time.time() * 1000 <= sent_ts + 1500:
                await _sleep(0.2)
            code, body = await redact(bob, old["event_id"], "r2")
            self.assertErrcode((code, body), 403, "CN_JWWX_RECALL_EXPIRED")
            self.assertIn("1秒", body["error"])
            self.assertEqual(body["cn.jwwx.recall_window_seconds"], 1)
            self.assertEqual(
                (await event(old["event_id"]))["content"]["body"], "一秒前的消息"
            )
            # The owner recalls a member's message at any time; burn-after-read
            # messages are not subject to the window.
            self.assertEqual((await redact(alice, other["event_id"], "r3"))[0], 200)
            self.assertEqual((await redact(bob, burn["event_id"], "r4"))[0], 200)
            self.assertEqual((await event(other["event_id"]))["content"], {})
            # 0: no limit.
            await admin.ok("PUT", SETTINGS, {"recall_window_seconds": 0})
            self.assertEqual((await redact(bob, old["event_id"], "r5"))[0], 200)
            await admin.ok("PUT", SETTINGS, {"recall_window_seconds": 1})
            # A server admin's "redact this user's events" puppets bob from a background
            # task: not bob's recall, nothing refused (his join included).
            task = await admin.ok(
                "POST",
                f"/_synapse/admin/v1/user/{q(bob.user_id)}/redact",
                {"rooms": [room]},
            )
            status: dict[str, Any] = {}
            for _ in range(450):
                status = await admin.ok(
                    "GET", f"/_synapse/admin/v1/user/redact_status/{task['redact_id']}"
                )
                if status["status"] in ("complete", "failed"):
                    break
                await _sleep(0.2)
            self.assertEqual(
                (status["status"], status["failed_redactions"]), ("complete", {})
            )
            self.assertEqual((await event(kept["event_id"]))["content"], {})
        finally:
            await admin.ok("PUT", SETTINGS, {"recall_window_seconds": 86400})

    # Mark all read

    async def test_mark_all_read(self) -> None:
        alice, bob, carol = self.user("alice"), self.user("bob"), self.user("carol")
        room_one = await make_group(alice, bob, carol)
        room_two = await make_group(carol, bob)
        for room, sender in ((room_one, alice), (room_two, carol)):
            for text in ("一", "二", "三"):
                self.assertEqual((await sender.send_text(room, text))[0], 200)

        calls = iter(range(1, 10000))

        async def counts() -> dict[str, int]:
            result: dict[str, int] = {}
            for _ in range(450):
                # Synapse caches identical /sync answers for a while: vary the filter.
                limit = next(calls)
                flt = q(json.dumps({"room": {"timeline": {"limit": limit}}}))
                sync = await bob.ok(
                    "GET", f"/_matrix/client/v3/sync?timeout=0&filter={flt}"
                )
                joined = sync.get("rooms", {}).get("join", {})
                result = {
                    r: joined[r]["unread_notifications"].get("notification_count", 0)
                    for r in (room_one, room_two)
                    if r in joined
                }
                if len(result) == 2:
                    return result
                await _sleep(0.2)
            return result

        before = await counts()
        self.assertTrue(all(n >= 3 for n in before.values()), before)
        result = await bob.ok("POST", READ_ALL, {})
        self.assertEqual(result["rooms"], 2)
        self.assertEqual(await counts(), {room_one: 0, room_two: 0})
        # alice's own counts are untouched by bob's call.
        sync = await carol.ok("GET", "/_matrix/client/v3/sync?timeout=0")
        self.assertGreater(
            sync["rooms"]["join"][room_one]["unread_notifications"][
                "notification_count"
            ],
            0,
        )
        self.assertErrcode(
            await self.anonymous().request("POST", READ_ALL, {}), 401, "M_MISSING_TOKEN"
        )

    # Unread counts (the web client's badges under simplified sliding sync)

    async def test_unread_counts_are_what_sync_reports(self) -> None:
        alice, bob, carol = self.user("alice"), self.user("bob"), self.user("carol")
        room_one = await make_group(alice, bob, carol)
        room_two = await make_group(carol, bob)
        await alice.send_text(room_one, "一")
        status, named = await alice.send_text(
            room_one, "@bob 请回复", **{"m.mentions": {"user_ids": [bob.user_id]}}
        )
        self.assertEqual(status, 200)
        await carol.send_text(room_two, "二")

        calls = iter(range(1, 10000))

        async def both() -> tuple[dict[str, Any], dict[str, Any]]:
            """(the endpoint's rooms, /sync v2's non-zero counts as the same shape)."""
            ours: dict[str, Any] = {}
            theirs: dict[str, Any] = {}
            for _ in range(200):
                ours = (await bob.ok("GET", UNREAD))["rooms"]
                flt = q(json.dumps({"room": {"timeline": {"limit": next(calls)}}}))
                sync = await bob.ok(
                    "GET", f"/_matrix/client/v3/sync?timeout=0&filter={flt}"
                )
                theirs = {}
                for room_id, room in sync["rooms"]["join"].items():
                    counts = room["unread_notifications"]
                    notify = counts.get("notification_count", 0)
                    highlight = counts.get("highlight_count", 0)
                    if notify or highlight:
                        theirs[room_id] = {"unread": notify, "mentions": highlight}
                if ours == theirs and ours.get(room_one, {}).get("unread", 0) >= 2:
                    break
                await _sleep(0.1)
            return dict(ours), theirs

        ours, theirs = await both()
        self.assertEqual(ours, theirs)
        self.assertGreaterEqual(ours[room_one]["unread"], 2)
        self.assertEqual(ours[room_one]["mentions"], 1)
        self.assertGreaterEqual(ours[room_two]["unread"], 1)
        self.assertEqual(ours[room_two]["mentions"], 0)
        # Read: gone; alice's counts are her own.
        await read_receipt(bob, room_one, named["event_id"])
        self.assertNotIn(room_one, (await bob.ok("GET", UNREAD))["rooms"])
        self.assertIn(room_two, (await bob.ok("GET", UNREAD))["rooms"])
        self.assertNotIn(room_one, (await alice.ok("GET", UNREAD))["rooms"])
        # Left: not counted (Synapse keeps the summary row of a room left).
        await bob.ok("POST", f"/_matrix/client/v3/rooms/{q(room_two)}/leave", {})
        self.assertNotIn(room_two, (await bob.ok("GET", UNREAD))["rooms"])
        self.assertErrcode(
            await self.anonymous().request("GET", UNREAD), 401, "M_MISSING_TOKEN"
        )

    # QR join links

    async def test_join_link_round_trip(self) -> None:
        alice, bob, carol, dave = (
            self.user(n) for n in ("alice", "bob", "carol", "dave")
        )
        room = await make_group(alice, bob)
        self.assertErrcode(
            await bob.request("POST", group_path(room, "join_links"), {}),
            403,
            "CN_JWWX_GROUP_FORBIDDEN",
        )
        link = await alice.ok("POST", group_path(room, "join_links"), {})
        self.assertTrue(
            link["url"].endswith("/_jwwx/client/v1/groups/join/" + link["token"])
        )
        png = base64.b64decode(link["qr_png_base64"])
        self.assertTrue(png.startswith(PNG_MAGIC))
        status, raw = await alice.request(
            "GET", group_path(room, "join_links", link["token"], "qr.png")
        )
        self.assertEqual(status, 200)
        join = f"{GROUPS}/join/{link['token']}"
        preview = await carol.ok("GET", join)
        self.assertEqual((preview["room_id"], preview["joined"]), (room, False))
        result = await carol.ok("POST", join, {})
        self.assertEqual(result, {"room_id": room, "already_joined": False})
        joined = await carol.ok("GET", "/_matrix/client/v3/joined_rooms")
        self.assertIn(room, joined["joined_rooms"])
        self.assertEqual((await carol.ok("POST", join, {}))["already_joined"], True)
        listed = await alice.ok("GET", group_path(room, "join_links"))
        self.assertEqual(listed["links"][0]["uses"], 1)
        # Revoked: a clear error, and nothing changes.
        await alice.ok("DELETE", group_path(room, "join_links", link["token"]))
        body = self.assertErrcode(
            await dave.request("POST", join, {}), 403, "CN_JWWX_JOIN_LINK_REVOKED"
        )
        self.assertIn("撤销", body["error"])
        self.assertErrcode(
            await dave.request("POST", f"{GROUPS}/join/not-a-token", {}),
            404,
            "CN_JWWX_JOIN_LINK_INVALID",
        )
        joined = await dave.ok("GET", "/_matrix/client/v3/joined_rooms")
        self.assertNotIn(room, joined["joined_rooms"])

    async def test_join_link_expiry_and_size_cap(self) -> None:
        admin = self.user("admin", admin=True)
        alice, bob, carol, dave = (
            self.user(n) for n in ("alice", "bob", "carol", "dave")
        )
        room = await make_group(alice, bob)
        short = await alice.ok(
            "POST", group_path(room, "join_links"), {"ttl_seconds": 1}
        )
        self.assertErrcode(
            await alice.request(
                "POST", group_path(room, "join_links"), {"ttl_seconds": 0}
            ),
            400,
            "M_INVALID_PARAM",
        )
        await _sleep(1.5)
        body = self.assertErrcode(
            await carol.request("POST", f"{GROUPS}/join/{short['token']}", {}),
            403,
            "CN_JWWX_JOIN_LINK_EXPIRED",
        )
        self.assertIn("过期", body["error"])
        link = await alice.ok("POST", group_path(room, "join_links"), {})
        join = f"{GROUPS}/join/{link['token']}"
        await admin.ok("PUT", SETTINGS, {"max_members": 3})
        try:
            await carol.ok("POST", join, {})
            self.assertErrcode(
                await dave.request("POST", join, {}), 403, "CN_JWWX_GROUP_FULL"
            )
        finally:
            await admin.ok("PUT", SETTINGS, {"max_members": 500})
        await dave.ok("POST", join, {})
        # An admin's link dies when the group becomes owner-only.
        await alice.ok(
            "PUT", group_path(room, "admins", q(bob.user_id)), {"admin": True}
        )
        bobs = await bob.ok("POST", group_path(room, "join_links"), {})
        await alice.ok("PUT", group_path(room, "settings"), {"owner_only_manage": True})
        self.assertErrcode(
            await self.user("erin").request(
                "POST", f"{GROUPS}/join/{bobs['token']}", {}
            ),
            403,
            "CN_JWWX_JOIN_LINK_REVOKED",
        )


class JoinLinkVisibilityTests:
    async def test_join_link_respects_directory_visibility(self) -> None:
        admin = self.user("admin", admin=True)
        suffix = str(id(self) % 100000)
        open_dept = await directory.department(admin, f"开放部门{suffix}", None)
        closed = await directory.department(
            admin, f"仅看本部门{suffix}", None, restricted=True
        )
        clients = {}
        for name, dept in (
            ("owner", open_dept),
            ("inside", closed),
            ("peer", open_dept),
        ):
            localpart = f"vis{name}{suffix}"
            user_id, token = self.server.register(localpart)
            clients[name] = MatrixClient(self.server.base_url, user_id, token)
            await directory.member(admin, localpart, name, [dept])
        owner = clients["owner"]
        room = await make_group(owner)
        link = await owner.ok("POST", group_path(room, "join_links"), {})
        join = f"{GROUPS}/join/{link['token']}"
        # Restricted to their own department, this officer cannot see the link's
        # creator in the directory, so cannot join through it.
        self.assertErrcode(
            await clients["inside"].request("POST", join, {}),
            403,
            "CN_JWWX_GROUP_FORBIDDEN",
        )
        joined = await clients["inside"].ok("GET", "/_matrix/client/v3/joined_rooms")
        self.assertNotIn(room, joined["joined_rooms"])
        self.assertEqual((await clients["peer"].ok("POST", join, {}))["room_id"], room)


class MessageFeatureSQLiteTest(MessageFeatureTests, SQLiteCase):
    pass


class MessageFeaturePostgresTest(MessageFeatureTests, PostgresCase):
    pass


class JoinLinkVisibilitySQLiteTest(JoinLinkVisibilityTests, SQLiteCase):
    pass


class JoinLinkVisibilityPostgresTest(JoinLinkVisibilityTests, PostgresCase):
    pass
