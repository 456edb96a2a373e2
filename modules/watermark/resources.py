# SPDX-License-Identifier: AGPL-3.0-or-later
"""HTTP of modules.watermark.

Admin, /_jwwx/admin/v1/watermark/settings: GET, and PUT with {"watermark": {...},
    "sharing": {...}}, partial; the right settings.watermark (the super admin, security
    admins, admin groups holding it; docs/admin.md). Every PUT is one operation-log
    record (watermark.settings.update, target setting:watermark, before/after).
Client, /_jwwx/client/v1/client_config: GET, the settings plus the viewer's resolved
    watermark text.
Client, /_jwwx/client/v1/watermark/{media,thumbnail}/{server}/{media_id}: the
    watermarked media path (modules/watermark/media.py); Synapse's own download and
    thumbnail URLs of local media are answered the same way (serve_standard, routed by
    the adapter's route_local_media_downloads).
"""

import logging
from typing import Any

from synapse.module_api import ModuleApi

from modules.burn import public as burn_public
from modules.common import registry
from modules.common.admin import record_operation, require_admin, setting
from modules.common.errors import error
from modules.common.http import STREAMED, RawBody, Router
from modules.common.inputs import path_parts, query_param, read_json_object
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import Codes
from modules.common.synapse.media import stream_local_media
from modules.watermark import public as watermark_public
from modules.watermark.config import WatermarkConfig
from modules.watermark.media import PassThrough, WatermarkedMedia, parse_fit
from modules.watermark.settings import SettingsCache, validate_update
from modules.watermark.viewer import render_text, resolve_viewer

logger = logging.getLogger(__name__)

ADMIN_PREFIX = "/_jwwx/admin/v1/watermark"
CONFIG_PREFIX = "/_jwwx/client/v1/client_config"
MEDIA_PREFIX = "/_jwwx/client/v1/watermark"
RIGHT = "settings.watermark"
TARGET = setting("watermark")


class WatermarkAdminResource(Router):
    prefix = ADMIN_PREFIX

    def __init__(
        self, api: ModuleApi, runtime: ModuleRuntime, settings: SettingsCache
    ) -> None:
        super().__init__(api)
        self._runtime = runtime
        self._settings = settings
        self.route("GET", "settings", self.get_settings)
        self.route("PUT", "settings", self.put_settings)

    async def get_settings(self, request: Any) -> tuple[int, Any]:
        await require_admin(self.api, request, RIGHT, TARGET)
        await self._runtime.ready()
        await self._settings.load()
        return 200, self._settings.current.as_json()

    async def put_settings(self, request: Any) -> tuple[int, Any]:
        admin = await require_admin(self.api, request, RIGHT, TARGET)
        await self._runtime.ready()
        values = validate_update(read_json_object(request))
        await self._settings.load()
        before = self._settings.current.as_json()
        after = (await self._settings.update(values, admin)).as_json()
        await record_operation(
            self.api,
            request,
            admin,
            "watermark.settings.update",
            "setting:watermark",
            before,
            after,
        )
        return 200, after


class ClientConfigResource(Router):
    prefix = CONFIG_PREFIX

    def __init__(
        self,
        api: ModuleApi,
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
        # Other modules' client settings, when loaded (docs/burn.md).
        try:
            burn = registry.lookup(self.api, burn_public.SERVICE)
        except registry.ServiceMissingError:
            burn = None
        if burn is not None:
            body["burn_after_read"] = burn.client_config()
        # admin_api's unit information, splash image, editable profile fields.
        try:
            sections = registry.lookup(self.api, watermark_public.CLIENT_SECTIONS)
        except registry.ServiceMissingError:
            sections = None
        if sections is not None:
            body.update(await sections.client_sections(user_id))
        return 200, body


MEDIA_HEADERS = (
    (b"Cache-Control", b"private, no-store"),
    (b"Access-Control-Allow-Origin", b"*"),
    # As Synapse does for media: never run what a file contains in our origin.
    (
        b"Content-Security-Policy",
        b"sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf;"
        b" style-src 'unsafe-inline'; media-src 'self'; object-src 'self';",
    ),
    (b"X-Content-Type-Options", b"nosniff"),
)


class WatermarkMediaResource(Router):
    """Binary answers (the media) with Matrix JSON errors."""

    prefix = MEDIA_PREFIX
    headers = MEDIA_HEADERS

    def __init__(
        self, api: ModuleApi, runtime: ModuleRuntime, media: WatermarkedMedia
    ) -> None:
        super().__init__(api)
        self._api = api
        self._runtime = runtime
        self._media = media
        for kind in ("media", "thumbnail"):
            self.route("GET", kind + "/{server_name}/{media_id}", self._routed)
            self.route("GET", kind + "/{server_name}/{media_id}/{name}", self._routed)

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
        await self.respond(request, self._answer, request, kind, server_name, media_id)
        return True

    async def _routed(
        self, request: Any, server_name: str, media_id: str, name: str = ""
    ) -> tuple[int, Any]:
        kind = path_parts(request, MEDIA_PREFIX)[0]
        return await self._answer(request, kind, server_name, media_id)

    async def _answer(
        self, request: Any, kind: str, server_name: str, media_id: str
    ) -> tuple[int, Any]:
        if request.method not in (b"GET", b"HEAD"):
            raise error(405, Codes.UNRECOGNIZED, "只支持 GET")
        # Synapse's auth reads the header or ?access_token= (for <img src>).
        requester = await self._api.get_user_by_req(request)
        viewer = str(requester.user.to_string())
        await self._runtime.ready()
        fit = None
        if kind == "thumbnail":
            fit = parse_fit(
                {k: query_param(request, k) for k in ("width", "height", "method")}
            )
        answer = await self._media.fetch(viewer, server_name, media_id, fit)
        if isinstance(answer, PassThrough):
            self.apply_headers(request)
            request.setHeader(b"X-Jwwx-Watermarked", b"false")
            await stream_local_media(self._api, request, answer.media_id, answer.info)
            return 200, STREAMED
        marked = b"true" if answer.watermarked else b"false"
        return 200, RawBody(
            answer.content_type,
            answer.data,
            answer.filename,
            inline=answer.watermarked,
            headers=((b"X-Jwwx-Watermarked", marked),),
        )
