# SPDX-License-Identifier: AGPL-3.0-or-later
"""File work of the encrypted media store (blocking; run on Synapse's thread pool)."""

import contextlib
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from modules.media_crypto.keys import MediaKey
from modules.media_crypto.sealed_file import SealedReader, seal_stream

# Synapse's media folders whose files we encrypt (url_cache* stays out: URL previews
# are off and Synapse never offers them to storage providers).
MEDIA_FOLDERS = (
    "local_content",
    "local_thumbnails",
    "remote_content",
    "remote_thumbnail",
)


def seal_file(plain_path: str, sealed_path: str, key: MediaKey) -> int:
    """Encrypt plain_path into sealed_path atomically (temp file, fsync, rename)."""
    target = Path(sealed_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    try:
        with open(plain_path, "rb") as source, open(partial, "wb") as out:
            size = seal_stream(source, out, key)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return size


def open_sealed(sealed_path: str, keys: dict[bytes, MediaKey]) -> SealedReader | None:
    try:
        handle = open(sealed_path, "rb")  # noqa: SIM115 - closed by the reader
    except FileNotFoundError:
        return None
    try:
        return SealedReader(handle, keys)
    except BaseException:
        handle.close()
        raise


def remove_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


@dataclass
class SweepReport:
    removed: int = 0
    sealed: int = 0
    pending: list[str] = field(default_factory=list)


def plain_media_files(media_store: str) -> list[str]:
    """Every file in Synapse's media folders, relative to media_store (a full walk)."""
    found = []
    for folder in MEDIA_FOLDERS:
        root = os.path.join(media_store, folder)
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                found.append(os.path.relpath(os.path.join(dirpath, name), media_store))
    return found


def sweep_plaintext(
    media_store: str,
    sealed_root: str,
    key: MediaKey,
    grace_seconds: float,
    relative_paths: list[str],
) -> SweepReport:
    """Remove the given plaintext files once nobody has written them for grace_seconds;
    encrypt first what has no encrypted copy yet (media from before the store existed,
    a crash half-way). Files still fresh come back in `pending`."""
    report = SweepReport()
    cutoff = time.time() - grace_seconds
    for relative in relative_paths:
        full = os.path.join(media_store, relative)
        try:
            if os.stat(full).st_mtime > cutoff:
                report.pending.append(relative)
                continue
        except FileNotFoundError:
            continue
        sealed = os.path.join(sealed_root, relative)
        if not os.path.exists(sealed):
            seal_file(full, sealed, key)
            report.sealed += 1
        remove_quietly(full)
        report.removed += 1
    return report


def remove_sealed_media(sealed_root: str, local_paths: list[str]) -> None:
    """Delete the encrypted copies of deleted local media (the file and thumbnails)."""
    import shutil

    for relative in local_paths:
        remove_quietly(os.path.join(sealed_root, relative))
        thumbnails = relative.replace("local_content", "local_thumbnails", 1)
        shutil.rmtree(os.path.join(sealed_root, thumbnails), ignore_errors=True)
