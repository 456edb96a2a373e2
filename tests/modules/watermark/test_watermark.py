# SPDX-License-Identifier: AGPL-3.0-or-later
"""Watermarks and the sharing policy against a real server: admin settings, the client
config, marks really drawn on downloaded images and on every page of a PDF, and the
server refusing to forward a file out of its chat while the policy forbids it."""

import io
import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from PIL import Image, ImageChops
from pypdf import PdfReader
from reportlab.pdfgen import canvas

from tests.harness.case import PostgresCase, SQLiteCase
from tests.modules.directory.helpers import department, member
from tests.modules.watermark.media_http import get_bytes, media_path, upload

ADMIN = "/_jwwx/admin/v1/watermark/settings"
CONFIG = "/_jwwx/client/v1/client_config"
MARKED = "/_jwwx/client/v1/watermark"


def _gradient_png(width: int = 640, height: int = 480) -> bytes:
    image = Image.new("RGB", (width, height))
    image.putdata(
        [
            (x * 255 // width, y * 255 // height, 180)
            for y in range(height)
            for x in range(width)
        ]
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def _pdf(pages: int) -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(595, 842))
    for number in range(pages):
        pdf.drawString(72, 760, f"Original page {number + 1}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def _marked_path(mxc: str, kind: str = "media") -> str:
    server, media_id = mxc[len("mxc://") :].split("/", 1)
    return f"{MARKED}/{kind}/{server}/{media_id}"


def _changed_cells(original: Image.Image, marked: Image.Image, grid: int) -> int:
    """In how many cells of a grid×grid split the marked image differs visibly."""
    diff = ImageChops.difference(original.convert("RGB"), marked.convert("RGB"))
    mask = diff.convert("L").point(lambda v: 255 if v > 8 else 0)
    width, height = diff.size
    changed = 0
    for row in range(grid):
        for column in range(grid):
            box = (
                column * width // grid,
                row * height // grid,
                (column + 1) * width // grid,
                (row + 1) * height // grid,
            )
            histogram = mask.crop(box).histogram()
            if histogram[255] > 20:
                changed += 1
    return changed


class WatermarkTests:
    async def _admin(self) -> Any:
        return self.user("wmadmin", admin=True)

    async def _put(self, admin: Any, body: dict[str, Any]) -> dict[str, Any]:
        return dict(await admin.ok("PUT", ADMIN, body))

    async def test_client_config_reflects_admin_settings(self) -> None:
        admin = await self._admin()
        officer = self.user("officer")
        await self._put(
            admin,
            {
                "watermark": {
                    "enabled": True,
                    "contact_list": False,
                    "template": "{name} {userid} {date}",
                    "opacity": 0.2,
                },
                "sharing": {"allow_save_to_device": False, "allow_email": False},
            },
        )
        config = await officer.ok("GET", CONFIG)
        mark, sharing = config["watermark"], config["sharing"]
        self.assertEqual(
            (mark["chat_background"], mark["contact_list"], mark["profile"]),
            (True, False, True),
        )
        self.assertEqual(mark["opacity"], 0.2)
        localpart = officer.user_id[1:].split(":")[0]
        # Not in the directory: the display name (Synapse's default is the localpart).
        self.assertTrue(mark["text"].startswith(f"{localpart} {localpart} 20"))
        self.assertFalse(sharing["allow_save_to_device"])
        self.assertFalse(sharing["allow_email"])
        self.assertTrue(sharing["allow_forward_files"])
        self.assertEqual(config["viewer"]["userid"], localpart)
        # In the directory: the directory's name.
        root = await department(admin, f"水印{uuid.uuid4().hex[:6]}", None)
        await member(admin, localpart, "王警官", [root])
        config = await officer.ok("GET", CONFIG)
        self.assertTrue(config["watermark"]["text"].startswith(f"王警官 {localpart} "))
        self.assertEqual(config["viewer"]["name"], "王警官")
        # What the admin reads back is what was stored.
        stored = await admin.ok("GET", ADMIN)
        self.assertEqual(stored["watermark"]["template"], "{name} {userid} {date}")
        self.assertFalse(stored["sharing"]["allow_email"])
        # Only officers with a token get it.
        self.assertErrcode(
            await self.anonymous().request("GET", CONFIG), 401, "M_MISSING_TOKEN"
        )

    async def test_invalid_settings_are_refused_and_change_nothing(self) -> None:
        admin = await self._admin()
        before = await admin.ok("GET", ADMIN)
        bad_bodies = [
            {"watermark": {"opacity": 2}},
            {"watermark": {"opacity": "0.3"}},
            {"watermark": {"template": "{name} {password}"}},
            {"watermark": {"template": ""}},
            {"watermark": {"chat_background": "yes"}},
            {"watermark": {"colour": "red"}},
            {"sharing": {"allow_email": 1}},
            {"sharing": "none"},
            {"printing": {}},
            # One bad field spoils the whole update: the good one is not stored.
            {"watermark": {"opacity": 0.3}, "sharing": {"allow_email": "no"}},
            {},
        ]
        for body in bad_bodies:
            code, answer = await admin.request("PUT", ADMIN, body)
            self.assertEqual(code, 400, (body, answer))
            self.assertIn(answer["errcode"], ("M_INVALID_PARAM", "M_MISSING_PARAM"))
            self.assertTrue(answer["error"])
        self.assertErrcode(
            await admin.request("PUT", ADMIN, raw=b"{not json"), 400, "M_NOT_JSON"
        )
        officer = self.user("officer")
        self.assertErrcode(
            await officer.request("PUT", ADMIN, {"watermark": {"opacity": 0.3}}),
            403,
            "M_FORBIDDEN",
        )
        self.assertErrcode(await officer.request("GET", ADMIN), 403, "M_FORBIDDEN")
        self.assertEqual(await admin.ok("GET", ADMIN), before)

    async def test_downloaded_images_carry_the_viewers_mark(self) -> None:
        admin = await self._admin()
        await self._put(
            admin, {"watermark": {"enabled": True, "media": True, "opacity": 0.25}}
        )
        alice, bob = self.user("alice"), self.user("bob")
        png = _gradient_png()
        mxc = await upload(alice, png, "image/png", "现场照片.png")
        base = self.server.base_url
        # Synapse's own URL serves the marked image too (test_standard_media_urls…).
        status, plain, _ = await get_bytes(base, media_path(mxc), bob.token)
        self.assertEqual(status, 200)
        self.assertFalse(plain == png)
        status, marked, ctype = await get_bytes(base, _marked_path(mxc), bob.token)
        self.assertEqual((status, ctype), (200, "image/png"))
        original = Image.open(io.BytesIO(png))
        bobs = Image.open(io.BytesIO(marked))
        self.assertEqual(bobs.size, original.size)
        # Tiled: every cell of a 4×4 grid carries part of the mark.
        self.assertEqual(_changed_cells(original, bobs, 4), 16)
        # Semi-transparent: the picture is still there underneath.
        diff = ImageChops.difference(original.convert("RGB"), bobs.convert("RGB"))
        self.assertLess(max(diff.getextrema()[0][1], 0), 200)
        # Personal: another viewer gets a different mark (their own name and userid).
        status, alices_bytes, _ = await get_bytes(base, _marked_path(mxc), alice.token)
        alices = Image.open(io.BytesIO(alices_bytes))
        self.assertGreater(_changed_cells(bobs, alices, 4), 8)
        # <img src> style: the token as a query parameter.
        status, by_query, _ = await get_bytes(
            base, _marked_path(mxc) + "?access_token=" + quote(bob.token)
        )
        self.assertEqual(status, 200)
        self.assertEqual(Image.open(io.BytesIO(by_query)).size, original.size)
        # Thumbnails through the same path are marked too.
        status, thumb, _ = await get_bytes(
            base,
            _marked_path(mxc, "thumbnail") + "?width=320&height=240&method=scale",
            bob.token,
        )
        self.assertEqual(status, 200)
        thumb_image = Image.open(io.BytesIO(thumb))
        self.assertEqual(thumb_image.size, (320, 240))
        plain_thumb = original.resize((320, 240), Image.Resampling.LANCZOS)
        self.assertGreater(_changed_cells(plain_thumb, thumb_image, 2), 2)

    async def test_standard_media_urls_carry_the_mark(self) -> None:
        """Issue 14 (W1): with no nginx in front (`make run`), Synapse's own download and
        thumbnail URLs, authenticated and legacy, never hand out the unmarked original."""
        admin = await self._admin()
        await self._put(admin, {"watermark": {"enabled": True, "media": True}})
        alice, bob = self.user("alice"), self.user("bob")
        png = _gradient_png(400, 300)
        original = Image.open(io.BytesIO(png))
        mxc = await upload(alice, png, "image/png", "现场.png")
        server, media_id = mxc[len("mxc://") :].split("/", 1)
        base = self.server.base_url
        downloads = [
            media_path(mxc),
            media_path(mxc) + "/" + quote("现场.png"),
            f"/_matrix/media/v3/download/{server}/{media_id}",
            f"/_matrix/media/r0/download/{server}/{media_id}/x.png",
        ]
        for path in downloads:
            status, body, ctype = await get_bytes(base, path, bob.token)
            self.assertEqual((status, ctype), (200, "image/png"), path)
            self.assertFalse(body == png, path)
            marked = Image.open(io.BytesIO(body))
            self.assertGreaterEqual(_changed_cells(original, marked, 4), 14, path)
        thumbnails = [
            media_path(mxc, "thumbnail") + "?width=200&height=150&method=scale",
            f"/_matrix/media/v3/thumbnail/{server}/{media_id}?width=200&height=150",
        ]
        plain_thumb = original.resize((200, 150), Image.Resampling.LANCZOS)
        for path in thumbnails:
            status, body, _ = await get_bytes(base, path, bob.token)
            self.assertEqual(status, 200, (path, body[:200]))
            thumb = Image.open(io.BytesIO(body))
            self.assertEqual(thumb.size, (200, 150), path)
            self.assertGreater(_changed_cells(plain_thumb, thumb, 2), 2, path)
        # Without a token nothing is handed out, on the legacy URLs either.
        for path in downloads[2:] + thumbnails[1:]:
            status, body, _ = await get_bytes(base, path)
            self.assertEqual(status, 401, path)
            self.assertFalse(body == png, path)
        # Marks off: Synapse answers as usual, with its own thumbnails.
        await self._put(admin, {"watermark": {"media": False}})
        try:
            status, body, _ = await get_bytes(base, media_path(mxc), bob.token)
            self.assertEqual(status, 200)
            self.assertTrue(body == png)
            status, body, _ = await get_bytes(base, thumbnails[0], bob.token)
            self.assertEqual(status, 200)
            Image.open(io.BytesIO(body)).verify()
        finally:
            await self._put(admin, {"watermark": {"media": True}})

    async def test_every_raster_format_is_marked_and_svg_refused(self) -> None:
        """Issue 14 (W2): AVIF, BMP, TIFF and ICO come back marked (whatever type the
        upload claimed); SVG, which is never drawn here, is refused while marks are
        required, on Synapse's own URLs and on the watermarked path."""
        admin = await self._admin()
        await self._put(admin, {"watermark": {"enabled": True, "media": True}})
        alice, bob = self.user("alice"), self.user("bob")
        source = Image.open(io.BytesIO(_gradient_png(400, 300)))
        base = self.server.base_url
        cases = [
            ("AVIF", "image/avif", "image/jpeg", 4),
            ("BMP", "image/bmp", "image/png", 4),
            ("TIFF", "image/tiff", "image/png", 4),
            ("ICO", "image/vnd.microsoft.icon", "image/png", 2),
        ]
        for fmt, claimed, answered, grid in cases:
            data = _encoded(source, fmt)
            original = Image.open(io.BytesIO(data))
            for content_type in (claimed, "application/octet-stream"):
                mxc = await upload(alice, data, content_type, "pic")
                for path in (media_path(mxc), _marked_path(mxc)):
                    status, body, ctype = await get_bytes(base, path, bob.token)
                    self.assertEqual(
                        (status, ctype), (200, answered), (fmt, content_type, path)
                    )
                    marked = Image.open(io.BytesIO(body))
                    self.assertEqual(marked.size, original.size, fmt)
                    self.assertGreaterEqual(
                        _changed_cells(original, marked, grid),
                        grid * grid - 1,
                        (fmt, content_type, path),
                    )
                status, body, _ = await get_bytes(
                    base,
                    media_path(mxc, "thumbnail") + "?width=64&height=48&method=crop",
                    bob.token,
                )
                self.assertEqual(status, 200, (fmt, body[:200]))
                self.assertEqual(Image.open(io.BytesIO(body)).size, (64, 48))
        svg = (
            b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- drawn by hand -->\n'
            b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
            b'<rect width="40" height="40" fill="red"/></svg>'
        )
        for content_type in ("image/svg+xml", "application/octet-stream"):
            mxc = await upload(alice, svg, content_type, "图.svg")
            for path in (
                media_path(mxc),
                _marked_path(mxc),
                media_path(mxc, "thumbnail") + "?width=32&height=32",
            ):
                status, body, _ = await get_bytes(base, path, bob.token)
                self.assertEqual(status, 415, (content_type, path))
                self.assertIn(b"CN_JWWX_WATERMARK_UNSUPPORTED", body)
        # Ordinary files are still ordinary: a zip passes through unchanged.
        archive = b"PK\x03\x04" + os.urandom(400)
        mxc = await upload(alice, archive, "application/zip", "案卷.zip")
        status, body, _ = await get_bytes(base, media_path(mxc), bob.token)
        self.assertEqual(status, 200)
        self.assertTrue(body == archive)

    async def test_jpeg_webp_and_gif_are_marked(self) -> None:
        admin = await self._admin()
        await self._put(admin, {"watermark": {"enabled": True, "media": True}})
        alice = self.user("alice")
        source = Image.open(io.BytesIO(_gradient_png(400, 300)))
        frames = [source.convert("P"), source.rotate(180).convert("P")]
        gif = io.BytesIO()
        frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
        cases = [
            (_encoded(source, "JPEG"), "image/jpeg", "image/jpeg"),
            (_encoded(source, "WEBP"), "image/webp", "image/webp"),
            (gif.getvalue(), "image/gif", "image/png"),  # first frame, as PNG
        ]
        for data, claimed, answered in cases:
            mxc = await upload(alice, data, claimed, "pic")
            status, marked, ctype = await get_bytes(
                self.server.base_url, _marked_path(mxc), alice.token
            )
            self.assertEqual((status, ctype), (200, answered), claimed)
            original = Image.open(io.BytesIO(data))
            self.assertGreaterEqual(
                _changed_cells(original, Image.open(io.BytesIO(marked)), 4), 14, claimed
            )

    async def test_pdf_is_marked_on_every_page(self) -> None:
        admin = await self._admin()
        await self._put(
            admin,
            {
                "watermark": {
                    "enabled": True,
                    "media": True,
                    "template": "{name} {userid} {time}",
                }
            },
        )
        alice, bob = self.user("alice"), self.user("bob")
        bob_local = bob.user_id[1:].split(":")[0]
        pdf = _pdf(4)
        # Claimed as octet-stream: the file's own bytes decide that it is a PDF.
        mxc = await upload(alice, pdf, "application/octet-stream", "通报.pdf")
        status, marked, ctype = await get_bytes(
            self.server.base_url, _marked_path(mxc), bob.token
        )
        self.assertEqual((status, ctype), (200, "application/pdf"))
        pages = PdfReader(io.BytesIO(marked)).pages
        self.assertEqual(len(pages), 4)
        for number, page in enumerate(pages, start=1):
            text = page.extract_text()
            self.assertIn(f"Original page {number}", text)
            self.assertIn(bob_local, text, f"page {number}")
        # A file that is neither image nor PDF passes through unchanged.
        note = "普通文本附件".encode() + os.urandom(32)
        mxc = await upload(alice, note, "text/plain", "note.txt")
        status, body, ctype = await get_bytes(
            self.server.base_url, _marked_path(mxc), bob.token
        )
        self.assertEqual(status, 200)
        self.assertTrue(body == note)
        self.assertTrue(ctype.startswith("text/plain"))

    async def test_media_path_refuses_bad_requests(self) -> None:
        alice = self.user("alice")
        mxc = await upload(alice, _gradient_png(64, 64), "image/png", "x.png")
        base = self.server.base_url
        status, body, _ = await get_bytes(base, _marked_path(mxc))
        self.assertEqual(status, 401)
        status, body, _ = await get_bytes(
            base, _marked_path(mxc) + "?access_token=not-a-token"
        )
        self.assertEqual(status, 401)
        server = mxc[len("mxc://") :].split("/")[0]
        for path, code in (
            (f"{MARKED}/media/{server}/NoSuchMedia123", 404),
            (f"{MARKED}/media/other.example/abc", 404),
            (_marked_path(mxc, "thumbnail") + "?width=0&height=10", 400),
            (_marked_path(mxc, "thumbnail") + "?width=10&height=10&method=zoom", 400),
            (f"{MARKED}/unknown/{server}/abc", 404),
        ):
            status, body, _ = await get_bytes(base, path, alice.token)
            self.assertEqual(status, code, (path, body[:200]))
        # A file that claims to be a PNG but is not one is refused, never sent unmarked.
        broken = b"\x89PNG\r\n\x1a\n" + os.urandom(200)
        mxc = await upload(alice, broken, "image/png", "broken.png")
        status, body, _ = await get_bytes(base, _marked_path(mxc), alice.token)
        self.assertEqual(status, 415)
        self.assertIn(b"CN_JWWX_WATERMARK_UNSUPPORTED", body)

    async def test_forwarding_a_file_out_of_its_chat(self) -> None:
        admin = await self._admin()
        alice, bob, carol = self.user("alice"), self.user("bob"), self.user("carol")
        room_a = await alice.create_room(preset="private_chat", invite=[bob.user_id])
        await bob.join(room_a)
        room_b = await bob.create_room(preset="private_chat", invite=[carol.user_id])
        await carol.join(room_b)
        mxc = await upload(alice, b"case file " + os.urandom(64), "text/plain", "a.txt")
        content = {"msgtype": "m.file", "body": "案卷.txt", "url": mxc}
        await self._put(admin, {"sharing": {"allow_forward_files": False}})
        status, sent = await alice.send(room_a, content)
        self.assertEqual(status, 200, sent)
        # bob takes alice's file out of room A: refused, and nothing reaches room B.
        body = self.assertErrcode(
            await bob.send(room_b, content), 403, "CN_JWWX_SHARING_FORBIDDEN"
        )
        self.assertIn("禁止转发", body["error"])
        events = await carol.messages(room_b)
        self.assertFalse([e for e in events if e["content"].get("url") == mxc])
        # Re-sending within the chat it came from, and the owner sharing their own
        # file elsewhere, are not forwarding.
        self.assertEqual((await bob.send(room_a, content))[0], 200)
        self.assertEqual((await alice.send(room_b, content))[0], 403)  # not a member
        room_c = await alice.create_room(preset="private_chat", invite=[carol.user_id])
        self.assertEqual((await alice.send(room_c, content))[0], 200)
        # Allowed again: the same forward goes through.
        await self._put(admin, {"sharing": {"allow_forward_files": True}})
        status, forwarded = await bob.send(room_b, content)
        self.assertEqual(status, 200, forwarded)

    async def test_only_viewers_of_a_sent_file_get_it(self) -> None:
        """Issue 15: the mark identifies a legitimate viewer, so a file that was sent is
        served only to its uploader and to members of a room it was sent in."""
        admin = await self._admin()
        await self._put(admin, {"watermark": {"enabled": True, "media": True}})
        alice, bob, carol = self.user("alice"), self.user("bob"), self.user("carol")
        room = await alice.create_room(preset="private_chat", invite=[bob.user_id])
        await bob.join(room)
        png = _gradient_png(200, 150)
        mxc = await upload(alice, png, "image/png", "案发现场.png")
        status, sent = await alice.send(
            room, {"msgtype": "m.image", "body": "案发现场.png", "url": mxc}
        )
        self.assertEqual(status, 200, sent)
        base = self.server.base_url
        paths = [_marked_path(mxc), media_path(mxc), _marked_path(mxc, "thumbnail")]
        for path in paths[:2]:
            for viewer in (alice, bob):
                status, _, ctype = await get_bytes(base, path, viewer.token)
                self.assertEqual((status, ctype), (200, "image/png"), path)
        # carol is in no room where it was sent: refused, on every URL.
        for path in paths:
            status, body, _ = await get_bytes(
                base,
                path + ("?width=64&height=48" if "thumbnail" in path else ""),
                carol.token,
            )
            self.assertEqual(status, 403, (path, body[:200]))
            self.assertIn(b"M_FORBIDDEN", body)
        # Sent into a room with carol: now she may.
        shared = await bob.create_room(preset="private_chat", invite=[carol.user_id])
        await carol.join(shared)
        status, _ = await bob.send(
            shared, {"msgtype": "m.image", "body": "转发.png", "url": mxc}
        )
        self.assertEqual(status, 200)
        status, _, _ = await get_bytes(base, paths[0], carol.token)
        self.assertEqual(status, 200)
        # Leaving every such room ends it; the uploader keeps access.
        await carol.request(
            "POST", f"/_matrix/client/v3/rooms/{quote(shared)}/leave", {}
        )
        status, _, _ = await get_bytes(base, paths[0], carol.token)
        self.assertEqual(status, 403)
        status, _, _ = await get_bytes(base, paths[0], alice.token)
        self.assertEqual(status, 200)

    async def test_large_files_are_streamed_or_refused(self) -> None:
        """Above max_media_bytes nothing is decoded: images/PDFs are refused (never sent
        unmarked), other files are streamed unchanged."""
        data_dir = Path(self.server.data_dir)
        loaded = yaml.safe_load((data_dir / "homeserver.yaml").read_text("utf-8"))
        for entry in loaded["modules"]:
            if entry["module"] == "modules.watermark.WatermarkModule":
                entry["config"]["max_media_bytes"] = 4096
        override = data_dir / "conf.d" / "zz_watermark_limit.yaml"
        override.write_text(yaml.safe_dump({"modules": loaded["modules"]}))
        self.server.restart()
        try:
            alice = self.user("alice")
            video = os.urandom(100_000)
            mxc = await upload(alice, video, "video/mp4", "录像.mp4")
            status, body, ctype = await get_bytes(
                self.server.base_url, _marked_path(mxc), alice.token
            )
            self.assertEqual((status, ctype), (200, "video/mp4"))
            self.assertTrue(body == video)
            big_png = _gradient_png(300, 300) + os.urandom(8192)
            mxc = await upload(alice, big_png, "image/png", "big.png")
            status, body, _ = await get_bytes(
                self.server.base_url, _marked_path(mxc), alice.token
            )
            self.assertEqual(status, 413)
            self.assertIn(b"M_TOO_LARGE", body)
        finally:
            override.unlink()
            self.server.restart()


class WatermarkSQLiteTest(WatermarkTests, SQLiteCase):
    pass


class WatermarkPostgresTest(WatermarkTests, PostgresCase):
    pass
