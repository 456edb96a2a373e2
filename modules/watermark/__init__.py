# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.watermark: viewer watermarks, the sharing policy and its server-side part.

    modules:
      - module: modules.watermark.WatermarkModule
        config:
          utc_offset_hours: 8

Admins set where clients draw watermarks and which ways of sharing are allowed; clients
read them (with the viewer's own text) from /_jwwx/client/v1/client_config; images and
PDFs fetched through the watermarked media path carry the viewer's mark; forwarding a
file out of its chat is refused while the policy forbids it.

Config keys: modules/watermark/config.py. HTTP: modules/watermark/resources.py.
docs/watermark.md.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.http import register_resource
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.patches import route_local_media_downloads
from modules.watermark import public
from modules.watermark.config import WatermarkConfig
from modules.watermark.media import WatermarkedMedia
from modules.watermark.resources import (
    ADMIN_PREFIX,
    CONFIG_PREFIX,
    MEDIA_PREFIX,
    ClientConfigResource,
    WatermarkAdminResource,
    WatermarkMediaResource,
)
from modules.watermark.settings import SettingsCache, SharingSettings
from modules.watermark.sharing import SharingRules
from modules.watermark.viewer import render_text, resolve_viewer


class WatermarkModule:
    def __init__(self, config: WatermarkConfig, api: ModuleApi) -> None:
        self._config = config
        self._api = api
        self.settings = SettingsCache(api)
        self.runtime = ModuleRuntime(
            api, "watermark", __name__, on_ready=self.settings.load
        )
        self.sharing = SharingRules(api, self.runtime, self.settings)
        media = WatermarkedMedia(api, config, self.settings)
        # Other modules (favourites, mail) ask sharing_policy() before they share.
        registry.publish(api, public.SERVICE, self)
        api.register_spam_checker_callbacks(
            check_event_for_spam=self.sharing.check_event_for_spam
        )
        register_resource(
            api, ADMIN_PREFIX, WatermarkAdminResource(api, self.runtime, self.settings)
        )
        register_resource(
            api,
            CONFIG_PREFIX,
            ClientConfigResource(api, config, self.runtime, self.settings),
        )
        media_resource = WatermarkMediaResource(api, self.runtime, media)
        register_resource(api, MEDIA_PREFIX, media_resource)
        # Synapse's own download/thumbnail URLs go the same way: no client gets a local
        # image or PDF around the mark, with or without nginx in front.
        route_local_media_downloads(api, media_resource.serve_standard)
        api.looping_background_call(
            self._reload,
            config.settings_reload_seconds * 1000,
            desc="jwwx_watermark_reload_settings",
            run_on_all_instances=True,
        )

    def sharing_policy(self) -> SharingSettings:
        return self.settings.current.sharing

    async def page_watermark(self, user_id: str) -> tuple[str, float] | None:
        marks = self.settings.current.watermark
        if not (marks.enabled and marks.chat_background):
            return None
        viewer = await resolve_viewer(self._api, user_id)
        text = render_text(
            marks.template,
            viewer,
            int(self._api.get_current_time_msec()),
            self._config.utc_offset_hours,
        )
        return text, marks.opacity

    async def _reload(self) -> None:
        if self.runtime.is_ready:
            await self.settings.load()

    @staticmethod
    def parse_config(config: Any) -> WatermarkConfig:
        return WatermarkConfig.parse(config)
