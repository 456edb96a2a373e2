# SPDX-License-Identifier: AGPL-3.0-or-later
"""EncryptedMediaStorage: a Synapse media storage provider keeping media SM4-encrypted.

Synapse writes every upload (and every thumbnail, and every remote file it caches) to
its media_store_path first, then hands it to the storage providers. This provider,
configured with store_local/store_remote/store_synchronous true, encrypts that file into
its own directory before the upload answers, then deletes the plaintext. Reads find no
local file and come here: fetch() streams the decrypted bytes, verifying each chunk,
without writing them anywhere. When Synapse itself needs a file on disk (thumbnailing,
ensure_media_is_in_local_cache) it writes a plaintext copy into its store; the sweeper
removes those a short grace period after they were last written. docs/media_crypto.md.

Every process with the media repository sweeps the files its own reads may have left;
the walk over the whole store runs only on the process Synapse runs its media jobs on
(media_instance_running_background_jobs), so two workers never walk the same store.
"""

import logging
import os
import time
from typing import Any

from modules.common.synapse.media import (
    dynamic_thumbnails_enabled,
    media_file_responder,
    media_store_path,
    runs_media_background_jobs,
)
from modules.common.synapse.patches import add_local_media_deletion_hook
from modules.common.synapse.runtime import in_thread, looping_task
from modules.media_crypto import store
from modules.media_crypto.config import MediaCryptoConfig

logger = logging.getLogger(__name__)

# How often the whole media store is walked for plaintext nobody told us about.
FULL_WALK_SECONDS = 3600.0


class EncryptedMediaStorage:
    def __init__(self, hs: Any, config: MediaCryptoConfig) -> None:
        self._hs = hs
        self._config = config
        self._media_store = media_store_path(hs)
        self._keep_thumbnails = dynamic_thumbnails_enabled(hs)
        self._hooked = False
        # Paths Synapse may have written plaintext to since the last sweep (it decrypts
        # into its store through fetch); a full walk finds anything else (crash
        # leftovers, media from before encryption) at start-up and then hourly, on the
        # media jobs' process only.
        self._suspects: set[str] = set()
        self._next_full_walk = 0.0
        self._walks = runs_media_background_jobs(hs)
        os.makedirs(config.directory, exist_ok=True)
        looping_task(
            hs, self.sweep, config.sweep_interval_seconds, "jwwx_media_crypto_sweep"
        )

    def __str__(self) -> str:
        return f"EncryptedMediaStorage[{self._config.directory}]"

    @staticmethod
    def parse_config(config: Any) -> MediaCryptoConfig:
        return MediaCryptoConfig.parse(config)

    def _sealed_path(self, path: str) -> str:
        return os.path.join(self._config.directory, path)

    def _ensure_deletion_hook(self) -> None:
        # Not from __init__: the media repository is still being built then.
        if not self._hooked:
            add_local_media_deletion_hook(self._hs, self._media_deleted)
            self._hooked = True

    async def store_file(self, path: str, file_info: Any) -> None:
        self._ensure_deletion_hook()
        plain = os.path.join(self._media_store, path)
        await in_thread(
            self._hs, store.seal_file, plain, self._sealed_path(path), self._config.key
        )
        # A dynamic thumbnail is answered from its local file right after this call.
        if file_info.thumbnail is None or not self._keep_thumbnails:
            await in_thread(self._hs, store.remove_quietly, plain)
        else:
            self._suspects.add(path)

    async def fetch(self, path: str, file_info: Any) -> Any:
        self._ensure_deletion_hook()
        self._suspects.add(path)  # Synapse may be decrypting it into its store
        reader = await in_thread(
            self._hs, store.open_sealed, self._sealed_path(path), self._config.keyring
        )
        return None if reader is None else media_file_responder(self._hs, reader)

    async def sweep(self) -> None:
        self._ensure_deletion_hook()
        paths, self._suspects = self._suspects, set()
        now = time.monotonic()
        if self._walks and now >= self._next_full_walk:
            self._next_full_walk = now + FULL_WALK_SECONDS
            paths |= set(
                await in_thread(self._hs, store.plain_media_files, self._media_store)
            )
        if not paths:
            return
        report = await in_thread(
            self._hs,
            store.sweep_plaintext,
            self._media_store,
            self._config.directory,
            self._config.key,
            self._config.plaintext_grace_seconds,
            sorted(paths),
        )
        self._suspects.update(report.pending)
        if report.removed:
            logger.info(
                "media_crypto: removed %d plaintext file(s), %d newly encrypted",
                report.removed,
                report.sealed,
            )

    async def _media_deleted(self, media_ids: list[str]) -> None:
        paths = [_local_content_path(m) for m in media_ids]
        await in_thread(
            self._hs, store.remove_sealed_media, self._config.directory, paths
        )


def _local_content_path(media_id: str) -> str:
    """Synapse's relative path of a local media file (MediaFilePaths layout)."""
    return os.path.join("local_content", media_id[0:2], media_id[2:4], media_id[4:])
