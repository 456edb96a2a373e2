# SPDX-License-Identifier: AGPL-3.0-or-later
"""The encrypted media format without a server: round trips at every size around the
chunk boundary, and every kind of tampering refused."""

import io
import os
import struct

from twisted.trial import unittest

from modules.common.gm import GmError
from modules.common.synapse.errors import ConfigError
from modules.media_crypto.config import MediaCryptoConfig
from modules.media_crypto.keys import KeyFileError, MediaKey, load_key_file
from modules.media_crypto.sealed_file import (
    CHUNK_SIZE,
    HEADER_SIZE,
    SealedReader,
    seal_stream,
)

KEY = MediaKey.from_secret("k" * 48)
OTHER = MediaKey.from_secret("o" * 48)
RECORD = 16 + (CHUNK_SIZE // 16 + 1) * 16 + 32


def seal(data: bytes, key: MediaKey = KEY) -> bytes:
    out = io.BytesIO()
    seal_stream(io.BytesIO(data), out, key)
    return out.getvalue()


def open_all(sealed: bytes, *keys: MediaKey) -> bytes:
    ring = {k.key_id: k for k in (keys or (KEY,))}
    reader = SealedReader(io.BytesIO(sealed), ring)
    parts = []
    while chunk := reader.read(16384):
        parts.append(chunk)
    return b"".join(parts)


class SealedFileTest(unittest.TestCase):
    def test_round_trip_around_chunk_boundaries(self) -> None:
        for size in (
            0,
            1,
            15,
            16,
            17,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            CHUNK_SIZE + 1,
            3 * CHUNK_SIZE,
            3 * CHUNK_SIZE + 5,
        ):
            data = os.urandom(size)
            sealed = seal(data)
            self.assertEqual(open_all(sealed), data, size)
            if size >= 32:
                self.assertNotIn(data[:32], sealed[HEADER_SIZE:])

    def test_same_plaintext_encrypts_differently(self) -> None:
        data = b"A" * 1000
        self.assertNotEqual(seal(data), seal(data))

    def test_flipped_bit_anywhere_is_refused(self) -> None:
        sealed = bytearray(seal(os.urandom(2 * CHUNK_SIZE + 100)))
        for position in (
            HEADER_SIZE + 3,
            HEADER_SIZE + 500,
            RECORD + HEADER_SIZE + 20,
            len(sealed) - 1,
        ):
            tampered = bytearray(sealed)
            tampered[position] ^= 0x40
            with self.assertRaises(GmError):
                open_all(bytes(tampered))

    def test_truncated_reordered_or_extended_files_are_refused(self) -> None:
        data = os.urandom(3 * CHUNK_SIZE + 10)
        sealed = seal(data)
        header, body = sealed[:HEADER_SIZE], sealed[HEADER_SIZE:]
        records = [body[i : i + RECORD] for i in range(0, len(body), RECORD)]
        self.assertEqual(len(records), 4)
        cases = {
            "cut at a record boundary": header + b"".join(records[:2]),
            "last record dropped": header + b"".join(records[:3]),
            "records swapped": header + records[1] + records[0] + b"".join(records[2:]),
            "record repeated": header + records[0] + b"".join(records),
            "cut mid-record": sealed[:-10],
        }
        for name, candidate in cases.items():
            with self.assertRaises(GmError, msg=name):
                open_all(candidate)

    def test_header_changes_and_wrong_keys_are_refused(self) -> None:
        sealed = seal(b"secret")
        with self.assertRaises(GmError):
            open_all(sealed, OTHER)  # unknown key id
        forged = sealed[:8] + OTHER.key_id + sealed[16:]
        with self.assertRaises(GmError):
            open_all(forged, KEY, OTHER)  # claims the other key: tag fails
        bigger = sealed[:16] + struct.pack(">I", CHUNK_SIZE * 2) + sealed[20:]
        with self.assertRaises(GmError):
            open_all(bigger)
        with self.assertRaises(GmError):
            open_all(b"plain old file contents")

    def test_old_keys_still_read_after_rotation(self) -> None:
        old = seal(b"before rotation", OTHER)
        new = seal(b"after rotation", KEY)
        self.assertEqual(open_all(old, KEY, OTHER), b"before rotation")
        self.assertEqual(open_all(new, KEY, OTHER), b"after rotation")


class MediaCryptoConfigTest(unittest.TestCase):
    def _key_file(self, content: str) -> str:
        path = self.mktemp()
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)
        return path

    def test_parse(self) -> None:
        key_path = self._key_file("s" * 40 + "\n")
        old_path = self._key_file("t" * 40)
        config = MediaCryptoConfig.parse(
            {"directory": "/x", "key_path": key_path, "old_key_paths": [old_path]}
        )
        self.assertEqual(config.key, load_key_file(key_path))
        self.assertEqual(
            set(config.keyring), {config.key.key_id, config.old_keys[0].key_id}
        )
        self.assertEqual(config.plaintext_grace_seconds, 30.0)

    def test_bad_config_names_the_key(self) -> None:
        good = self._key_file("s" * 40)
        cases = [
            ({"key_path": good}, "directory"),
            ({"directory": "/x"}, "key_path"),
            ({"directory": "/x", "key_path": "/no/such/file"}, "cannot read"),
            ({"directory": "/x", "key_path": self._key_file("short")}, "at least"),
            (
                {"directory": "/x", "key_path": good, "sweep_interval_seconds": 0},
                "sweep",
            ),
            ({"directory": "/x", "key_path": good, "typo": 1}, "unknown key"),
        ]
        for raw, expected in cases:
            with self.assertRaises(ConfigError) as caught:
                MediaCryptoConfig.parse(raw)
            self.assertIn(expected, str(caught.exception), raw)

    def test_key_file_errors(self) -> None:
        with self.assertRaises(KeyFileError):
            load_key_file("/no/such/key")
