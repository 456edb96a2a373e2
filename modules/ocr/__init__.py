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

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.http import register_resource
from modules.common.runtime import ModuleRuntime
from modules.ocr import public
from modules.ocr.apps import AppOcrService
from modules.ocr.config import OcrConfig
from modules.ocr.engine import OcrEngine
from modules.ocr.resources import (
    ADMIN_PREFIX,
    CLIENT_PREFIX,
    OcrAdminResource,
    OcrClientResource,
)
from modules.ocr.service import OcrService


class OcrModule:
    def __init__(self, config: OcrConfig, api: ModuleApi) -> None:
        self.runtime = ModuleRuntime(api, "ocr", __name__)
        engine = OcrEngine(api, config)
        self.service = OcrService(api, config, engine)
        self.apps = AppOcrService(api, engine)
        registry.publish(api, public.SERVICE, self)
        register_resource(
            api, CLIENT_PREFIX, OcrClientResource(api, self.runtime, self.service)
        )
        register_resource(
            api, ADMIN_PREFIX, OcrAdminResource(api, self.runtime, self.apps)
        )

    @staticmethod
    def parse_config(config: Any) -> OcrConfig:
        return OcrConfig.parse(config)
