# SPDX-License-Identifier: AGPL-3.0-or-later
"""media/upload and media/get (临时素材): files an app sends in image, voice, video and file
messages. The bytes go to Synapse's media repository (uploaded as the app's bot), so a
message can carry the mxc:// URI; media_id is valid for three days, for its app only."""

import secrets
from email import policy
from email.parser import BytesParser
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.synapse.media import read_local_media, upload_media
from modules.openapi import errors
from modules.openapi.errors import WeComError
from modules.openapi.storage import App
from modules.openapi.storage import media as media_store
from modules.openapi.storage.media import Media

MEDIA_TTL_MS = 3 * 86400 * 1000
# WeCom's limits per type (bytes); voice is AMR in WeCom, we accept any audio.
LIMITS = {
    "image": 10 * 1024 * 1024,
    "voice": 2 * 1024 * 1024,
    "video": 10 * 1024 * 1024,
    "file": 20 * 1024 * 1024,
}
MIN_SIZE = 5


def parse_upload(
    content_type: str, body: bytes, names: tuple[str, ...] = ("media",)
) -> tuple[str, str, bytes]:
    """(filename, content type, bytes) of the form field named "media" (or another
    of `names`)."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise WeComError(errors.MISSING_MEDIA, "multipart/form-data expected")
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(header + body)
    if not message.is_multipart():
        raise WeComError(errors.MISSING_MEDIA, "no media part")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name not in names:
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            break
        filename = part.get_filename() or "media"
        return filename, part.get_content_type(), data
    raise WeComError(errors.MISSING_MEDIA, "form field media missing")


class MediaStore:
    def __init__(self, api: ModuleApi) -> None:
        self._api = api

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    async def upload(
        self,
        app: App,
        media_type: str | None,
        content_type: str,
        body: bytes,
        filename: str | None = None,
    ) -> dict[str, Any]:
        """WeCom's multipart/form-data ("media" field), or the raw file as the body
        (Content-Type: the file's type, ?filename=): Synapse 1.163 refuses every
        multipart POST before modules see it (GHSA-rfq8-j7rh-8hf2)."""
        if media_type not in LIMITS:
            raise WeComError(
                errors.INVALID_MEDIA_TYPE, "type: image, voice, video, file"
            )
        if content_type.lower().startswith("multipart/"):
            filename, part_type, data = parse_upload(content_type, body)
        else:
            if not body:
                raise WeComError(errors.MISSING_MEDIA)
            part_type = content_type.split(";")[0].strip() or "application/octet-stream"
            filename, data = (filename or "").strip() or "media", body
        if not MIN_SIZE <= len(data) <= LIMITS[media_type]:
            raise WeComError(errors.INVALID_FILE_SIZE, f"{len(data)} bytes")
        if media_type == "image" and not part_type.startswith("image/"):
            part_type = _sniff_image(data) or part_type
        mxc = await upload_media(self._api, app.bot_user_id, part_type, filename, data)
        now = self._now()
        media = Media(
            "1" + secrets.token_urlsafe(36),
            app.agentid,
            media_type,
            mxc,
            filename,
            part_type,
            len(data),
            now,
            now + MEDIA_TTL_MS,
        )
        await self._api.run_db_interaction(
            "jwwx_openapi_media_insert", media_store.insert_media_txn, media
        )
        return {
            "type": media_type,
            "media_id": media.media_id,
            "created_at": str(now // 1000),
        }

    async def require(self, app: App, media_id: Any) -> Media:
        if not isinstance(media_id, str) or not media_id:
            raise WeComError(errors.INVALID_MEDIA_ID, "media_id missing")
        media = await self._api.run_db_interaction(
            "jwwx_openapi_media_get", media_store.get_media_txn, media_id
        )
        if (
            media is None
            or media.agentid != app.agentid
            or media.expires_ts < self._now()
        ):
            raise WeComError(errors.INVALID_MEDIA_ID)
        return media

    async def read(self, app: App, media_id: Any) -> tuple[Media, bytes]:
        media = await self.require(app, media_id)
        server_media_id = media.mxc.rsplit("/", 1)[-1]
        return media, await read_local_media(self._api, server_media_id)

    async def purge(self) -> None:
        await self._api.run_db_interaction(
            "jwwx_openapi_media_purge", media_store.purge_media_txn, self._now()
        )


def _sniff_image(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None
