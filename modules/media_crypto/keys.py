# SPDX-License-Identifier: AGPL-3.0-or-later
"""Media keys: an SM4 key and a MAC key derived from a secret file (keys/media_key).

The file holds a random secret written once by `python -m homeserver init`. Its key id
(8 bytes of SM3 over the derived key) is written into every encrypted file, so the key
can be rotated: new files use the current key, old files are read with the key whose id
they name (config `old_key_paths`).
"""

from dataclasses import dataclass
from pathlib import Path

from modules.common.gm import SM4_KEY_SIZE, hmac_sm3, sm3

_KDF_LABEL = b"jwwx-media-sm4|"
_MAC_LABEL = b"jwwx-media-mac"
MIN_SECRET_CHARS = 32


@dataclass(frozen=True)
class MediaKey:
    enc_key: bytes
    mac_key: bytes
    key_id: bytes

    @staticmethod
    def from_secret(secret: str) -> "MediaKey":
        enc_key = sm3(_KDF_LABEL + secret.encode("utf-8"))[:SM4_KEY_SIZE]
        return MediaKey(enc_key, hmac_sm3(enc_key, _MAC_LABEL), sm3(enc_key)[:8])


class KeyFileError(ValueError):
    pass


def load_key_file(path: str) -> MediaKey:
    try:
        secret = Path(path).read_text(encoding="utf-8").strip()
    except OSError as e:
        raise KeyFileError(f"cannot read media key file {path}: {e.strerror}") from e
    if len(secret) < MIN_SECRET_CHARS:
        raise KeyFileError(
            f"media key file {path} must hold a secret of at least"
            f" {MIN_SECRET_CHARS} characters"
        )
    return MediaKey.from_secret(secret)
