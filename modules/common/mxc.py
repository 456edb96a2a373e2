# SPDX-License-Identifier: AGPL-3.0-or-later
"""The media a message's content references (mxc:// URIs), for the modules that keep
or delete media with messages (modules.burn, modules.favorites, retention)."""

from collections.abc import Iterator, Mapping
from typing import Any

# Where Matrix message content puts media: url (m.image, m.file, m.audio, m.video,
# m.sticker), thumbnail_url (in info), and the same keys nested (info, file).
_MEDIA_KEYS = ("url", "thumbnail_url")


def _values(content: Any) -> Iterator[str]:
    if isinstance(content, Mapping):
        for key, value in content.items():
            if key in _MEDIA_KEYS and isinstance(value, str):
                yield value
            elif isinstance(value, Mapping | list):
                yield from _values(value)
    elif isinstance(content, list):
        for item in content:
            yield from _values(item)


def mxc_uris(content: Any) -> list[str]:
    """Every mxc:// URI anywhere in the content, once each, in order."""
    found: list[str] = []
    for uri in _values(content):
        if uri.startswith("mxc://") and uri not in found:
            found.append(uri)
    return found


def local_media_id(uri: str, server_name: str) -> str | None:
    """The media id of mxc://<our server>/<id>; None for other servers' media."""
    prefix = f"mxc://{server_name}/"
    if not uri.startswith(prefix):
        return None
    media_id = uri[len(prefix) :].split("/", 1)[0].split("?", 1)[0]
    return media_id or None


def local_media_ids(content: Any, server_name: str) -> list[str]:
    """The ids of local media (mxc://<our server>/<id>) anywhere in the content."""
    found: list[str] = []
    for uri in mxc_uris(content):
        media_id = local_media_id(uri, server_name)
        if media_id is not None and media_id not in found:
            found.append(media_id)
    return found
