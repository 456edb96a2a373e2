# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.media_crypto: media at rest encrypted with SM4 (a Synapse storage provider).

    media_storage_providers:
      - module: modules.media_crypto.EncryptedMediaStorage
        store_local: true
        store_remote: true
        store_synchronous: true
        config:
          directory: /path/to/data/media_encrypted
          key_path: /path/to/data/keys/media_key

How it works and what is on disk when: modules/media_crypto/provider.py and
docs/media_crypto.md. Config keys: modules/media_crypto/config.py.
"""

from modules.media_crypto.provider import EncryptedMediaStorage

__all__ = ["EncryptedMediaStorage"]
