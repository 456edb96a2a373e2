# SPDX-License-Identifier: AGPL-3.0-or-later
"""Speech to text for open-API apps, in the shape of WeChat's voice recognition API
(WeCom has none): addvoicetorecofortext submits the audio under the app's voice_id,
queryrecoresultfortext fetches {"result"}. Here the engine answers during the first
call; the text is kept for app_result_ttl_seconds for the second, never the audio."""

import dataclasses

from synapse.module_api import ModuleApi

from modules.asr import storage
from modules.asr.config import AsrConfig
from modules.asr.engine import EngineError, transcribe
from modules.asr.public import LANGUAGES, AsrRefusedError
from modules.openapi import public as openapi

NOT_GRANTED = 48002
INVALID_FILE_TYPE = 40005
INVALID_FILE_SIZE = 40006
NO_SUCH_RESULT = 46001
SYSTEM_BUSY = -1


class AppAsrService:
    def __init__(self, api: ModuleApi, config: AsrConfig) -> None:
        self._api = api
        self._config = config

    def _times(self) -> tuple[int, int]:
        now = int(self._api.get_current_time_msec())
        return now, now - self._config.app_result_ttl_seconds * 1000

    async def _granted(self, agentid: int) -> None:
        if not await openapi.app_allowed(self._api, agentid, "asr"):
            raise AsrRefusedError(
                NOT_GRANTED, "this app may not use speech recognition (ask an admin)"
            )

    async def recognise(
        self, agentid: int, voice_id: str, lang: str, data: bytes, content_type: str
    ) -> None:
        await self._granted(agentid)
        if not content_type.startswith("audio/"):
            raise AsrRefusedError(INVALID_FILE_TYPE, "not audio")
        if len(data) > self._config.max_audio_bytes:
            raise AsrRefusedError(INVALID_FILE_SIZE, "audio too large")
        engine = self._config.engine
        if engine is None:
            raise AsrRefusedError(SYSTEM_BUSY, "no speech recognition engine")
        engine = dataclasses.replace(engine, language=LANGUAGES[lang])
        try:
            text = await transcribe(engine, data, content_type, f"{voice_id}.audio")
        except EngineError as e:
            raise AsrRefusedError(SYSTEM_BUSY, str(e)) from e
        now, expired_before = self._times()
        await self._api.run_db_interaction(
            "jwwx_asr_put_app_result",
            storage.put_app_result_txn,
            agentid,
            voice_id,
            text,
            now,
            expired_before,
        )

    async def result(self, agentid: int, voice_id: str) -> str:
        await self._granted(agentid)
        _now, expired_before = self._times()
        text = await self._api.run_db_interaction(
            "jwwx_asr_app_result",
            storage.app_result_txn,
            agentid,
            voice_id,
            expired_before,
        )
        if text is None:
            raise AsrRefusedError(NO_SUCH_RESULT, "no result for this voice_id")
        return str(text)
