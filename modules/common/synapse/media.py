# SPDX-License-Identifier: AGPL-3.0-or-later
"""The local media repository. The ModuleApi offers no media access; these do what
Synapse's client upload/download endpoints and its media admin API do.

Callers: modules.openapi (media/upload, media/get), modules.watermark (watermarked
downloads), modules.audit (archived attachments), modules.burn and modules.groups
(deletion, retention), modules.media_crypto (a storage provider, given the HomeServer),
modules.docs (a deck's pictures and files: uploaded by an import, read by an export)."""

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from synapse.api.errors import NotFoundError
from synapse.module_api import ModuleApi
from synapse.types import UserID

from modules.common.errors import error
from modules.common.mxc import local_media_id
from modules.common.synapse._internal import hs_of
from modules.common.synapse.errors import Codes
from modules.common.synapse.events import event_visible_to


@dataclass(frozen=True)
class MediaInfo:
    content_type: str
    upload_name: str | None
    length: int | None
    uploader: str | None = None  # the local user who uploaded it


async def upload_media(
    api: ModuleApi, user_id: str, content_type: str, filename: str | None, data: bytes
) -> str:
    """Store bytes in the local media repository as user_id; return the mxc:// URI."""
    repository = hs_of(api).get_media_repository()
    uri = await repository.create_or_update_content(
        content_type, filename, io.BytesIO(data), len(data), UserID.from_string(user_id)
    )
    return str(uri)


async def local_media_info(api: ModuleApi, media_id: str) -> MediaInfo | None:
    """Metadata of a local media item; None if unknown or quarantined."""
    media = await hs_of(api).get_datastores().main.get_local_media(media_id)
    if media is None or media.quarantined_by:
        return None
    return MediaInfo(
        media.media_type, media.upload_name, media.media_length, media.user_id
    )


async def read_media_into_memory(api: ModuleApi, media_id: str) -> bytes | None:
    """The bytes of a local media item, streamed from wherever Synapse keeps it (the
    local store or a storage provider) straight into memory: no temporary file."""
    from synapse.media._base import FileInfo
    from synapse.util.file_consumer import BackgroundFileConsumer

    class _Sink(io.BytesIO):
        def close(self) -> None:  # the consumer closes its file; keep the bytes
            pass

    storage = hs_of(api).get_media_repository().media_storage
    responder = await storage.fetch_media(FileInfo(None, media_id))
    if responder is None:
        return None
    sink = _Sink()
    with responder:
        consumer = BackgroundFileConsumer(sink, hs_of(api).get_reactor())
        await responder.write_to_consumer(consumer)
        await consumer.wait()
    return sink.getvalue()


async def read_local_media(api: ModuleApi, media_id: str) -> bytes:
    """The bytes of a local media item (fetched from a storage provider if needed),
    streamed into memory: no decrypted copy is left in the media store
    (modules.media_crypto). NotFoundError when it does not exist."""
    data = await read_media_into_memory(api, media_id)
    if data is None:
        raise NotFoundError()
    return data


async def stream_local_media(
    api: ModuleApi, request: Any, media_id: str, info: MediaInfo
) -> None:
    """Answer a request with a local media item unchanged, streamed as Synapse's own
    download endpoint does (its headers, 404 if the file is gone; never all in memory)."""
    from synapse.media._base import FileInfo, respond_with_responder

    storage = hs_of(api).get_media_repository().media_storage
    responder = await storage.fetch_media(FileInfo(None, media_id))
    await respond_with_responder(
        request, responder, info.content_type, info.length, info.upload_name
    )


async def delete_local_media(api: ModuleApi, media_ids: list[str]) -> int:
    """Delete local media (files, thumbnails, database rows) as the admin API does."""
    if not media_ids:
        return 0
    _deleted, total = (
        await hs_of(api).get_media_repository().delete_local_media_ids(media_ids)
    )
    return int(total)


async def delete_local_media_before(api: ModuleApi, before_ts: int) -> int:
    """Delete local media uploaded before `before_ts` (avatars kept), as Synapse's admin
    API DELETE /_synapse/admin/v1/media/delete?before_ts= does."""
    _deleted, total = await (
        hs_of(api)
        .get_media_repository()
        .delete_old_local_media(before_ts=before_ts, keep_profiles=True)
    )
    return int(total)


async def old_local_media_ids(api: ModuleApi, before_ts: int) -> list[str]:
    """The local media that DELETE /_synapse/admin/v1/media/delete?before_ts= would
    delete (avatars, quarantined and protected media kept), so a caller can spare some
    (modules.groups keeps what favourites reference) before delete_local_media."""
    ids = await (
        hs_of(api)
        .get_datastores()
        .main.get_local_media_ids(
            before_ts,
            0,
            True,
            include_quarantined_media=False,
            include_protected_media=False,
        )
    )
    return [str(media_id) for media_id in ids]


# Encrypted media at rest (modules.media_crypto). A media storage provider is built by
# Synapse's media repository with the HomeServer itself (not a ModuleApi); these are the
# few things it needs from it.


def media_store_path(hs: Any) -> str:
    """Synapse's media_store_path (where its own plaintext copies live)."""
    return str(hs.config.media.media_store_path)


def dynamic_thumbnails_enabled(hs: Any) -> bool:
    """With dynamic thumbnails Synapse serves a fresh thumbnail from its local file."""
    return bool(hs.config.media.dynamic_thumbnails)


def runs_media_background_jobs(hs: Any) -> bool:
    """Whether this process runs the media repository's background jobs: Synapse's own
    rule (media_instance_running_background_jobs unset, or naming this instance)."""
    instance = hs.config.media.media_instance_running_background_jobs
    return instance is None or instance == hs.get_instance_name()


def media_file_responder(hs: Any, file_object: Any) -> Any:
    """A Responder streaming a file object (anything with read/close) from a thread."""
    from synapse.media.media_storage import FileResponder

    return FileResponder(hs, file_object)


async def visible_local_media(
    api: ModuleApi,
    user_id: str,
    room_id: str,
    event_id: str,
    uri_of: Callable[[Any], str | None],
) -> tuple[Any, str | None]:
    """The message as `user_id` may see it (404 M_NOT_FOUND otherwise, the same answer
    whether it does not exist or is hidden) and the id of the local media that
    `uri_of(content)` names (None: none, or another server's)."""
    event = await event_visible_to(api, user_id, room_id, event_id)
    if event is None:
        raise error(404, Codes.NOT_FOUND, "消息不存在或您无权查看")
    uri = uri_of(event.content)
    return event, (local_media_id(uri, api.server_name) if uri else None)
