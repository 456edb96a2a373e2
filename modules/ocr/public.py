# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other modules may use of modules.ocr (its declared surface): reading an image
for an open-API app (/cgi-bin/ocr/*, served by modules.openapi), refused unless an
admin granted the app OCR."""

from typing import Any, Protocol

from synapse.module_api import ModuleApi

from modules.common import registry
from modules.common.runtime import ModuleRuntime

KINDS = ("general", "idcard", "driverlicense")


class OcrRefusedError(Exception):
    """errcode is WeCom's (48002 not granted, 40005 not an image, 40006 too large)."""

    def __init__(self, errcode: int, message: str) -> None:
        super().__init__(message)
        self.errcode = errcode
        self.message = message


class AppOcr(Protocol):
    async def read_for_app(
        self, agentid: int, data: bytes, kind: str
    ) -> dict[str, Any]:
        """The answer's fields (WeChat's OCR API names), OcrRefusedError if refused."""


class OcrService(Protocol):
    @property
    def runtime(self) -> ModuleRuntime: ...

    @property
    def apps(self) -> AppOcr: ...


SERVICE: registry.Service[OcrService] = registry.Service("ocr")


async def read_for_app(
    api: ModuleApi, agentid: int, data: bytes, kind: str
) -> dict[str, Any]:
    try:
        service = registry.lookup(api, SERVICE)
    except registry.ServiceMissingError:
        raise OcrRefusedError(48002, "OCR is not enabled on this server") from None
    await service.runtime.ready()
    return await service.apps.read_for_app(agentid, data, kind)
