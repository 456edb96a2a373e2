# SPDX-License-Identifier: AGPL-3.0-or-later
"""OCR for officers under /_jwwx/client/v1/ocr (a Matrix access token). The admins' grant
of OCR to open-API apps, /_jwwx/admin/v1/ocr/apps, is the open API's grant page of app
rights (modules/openapi/rights.py), mounted by modules.ocr (docs/ocr.md).

POST recognise  {room_id, event_id, kind?, forward_to?}
    kind: general (default), idcard (居民身份证: name, sex, nation, birth, address,
    id_number with its check character verified), driverlicense (机动车驾驶证).
    → {kind, text, lines: [{text, score, box}], fields?, forwarded?}: the text of an
    image message the officer may see; with forward_to (chat ids he is joined to) the
    text is also sent as his own message into each of them, in the same call.
    404 M_NOT_FOUND (no such message for him), 400 CN_JWWX_OCR_NOT_AN_IMAGE,
    400 CN_JWWX_OCR_IMAGE_TOO_LARGE, 403 CN_JWWX_OCR_BURN_AFTER_READ, 403 M_FORBIDDEN
    (a forward target he is not in: checked first, nothing read or sent), 400
    CN_JWWX_OCR_NO_TEXT (forwarding an image without text), 400 M_INVALID_PARAM.
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common.inputs import bounded_str
from modules.common.resource import read_json_object
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime
from modules.ocr.service import OcrService, check_kind

CLIENT_PREFIX = "/_jwwx/client/v1/ocr"
ADMIN_PREFIX = "/_jwwx/admin/v1/ocr"


class OcrClientResource(Router):
    prefix = CLIENT_PREFIX

    def __init__(self, api: ModuleApi, runtime: ModuleRuntime, ocr: OcrService) -> None:
        super().__init__(api)
        self._runtime = runtime
        self._ocr = ocr
        self.route("POST", "recognise", self.recognise)

    async def recognise(self, request: Any) -> tuple[int, Any]:
        user_id = await self.requester_id(request)
        await self._runtime.ready()
        body = read_json_object(request)
        room_id = bounded_str(body.get("room_id"), "room_id", 255)
        event_id = bounded_str(body.get("event_id"), "event_id", 255)
        kind = check_kind(body.get("kind"))
        targets = body.get("forward_to")
        rooms = (
            None
            if targets is None
            else await self._ocr.forward_targets(user_id, targets)
        )
        answer = await self._ocr.read_message(user_id, room_id, event_id, kind)
        if rooms is not None:
            answer["forwarded"] = await self._ocr.forward(
                user_id, rooms, answer["text"]
            )
        return 200, answer
