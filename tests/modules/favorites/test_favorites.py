# SPDX-License-Identifier: AGPL-3.0-or-later
"""Favourites (收藏) round trip with real clients: every kind of message, search by text
and file name, removal, re-sending into another chat with the media re-referenced."""

import io
from typing import Any
from urllib.parse import quote

from pypdf import PdfWriter

from tests.harness.case import PostgresCase, SQLiteCase

FAVORITES = "/_jwwx/client/v1/favorites"


def q(value: str) -> str:
    return quote(value, safe="")


def _one_page_pdf() -> bytes:
    # A real PDF: with watermarks on, Synapse's download URL serves the marked copy and
    # refuses a file that cannot be marked (docs/watermark.md).
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


class FavoritesTests:
    async def _pair(self) -> tuple[Any, Any, str]:
        alice, bob = self.user("alice"), self.user("bob")
        room = await alice.create_room(preset="private_chat", invite=[bob.user_id])
        await bob.join(room)
        return alice, bob, room

    async def _sent(self, client: Any, room: str, content: dict[str, Any]) -> str:
        status, body = await client.send(room, content)
        self.assertEqual(status, 200, body)
        return str(body["event_id"])

    async def test_round_trip(self) -> None:
        alice, bob, room = await self._pair()
        pdf = _one_page_pdf()
        upload = await alice.request(
            "POST", "/_matrix/media/v3/upload?filename=plan.pdf", raw=pdf
        )
        mxc = upload[1]["content_uri"]
        messages = {
            "text": {"msgtype": "m.text", "body": "明天上午九点在三楼会议室开会"},
            "file": {
                "msgtype": "m.file",
                "body": "行动方案.pdf",
                "filename": "行动方案.pdf",
                "url": mxc,
                "info": {"mimetype": "application/pdf", "size": len(pdf)},
            },
            "image": {"msgtype": "m.image", "body": "现场照片.jpg", "url": mxc},
            "voice": {
                "msgtype": "m.audio",
                "body": "语音消息.ogg",
                "url": mxc,
                "info": {"mimetype": "audio/ogg", "duration": 3000},
                "org.matrix.msc3245.voice": {},
            },
            "video": {
                "msgtype": "m.video",
                "body": "执法记录.mp4",
                "url": mxc,
                "info": {"mimetype": "video/mp4", "thumbnail_url": mxc},
            },
            "link": {
                "msgtype": "m.text",
                "body": "通报原文 https://example.org/notice/1",
            },
            "location": {
                "msgtype": "m.location",
                "body": "集合地点",
                "geo_uri": "geo:30.27,120.15",
            },
        }
        ids = {k: await self._sent(alice, room, c) for k, c in messages.items()}
        favs = {}
        for kind, event_id in ids.items():
            favs[kind] = await bob.ok(
                "POST", FAVORITES, {"room_id": room, "event_id": event_id}
            )
            self.assertEqual(favs[kind]["sender"], alice.user_id)
        self.assertEqual(
            {k: f["kind"] for k, f in favs.items()},
            {
                "text": "m.text",
                "file": "m.file",
                "image": "m.image",
                "voice": "m.audio",
                "video": "m.video",
                "link": "m.text",
                "location": "m.location",
            },
        )
        self.assertEqual(favs["location"]["content"]["geo_uri"], "geo:30.27,120.15")
        # Favouriting again changes nothing.
        again = await bob.ok(
            "POST", FAVORITES, {"room_id": room, "event_id": ids["text"]}
        )
        self.assertEqual(again["id"], favs["text"]["id"])
        listed = await bob.ok("GET", FAVORITES)
        self.assertEqual(len(listed["favorites"]), len(messages))
        self.assertEqual(listed["favorites"][0]["id"], favs["location"]["id"])
        # Search by text and by file name; alice's own list is separate.
        by_text = await bob.ok("GET", f"{FAVORITES}?q={q('会议室')}")
        self.assertEqual([f["id"] for f in by_text["favorites"]], [favs["text"]["id"]])
        by_name = await bob.ok("GET", f"{FAVORITES}?q={q('方案')}")
        self.assertEqual([f["id"] for f in by_name["favorites"]], [favs["file"]["id"]])
        self.assertEqual((await alice.ok("GET", FAVORITES))["favorites"], [])
        by_link = await bob.ok("GET", f"{FAVORITES}?q={q('EXAMPLE.org')}")
        self.assertEqual([f["id"] for f in by_link["favorites"]], [favs["link"]["id"]])
        page = await bob.ok("GET", f"{FAVORITES}?limit=3")
        self.assertEqual((len(page["favorites"]), page["next_from"]), (3, "3"))
        # Send a favourite into another chat: same content, same media.
        carol = self.user("carol")
        other = await bob.create_room(preset="private_chat", invite=[carol.user_id])
        await carol.join(other)
        sent = await bob.ok(
            "POST", f"{FAVORITES}/{favs['file']['id']}/send", {"room_id": other}
        )
        events = await carol.sync_timeline_until(
            other, lambda e: e["event_id"] == sent["event_id"]
        )
        copy = next(e for e in events if e["event_id"] == sent["event_id"])
        self.assertEqual(copy["sender"], bob.user_id)
        self.assertEqual(copy["content"]["url"], mxc)
        self.assertEqual(copy["content"]["body"], "行动方案.pdf")
        # Re-referenced, not re-uploaded: bob owns no media, alice still her one file,
        # and carol downloads the very same file.
        admin = self.user("admin", admin=True)
        for user, count in ((bob, 0), (alice, 1)):
            media = await admin.ok(
                "GET", f"/_synapse/admin/v1/users/{q(user.user_id)}/media"
            )
            self.assertEqual(media["total"], count, user.user_id)
        status, _ = await carol.request(
            "GET", "/_matrix/client/v1/media/download/" + mxc[len("mxc://") :]
        )
        self.assertEqual(status, 200)
        # Remove.
        await bob.ok("DELETE", f"{FAVORITES}/{favs['text']['id']}")
        self.assertEqual(
            len((await bob.ok("GET", FAVORITES))["favorites"]), len(messages) - 1
        )
        self.assertErrcode(
            await bob.request("DELETE", f"{FAVORITES}/{favs['text']['id']}"),
            404,
            "CN_JWWX_FAVORITE_NOT_FOUND",
        )

    async def test_refusals(self) -> None:
        alice, bob, room = await self._pair()
        event_id = await self._sent(alice, room, {"msgtype": "m.text", "body": "内部"})
        outsider = self.user("outsider")
        # Someone who cannot see the message cannot favourite it.
        self.assertErrcode(
            await outsider.request(
                "POST", FAVORITES, {"room_id": room, "event_id": event_id}
            ),
            404,
            "M_NOT_FOUND",
        )
        burn = await self._sent(
            alice,
            room,
            {
                "msgtype": "m.text",
                "body": "阅后即焚",
                "org.matrix.self_destruct": 60000,
            },
        )
        self.assertErrcode(
            await bob.request("POST", FAVORITES, {"room_id": room, "event_id": burn}),
            403,
            "CN_JWWX_FAVORITE_NOT_ALLOWED",
        )
        self.assertErrcode(
            await bob.request("POST", FAVORITES, {"room_id": room}),
            400,
            "M_MISSING_PARAM",
        )
        favorite = await bob.ok(
            "POST", FAVORITES, {"room_id": room, "event_id": event_id}
        )
        # Nobody sends into a chat they are not in, nor someone else's favourite.
        self.assertErrcode(
            await bob.request(
                "POST",
                f"{FAVORITES}/{favorite['id']}/send",
                {"room_id": await outsider.create_room()},
            ),
            403,
            "M_FORBIDDEN",
        )
        self.assertErrcode(
            await alice.request(
                "POST", f"{FAVORITES}/{favorite['id']}/send", {"room_id": room}
            ),
            404,
            "CN_JWWX_FAVORITE_NOT_FOUND",
        )
        self.assertErrcode(
            await self.anonymous().request("GET", FAVORITES), 401, "M_MISSING_TOKEN"
        )


class FavoritesSQLiteTest(FavoritesTests, SQLiteCase):
    pass


class FavoritesPostgresTest(FavoritesTests, PostgresCase):
    pass
