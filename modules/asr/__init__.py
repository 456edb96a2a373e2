# SPDX-License-Identifier: AGPL-3.0-or-later
"""modules.asr: voice messages to text (语音转文字) through the bureau's own speech
recognition engine (an OpenAI-compatible /v1/audio/transcriptions or a plain HTTP
engine); transcripts kept per message for everyone who may see it.

    modules:
      - module: modules.asr.AsrModule
        config:
          engine: {protocol: openai, url: "http://asr.police.example:9000"}

HTTP: modules/asr/resources.py. Config keys: modules/asr/config.py. docs/asr.md.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.asr.config import AsrConfig
from modules.asr.resources import CLIENT_PREFIX, AsrClientResource
from modules.asr.service import AsrService
from modules.common.http import register_resource
from modules.common.runtime import ModuleRuntime


class AsrModule:
    def __init__(self, config: AsrConfig, api: ModuleApi) -> None:
        self.runtime = ModuleRuntime(api, "asr", __name__)
        self.service = AsrService(api, config)
        register_resource(
            api, CLIENT_PREFIX, AsrClientResource(api, self.runtime, self.service)
        )

    @staticmethod
    def parse_config(config: Any) -> AsrConfig:
        return AsrConfig.parse(config)
