# SPDX-License-Identifier: AGPL-3.0-or-later
"""HTTP of modules.watermark.

Admin, /_jwwx/admin/v1/watermark/settings: GET (scope watermark.settings.read),
    PUT (watermark.settings.write) with {"watermark": {...}, "sharing": {...}}, partial.
Client, /_jwwx/client/v1/client_config: GET, the settings plus the viewer's resolved
    watermark text.
Client, /_jwwx/client/v1/watermark/{media,thumbnail}/{server}/{media_id}: the
    watermarked media path (modules/watermark/media.py); Synapse's own download and
    thumbnail URLs of local media are answered the same way (serve_standard, routed by
    the adapter's route_local_media_downloads).
"""

import json
import logging
from typing import Any
from urllib.parse import quote

from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from modules.common.admin import require_admin
from modules.common.errors import error
from modules.common.resource import path_parts, query_param, read_json_object
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime
from modules.common.synapse_compat import (
    Codes,
    SynapseError,
    fire_in_request_context,
    stream_local_media,
)
from modules.watermark.config import WatermarkConfig
from modules.watermark.media import (
    MediaAnswer,
    PassThrough,
    WatermarkedMedia,
    parse_fit,
)
from modules.watermark.settings import SettingsCache, validate_update
from modules.watermark.viewer import render_text, resolve_viewer

logger = logging.getLogger(__name__)

ADMIN_PREFIX = "/_jwwx/admin/v1/watermark"
CONFIG_PREFIX = "/_jwwx/client/v1/client_config"
MEDIA_PREFIX = "/_jwwx/client/v1/watermark"


class WatermarkAdminResource(Router):
    prefix = ADMIN_PREFIX

    def __init__(
        self, api: Any, runtime: ModuleRuntime, settings: SettingsCache
    ) -> None:
        super().__init__(api)
        self._runtime = runtime
        self._settings = settings
        self.route("GET", "settings", self.get_settings)
        self.route("PUT", "settings", self.put_settings)

    async def get_settings(self, request: Any) -> tuple[int, Any]:
        await require_admin(self.api, request, "watermark.settings.read")
        await self._runtime.ready()
        await self._settings.load()
        return 200, self._settings.current.as_json()

    async def put_settings(self, request: Any) -> tuple[int, Any]:
        admin = await require_admin(self.api, request, "watermark.settings.write")
        await self._runtime.ready()
        values = validate_update(read_json_object(request))
        return 200, (await self._settings.update(values, admin)).as_json()


