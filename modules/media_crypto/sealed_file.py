# SPDX-License-Identifier: AGPL-3.0-or-later
"""The at-rest format of an encrypted media file, written and read in chunks.

    header  = magic "JWWXSM4" 0x01 (8) || key id (8) || chunk size (4, big-endian)
    record i = iv (16) || SM4-CBC(chunk i, PKCS#7) || HMAC-SM3(mac key,
               header || i (8) || final flag (1) || iv || ciphertext) (32)

Every chunk has its own random IV. The tag binds each record to its file's header, its
position and whether it is the last one, so records cannot be altered, reordered,
dropped or cut off at the end without the read failing (GmError). Chunks keep memory
flat for large videos: neither side ever holds more than one chunk.
"""

import os
import struct
from collections.abc import Mapping
from typing import BinaryIO

from modules.common.gm import (
    SM3_DIGEST_SIZE,
    SM4_BLOCK_SIZE,
    GmError,
    hmac_sm3,
    hmac_sm3_verify,
    sm4_cbc_decrypt,
    sm4_cbc_encrypt,
)
from modules.media_crypto.keys import MediaKey

MAGIC = b"JWWXSM4\x01"
HEADER_SIZE = len(MAGIC) + 8 + 4
CHUNK_SIZE = 64 * 1024


def _record_size(plain_len: int) -> int:
    padded = (plain_len // SM4_BLOCK_SIZE + 1) * SM4_BLOCK_SIZE
    return SM4_BLOCK_SIZE + padded + SM3_DIGEST_SIZE


def _tag_input(header: bytes, index: int, final: bool, iv: bytes, ct: bytes) -> bytes:
    return header + struct.pack(">QB", index, 1 if final else 0) + iv + ct


def is_sealed(prefix: bytes) -> bool:
    return prefix.startswith(MAGIC)


def seal_stream(source: BinaryIO, target: BinaryIO, key: MediaKey) -> int:
    """Encrypt all of source into target; return the number of plaintext bytes."""
    header = MAGIC + key.key_id + struct.pack(">I", CHUNK_SIZE)
    target.write(header)
    total, index = 0, 0
    chunk = source.read(CHUNK_SIZE)
    while True:
        following = source.read(CHUNK_SIZE) if len(chunk) == CHUNK_SIZE else b""
        final = not following
        iv = os.urandom(SM4_BLOCK_SIZE)
        ct = sm4_cbc_encrypt(key.enc_key, iv, chunk)
        tag = hmac_sm3(key.mac_key, _tag_input(header, index, final, iv, ct))
        target.write(iv + ct + tag)
        total += len(chunk)
        if final:
            return total
        chunk, index = following, index + 1


class SealedReader:
    """A read-only file object giving the plaintext of a sealed file, verifying each
    record before any of its bytes are returned (for Synapse's threaded file sender)."""

    def __init__(self, sealed: BinaryIO, keys: Mapping[bytes, MediaKey]) -> None:
        self._file = sealed
        header = sealed.read(HEADER_SIZE)
        if len(header) != HEADER_SIZE or not is_sealed(header):
            raise GmError("not an encrypted media file (bad header)")
        key_id = header[len(MAGIC) : len(MAGIC) + 8]
        key = keys.get(key_id)
        if key is None:
            raise GmError(f"encrypted with an unknown media key (id {key_id.hex()})")
        (chunk_size,) = struct.unpack(">I", header[-4:])
        if chunk_size <= 0 or chunk_size % SM4_BLOCK_SIZE:
            raise GmError(f"bad chunk size {chunk_size}")
        self._key = key
        self._header = header
        self._full_record = _record_size(chunk_size)
        self._index = 0
        self._done = False
        self._buffer = b""
        self._lookahead = b""

    def _next_record(self) -> bytes:
        record = self._lookahead + self._file.read(
            self._full_record - len(self._lookahead)
        )
        self._lookahead = b""
        final = len(record) < self._full_record
        if not final:
            self._lookahead = self._file.read(1)
            final = not self._lookahead
        if len(record) < 2 * SM4_BLOCK_SIZE + SM3_DIGEST_SIZE:
            raise GmError("encrypted media file is truncated")
        iv = record[:SM4_BLOCK_SIZE]
        ct = record[SM4_BLOCK_SIZE:-SM3_DIGEST_SIZE]
        tag = record[-SM3_DIGEST_SIZE:]
        message = _tag_input(self._header, self._index, final, iv, ct)
        if not hmac_sm3_verify(self._key.mac_key, message, tag):
            raise GmError(
                f"encrypted media record {self._index} failed verification"
                " (tampered, truncated or wrong key)"
            )
        self._index += 1
        self._done = final
        return sm4_cbc_decrypt(self._key.enc_key, iv, ct)

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            self._buffer += self._next_record()
        if size < 0:
            size = len(self._buffer)
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "SealedReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
