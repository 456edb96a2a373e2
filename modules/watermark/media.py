# SPDX-License-Identifier: AGPL-3.0-or-later
"""The watermarked media path: a local file, with the viewer's mark if it is an image
or a PDF, otherwise unchanged.

    GET /_jwwx/client/v1/watermark/media/{server}/{media_id}[/{file name}]
    GET /_jwwx/client/v1/watermark/thumbnail/{server}/{media_id}?width=&height=&method=

The access token comes as a header or, for <img> tags, as ?access_token=. Synapse's
ordinary download and thumbnail URLs of local media are answered the same way
(modules.common.synapse.route_local_media_downloads; docs/watermark.md).
"""

import re
from dataclasses import dataclass

from synapse.module_api import ModuleApi

from modules.common.errors import error
from modules.common.synapse.errors import Codes
from modules.common.synapse.media import (
    MediaInfo,
    local_media_info,
    read_media_into_memory,
)
from modules.watermark import storage
from modules.watermark.config import WatermarkConfig
from modules.watermark.errors import WATERMARK_UNSUPPORTED
from modules.watermark.image_mark import (
    NOT_PICTURES,
    ImageTooLargeError,
    ImageUnreadableError,
    identify,
    watermark_image,
)
from modules.watermark.pdf_mark import PdfUnreadableError, watermark_pdf
from modules.watermark.settings import SettingsCache
from modules.watermark.viewer import render_text, resolve_viewer

_MEDIA_ID = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_THUMBNAIL_SIDE = 1600


@dataclass(frozen=True)
class PassThrough:
    """A large file that is sent unchanged, streamed by Synapse's own code."""

    media_id: str
    info: MediaInfo


@dataclass(frozen=True)
class MediaAnswer:
    content_type: str
    data: bytes
    watermarked: bool
    filename: str | None = None


_XML_PROLOGUE = re.compile(
    rb"\s*(?:<\?[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)", re.S
)
_SVG_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?svg[\s>/]")


def is_svg(data: bytes) -> bool:
    """An SVG document by its own bytes: after the XML prologue (declaration, comments,
    doctype) the root element is <svg> (or svg:svg)."""
    head = data[:65536].removeprefix(b"\xef\xbb\xbf")
    position = 0
    while match := _XML_PROLOGUE.match(head, position):
        if match.end() == position:
            break
        position = match.end()
    return _SVG_ROOT.match(head[position:].lstrip()) is not None