class ClientConfigResource(Router):
    prefix = CONFIG_PREFIX

    def __init__(
        self,
        api: Any,
        config: WatermarkConfig,
        runtime: ModuleRuntime,
        settings: SettingsCache,
    ) -> None:
        super().__init__(api)
        self._config = config
        self._runtime = runtime
        self._settings = settings
        self.route("GET", "", self.client_config)

    async def client_config(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        await self._runtime.ready()
        settings = self._settings.current
        viewer = await resolve_viewer(self.api, user_id)
        body = settings.as_json()
        mark = settings.watermark
        body["watermark"]["text"] = render_text(
            mark.template,
            viewer,
            self.api.get_current_time_msec(),
            self._config.utc_offset_hours,
        )
        body["watermark"]["media_path"] = f"{MEDIA_PREFIX}/media"
        body["viewer"] = {
            "user_id": viewer.user_id,
            "userid": viewer.userid,
            "name": viewer.name,
        }
        return 200, body


class WatermarkMediaResource(Resource):
    """Binary answers (the media) with Matrix JSON errors."""

    isLeaf = True

    def __init__(
        self, api: Any, runtime: ModuleRuntime, media: WatermarkedMedia
    ) -> None:
        super().__init__()
        self._api = api
        self._runtime = runtime
        self._media = media

    def render(self, request: Any) -> Any:
        fire_in_request_context(self._process, request)
        return NOT_DONE_YET

    async def serve_standard(
        self, request: Any, kind: str, server_name: str, media_id: str
    ) -> bool:
        """Synapse's own download and thumbnail URLs of this server's media
        (/_matrix/client/v1/media/…, /_matrix/media/v3/…), routed here by the adapter:
        answered exactly as the watermarked path while media are marked; otherwise
        False, and Synapse serves them as usual."""
        await self._runtime.ready()
        if not self._media.marks_required():
            return False
        await self._process(request, (kind, server_name, media_id))
        return True

    async def _process(
        self, request: Any, target: tuple[str, str, str] | None = None
    ) -> None:
        try:
            answer = await self._answer(request, target)
            if isinstance(answer, PassThrough):
                _common_headers(request)
                request.setHeader(b"X-Jwwx-Watermarked", b"false")
                await stream_local_media(
                    self._api, request, answer.media_id, answer.info
                )
                return
        except SynapseError as e:
            _send_json(request, e.code, e.error_dict(None))
            return
        except Exception:
            logger.exception("watermarked media failed")
            _send_json(
                request, 500, {"errcode": Codes.UNKNOWN, "error": "服务器内部错误"}
            )
            return
        _send_media(request, answer)

    async def _answer(
        self, request: Any, target: tuple[str, str, str] | None
    ) -> MediaAnswer | PassThrough:
        if request.method not in (b"GET", b"HEAD"):
            raise error(405, Codes.UNRECOGNIZED, "只支持 GET")
        if target is None:
            parts = path_parts(request, MEDIA_PREFIX)
            if len(parts) not in (3, 4) or parts[0] not in ("media", "thumbnail"):
                raise error(404, Codes.UNRECOGNIZED, "Unrecognized request")
            target = (parts[0], parts[1], parts[2])
        kind, server_name, media_id = target
        # Synapse's auth reads the header or ?access_token= (for <img src>).
        requester = await self._api.get_user_by_req(request)
        viewer = str(requester.user.to_string())
        await self._runtime.ready()
        fit = None
        if kind == "thumbnail":
            fit = parse_fit(
                {k: query_param(request, k) for k in ("width", "height", "method")}
            )
        return await self._media.fetch(viewer, server_name, media_id, fit)


def _common_headers(request: Any) -> None:
    request.setHeader(b"Cache-Control", b"private, no-store")
    request.setHeader(b"Access-Control-Allow-Origin", b"*")
    # As Synapse does for media: never run what a file contains in our origin.
    request.setHeader(
        b"Content-Security-Policy",
        b"sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf;"
        b" style-src 'unsafe-inline'; media-src 'self'; object-src 'self';",
    )
    request.setHeader(b"X-Content-Type-Options", b"nosniff")


def _send_media(request: Any, answer: MediaAnswer) -> None:
    if getattr(request, "_disconnected", False):
        return
    request.setResponseCode(200)
    _common_headers(request)
    request.setHeader(b"Content-Type", answer.content_type.encode("ascii", "replace"))
    request.setHeader(
        b"X-Jwwx-Watermarked", b"true" if answer.watermarked else b"false"
    )
    request.setHeader(b"Content-Length", str(len(answer.data)).encode("ascii"))
    request.setHeader(b"Content-Disposition", _disposition(answer))
    if request.method != b"HEAD":
        request.write(answer.data)
    request.finish()


def _disposition(answer: MediaAnswer) -> bytes:
    """Marked images and PDFs display inline; anything else is a download. The file
    name travels RFC 5987-encoded, so Chinese names survive."""
    kind = "inline" if answer.watermarked else "attachment"
    if not answer.filename:
        return kind.encode("ascii")
    return f"{kind}; filename*=utf-8''{quote(answer.filename, safe='')}".encode("ascii")


def _send_json(request: Any, status: int, body: Any) -> None:
    if getattr(request, "_disconnected", False):
        return
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request.setResponseCode(status)
    _common_headers(request)
    request.setHeader(b"Content-Type", b"application/json; charset=utf-8")
    request.setHeader(b"Content-Length", str(len(payload)).encode("ascii"))
    request.write(payload)
    request.finish()
