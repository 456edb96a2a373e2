# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.ocr: the text of image messages (文字识别) for officers, ID cards and driving
licences read into fields, and the text forwarded to a person or group in one call.
rapidocr with the PP-OCR models inside its wheel on onnxruntime: nothing is downloaded,
nothing leaves the server.

    modules:
      - module: modules.ocr.OcrModule
        config: {}

HTTP: modules/ocr/resources.py. Config keys: modules/ocr/config.py. docs/ocr.md.
"""

import logging
from typing import Any

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.http import register_resource
from modules.common.runtime import ModuleRuntime
from modules.ocr import public
from modules.ocr.apps import AppOcrService
from modules.ocr.config import OcrConfig
from modules.ocr.engine import OcrEngine
from modules.ocr.resources import ADMIN_PREFIX, CLIENT_PREFIX, OcrClientResource
from modules.ocr.service import OcrService
from modules.openapi import public as openapi

logger = logging.getLogger(__name__)


class OcrModule:
    def __init__(self, config: OcrConfig, api: ModuleApi) -> None:
        self._api = api
        self.runtime = ModuleRuntime(api, "ocr", __name__, on_ready=self._on_ready)
        engine = OcrEngine(api, config)
        self.service = OcrService(api, config, engine)
        self.apps = AppOcrService(api, engine)
        registry.publish(api, public.SERVICE, self)
        register_resource(
            api, CLIENT_PREFIX, OcrClientResource(api, self.runtime, self.service)
        )
        register_resource(
            api, ADMIN_PREFIX, openapi.rights_admin_resource(api, self.runtime, "ocr")
        )

    async def _on_ready(self) -> None:
        # In the background: the open API may still be starting (and a failure here
        # must not stop OCR for officers); retried at the next start.
        self._api.run_as_background_process(
            "jwwx_ocr_move_grants", self._move_legacy_grants
        )

    async def _move_legacy_grants(self) -> None:
        try:
            moved = await self.apps.move_legacy_grants()
        except Exception:
            logger.exception("ocr: moving the app grants to the open API failed")
            return
        if moved:
            logger.info("ocr: %d app grants moved to the open API's app rights", moved)

    @staticmethod
    def parse_config(config: Any) -> OcrConfig:
        return OcrConfig.parse(config)
