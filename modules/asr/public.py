# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other modules may use of modules.asr (its declared surface): speech to text
for an open-API app (/cgi-bin/media/voice/*, served by modules.openapi), refused unless
an admin granted the app the right "asr" (the open API's one table of app rights)."""

from typing import Protocol

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.runtime import ModuleRuntime

LANGUAGES = {"zh_CN": "zh", "en_US": "en"}  # WeChat's lang values → the engine's


class AsrRefusedError(Exception):
    """errcode is WeCom's (48002 not granted, 40005 not audio, 40006 too large,
    46001 no such result, -1 the engine is down or not configured)."""

    def __init__(self, errcode: int, message: str) -> None:
        super().__init__(message)
        self.errcode = errcode
        self.message = message


class AppAsr(Protocol):
    async def recognise(
        self, agentid: int, voice_id: str, lang: str, data: bytes, content_type: str
    ) -> None:
        """Transcribe and keep the result under voice_id; AsrRefusedError."""

    async def result(self, agentid: int, voice_id: str) -> str:
        """The text kept under voice_id; AsrRefusedError."""


class AsrService(Protocol):
    @property
    def runtime(self) -> ModuleRuntime: ...

    @property
    def apps(self) -> AppAsr: ...


SERVICE: registry.Service[AsrService] = registry.Service("asr")


async def _apps(api: ModuleApi) -> AppAsr:
    try:
        service = registry.lookup(api, SERVICE)
    except registry.ServiceMissingError:
        raise AsrRefusedError(48002, "ASR is not enabled on this server") from None
    await service.runtime.ready()
    return service.apps


async def recognise_for_app(
    api: ModuleApi, agentid: int, voice_id: str, lang: str, data: bytes, kind: str
) -> None:
    await (await _apps(api)).recognise(agentid, voice_id, lang, data, kind)


async def result_for_app(api: ModuleApi, agentid: int, voice_id: str) -> str:
    return await (await _apps(api)).result(agentid, voice_id)