def sniff(data: bytes, content_type: str = "") -> str | None:
    """What the file is by its own bytes (a claimed image type only widens the search):
    "image" (a picture Pillow reads, or one claimed as image/* that it cannot), "svg"
    (vector graphics, never drawn here), "pdf", or None for any other file. So a PDF or
    a BMP uploaded as application/octet-stream is still marked."""
    claimed = content_type.split(";")[0].strip().lower()
    if data[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    if claimed == "image/svg+xml" or is_svg(data):
        return "svg"
    if data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")):
        return "image"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image"
    found = identify(data, claimed_image=claimed.startswith("image/"))
    if found is not None and found not in NOT_PICTURES:
        return "image"
    # Claimed to be a picture yet unreadable (corrupt, or a format Pillow lacks, e.g.
    # HEIC): refused below rather than sent unmarked.
    return "image" if claimed.startswith("image/") else None


def not_found() -> Exception:
    return error(404, Codes.NOT_FOUND, "媒体文件不存在")


def parse_fit(args: dict[str, str | None]) -> tuple[int, int, str]:
    try:
        width = int(args.get("width") or "")
        height = int(args.get("height") or "")
    except ValueError:
        raise error(
            400, Codes.INVALID_PARAM, "缩略图需要整数参数 width 和 height"
        ) from None
    method = args.get("method") or "scale"
    if method not in ("scale", "crop"):
        raise error(400, Codes.INVALID_PARAM, "method 只能是 scale 或 crop")
    if not (1 <= width <= MAX_THUMBNAIL_SIDE and 1 <= height <= MAX_THUMBNAIL_SIDE):
        raise error(
            400,
            Codes.INVALID_PARAM,
            f"width、height 应在 1 到 {MAX_THUMBNAIL_SIDE} 之间",
        )
    return width, height, method


class WatermarkedMedia:
    def __init__(
        self, api: ModuleApi, config: WatermarkConfig, settings: SettingsCache
    ) -> None:
        self._api = api
        self._config = config
        self._settings = settings

    def marks_required(self) -> bool:
        """Are images and PDFs marked for their viewer (admin settings)?"""
        settings = self._settings.current.watermark
        return bool(settings.enabled and settings.media)

    async def _check_viewer(
        self, viewer_id: str, media_id: str, info: MediaInfo
    ) -> None:
        """The mark names a legitimate viewer (issue 15): a file that was sent in
        messages is served to its uploader and to members of a room it was sent in;
        403 otherwise. Files never sent in a message (avatars, an upload not sent
        yet) are served to any signed-in user, as Synapse does."""
        if info.uploader == viewer_id:
            return
        uri = f"mxc://{self._api.server_name}/{media_id}"
        rooms = await self._api.run_db_interaction(
            "jwwx_watermark_media_rooms", storage.media_rooms_txn, uri
        )
        if not rooms:
            return
        for room_id in rooms:
            state = await self._api.get_room_state(
                room_id, [("m.room.member", viewer_id)]
            )
            member = state.get(("m.room.member", viewer_id))
            if member is not None and member.content.get("membership") == "join":
                return
        raise error(403, Codes.FORBIDDEN, "您不在发送该文件的会话中，不能查看")

    async def fetch(
        self,
        viewer_id: str,
        server_name: str,
        media_id: str,
        fit: tuple[int, int, str] | None,
    ) -> MediaAnswer | PassThrough:
        if server_name != self._api.server_name or not _MEDIA_ID.match(media_id):
            raise not_found()  # remote media: not offered on this path yet
        info = await local_media_info(self._api, media_id)
        if info is None:
            raise not_found()
        await self._check_viewer(viewer_id, media_id, info)
        if info.length is not None and info.length > self._config.max_media_bytes:
            # Too big to mark (or to hold in memory): refused if it says it is an
            # image or PDF, otherwise streamed unchanged.
            if info.content_type.startswith("image/") or "pdf" in info.content_type:
                raise error(413, Codes.TOO_LARGE, "文件过大，无法添加水印后下载")
            if fit is not None:
                raise error(400, Codes.UNKNOWN, "该文件没有缩略图")
            return PassThrough(media_id, info)
        data = await read_media_into_memory(self._api, media_id)
        if data is None:
            raise not_found()
        kind = sniff(data, info.content_type)
        settings = self._settings.current.watermark
        if kind is None or not (settings.enabled and settings.media):
            if fit is not None:
                raise error(400, Codes.UNKNOWN, "该文件没有缩略图")
            return MediaAnswer(info.content_type, data, False, info.upload_name)
        if len(data) > self._config.max_media_bytes:
            raise error(413, Codes.TOO_LARGE, "文件过大，无法添加水印后下载")
        viewer = await resolve_viewer(self._api, viewer_id)
        text = render_text(
            settings.template,
            viewer,
            self._api.get_current_time_msec(),
            self._config.utc_offset_hours,
        )
        if kind == "svg":
            # SVG can pull in other files and run scripts; rasterising it safely would
            # need a renderer we do not ship. While marks are required it is refused.
            raise error(
                415,
                WATERMARK_UNSUPPORTED,
                "SVG 矢量图无法添加水印，已拒绝下载（请发送 PNG 或 JPEG 图片）",
            )
        try:
            if kind == "image":
                marked, content_type = await self._api.defer_to_thread(
                    watermark_image,
                    data,
                    text,
                    settings.opacity,
                    self._config.font_path,
                    self._config.max_image_pixels,
                    fit,
                )
                return MediaAnswer(content_type, marked, True, info.upload_name)
            if fit is not None:
                raise error(400, Codes.UNKNOWN, "PDF 文件没有缩略图")
            marked = await self._api.defer_to_thread(
                watermark_pdf, data, text, settings.opacity, self._config.font_path
            )
            return MediaAnswer("application/pdf", marked, True, info.upload_name)
        except ImageTooLargeError as e:
            raise error(413, Codes.TOO_LARGE, "图片像素过多，无法添加水印") from e
        except (ImageUnreadableError, PdfUnreadableError) as e:
            raise error(
                415, WATERMARK_UNSUPPORTED, f"无法为该文件添加水印，已拒绝下载：{e}"
            ) from e
