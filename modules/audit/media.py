# SPDX-License-Identifier: AGPL-3.0-or-later
"""Fingerprints of media: SHA-256 for exact matches, a perceptual hash (pHash, via
imagehash) for images so that a re-encoded or resized copy is still found. imagehash
(with numpy and scipy) is imported at the first image, not at start."""

import hashlib
import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

# Decoding bombs: images above this many pixels get no perceptual hash.
MAX_PIXELS = 50_000_000


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    phash: str | None


def fingerprint(data: bytes) -> Fingerprint:
    """CPU work: call it off the reactor thread (api.defer_to_thread)."""
    return Fingerprint(hashlib.sha256(data).hexdigest(), perceptual_hash(data))


def perceptual_hash(data: bytes) -> str | None:
    """The 64-bit pHash of an image as 16 hex digits; None if it is not an image."""
    import imagehash  # loaded when first used (module docstring)

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                return None
            return str(imagehash.phash(image.convert("RGB")))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()
