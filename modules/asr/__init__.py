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

from modules.asr import public
from modules.asr.apps import AppAsrService
from modules.asr.auto import AutoTranscriber
from modules.asr.config import AsrConfig
from modules.asr.resources import CLIENT_PREFIX, AsrClientResource
from modules.asr.service import AsrService
from modules.common import registry
from modules.common.http import register_resource
from modules.common.runtime import ModuleRuntime
from modules.openapi import public as openapi

ADMIN_PREFIX = "/_jwwx/admin/v1/asr"


class AsrModule:
    def __init__(self, config: AsrConfig, api: ModuleApi) -> None:
        self.runtime = ModuleRuntime(api, "asr", __name__, on_ready=self._on_ready)
        self.service = AsrService(api, config)
        register_resource(
            api, CLIENT_PREFIX, AsrClientResource(api, self.runtime, self.service)
        )
        # Open-API apps (/cgi-bin/media/voice/*, served by modules.openapi), allowed by
        # the admins' grant page of the right "asr".
        self.apps = AppAsrService(api, config)
        registry.publish(api, public.SERVICE, self)
        register_resource(
            api, ADMIN_PREFIX, openapi.rights_admin_resource(api, self.runtime, "asr")
        )
        self.auto: AutoTranscriber | None = None
        if config.auto_transcribe:
            jobs = self.runtime.place_jobs(config.jobs_instance)
            self.auto = AutoTranscriber(api, config, jobs)
            self.auto.start()
            # Messages waiting for a retry are looked at as often as the first delay
            # (and, while the engine is thought down, the oldest is tried then).
            jobs.every(
                self._retry, config.auto_retry_seconds * 1000, "jwwx_asr_auto_retry"
            )

    async def _on_ready(self) -> None:
        if self.auto is not None:
            self.auto.enable()

    async def _retry(self) -> None:
        if self.auto is not None and self.runtime.is_ready:
            await self.auto.probe()

    @staticmethod
    def parse_config(config: Any) -> AsrConfig:
        return AsrConfig.parse(config)
