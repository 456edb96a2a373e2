# SPDX-License-Identifier: AGPL-3.0-or-later
"""Media at rest: what reaches the disk is SM4 ciphertext, what clients get back is the
exact upload (files, images and their thumbnails), and deleted media leaves nothing."""

import io
import os
from pathlib import Path
from typing import Any

from twisted.internet import reactor, task

import yaml
from PIL import Image

from tests.harness.case import PostgresCase, SQLiteCase
from tests.modules.watermark.media_http import get_bytes, media_path, upload


def _sleep(seconds: float) -> Any:
    return task.deferLater(reactor, seconds, lambda: None)


def _noise_png(size: int = 96) -> bytes:
    image = Image.frombytes("RGB", (size, size), os.urandom(size * size * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


class MediaCryptoTests:
    def _files_containing(self, needle: bytes) -> list[str]:
        """Every file under the server's data directory holding `needle`."""
        found = []
        for path in Path(self.server.data_dir).rglob("*"):
            if (
                path.is_file()
                and path.name != "server.log"
                and needle in path.read_bytes()
            ):
                found.append(str(path))
        return found

    async def _media_marks_off(self) -> None:
        # Watermarks are on by default and Synapse's own download URLs then serve a marked
        # copy (docs/watermark.md); these tests compare bytes with the upload.
        admin = self.user("admin", admin=True)
        await admin.ok(
            "PUT", "/_jwwx/admin/v1/watermark/settings", {"watermark": {"media": False}}
        )

    def _encrypted_dir(self) -> Path:
        return Path(self.server.data_dir) / "media_encrypted"

    async def test_file_on_disk_is_ciphertext_and_download_is_exact(self) -> None:
        alice = self.user("alice")
        secret = b"JWWX-PLAINTEXT-MARKER " + os.urandom(200_000)
        mxc = await upload(alice, secret, "application/octet-stream", "机密.bin")
        # No plaintext anywhere (not even a 64-byte window of it), right after upload.
        self.assertEqual(self._files_containing(secret[:64]), [])
        self.assertEqual(self._files_containing(secret[150_000:150_064]), [])
        media_id = mxc.rsplit("/", 1)[1]
        sealed = self._encrypted_dir() / "local_content" / media_id[:2] / media_id[2:4]
        stored = (sealed / media_id[4:]).read_bytes()
        self.assertTrue(stored.startswith(b"JWWXSM4\x01"))
        self.assertGreater(len(stored), len(secret))
        status, body, _ = await get_bytes(
            self.server.base_url, media_path(mxc), alice.token
        )
        self.assertEqual(status, 200)
        self.assertTrue(body == secret, "download differs from upload")
        # Reading does not leave a plaintext copy behind either.
        self.assertEqual(self._files_containing(secret[:64]), [])

    async def test_image_and_thumbnail_round_trip(self) -> None:
        await self._media_marks_off()
        alice = self.user("alice")
        png = _noise_png(400)
        mxc = await upload(alice, png, "image/png", "photo.png")
        status, body, _ = await get_bytes(
            self.server.base_url, media_path(mxc), alice.token
        )
        self.assertEqual(status, 200)
        self.assertTrue(body == png, "download differs from upload")
        thumb = media_path(mxc, "thumbnail") + "?width=32&height=32&method=scale"
        status, body, ctype = await get_bytes(self.server.base_url, thumb, alice.token)
        self.assertEqual(status, 200, body[:200])
        self.assertTrue(ctype.startswith("image/"))
        width, height = Image.open(io.BytesIO(body)).size
        self.assertLess(width, 400)

    async def test_tampered_ciphertext_is_never_served(self) -> None:
        alice = self.user("alice")
        secret = os.urandom(150_000)
        mxc = await upload(alice, secret, "application/octet-stream", "t.bin")
        media_id = mxc.rsplit("/", 1)[1]
        sealed = (
            self._encrypted_dir()
            / "local_content"
            / media_id[:2]
            / media_id[2:4]
            / media_id[4:]
        )
        data = bytearray(sealed.read_bytes())
        data[100_000] ^= 0x01  # inside the second chunk
        sealed.write_bytes(bytes(data))
        try:
            _status, body, _ = await get_bytes(
                self.server.base_url, media_path(mxc), alice.token
            )
        except Exception:  # the server drops the connection mid-stream
            body = b""
        self.assertTrue(body != secret, "tampered file served as if intact")
        # Nothing after the bad chunk is released (chunks are 64 KiB).
        self.assertLessEqual(len(body), 65536)

    async def test_deleted_media_leaves_no_ciphertext(self) -> None:
        admin = self.user("admin", admin=True)
        mxc = await upload(admin, _noise_png(), "image/png", "gone.png")
        server, media_id = mxc[len("mxc://") :].split("/", 1)
        sealed = (
            self._encrypted_dir()
            / "local_content"
            / media_id[:2]
            / media_id[2:4]
            / media_id[4:]
        )
        thumbs = (
            self._encrypted_dir()
            / "local_thumbnails"
            / media_id[:2]
            / media_id[2:4]
            / media_id[4:]
        )
        self.assertTrue(sealed.exists())
        self.assertTrue(thumbs.exists())
        await admin.ok("DELETE", f"/_synapse/admin/v1/media/{server}/{media_id}")
        self.assertFalse(sealed.exists())
        self.assertFalse(thumbs.exists())

    async def test_plaintext_written_by_synapse_is_swept(self) -> None:
        await self._media_marks_off()
        """Synapse writes a decrypted copy into media_store to thumbnail; and media
        from before encryption was enabled is plaintext: the sweeper handles both."""
        conf = Path(self.server.data_dir) / "conf.d" / "zz_media_sweep.yaml"
        loaded = yaml.safe_load(
            (Path(self.server.data_dir) / "homeserver.yaml").read_text("utf-8")
        )
        providers = loaded["media_storage_providers"]
        providers[0]["config"]["plaintext_grace_seconds"] = 1
        providers[0]["config"]["sweep_interval_seconds"] = 0.5
        conf.write_text(yaml.safe_dump({"media_storage_providers": providers}))
        # An "old" plaintext file as an unencrypted server (or a crash) left it: found
        # by the full walk at start-up.
        media_id = "OldPlainMediaForSweepTest"
        old = Path(self.server.data_dir) / "media_store" / "local_content"
        old = old / media_id[:2] / media_id[2:4]
        old.mkdir(parents=True, exist_ok=True)
        marker = b"OLD-PLAINTEXT-" + os.urandom(64)
        (old / media_id[4:]).write_bytes(marker)
        self.server.restart()
        alice = self.user("alice")
        png = _noise_png(128)
        mxc = await upload(alice, png, "image/png", "fresh.png")
        store = Path(self.server.data_dir) / "media_store"
        for _ in range(450):
            plain = [p for p in store.rglob("*") if p.is_file()]
            if not plain:
                break
            await _sleep(0.2)
        self.assertEqual(plain, [])
        self.assertEqual(self._files_containing(marker), [])
        sealed = self._encrypted_dir() / "local_content" / media_id[:2] / media_id[2:4]
        self.assertTrue((sealed / media_id[4:]).read_bytes().startswith(b"JWWXSM4"))
        # Still served, now from the encrypted copy only.
        status, body, _ = await get_bytes(
            self.server.base_url, media_path(mxc), alice.token
        )
        self.assertEqual(status, 200)
        self.assertTrue(body == png, "download differs from upload")


class MediaCryptoSQLiteTest(MediaCryptoTests, SQLiteCase):
    pass


class MediaCryptoPostgresTest(MediaCryptoTests, PostgresCase):
    pass
