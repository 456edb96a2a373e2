# SPDX-License-Identifier: AGPL-3.0-or-later
"""Config of the encrypted media store (homeserver.yaml → media_storage_providers →
modules.media_crypto.EncryptedMediaStorage → config).

Keys:
  directory (string, required): where the encrypted files live (same relative layout as
      Synapse's media_store_path: local_content/, local_thumbnails/, remote_content/…).
  key_path (string, required): the secret file new files are encrypted with
      (keys/media_key, written once by `python -m homeserver init`).
  old_key_paths (list of strings, default []): earlier key files, still used to read
      files written before a key rotation.
  sweep_interval_seconds (number ≥ 0.5, default 5): how often plaintext copies Synapse
      leaves in media_store_path are removed (see docs/media_crypto.md).
  plaintext_grace_seconds (number ≥ 1, default 30): a plaintext file is removed once it
      has not been written for this long (Synapse may still be thumbnailing it).
"""

from dataclasses import dataclass, field
from typing import Any

from modules.common.config import ConfigReader
from modules.common.synapse.errors import ConfigError
from modules.media_crypto.keys import KeyFileError, MediaKey, load_key_file

MODULE = "modules.media_crypto"


@dataclass(frozen=True)
class MediaCryptoConfig:
    directory: str
    key: MediaKey
    old_keys: tuple[MediaKey, ...] = field(default_factory=tuple)
    sweep_interval_seconds: float = 5.0
    plaintext_grace_seconds: float = 30.0

    @property
    def keyring(self) -> dict[bytes, MediaKey]:
        ring = {k.key_id: k for k in self.old_keys}
        ring[self.key.key_id] = self.key
        return ring

    @staticmethod
    def parse(raw: Any) -> "MediaCryptoConfig":
        reader = ConfigReader(raw, MODULE)
        directory = reader.string("directory", required=True)
        key_path = reader.string("key_path", required=True)
        old_paths = reader.string_list("old_key_paths")
        sweep = reader.number("sweep_interval_seconds", 5.0, minimum=0.5)
        grace = reader.number("plaintext_grace_seconds", 30.0, minimum=1.0)
        reader.finish()
        try:
            key = load_key_file(key_path)
            old = tuple(load_key_file(p) for p in old_paths)
        except KeyFileError as e:
            raise ConfigError(f"{MODULE}: {e}") from e
        return MediaCryptoConfig(directory, key, old, sweep, grace)
